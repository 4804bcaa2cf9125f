/* SPDX-License-Identifier: Apache-2.0 */
/* mountcost PID ROOTFS N SOURCE: what one injected file costs, by part, in the mount namespace
 * of PID on its rootfs ROOTFS (a container held before pivot_root, as bench.sh makes it):
 *   create: N new empty files in one new directory of the image's filesystem (overlay upper)
 *   bind:   SOURCE bind-mounted read-only, nosuid, nodev on each of them (mount(2) + remount)
 *   tmpfs:  one tmpfs mounted on one new directory, N new files created in it
 *   tbind:  SOURCE bind-mounted on each of those tmpfs files
 * Prints "<create ns> <bind ns> <tmpfs ns> <tbind ns>" per file (the tmpfs mount itself is
 * included, spread over the N files). Linked statically; a benchmark, not a test. */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "enterns.h"

static long long
now_ns(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int
create_files(const char *dir, int n)
{
        char path[4096];

        for (int i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/f-%d", dir, i);
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd < 0) {
                        perror(path);
                        return -1;
                }
                close(fd);
        }
        return 0;
}

static int
bind_files(const char *dir, int n, const char *src)
{
        char path[4096];

        for (int i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/f-%d", dir, i);
                if (mount(src, path, NULL, MS_BIND, NULL) < 0 ||
                    mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                          NULL) < 0) {
                        perror(path);
                        return -1;
                }
        }
        return 0;
}

int
main(int argc, char **argv)
{
        char dir[4096], tdir[4096];
        long long t0, t1, t2, t3, t4;
        int n;

        if (argc != 5)
                return 2;
        if (bench_enter_mntns(argv[1]) < 0)
                return 1;
        n = atoi(argv[3]);
        if (n <= 0)
                return 2;
        snprintf(dir, sizeof(dir), "%s/.mountcost", argv[2]);
        snprintf(tdir, sizeof(tdir), "%s/.mountcost-tmpfs", argv[2]);
        t0 = now_ns();
        if (mkdir(dir, 0755) < 0 || create_files(dir, n) < 0)
                return 1;
        t1 = now_ns();
        if (bind_files(dir, n, argv[4]) < 0)
                return 1;
        t2 = now_ns();
        if (mkdir(tdir, 0755) < 0 ||
            mount("mountcost", tdir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0 ||
            create_files(tdir, n) < 0) {
                perror(tdir);
                return 1;
        }
        t3 = now_ns();
        if (bind_files(tdir, n, argv[4]) < 0)
                return 1;
        t4 = now_ns();
        printf("%lld %lld %lld %lld\n", (t1 - t0) / n, (t2 - t1) / n, (t3 - t2) / n, (t4 - t3) / n);
        return 0;
}
