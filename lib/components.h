/* SPDX-License-Identifier: Apache-2.0 */
/* What the NVIDIA driver consists of, per capability, as data tables (lib/components.c).
 * Adding a driver component is one line there. */
#pragma once

#include <stddef.h>

#include "caps.h"

enum nvh_component_flag {
        /* The file is not named after the driver version (libnvidia-egl-wayland.so.1.1.13):
         * accept it without the ".so.<driver version>" check. */
        NVH_COMPONENT_UNVERSIONED = 1u << 0,
};

/* A library, matched by the part of its soname before ".so" ("libcuda" for libcuda.so.1). */
struct nvh_component_lib {
        const char *name;
        unsigned caps;  /* NVH_CAP_* bits that select it; 32-bit copies also need COMPAT32 */
        unsigned flags; /* NVH_COMPONENT_* */
        const char *why;
};

/* An executable, looked up by name in the binary directories; goes to /usr/bin/<name>. */
struct nvh_component_bin {
        const char *name;
        unsigned caps;
        const char *why;
};

/* A configuration or data file. rel is relative to a data/config base directory
 * (usr/share, usr/local/share, etc, <driver prefix>/share); its last component may be an
 * fnmatch(3) pattern, which selects every match in that directory. */
struct nvh_component_config {
        const char *rel;
        unsigned caps;
        const char *ctr_base; /* fixed container base ("/etc"); NULL: "/etc" when found under
                                 etc, "/usr/share" otherwise */
        const char *why;
};

enum nvh_component_ipc_kind {
        NVH_COMPONENT_IPC_SOCKET,
        NVH_COMPONENT_IPC_DIR,
};

/* A host IPC endpoint, taken only when it exists on the real host; same path in the
 * container. */
struct nvh_component_ipc {
        const char *path; /* absolute */
        enum nvh_component_ipc_kind kind;
        unsigned caps;
        const char *why;
        const char *daemon;  /* executable name of the daemon that owns it: it must run */
        const char *control; /* IPC_DIR: the entry (pipe or socket) a running daemon keeps there */
};

/* Firmware files of the running driver version: <dir>/nvidia/<version>/<pattern>. */
struct nvh_component_firmware {
        const char *pattern;
        unsigned caps;
        const char *why;
};

const struct nvh_component_lib *nvh_components_libs(size_t *ret_n);
const struct nvh_component_bin *nvh_components_bins(size_t *ret_n);
const struct nvh_component_config *nvh_components_configs(size_t *ret_n);
const struct nvh_component_ipc *nvh_components_ipcs(size_t *ret_n);
const struct nvh_component_firmware *nvh_components_firmware(size_t *ret_n);

/* The IPC entry whose path is ctr_path, or NULL. */
const struct nvh_component_ipc *nvh_components_find_ipc(const char *ctr_path);

/* The library entry whose name is exactly the first len bytes of name, or NULL. */
const struct nvh_component_lib *nvh_components_find_lib(const char *name, size_t len);
