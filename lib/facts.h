/* SPDX-License-Identifier: Apache-2.0 */
/* Facts only the driver libraries know (CUDA driver version, compute capability, brand),
 * fetched lazily in a sandboxed child and cached under the cache directory, keyed by the
 * driver version and the library file's identity. */
#pragma once

#include <stddef.h>

#include "err.h"

struct nvh_driver;
struct nvh_system;

/* key: "cuda" (e.g. "13.0"), "arch" (compute capability, e.g. "9.0"), "brand" (e.g.
 * "nvidia", "tesla") of the GPU at bus_id ("0000:3b:00.0"; NULL: GPU 0). -ENOENT when the
 * library needed is not part of the driver. */
int nvh_facts_get(const char *host_cache_dir, const struct nvh_driver *drv,
                  const struct nvh_system *sys, const char *key, const char *bus_id,
                  char *ret_value, size_t size, struct nvh_err *err);
