/* SPDX-License-Identifier: Apache-2.0 */
/* Entering the container's mount namespace and coming back.
 *
 * setns(CLONE_NEWNS) needs a single-threaded caller (a process whose fs_struct is shared
 * with another thread gets -EINVAL) and CAP_SYS_ADMIN, and it sets the caller's root and
 * cwd to the root of the namespace entered: relative paths and AT_FDCWD mean something else
 * afterwards. Work by fd; open every host source before entering. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

/* Enter the mount namespace of pid: pidfd_open(pid) + setns(pidfd, CLONE_NEWNS) (Linux
 * >= 5.8; the pidfd pins the process, so a recycled pid cannot be entered), falling back to
 * /proc/<pid>/ns/mnt where pidfds or setns on them are missing (ENOSYS/EINVAL) or filtered
 * (EPERM). On success *ret_host_mnt_fd is an fd of the namespace we were in (the caller
 * owns it; pass it to nvh_nsenter_restore, then close it). A process that is gone: -ESRCH
 * "container process <pid> is not running". */
int nvh_nsenter_mnt(pid_t pid, int *ret_host_mnt_fd, struct nvh_err *err);

/* Go back to the mount namespace host_mnt_fd (from nvh_nsenter_mnt). Does not close it. */
int nvh_nsenter_restore(int host_mnt_fd, struct nvh_err *err);

/* Skip pidfds and use /proc/<pid>/ns/mnt (tests). */
void nvh_nsenter_set_fallback(bool force);

/* Whether the caller runs in a user namespace other than the initial one (a rootless runtime,
 * LXC's unprivileged hook, enroot): mknod and cgroup writes are not possible there. */
bool nvh_nsenter_in_user_ns(void);
