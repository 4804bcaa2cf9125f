/* SPDX-License-Identifier: Apache-2.0 */
/* The bench programs' one way into a held container: enter PID's mount namespace (pid as its
 * decimal argv string). 0, or -1 after perror. */
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

static inline int
bench_enter_mntns(const char *pid)
{
        char path[64];
        int ns_fd;

        snprintf(path, sizeof(path), "/proc/%s/ns/mnt", pid);
        ns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (ns_fd < 0 || setns(ns_fd, CLONE_NEWNS) < 0) {
                perror(path);
                return -1;
        }
        return 0;
}
