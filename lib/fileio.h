/* SPDX-License-Identifier: Apache-2.0 */
/* Bounded file reads. Every input has a size limit. */
#pragma once

#include <stddef.h>

#include "err.h"

/* Read the whole of rel_path (relative to dir_fd, or absolute with AT_FDCWD) into a
 * NUL-terminated buffer. Fails with -E2BIG when the file is larger than max_size. Does not
 * follow a trailing symlink when nofollow is set. */
int nvh_fileio_read_at(int dir_fd, const char *rel_path, size_t max_size, int nofollow,
                       char **ret_buf, size_t *ret_len, struct nvh_err *err);

/* Buffers of at least this many bytes are faulted in with one call (nvh_fileio_prefault). */
#define NVH_FILEIO_PREFAULT_MIN (64u << 10)

/* Fault in the pages of a fresh buffer about to be filled, with one madvise call
 * (MADV_POPULATE_WRITE, Linux 5.14) instead of one page fault per page; page faults are what
 * filling a large fresh buffer costs most, in a VM more so. Best effort, only from
 * NVH_FILEIO_PREFAULT_MIN bytes. */
void nvh_fileio_prefault(void *p, size_t len);

/* Read everything from an open fd (a pipe works too), bounded by max_size. A regular file's
 * size sizes the buffer. */
int nvh_fileio_read_fd(int fd, const char *what, size_t max_size, char **ret_buf, size_t *ret_len,
                       struct nvh_err *err);

/* Write all of buf to fd, retrying on short writes and EINTR. */
int nvh_fileio_write_all(int fd, const void *buf, size_t len);

/* Join two path parts with exactly one '/'. Returns NULL on ENOMEM. */
char *nvh_fileio_path_join(const char *a, const char *b);

/* Tidy an absolute path lexically: drop empty and "." components and trailing slashes ("/"
 * stays "/"). ".." is kept: resolving it without the file system would be wrong with symlinks
 * (and "/var/run/nvidia-container-devices/../x" must never name a device); callers resolve the
 * result through file descriptors anyway. Returns NULL on ENOMEM. */
char *nvh_fileio_path_normalize(const char *path);

/* A copy of path without its trailing slashes; "/" (or "///") stays "/". NULL on ENOMEM. */
char *nvh_fileio_path_strip_trailing_slashes(const char *path);
