/* SPDX-License-Identifier: Apache-2.0 */
/* Path resolution inside a driver root, for lib/driver.c: the component walker (authoritative),
 * a memo of library directories, and a short path for ld.so.cache values (one readlink, then
 * an open that proves the name). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define NVH_DRIVER_RESOLVE_MEMO 16 /* library directories remembered */

struct nvh_driver_memo {
        struct {
                char *in, *out; /* a library directory as named and as resolved */
        } dirs[NVH_DRIVER_RESOLVE_MEMO];
        size_t n;
};

/* Resolve rel (relative to root_fd; a leading '/' means the root) inside the root: ".." stops
 * at the root and absolute symlink targets restart at the root, at most 40 links. Returns
 * the resolved relative path without symlinks ("" for the root itself). */
int nvh_driver_resolve(int root_fd, const char *rel, char **ret_rel, struct nvh_err *err);

void nvh_driver_resolve_memo_clear(struct nvh_driver_memo *memo);

/* nvh_driver_resolve, resolving the directory part of rel once per memo. */
int nvh_driver_resolve_cached(int root_fd, const char *rel, struct nvh_driver_memo *memo,
                              char **ret_rel, struct nvh_err *err);

/* The name a library cache value most likely resolves to, without walking: the memoised
 * directory plus the last component, or plus its link target when that is a plain name.
 * 0 and *ret_rel on success, *ret_verified when the name is known not to be a link; 1 when
 * there is no cheap answer (use nvh_driver_resolve_cached); -ENOMEM. An unverified name is
 * proved by nvh_driver_resolve_open (which refuses links) or nvh_driver_resolve_is_link. */
int nvh_driver_resolve_guess(int root_fd, const char *rel, const struct nvh_driver_memo *memo,
                             char **ret_rel, bool *ret_verified);

/* Whether rel (relative to root_fd) is a symlink; true also when that cannot be told. */
bool nvh_driver_resolve_is_link(int root_fd, const char *rel);

/* Open rel for reading: an fd, or -errno (-ELOOP for a symlink in the path). */
int nvh_driver_resolve_open(int root_fd, const char *rel);

/* Tests: make nvh_driver_resolve_open use the openat(O_NOFOLLOW) fallback. */
void nvh_driver_resolve_set_fallback(bool force);
