/* SPDX-License-Identifier: Apache-2.0 */
/* floor PID ROOTFS N SOURCE [tmpfs]: the physical floor of a hook that bind-mounts N files:
 * read the state from stdin, enter PID's mount namespace, and bind SOURCE on N new files under
 * ROOTFS, read-only. With "tmpfs" the N files are made in one fresh tmpfs mounted on one new
 * directory under ROOTFS (the layout nvhook's driver directory uses) instead of on the image's
 * filesystem. No parsing, no discovery, no in-root resolution. Linked statically. */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "enterns.h"

int
main(int argc, char **argv)
{
        char buf[65536], path[4200], dir[4096];
        int n;

        if (argc != 5 && !(argc == 6 && strcmp(argv[5], "tmpfs") == 0))
                return 2;
        while (read(0, buf, sizeof(buf)) > 0)
                ;
        if (bench_enter_mntns(argv[1]) < 0)
                return 1;
        snprintf(dir, sizeof(dir), "%s", argv[2]);
        if (argc == 6) {
                snprintf(dir, sizeof(dir), "%s/.floor-tmpfs", argv[2]);
                if (mkdir(dir, 0755) < 0 ||
                    mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755") <
                        0) {
                        perror(dir);
                        return 1;
                }
        }
        n = atoi(argv[3]);
        for (int i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/.floor-%d", dir, i);
                int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0 || mount(argv[4], path, NULL, MS_BIND, NULL) < 0 ||
                    mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV,
                          NULL) < 0) {
                        perror(path);
                        return 1;
                }
                close(fd);
        }
        return 0;
}
