/* SPDX-License-Identifier: Apache-2.0 */
/* Driver discovery: which host files make up the running NVIDIA driver, per capability.
 * Reads the host under a driver root (ld.so.cache, ELF headers, a few directories); writes
 * nothing. The component tables are in lib/components.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "caps.h"
#include "err.h"

enum nvh_file_kind {
        NVH_FILE_LIB,      /* shared library (64-bit, or 32-bit with compat32) */
        NVH_FILE_BIN,      /* executable */
        NVH_FILE_FIRMWARE, /* GSP firmware of the running driver version */
        NVH_FILE_CONFIG,   /* ICD / vendor / layer JSON, OpenCL ICD, OptiX data */
        NVH_FILE_SOCKET,   /* host IPC socket (persistenced, fabric manager) */
        NVH_FILE_DIR,      /* host IPC directory (MPS pipes) */
};

struct nvh_driver_file {
        enum nvh_file_kind kind;
        unsigned caps;   /* NVH_CAP_* bits that select it (lib/caps.h); a 32-bit library also
                            needs NVH_CAP_COMPAT32 (see nvh_driver_file_selected) */
        char *host_path; /* absolute path as the hook sees it (driver root prefixed), free of
                            symlinks below the driver root */
        char *ctr_path;  /* target inside the container; NULL for libraries (the plan picks
                            the image's lib dir) */
        char *soname;    /* libraries: DT_SONAME from ELF (e.g. libcuda.so.1); else NULL */
        int elf_class;   /* libraries: 32 or 64; else 0 */
        const char *why; /* the table comment, e.g. "compute: CUDA driver API" (static) */
};

struct nvh_driver {
        char *host_root;   /* normalised driver root ("/" or "/run/nvidia/driver") */
        char *version;     /* driver version the files were matched against */
        char *host_prefix; /* driver prefix (parent of the 64-bit library directory, e.g.
                              "/usr/local/nvidia", "/run/nvidia/driver/usr"), NULL if none */
        struct nvh_driver_file *files; /* libraries (cache order), binaries, firmware, config
                                          files, IPC; no two with the same host_path */
        size_t n_files;
        unsigned n_skipped; /* candidates rejected with a warning (corrupt ELF, wrong machine,
                               dangling link) */
};

struct nvh_driver_opts {
        const char *host_root;     /* "/" default; "/run/nvidia/driver" for the GPU Operator */
        const char *rel_ldcache;   /* default "etc/ld.so.cache" under host_root */
        const char *version;       /* driver version (from /proc/driver/nvidia/version); required */
        unsigned caps;             /* which capabilities to collect (NVH_CAP_ALL for everything);
                                      32-bit libraries only with NVH_CAP_COMPAT32 */
        const char *host_ipc_root; /* where IPC sockets are looked for: "/" default (the real
                                      host, whatever host_root is); tests point it elsewhere */
};

/* Discover the driver files for opts->caps. Libraries come from the driver root's
 * ld.so.cache, resolved inside the driver root and confirmed by their ELF header; a
 * candidate that is corrupt or for another machine is skipped with a warning (n_skipped),
 * files of another driver version are ignored silently. Errors: no/corrupt cache (naming
 * it), bad options (-EINVAL), unreadable driver root. */
int nvh_driver_discover(const struct nvh_driver_opts *opts, struct nvh_driver **ret,
                        struct nvh_err *err);

void nvh_driver_free(struct nvh_driver *drv);

static inline void
nvh_driver_freep(struct nvh_driver **drv)
{
        nvh_driver_free(*drv);
}
#define _cleanup_driver_ __attribute__((cleanup(nvh_driver_freep)))

/* Whether a discovered file is wanted for caps (what the plan injects for a request). */
bool nvh_driver_file_selected(const struct nvh_driver_file *f, unsigned caps);

/* "lib", "bin", "firmware", "config", "socket", "dir". */
const char *nvh_driver_file_kind_name(enum nvh_file_kind kind);

struct nvh_component_ipc;

/* Whether the IPC endpoint of one table entry exists on the host now (a socket, or the MPS
 * directory), under host_ipc_root ("/" when NULL). 1 and *ret filled (caller frees its
 * paths), 0 when absent, -ENOMEM. Shared by discovery and its cache: IPC endpoints come and
 * go at run time and are never cached. */
int nvh_driver_ipc_probe(const struct nvh_component_ipc *ipc, const char *host_ipc_root,
                         struct nvh_driver_file *ret);
