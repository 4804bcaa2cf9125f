/* SPDX-License-Identifier: Apache-2.0 */
/* A cache of driver discovery results (lib/driver.c) in the host cache directory
 * ("/run/nvhook"): discovery reads the driver root's ld.so.cache and the ELF header of every
 * candidate library, and its answer is the same on every container start until the driver is
 * reinstalled. One file per (driver root, ld.so.cache path, driver version, capabilities). */
#pragma once

#include <stdbool.h>

#include "driver.h"
#include "err.h"

/* Maximum size of a cache file. */
#define NVH_DRVCACHE_MAX_SIZE (1024 * 1024)

/* Same contract as nvh_driver_discover (same result, same errors), answered from
 * host_cache_dir when a cache file matches opts, this nvhook binary and the identity of the
 * driver root's ld.so.cache, and every recorded file and its directory are unchanged. IPC
 * endpoints are never cached: they are looked up again on every call. Anything else (no
 * cache, corrupt, untrusted, stale) runs nvh_driver_discover and, when update is set,
 * rewrites the cache; a cache that cannot be written is logged at debug level and otherwise
 * ignored. Only the hook updates: list, info and explain read the host and write nothing.
 * host_cache_dir NULL or "": no cache. */
int nvh_drvcache_discover(const char *host_cache_dir, const struct nvh_driver_opts *opts,
                          bool update, struct nvh_driver **ret, struct nvh_err *err);

/* The cache file name (no directory) for opts, malloc'ed; NULL on ENOMEM. Exposed for tests. */
char *nvh_drvcache_file_name(const struct nvh_driver_opts *opts);

/* Files of the cache directory, for every cache nvhook keeps there (discovery, facts). A file
 * is believed only when it and the directory are owned by us and writable by nobody else
 * (-EPERM otherwise); reads are bounded by max_size (-E2BIG); writes go to a temporary file
 * renamed into place, in a directory created 0700 when missing. Negative errno on failure. */
int nvh_drvcache_read_file(const char *host_cache_dir, const char *name, size_t max_size,
                           char **ret_buf, size_t *ret_len);
int nvh_drvcache_write_file(const char *host_cache_dir, const char *name, const char *buf);
