/* SPDX-License-Identifier: Apache-2.0 */
/* The plan: an ordered list of operations that turns (request, discovery, selection, image
 * layout) into what the executors do. Pure data, built from data only (it reads nothing from
 * the host), in the order the executor runs it: binds and symlinks, device nodes, the
 * /proc/driver/nvidia files, linker cache entries, cgroup grants. `nvhook explain` prints it
 * as JSON and tests compare it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "layout.h"
#include "macros.h"

struct nvh_driver;
struct nvh_host;
struct nvh_request;
struct nvh_selection;
struct nvh_system;

/* The container's driver directory: one fresh tmpfs per container (NVH_OP_TMPFS) holding
 * the mount targets of the driver's libraries and their links, so that injecting N libraries
 * creates one directory on the image's filesystem, not N files. The linker cache points here;
 * the image gets links only where its loader or linker looks by name (lib/plan.c). */
#define NVH_PLAN_DRIVER_DIR "/usr/lib/nvhook"
#define NVH_PLAN_LIB_DIR NVH_PLAN_DRIVER_DIR "/lib"     /* the native class */
#define NVH_PLAN_LIB32_DIR NVH_PLAN_DRIVER_DIR "/lib32" /* 32-bit libraries */
#define NVH_PLAN_LDCONF "/etc/ld.so.conf.d/00-nvhook.conf"

enum nvh_op_kind {
        NVH_OP_TMPFS,        /* a fresh tmpfs on ctr_path (a directory, made if missing)
                                holding the empty targets of the binds and the symlinks planned
                                below ctr_path; read-only once filled */
        NVH_OP_BIND,         /* bind host_path on ctr_path (file or dir) */
        NVH_OP_SYMLINK,      /* ctr_path -> target */
        NVH_OP_MKNOD,        /* char device ctr_path = major:minor (host_path: the host node) */
        NVH_OP_PROC_FILE,    /* a file of the tmpfs masking /proc/driver/nvidia */
        NVH_OP_FILE,         /* ctr_path written with content target (replaced atomically) */
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
        /* SYMLINK in the image: a file of that name that is not a symlink is the image's own
         * and stays (the link is then skipped, logged). */
        NVH_OPF_KEEP_IMAGE_FILE = 1u << 5,
};

struct nvh_op {
        enum nvh_op_kind kind;
        char *host_path; /* BIND source, MKNOD host node, PROC_FILE source (NULL: content) */
        char *ctr_path;  /* target in the container (absolute, container view); PROC_FILE: path
                            relative to /proc/driver/nvidia; LDCACHE: value */
        char *target;    /* SYMLINK target; LDCACHE key (soname); PROC_FILE and FILE content
                            (PROC_FILE with a host_path: the bytes already read from it,
                            served instead) */
        unsigned flags;  /* enum nvh_op_flag */
        unsigned major, minor;
        mode_t mode;
        int elf_class; /* LDCACHE */
        char why[96];
};

struct nvh_plan {
        struct nvh_op *ops;
        size_t n_ops, cap_ops;
        unsigned caps;
        size_t n_libs, n_libs32, n_bins, n_firmware, n_nodes, n_gpus; /* n_gpus: with MIG parents */
        size_t n_migs;
        struct nvh_layout layout;
};

/* Everything the plan is made from, all of it already read from the host: the plan reads
 * nothing itself (no file, no stat), so it can be built from data made in memory. */
struct nvh_plan_input {
        const struct nvh_request *req;   /* capabilities, MIG config/monitor, IMEX "all" */
        const struct nvh_system *sys;    /* majors, capabilities, params, proc root */
        const struct nvh_host *host;     /* device nodes under the dev root */
        const struct nvh_selection *sel; /* GPUs, MIG devices, IMEX channels (lib/select.h) */
        const struct nvh_driver *drv;    /* driver files */
        const struct nvh_layout *layout; /* the image's library directories */
        bool create_missing_nodes;       /* optional control nodes (nvidia-uvm, nvidia-uvm-tools,
                                            nvidia-modeset) whose major the driver reports but
                                            that have no host node are made in the container
                                            (host_path NULL) instead of skipped */
};

int nvh_plan_build(const struct nvh_plan_input *in, struct nvh_plan **ret, struct nvh_err *err);
void nvh_plan_free(struct nvh_plan *plan);

static inline void
nvh_plan_freep(struct nvh_plan **plan)
{
        nvh_plan_free(*plan);
}
#define _cleanup_plan_ _cleanup_(nvh_plan_freep)

/* The plan as JSON (caller frees). */
char *nvh_plan_to_json(const struct nvh_plan *plan, unsigned json_flags);

const char *nvh_plan_op_kind_name(enum nvh_op_kind kind);

/* Add an NVH_OP_LDCACHE operation key -> value (a container path) of elf_class after the
 * plan's other cache entries, keeping execution order (CUDA forward compatibility,
 * lib/compat.c). */
int nvh_plan_add_ldcache(struct nvh_plan *plan, const char *key, const char *value, int elf_class,
                         const char *why, struct nvh_err *err);
