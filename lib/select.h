/* SPDX-License-Identifier: Apache-2.0 */
/* The device selector: a request's device tokens and IMEX channels resolved against the
 * host (GPUs from procfs, device nodes from /dev) once; the hook, the requirement check and
 * the plan consume the result.
 *
 * Token forms (the grammar is nvh_request_parse_device_token's, the one parser of them):
 *   index        "0": the GPU's position in PCI address order (NVML's index)
 *   GPU UUID     "GPU-9221d5d1-b60b-a624-bf14-0a1819cfda3b": whole, any case; no prefixes
 *                (nvidia-container-toolkit and libnvidia-container match whole UUIDs only)
 *   PCI bus id   "0000:3b:00.0", "00000000:3B:00.0" (nvidia-smi), "3b:00.0"
 *   MIG device   "<gpu index>:<mig index>" (nvidia-container-toolkit's form) or
 *                "<gpu index>:<gi>:<ci>" (GI and CI ids as nvidia-smi shows them)
 *   MIG UUID     "MIG-<uuid>", "MIG-GPU-<uuid>/<gi>/<ci>": refused (-EOPNOTSUPP), procfs
 *                has no MIG UUIDs (they need NVML)
 * "all" selects every GPU (not MIG devices), "none" none. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "gpus.h"
#include "host.h"
#include "macros.h"
#include "request.h"

/* IMEX channel numbers accepted (the driver's default channel count). */
#define NVH_SELECT_IMEX_MAX 2048

/* A selected MIG device and its parent GPU (pointers into the system). */
struct nvh_select_mig {
        const struct nvh_gpu *gpu;
        const struct nvh_mig *mig;
};

struct nvh_selection {
        const struct nvh_gpu **gpus; /* whole GPUs and MIG parents, deduplicated, request order */
        size_t n_gpus;
        struct nvh_select_mig *migs; /* deduplicated, request order */
        size_t n_migs;
        unsigned *imex; /* IMEX channel numbers: listed, or for "all" every channel node the
                           host has (ascending) */
        size_t n_imex;
};

/* Resolve req against sys and host. Reads the information files of only the GPUs selected
 * (~0.2 ms each in the driver): index, bus id and MIG tokens resolve from the directory
 * listing; "all" and UUIDs need every file. The selection points into sys: free it first.
 * Errors name the token: -EINVAL bad form, -ENOENT no such device, -EOPNOTSUPP MIG UUID. */
int nvh_select_resolve(const struct nvh_request *req, struct nvh_system *sys,
                       const struct nvh_host *host, struct nvh_selection **ret_sel,
                       struct nvh_err *err);

void nvh_select_free(struct nvh_selection *sel);

static inline void
nvh_select_freep(struct nvh_selection **sel)
{
        nvh_select_free(*sel);
}
#define _cleanup_selection_ _cleanup_(nvh_select_freep)

/* One GPU by a whole-GPU token (index, UUID, bus id). MIG tokens are -EOPNOTSUPP. Index and
 * bus id resolve on unloaded GPUs; a UUID needs every GPU loaded (-ENODATA otherwise). */
int nvh_select_find_gpu(const struct nvh_system *sys, const char *token,
                        const struct nvh_gpu **ret_gpu, struct nvh_err *err);

/* One MIG device by "<gpu>:<mig>" or "<gpu>:<gi>:<ci>" (its parent must be loaded). */
int nvh_select_find_mig(const struct nvh_system *sys, const char *token,
                        const struct nvh_gpu **ret_gpu, const struct nvh_mig **ret_mig,
                        struct nvh_err *err);
