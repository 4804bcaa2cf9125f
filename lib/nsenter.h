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

/* Enter the mount namespace of the container's process pid, after checking that it is one:
 * the namespace is not ours nor the host's initial one (pid 1's), and host_rootfs (when not
 * NULL) is the same directory there as here (the runtime binds the bundle's root onto itself
 * in the container's namespace; a reused or foreign pid fails this): -EPERM naming the pid.
 * The namespace checked is the one entered: one fd of /proc/<pid>/ns/mnt, opened while a
 * pidfd (Linux >= 5.3; skipped where missing or filtered) pins the process, so a recycled pid
 * cannot slip in between. On success *ret_host_mnt_fd is an fd of the namespace we were in
 * (the caller owns it; pass it to nvh_nsenter_restore, then close it). A process that is
 * gone: -ESRCH "container process <pid> is not running". */
int nvh_nsenter_mnt(pid_t pid, const char *host_rootfs, int *ret_host_mnt_fd, struct nvh_err *err);

/* The first half of nvh_nsenter_mnt's checks, for readers that look at pid's view before
 * entering it (/proc/<pid>/root): pid's mount namespace is neither ours nor pid 1's. */
int nvh_nsenter_check(pid_t pid, struct nvh_err *err);

/* Go back to the mount namespace host_mnt_fd (from nvh_nsenter_mnt). Does not close it. */
int nvh_nsenter_restore(int host_mnt_fd, struct nvh_err *err);

/* Whether the caller runs in a user namespace other than the initial one (a rootless runtime,
 * LXC's unprivileged hook, enroot): mknod and cgroup writes are not possible there. */
bool nvh_nsenter_in_user_ns(void);
