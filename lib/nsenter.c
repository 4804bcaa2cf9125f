/* SPDX-License-Identifier: Apache-2.0 */
#include "nsenter.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "macros.h"
#include "syscalls.h"

static bool force_fallback;

void
nvh_nsenter_set_fallback(bool force)
{
        force_fallback = force;
}

static int
not_running(pid_t pid, struct nvh_err *err)
{
        return nvh_err_set(err, -ESRCH, "container process %d is not running", (int)pid);
}

/* Trusts: pid (from the runtime's state). Verifies: the pid exists when pinned by a pidfd.
 * Guarantees: on success we are in pid's mount namespace and hold a way back. */
int
nvh_nsenter_mnt(pid_t pid, int *ret_host_mnt_fd, struct nvh_err *err)
{
        _cleanup_close_ int host_fd = -1, pid_fd = -1, ns_fd = -1;
        char path[64];

        if (pid <= 0)
                return nvh_err_set(err, -EINVAL, "bad container pid %d", (int)pid);
        host_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (host_fd < 0)
                return nvh_err_set(err, -errno, "open our mount namespace: %s", strerror(errno));

        if (force_fallback) {
                errno = ENOSYS;
                pid_fd = -1;
        } else {
                pid_fd = nvh_sys_pidfd_open(pid, 0);
        }
        if (pid_fd < 0 && errno == ESRCH)
                return not_running(pid, err);
        if (pid_fd < 0 && errno != ENOSYS && errno != EPERM)
                return nvh_err_set(err, -errno, "pidfd_open %d: %s", (int)pid, strerror(errno));
        if (pid_fd >= 0) {
                if (setns(pid_fd, CLONE_NEWNS) == 0) {
                        *ret_host_mnt_fd = TAKE_FD(host_fd);
                        return 0;
                }
                if (errno == ESRCH)
                        return not_running(pid, err);
                /* Kernels before 5.8 answer EINVAL for a pidfd; a threaded caller would too,
                 * and gets the same answer from the fallback below. */
                if (errno != EINVAL && errno != EPERM && errno != ENOSYS)
                        return nvh_err_set(err, -errno, "enter mount namespace of %d: %s", (int)pid,
                                           strerror(errno));
        }

        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        ns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (ns_fd < 0 && (errno == ENOENT || errno == ESRCH))
                return not_running(pid, err);
        if (ns_fd < 0)
                return nvh_err_set(err, -errno, "open '%s': %s", path, strerror(errno));
        if (setns(ns_fd, CLONE_NEWNS) < 0)
                return nvh_err_set(err, -errno, "enter mount namespace of %d: %s", (int)pid,
                                   strerror(errno));
        *ret_host_mnt_fd = TAKE_FD(host_fd);
        return 0;
}

int
nvh_nsenter_restore(int host_mnt_fd, struct nvh_err *err)
{
        if (setns(host_mnt_fd, CLONE_NEWNS) < 0)
                return nvh_err_set(err, -errno, "return to our mount namespace: %s",
                                   strerror(errno));
        return 0;
}

/* The initial user namespace maps every id onto itself: "0 0 4294967295". */
bool
nvh_nsenter_in_user_ns(void)
{
        unsigned long inside = 0, outside = 0, count = 4294967295UL;
        FILE *f = fopen("/proc/self/uid_map", "re");

        if (!f)
                return false;
        if (fscanf(f, "%lu %lu %lu", &inside, &outside, &count) != 3)
                count = 4294967295UL;
        fclose(f);
        return !(inside == 0 && outside == 0 && count == 4294967295UL);
}
