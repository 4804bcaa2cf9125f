/* SPDX-License-Identifier: Apache-2.0 */
/* Execute a plan: open host sources, enter the container's mount namespace, apply every
 * operation through in-root file descriptors, leave, then grant devices in the cgroup. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "oci.h"
#include "plan.h"

struct nvh_inject_target {
        int pid;                 /* the container's process (from the OCI state) */
        const char *host_rootfs; /* <bundle>/<root.path>, absolute */
        int cgroup_mode;         /* enum nvh_cgroup_mode */
        bool user_ns;            /* the container has a user namespace: bind nodes */
        int root_uid, root_gid;  /* host ids of the container's root there, -1 when none */
        bool same_ns;            /* the caller already is in the container's mount namespace
                                    (nvidia-container-cli without --pid): no setns; pid only
                                    names the cgroup */
        /* The spec's mounts: nothing is created, linked or mounted inside one that binds a
         * host path (a host volume). */
        const struct nvh_oci_mount *mounts;
        size_t n_mounts;
        /* The probe of this rootfs (nvh_layout_probe_keep), NULL when none: its parsed image
         * cache is used (and consumed) instead of a second read and parse when the file
         * opened in-root after entering the namespace is the same one, unchanged. */
        struct nvh_layout *layout;
};

struct nvh_inject_stats {
        unsigned long long ns_sources, ns_mounts, ns_nodes, ns_ldcache, ns_cgroup;
        size_t n_mounts, n_symlinks, n_nodes, n_ldcache;
};

int nvh_inject_run(const struct nvh_plan *plan, const struct nvh_inject_target *t,
                   struct nvh_inject_stats *stats, struct nvh_err *err);

/* Update the linker cache below root_fd with the plan's NVH_OP_LDCACHE entries (exposed for
 * tests). */
int nvh_inject_ldcache(const struct nvh_plan *plan, int root_fd, struct nvh_err *err);

/* The same, reusing layout's parsed cache (layout->ldcache, taken) when the cache opened below
 * root_fd has layout->ldcache_id; layout may be NULL. Sets *ret_reused accordingly. */
int nvh_inject_ldcache_reuse(const struct nvh_plan *plan, int root_fd, struct nvh_layout *layout,
                             bool *ret_reused, struct nvh_err *err);
