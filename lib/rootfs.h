/* SPDX-License-Identifier: Apache-2.0 */
/* In-root path resolution by file descriptor.
 *
 * Every ctr_* path names a location inside the container root. It is resolved against an
 * O_PATH fd of that root as if the root were "/": absolute and relative symlinks and ".."
 * never leave it, magic links (/proc/<pid>/{root,cwd,exe,fd/N,ns/X}) are refused, at most
 * NVH_ROOTFS_MAX_HOPS symlinks are followed (-ELOOP). A resolved location is handed on as an
 * fd and never turned back into a string.
 *
 * Mechanism: openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) where the kernel has it
 * (Linux >= 5.6); otherwise (ENOSYS, or EPERM/E2BIG from a filter, or forced by
 * nvh_kfeatures_force_fallbacks) a component-by-component walker: openat(O_PATH|O_NOFOLLOW) per
 * name, readlinkat on symlinks, ".." popped from the stack of directories already walked
 * (so it is clamped at the root and never looked up), symlinks on procfs below the procfs
 * root refused as magic links. Both give the same results (tests/unit/test_rootfs.c runs
 * every case through both).
 *
 * Known limit of the walker: it is not atomic. A directory that a concurrent process moves
 * out of the root while we hold an fd to it takes the rest of the walk with it (openat2
 * answers -EAGAIN there). The hook runs while the container's processes are blocked
 * (prestart/createRuntime), and only root on the host can change the tree then.
 *
 * Missing directories are created with mkdirat on the parent fd (mode subject to umask). */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"

#define NVH_ROOTFS_MAX_HOPS 40

/* Open the container root (a host path, trusted: it comes from the runtime) as
 * O_PATH|O_DIRECTORY|O_CLOEXEC. */
int nvh_rootfs_open(const char *host_rootfs, int *ret_root_fd, struct nvh_err *err);

/* Resolve ctr_path inside root_fd and open it with open_flags (O_CLOEXEC is added; O_CREAT
 * and O_TMPFILE are refused, use the functions below). With O_NOFOLLOW a symlink as the last
 * component is not followed: O_PATH|O_NOFOLLOW returns the link itself, other modes fail
 * with -ELOOP, as openat(2) does. A trailing slash requires a directory. */
int nvh_rootfs_resolve(int root_fd, const char *ctr_path, int open_flags, int *ret_fd,
                       struct nvh_err *err);

/* Make sure ctr_dir exists as a directory, creating missing components (also those a
 * dangling symlink points to, inside the root). A component that exists and is not a
 * directory fails with -ENOTDIR naming it. Returns an O_PATH|O_DIRECTORY fd. */
int nvh_rootfs_mkdir_p(int root_fd, const char *ctr_dir, mode_t mode, int *ret_dir_fd,
                       struct nvh_err *err);

/* Make sure a mount target exists at ctr_path: a directory (is_dir) or a regular file
 * (created empty with O_CREAT|O_EXCL|O_NOFOLLOW). Missing parents are created (0755).
 * An existing target of the right type is used as it is. A symlink as the last component is
 * never followed nor replaced: -ELOOP naming it (mounting over an image's symlink would
 * silently change what the image links to; such an image is refused). A directory where a
 * file is wanted: -EISDIR; a non-directory where a directory is wanted: -ENOTDIR; a device,
 * fifo or socket where a file is wanted: -EEXIST. Returns an O_PATH|O_NOFOLLOW fd of the
 * target itself. */
int nvh_rootfs_create_target(int root_fd, const char *ctr_path, bool is_dir, mode_t mode,
                             int *ret_fd, struct nvh_err *err);

/* Create the symlink ctr_path -> target (target is stored as given; it is data, resolved
 * later by whoever follows it, never by us). Missing parents are created (0755). An existing
 * symlink with the same target is fine; one with another target is replaced
 * (unlinkat + symlinkat); anything that is not a symlink is left alone: -EEXIST. */
int nvh_rootfs_symlink(int root_fd, const char *ctr_path, const char *target, struct nvh_err *err);

/* Replace the file at ctr_path with buf atomically: a temp file created O_EXCL|O_NOFOLLOW in
 * the in-root parent, written, chmod'ed to mode, then renamed over the final name (a symlink
 * there is replaced, not followed; a directory fails with -EISDIR). No fsync: atomicity
 * towards readers is the point, the container's rootfs does not outlive a crash usefully. */
int nvh_rootfs_write_atomic(int root_fd, const char *ctr_path, const void *buf, size_t len,
                            mode_t mode, struct nvh_err *err);

/* The same, for name in dir_fd (an in-root directory the caller resolved); ctr_path names the
 * file in errors. */
int nvh_rootfs_write_atomic_at(int dir_fd, const char *name, const char *ctr_path, const void *buf,
                               size_t len, mode_t mode, struct nvh_err *err);

/* The walker's answer as a path: rel_path resolved below root_fd like nvh_rootfs_resolve
 * (O_PATH, symlinks followed in-root, ".." clamped, at most NVH_ROOTFS_MAX_HOPS links), and the
 * names of the real directories and final object it reached, relative to the root, without a
 * leading slash ("" for the root itself). For modules that name files below a root they trust
 * not to change while they work (driver discovery under the driver root). The caller frees
 * *ret_rel. */
int nvh_rootfs_resolve_path(int root_fd, const char *rel_path, char **ret_rel, struct nvh_err *err);

/* Open the image's regular file ctr_path for reading (at most max_size bytes), with the
 * checks of nvh_rootfs_read_file below; *ret_st (may be NULL) gets its fstat. The caller owns
 * *ret_fd. */
int nvh_rootfs_open_file(int root_fd, const char *ctr_path, size_t max_size, int *ret_fd,
                         struct stat *ret_st, struct nvh_err *err);

/* Read the image's file ctr_path (at most max_size bytes) into a NUL-terminated buffer.
 * Trusts nothing in the image: the path is resolved in-root, the last component is not
 * followed (-ELOOP), the file is opened O_NONBLOCK|O_NOCTTY (a FIFO must not block, a tty
 * must not become ours) and must be a regular file on that fd (a FIFO, socket or device node
 * the image ships is never read: -EINVAL naming it); a size over max_size is -E2BIG before
 * any read. The caller owns *ret_buf. */
int nvh_rootfs_read_file(int root_fd, const char *ctr_path, size_t max_size, char **ret_buf,
                         size_t *ret_len, struct nvh_err *err);

/* The in-root parent directory of ctr_path (created when missing, like nvh_rootfs_mkdir_p)
 * and its last component, so that several targets in one directory resolve it once. */
int nvh_rootfs_open_parent(int root_fd, const char *ctr_path, int *ret_dir_fd,
                           char ret_name[static NAME_MAX + 1], struct nvh_err *err);

/* nvh_rootfs_create_target on a parent from nvh_rootfs_open_parent. A new regular file comes
 * back as its own (read-only) fd and *ret_created = true: it is of the requested type by
 * construction. what names the target in errors. */
int nvh_rootfs_create_target_at(int dir_fd, const char *name, const char *what, bool is_dir,
                                mode_t mode, int *ret_fd, bool *ret_created, struct nvh_err *err);

/* nvh_rootfs_symlink on a parent from nvh_rootfs_open_parent. */
int nvh_rootfs_symlink_at(int dir_fd, const char *name, const char *ctr_path, const char *target,
                          struct nvh_err *err);
