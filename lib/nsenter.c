/* SPDX-License-Identifier: Apache-2.0 */
#include "nsenter.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kfeatures.h"
#include "macros.h"
#include "syscalls.h"

static int
not_running(pid_t pid, struct nvh_err *err)
{
        return nvh_err_set(err, -ESRCH, "container process %d is not running", (int)pid);
}

static bool
same_inode(const struct stat *a, const struct stat *b)
{
        return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* A pidfd of pid, or -1 where pidfds are missing or filtered (then nothing pins the pid, and
 * the namespace checks below are what protect us). */
static int
pin_pid(pid_t pid, int *ret_pid_fd, struct nvh_err *err)
{
        int fd = nvh_kfeatures_have(NVH_KFEATURE_PIDFD) ? nvh_sys_pidfd_open(pid, 0)
                                                        : (errno = ENOSYS, -1);

        if (fd < 0 && errno == ESRCH)
                return not_running(pid, err);
        if (fd < 0 && errno != ENOSYS && errno != EPERM && errno != EINVAL)
                return nvh_err_errno(err, "pidfd_open %d", (int)pid);
        if (fd < 0 && errno == ENOSYS)
                nvh_kfeatures_set_missing(NVH_KFEATURE_PIDFD);
        *ret_pid_fd = fd;
        return 0;
}

/* The mount namespace must be another one than ours and than the host's initial one (pid 1's):
 * a runtime always gives a container its own, so a state whose pid is the hook's, init's or a
 * reused pid of a host process names no container. */
static int
check_namespace(pid_t pid, int ns_fd, int host_fd, struct nvh_err *err)
{
        _cleanup_close_ int init_fd = -1;
        struct stat ns_st, st;

        if (fstat(ns_fd, &ns_st) < 0)
                return nvh_err_errno(err, "stat mount namespace of %d", (int)pid);
        if (fstat(host_fd, &st) < 0)
                return nvh_err_errno(err, "stat our mount namespace");
        if (same_inode(&ns_st, &st))
                return nvh_err_set(err, -EPERM,
                                   "process %d is in the hook's own mount namespace, not a "
                                   "container's",
                                   (int)pid);
        init_fd = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (init_fd >= 0 && fstat(init_fd, &st) == 0 && same_inode(&ns_st, &st))
                return nvh_err_set(err, -EPERM,
                                   "process %d is in the host's initial mount namespace, not a "
                                   "container's",
                                   (int)pid);
        return 0;
}

int
nvh_nsenter_check(pid_t pid, struct nvh_err *err)
{
        _cleanup_close_ int host_fd = -1, ns_fd = -1;
        char path[64];

        if (pid <= 0)
                return nvh_err_set(err, -EINVAL, "bad container pid %d", (int)pid);
        host_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (host_fd < 0)
                return nvh_err_errno(err, "open our mount namespace");
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        ns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (ns_fd < 0 && (errno == ENOENT || errno == ESRCH))
                return not_running(pid, err);
        if (ns_fd < 0)
                return nvh_err_errno(err, "process %d: open '%s'", (int)pid, path);
        return check_namespace(pid, ns_fd, host_fd, err);
}

/* Trusts: pid and host_rootfs (from the runtime's state and the bundle), but not that the pid
 * still is, or ever was, the container's. Verifies: the namespace entered is the one checked
 * (one ns fd, opened while a pidfd pins the process), it is neither ours nor init's, and in it
 * host_rootfs is the same directory (device and inode) as in ours: the bundle's root, bound
 * onto itself by the runtime. Guarantees: on success we are in that namespace and hold a way
 * back; on failure we are where we were. */
/* A runtime makes the container's root a mount of its own before hooks run (runc and crun
 * bind it onto itself; Podman's is an overlay): a process whose namespace is a plain copy of
 * the host's (a service with PrivateTmp, a reused pid) sees a plain directory there. Kernels
 * without STATX_ATTR_MOUNT_ROOT (< 5.8) cannot tell: the check passes. */
static bool
is_mount_root(const char *path)
{
        struct statx stx;

        if (statx(AT_FDCWD, path, AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &stx) < 0)
                return false;
        if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
                return true;
        return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
}

int
nvh_nsenter_mnt(pid_t pid, const char *host_rootfs, int *ret_host_mnt_fd, struct nvh_err *err)
{
        _cleanup_close_ int host_fd = -1, pid_fd = -1, ns_fd = -1;
        struct stat root_st, st;
        char path[64];
        int r;

        if (pid <= 0)
                return nvh_err_set(err, -EINVAL, "bad container pid %d", (int)pid);
        host_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (host_fd < 0)
                return nvh_err_errno(err, "open our mount namespace");
        if (host_rootfs && stat(host_rootfs, &root_st) < 0)
                return nvh_err_errno(err, "stat container root '%s'", host_rootfs);
        r = pin_pid(pid, &pid_fd, err);
        if (r < 0)
                return r;

        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
        ns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (ns_fd < 0 && (errno == ENOENT || errno == ESRCH))
                return not_running(pid, err);
        if (ns_fd < 0)
                return nvh_err_errno(err, "process %d: open '%s'", (int)pid, path);
        /* Still alive after ns_fd was opened: the pid was not recycled in between. */
        if (pid_fd >= 0 && poll(&(struct pollfd){.fd = pid_fd, .events = POLLIN}, 1, 0) != 0)
                return not_running(pid, err);
        r = check_namespace(pid, ns_fd, host_fd, err);
        if (r < 0)
                return r;

        if (setns(ns_fd, CLONE_NEWNS) < 0)
                return nvh_err_errno(err, "enter mount namespace of %d", (int)pid);
        if (host_rootfs && (stat(host_rootfs, &st) < 0 || !same_inode(&st, &root_st))) {
                (void)nvh_nsenter_restore(host_fd, NULL);
                return nvh_err_set(err, -EPERM,
                                   "process %d is not the container of root '%s' (another "
                                   "directory there in its mount namespace)",
                                   (int)pid, host_rootfs);
        }
        if (host_rootfs && !is_mount_root(host_rootfs)) {
                (void)nvh_nsenter_restore(host_fd, NULL);
                return nvh_err_set(err, -EPERM,
                                   "process %d is not the container of root '%s' (not a mount "
                                   "of its own in that mount namespace, as runtimes make it)",
                                   (int)pid, host_rootfs);
        }
        *ret_host_mnt_fd = TAKE_FD(host_fd);
        return 0;
}

int
nvh_nsenter_restore(int host_mnt_fd, struct nvh_err *err)
{
        if (setns(host_mnt_fd, CLONE_NEWNS) < 0)
                return nvh_err_errno(err, "return to our mount namespace");
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
