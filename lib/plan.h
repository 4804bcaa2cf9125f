/* SPDX-License-Identifier: Apache-2.0 */
/* The plan: an ordered list of operations that turns (request, discovery, image layout) into
 * what the executors do. Pure data; `nvhook explain` prints it as JSON and tests compare it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct nvh_driver;
struct nvh_system;
struct nvh_request;
struct nvh_gpu;

enum nvh_op_kind {
        NVH_OP_BIND,         /* bind host_path on ctr_path (file or dir) */
        NVH_OP_SYMLINK,      /* ctr_path -> target */
        NVH_OP_MKNOD,        /* char device ctr_path = major:minor (host_path: the host node) */
        NVH_OP_PROC_FILE,    /* a file of the tmpfs masking /proc/driver/nvidia */
        NVH_OP_LDCACHE,      /* linker cache entry: key -> ctr_path, of class elf_class */
        NVH_OP_CGROUP_ALLOW, /* allow c major:minor access in the container's cgroup */
};

/* Mount flags of NVH_OP_BIND. */
enum nvh_op_flag {
        NVH_OPF_RDONLY = 1u << 0,
        NVH_OPF_NOSUID = 1u << 1,
        NVH_OPF_NODEV = 1u << 2,
        NVH_OPF_NOEXEC = 1u << 3,
        NVH_OPF_DIR = 1u << 4,
};

struct nvh_op {
        enum nvh_op_kind kind;
        char *host_path; /* BIND source, MKNOD host node, PROC_FILE source (NULL: content) */
        char *ctr_path;  /* target in the container (absolute, container view); PROC_FILE: path
                            relative to /proc/driver/nvidia; LDCACHE: value */
        char *target;    /* SYMLINK target; LDCACHE key (soname); PROC_FILE literal content */
        unsigned flags;  /* enum nvh_op_flag */
        unsigned major, minor;
        mode_t mode;
        int elf_class; /* LDCACHE */
        char why[96];
};

/* What the image's dynamic loader searches, probed in-root (lib/layout.h). */
struct nvh_layout {
        char libdir[128];   /* e.g. /usr/lib/x86_64-linux-gnu, /usr/lib64, /usr/lib */
        char libdir32[128]; /* e.g. /usr/lib/i386-linux-gnu, /usr/lib, "" when unknown */
        bool has_ldcache;   /* the image has /etc/ld.so.cache */
        bool musl;          /* musl loader found */
        char musl_arch[32]; /* e.g. x86_64 */
        char why[128];      /* how libdir was decided */
};

struct nvh_plan {
        struct nvh_op *ops;
        size_t n_ops, cap_ops;
        unsigned caps;
        size_t n_libs, n_bins, n_firmware, n_nodes, n_gpus; /* n_gpus: with MIG parents */
        size_t n_migs;
        struct nvh_layout layout;
};

struct nvh_plan_input {
        const struct nvh_request *req;
        const struct nvh_system *sys;
        const struct nvh_driver *drv;
        const struct nvh_layout *layout;
        const char *host_dev;      /* "/dev" (tests: a fake tree) */
        const char *host_proc;     /* "/proc" */
        bool create_missing_nodes; /* optional control nodes (nvidia-uvm, nvidia-uvm-tools,
                                      nvidia-modeset) whose major the driver reports but that
                                      have no host node are made in the container (host_path
                                      NULL) instead of skipped */
};

/* Resolve the request's device tokens against the discovered GPUs. ret_gpus is an array of
 * pointers into sys (deduplicated, in request order); a MIG device token ("<gpu>:<mig>",
 * "<gpu>:<gi>:<ci>") selects its parent GPU. Unknown devices are -ENOENT naming the token,
 * MIG UUIDs -EOPNOTSUPP. MIG tokens need their parent GPU loaded (nvh_gpus_load). */
int nvh_plan_select_gpus(const struct nvh_request *req, const struct nvh_system *sys,
                         const struct nvh_gpu ***ret_gpus, size_t *ret_n, struct nvh_err *err);

/* A selected MIG device and its parent GPU (pointers into sys). */
struct nvh_plan_mig {
        const struct nvh_gpu *gpu;
        const struct nvh_mig *mig;
};

/* The MIG devices among the request's tokens (deduplicated, in request order; "all" selects
 * whole GPUs, not MIG devices). Errors as nvh_plan_select_gpus. */
int nvh_plan_select_migs(const struct nvh_request *req, const struct nvh_system *sys,
                         struct nvh_plan_mig **ret_migs, size_t *ret_n, struct nvh_err *err);

int nvh_plan_build(const struct nvh_plan_input *in, struct nvh_plan **ret, struct nvh_err *err);
void nvh_plan_free(struct nvh_plan *plan);

/* The plan as JSON (caller frees). */
char *nvh_plan_to_json(const struct nvh_plan *plan, unsigned json_flags);

const char *nvh_plan_op_kind_name(enum nvh_op_kind kind);

/* Append an NVH_OP_LDCACHE operation key -> value (a container path) of elf_class (CUDA
 * forward compatibility, lib/compat.c). */
int nvh_plan_add_ldcache(struct nvh_plan *plan, const char *key, const char *value, int elf_class,
                         const char *why, struct nvh_err *err);
