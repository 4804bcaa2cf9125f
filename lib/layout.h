/* SPDX-License-Identifier: Apache-2.0 */
/* Where the image's dynamic loader looks for libraries, probed in-root (read-only). */
#pragma once

#include <stdbool.h>

#include "err.h"

/* What the image's dynamic loader searches. */
struct nvh_layout {
        char libdir[128];   /* e.g. /usr/lib/x86_64-linux-gnu, /usr/lib64, /usr/lib */
        char libdir32[128]; /* e.g. /usr/lib/i386-linux-gnu, /usr/lib, "" when unknown */
        bool has_ldcache;   /* the image has /etc/ld.so.cache */
        bool musl;          /* musl loader found */
        char musl_arch[32]; /* e.g. x86_64 */
        char why[128];      /* how libdir was decided */
};

/* Probe the image below root_fd (an O_PATH directory fd of the container's rootfs). */
int nvh_layout_probe_fd(int root_fd, struct nvh_layout *ret, struct nvh_err *err);

/* Open the rootfs as the container's mount namespace sees it (through /proc/<pid>/root when
 * pid > 0, else in the caller's namespace) and probe it. */
int nvh_layout_probe(const char *host_rootfs, int pid, struct nvh_layout *ret, struct nvh_err *err);

/* The O_PATH directory fd of the rootfs as nvh_layout_probe opens it (caller closes). */
int nvh_layout_open_root(const char *host_rootfs, int pid, int *ret_fd, struct nvh_err *err);
