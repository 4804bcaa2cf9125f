/* SPDX-License-Identifier: Apache-2.0 */
/* The host's NVIDIA device nodes, as found under the dev root ("/dev"; tests pass a fake
 * tree or build one in memory): what the plan checks every node it grants against, so that
 * it never grants a device the host does not have, and never reads the host itself.
 *
 * Scanned: every entry of the dev root whose name starts with "nvidia", and the entries of
 * the nvidia-caps/ and nvidia-caps-imex-channels/ directories. Each is stat'ed (following a
 * symlink, as the driver's udev rules may make them); a dangling one is left out. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "macros.h"

#define NVH_HOST_MAX_NODES 65536
#define NVH_HOST_NAME_MAX 64

/* The directory of IMEX channel nodes ("channel<N>", minor N). */
#define NVH_HOST_IMEX_DIR "nvidia-caps-imex-channels"

struct nvh_host_node {
        char name[NVH_HOST_NAME_MAX]; /* relative to the dev root: "nvidia0", "nvidia-caps/..." */
        int error;                    /* negative errno of its stat, 0 when the fields are valid */
        mode_t mode;                  /* st_mode: type and permission bits */
        unsigned major, minor;
};

struct nvh_host {
        char *host_dev; /* the dev root, as given */
        struct nvh_host_node *nodes;
        size_t n_nodes, cap_nodes;
};

/* An empty snapshot of host_dev (tests fill it with nvh_host_add_node). NULL: ENOMEM. */
struct nvh_host *nvh_host_new(const char *host_dev);

/* Scan host_dev ("/dev" when NULL). A missing dev root is an empty snapshot. Reads only.
 * Errors: -E2BIG past NVH_HOST_MAX_NODES, other errors of opening or listing a directory. */
int nvh_host_scan(const char *host_dev, struct nvh_host **ret_host, struct nvh_err *err);

/* Add (or replace) a node. */
int nvh_host_add_node(struct nvh_host *host, const char *name, mode_t mode, unsigned major,
                      unsigned minor, struct nvh_err *err);

/* The node at name, NULL when the host has none. */
const struct nvh_host_node *nvh_host_find(const struct nvh_host *host, const char *name);

void nvh_host_free(struct nvh_host *host);

static inline void
nvh_host_freep(struct nvh_host **host)
{
        nvh_host_free(*host);
}
#define _cleanup_host_ _cleanup_(nvh_host_freep)
