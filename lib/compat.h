/* SPDX-License-Identifier: Apache-2.0 */
/* CUDA forward compatibility: an image that carries /usr/local/cuda/compat/libcuda.so.<v> newer
 * than the host driver gets linker cache entries that prefer those libraries, on datacenter
 * GPUs. Only cache entries are written: the image's files are never mounted, never resolved on
 * the host, never run (the CVE-2024-0132 / CVE-2025-23359 class); the image's directory is
 * read in-root, by name, without following links. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct nvh_gpu;
struct nvh_plan;

#define NVH_COMPAT_DIR "/usr/local/cuda/compat"

struct nvh_compat {
        char version[32]; /* the compat libcuda's version, "" when none is newer than the host */
        char **files;     /* regular files in NVH_COMPAT_DIR ending in ".so.<version>" */
        size_t n_files;
};

/* Read NVH_COMPAT_DIR below root_fd (an O_PATH fd of the container's rootfs). A missing
 * directory, or a compat libcuda not newer than driver_version, leaves ret->version empty. */
int nvh_compat_probe_fd(int root_fd, const char *driver_version, struct nvh_compat *ret,
                        struct nvh_err *err);

/* Forward compatibility is supported on datacenter GPUs only: not GeForce, Quadro, TITAN or
 * RTX parts (decided from the model name the driver reports). */
bool nvh_compat_gpu_supported(const struct nvh_gpu *gpu);

/* Append the LDCACHE operations (after the plan's own, so they win) when c found a newer
 * version and every one of the n_gpus (> 0) GPUs is supported. Returns how many were added. */
int nvh_compat_plan(struct nvh_plan *plan, const struct nvh_compat *c, const struct nvh_gpu **gpus,
                    size_t n_gpus, const char *driver_version, struct nvh_err *err);

void nvh_compat_free(struct nvh_compat *c);
