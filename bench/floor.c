/* SPDX-License-Identifier: Apache-2.0 */
/* floor PID ROOTFS N SOURCE: the physical floor of a hook that bind-mounts N files: read the
 * state from stdin, enter PID's mount namespace, and bind SOURCE on N new files under ROOTFS,
 * read-only. No parsing, no discovery, no in-root resolution. Linked statically. */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "enterns.h"

int
main(int argc, char **argv)
{
        char buf[65536], path[4096];
        int n;

        if (argc != 5)
                return 2;
        while (read(0, buf, sizeof(buf)) > 0)
                ;
        if (bench_enter_mntns(argv[1]) < 0)
                return 1;
        n = atoi(argv[3]);
        for (int i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/.floor-%d", argv[2], i);
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
