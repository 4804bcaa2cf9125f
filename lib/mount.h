/* SPDX-License-Identifier: Apache-2.0 */
/* Mounting by file descriptor.
 *
 * Order of use: open every host source (nvh_mount_open_source) in the host mount namespace,
 * enter the container's mount namespace (nsenter), resolve the in-root target
 * (nvh_rootfs_create_target), then attach (nvh_mount_bind). Every mount we make is private
 * (no propagation from it) and gets its flags before it becomes visible where the new mount
 * API exists.
 *
 * New API (Linux >= 5.2 for open_tree/move_mount/fsopen, 5.12 for mount_setattr): the source
 * is a detached clone (OPEN_TREE_CLONE), flags and propagation are set on the detached tree,
 * then move_mount attaches it on the target fd. On 5.2-5.11 the flags are applied right after
 * attaching, by a remount of the attached clone.
 *
 * Fallback (open_tree/fsopen answer ENOSYS or EPERM, or forced): the source is an O_PATH fd;
 * mount(2) MS_BIND from /proc/self/fd/<src> onto /proc/self/fd/<target>. A bind from a mount
 * of another namespace is refused by the kernel (EINVAL), so after setns the source is
 * looked up again in the current namespace (a copy of the host's, made by the runtime), by
 * the same walk (last component not followed; no symlink at all for NVH_SOURCE_NO_SYMLINKS),
 * and must be the inode examined on the host, or -EXDEV: what is mounted is what was
 * checked. The new mount
 * is then reached through the target's parent directory (found from the target fd and
 * checked to contain the target, by inode) for the read-only remount and MS_PRIVATE. The
 * mount is writable between the bind and the remount; the container's processes are blocked
 * while hooks run.
 *
 * After attaching, the flags asked for are checked with fstatvfs on the new mount. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"
#include "macros.h"

enum {
        NVH_MOUNT_RDONLY = 1 << 0,
        NVH_MOUNT_NOSUID = 1 << 1,
        NVH_MOUNT_NODEV = 1 << 2,
        NVH_MOUNT_NOEXEC = 1 << 3,
        /* The caller vouches for the object types: target_fd is a target it just created
         * (nvh_rootfs_create_target_at reported it new) of the source's type, given by
         * NVH_MOUNT_DIR. Saves the two fstat checks per mount on the hot path. */
        NVH_MOUNT_NEW_TARGET = 1 << 4,
        NVH_MOUNT_DIR = 1 << 5,
};

/* How a host source is opened. */
enum {
        NVH_SOURCE_DIR = 1 << 0, /* a directory (cloned recursively); else anything but one */
        /* No symlink in any component (shared host areas such as /tmp, /run: whoever can
         * write there must not redirect us): every directory opened O_NOFOLLOW from "/". */
        NVH_SOURCE_NO_SYMLINKS = 1 << 1,
};

/* A host object to mount, owned by the caller (nvh_mount_source_done, or the cleanup macro).
 * fd is a detached clone of the object (new API) or an O_PATH fd of it (fallback); st is the
 * object as examined on that fd: the caller checks owner and mode there, never by path. */
struct nvh_mount_source {
        int fd;
        bool tree;       /* fd is a detached clone: attach it once */
        struct stat st;  /* the object, from fstat on the fd it was opened as */
        char *host_path; /* fallback only: to find the same inode again after setns */
        unsigned sflags; /* NVH_SOURCE_* it was opened with */
};
#define NVH_MOUNT_SOURCE_INIT                                                                      \
        {                                                                                          \
                .fd = -1                                                                           \
        }

void nvh_mount_source_done(struct nvh_mount_source *src);
#define _cleanup_mount_source_ _cleanup_(nvh_mount_source_done)

/* Open host_path as a mount source, before entering the container namespace: its directory
 * by path (trusted: discovered on the host) or, with NVH_SOURCE_NO_SYMLINKS, without
 * following any symlink; the last component with O_PATH|O_NOFOLLOW (a symlink: -ELOOP), its
 * type checked on that fd (-ENOTDIR / -EISDIR), then cloned from that fd (open_tree with
 * AT_EMPTY_PATH). Nothing is opened by the path twice on the new mount API. */
int nvh_mount_open_source(const char *host_path, unsigned sflags, struct nvh_mount_source *ret,
                          struct nvh_err *err);

/* Attach src (from nvh_mount_open_source) on target_fd (an O_PATH fd of the in-root target,
 * from nvh_rootfs_create_target) with NVH_MOUNT_* flags (flags the source mount already has
 * are kept), private propagation. what names the object in errors. */
int nvh_mount_bind(const struct nvh_mount_source *src, int target_fd, unsigned flags,
                   const char *what, struct nvh_err *err);

struct nvh_mount_file {
        const char *rel_path; /* relative, no "." or ".." components; parents listed first */
        const char *content;  /* file content (NUL-terminated), NULL for an empty file/dir;
                                 S_IFLNK: the link's target */
        mode_t mode;          /* permission bits; S_IFDIR|0555 for a directory, S_IFLNK for a
                                 symlink, else a regular file */
};

/* Mount a fresh tmpfs (mode 0555) holding the given files on target_fd (a directory), e.g.
 * to mask /proc/driver/nvidia. Files are written while the tmpfs is detached (new API) or
 * just attached (fallback); then it is made read-only, nosuid, nodev, noexec, private. */
int nvh_mount_tmpfs_files(int target_fd, const struct nvh_mount_file *files, size_t n,
                          const char *what, struct nvh_err *err);

/* The same, and *ret_root_fd (when not NULL) an fd of the mounted tmpfs's root directory:
 * nothing in it but what files made, so paths below it are resolved relative to that fd
 * (O_NOFOLLOW), e.g. to mount on the empty files it holds. */
int nvh_mount_tmpfs_tree(int target_fd, const struct nvh_mount_file *files, size_t n,
                         const char *what, int *ret_root_fd, struct nvh_err *err);
