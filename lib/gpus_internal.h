/* SPDX-License-Identifier: Apache-2.0 */
/* Private to lib/gpus.c and lib/gpus_mig.c (not installed, included by nothing else): the
 * parse context and the small bounded-read and line helpers both halves of GPU discovery
 * share, and the MIG/capability scanners lib/gpus.c calls. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct nvh_capdev;
struct nvh_gpu;

#define SMALL_FILE_MAX 4096 /* information, version, capability files */

#define REL_CAPS "driver/nvidia/capabilities"

struct nvh_gpus_ctx {
        const char *proc; /* for messages only */
        int proc_fd;
        struct nvh_err *err;
};

/* -EBADMSG with "bad '<proc>/<rel>': <detail>". */
int nvh_gpus_bad(struct nvh_gpus_ctx *c, const char *rel, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Read a small file at rel (relative to dir_fd) into buf, NUL-terminated. what_rel names it
 * (relative to the proc root) in messages. Returns the length, -ENOENT silently when the file
 * does not exist and quiet_enoent is set, else a negative errno with a message. */
int nvh_gpus_read_small(struct nvh_gpus_ctx *c, int dir_fd, const char *rel, const char *what_rel,
                        char *buf, size_t size, bool quiet_enoent);

/* Next line of a NUL-terminated buffer: *line points at it, its '\n' is replaced by '\0'. */
bool nvh_gpus_next_line(char **cursor, char **line);

/* s without leading blanks; trailing blanks and '\r' are cut off in place. */
char *nvh_gpus_trim(char *s);

/* Minimal getdents64 iterator: no allocation, one syscall per buffer. */
struct nvh_gpus_dir_iter {
        int fd;
        long len, pos;
        char buf[4096] __attribute__((aligned(8)));
};

/* Returns 1 with the entry name and type set, 0 at the end, or a negative errno. Skips "." and
 * "..". */
int nvh_gpus_mig_dir_next(struct nvh_gpus_dir_iter *it, const char **name, unsigned char *type);

/* Read an optional capability file; leaves cap at -1/-1 when it does not exist. */
int nvh_gpus_mig_read_cap(struct nvh_gpus_ctx *c, int dir_fd, const char *rel, const char *what_rel,
                          struct nvh_capdev *cap);

/* capabilities/gpu<minor>/mig/gi<G>[/ci<C>]/access for one GPU (caps_fd -1: none). */
int nvh_gpus_mig_scan(struct nvh_gpus_ctx *c, int caps_fd, struct nvh_gpu *gpu);
