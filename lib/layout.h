/* SPDX-License-Identifier: Apache-2.0 */
/* Where the image's dynamic loader looks for libraries, probed in-root (read-only). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "ldcache.h"

/* Which file a parsed cache came from: compared on the fd the injection opens in-root after
 * entering the container's namespace, so the first parse is reused only for the same file,
 * unchanged. */
struct nvh_layout_file_id {
        uint64_t dev, ino;
        int64_t size;
        struct timespec mtime, ctime;
};

/* What the image's dynamic loader searches. */
struct nvh_layout {
        char libdir[128];   /* e.g. /usr/lib/x86_64-linux-gnu, /usr/lib64, /usr/lib */
        char libdir32[128]; /* e.g. /usr/lib/i386-linux-gnu, /usr/lib, "" when unknown */
        bool has_ldcache;   /* the image has /etc/ld.so.cache */
        bool musl;          /* musl loader found */
        bool glibc;         /* a glibc loader, which reads /etc/ld.so.cache: found by the cache
                               listing libc.so.6 or a glibc family's libc */
        bool ldconf_d;      /* glibc with an /etc/ld.so.conf.d directory (its ldconfig reads
                               the files there) */
        char musl_arch[32]; /* e.g. x86_64 */
        char why[128];      /* how libdir was decided */
        /* nvh_layout_probe_keep only: the image's cache as parsed by the probe (owned, NULL
         * when absent or corrupt) and the identity of the file it was read from. Never copied
         * into a plan (the plan is pure data); freed by nvh_layout_done. */
        struct nvh_ldcache *ldcache;
        struct nvh_layout_file_id ldcache_id;
};

/* Probe the image below root_fd (an O_PATH directory fd of the container's rootfs). */
int nvh_layout_probe_fd(int root_fd, struct nvh_layout *ret, struct nvh_err *err);

/* Open the rootfs as the container's mount namespace sees it (through /proc/<pid>/root when
 * pid > 0, else in the caller's namespace) and probe it. */
int nvh_layout_probe(const char *host_rootfs, int pid, struct nvh_layout *ret, struct nvh_err *err);

/* nvh_layout_probe, keeping the parsed cache in ret->ldcache for the injection to reuse
 * (nvh_inject_target.layout) instead of reading and parsing it a second time. */
int nvh_layout_probe_keep(const char *host_rootfs, int pid, struct nvh_layout *ret,
                          struct nvh_err *err);

/* Free what a probe kept (ret->ldcache). */
void nvh_layout_done(struct nvh_layout *layout);

/* Open the image's /etc/ld.so.cache below root_fd in-root, never following a symlink nor
 * opening a FIFO or device (non-blocking, regular files only), read it (bounded by
 * NVH_LDCACHE_MAX_SIZE) into *ret_buf and return its identity. -ENOENT when absent. */
int nvh_layout_read_ldcache(int root_fd, char **ret_buf, size_t *ret_len,
                            struct nvh_layout_file_id *ret_id, struct nvh_err *err);

/* Open the cache as above and return only its identity (no read). */
int nvh_layout_ldcache_id(int root_fd, struct nvh_layout_file_id *ret_id, struct nvh_err *err);

bool nvh_layout_file_id_eq(const struct nvh_layout_file_id *a, const struct nvh_layout_file_id *b);

/* The O_PATH directory fd of the rootfs as nvh_layout_probe opens it (caller closes). */
int nvh_layout_open_root(const char *host_rootfs, int pid, int *ret_fd, struct nvh_err *err);
