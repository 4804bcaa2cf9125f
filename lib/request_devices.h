/* SPDX-License-Identifier: Apache-2.0 */
/* The device-token grammar and device lists of a request (lib/request_devices.c), split from
 * lib/request.c, which includes this header as lib/request.h does: its two public parsers keep
 * their nvh_request_ names; the nvh_request_devices_ ones serve lib/request.c. Device existence
 * is checked later, against the host (lib/select.h). */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "macros.h"
#include "oci.h"

/* Mounts of /dev/null on <root>/<device> select devices (accept-nvidia-visible-devices-as-
 * volume-mounts); the Kubernetes device plugin uses this to keep unprivileged pods from
 * choosing GPUs through the environment. */
#define NVH_REQUEST_DEVICE_MOUNT_ROOT "/var/run/nvidia-container-devices"

/* Longest device token accepted. */
#define NVH_REQUEST_TOKEN_MAX 96

enum nvh_devsel {
        NVH_DEVSEL_NONE, /* visible devices: "none" = driver files, no GPU; MIG: not asked */
        NVH_DEVSEL_ALL,
        NVH_DEVSEL_LIST,
};

/* Syntax of one device token. The existence of the device is checked later, against the
 * GPUs discovered on the host. */
enum nvh_devtok {
        NVH_DEVTOK_INDEX,      /* "0": PCI address order, as nvidia-smi shows it */
        NVH_DEVTOK_GPU_UUID,   /* "GPU-<uuid>", the whole UUID (8-4-4-4-12 hex), any case */
        NVH_DEVTOK_MIG_UUID,   /* "MIG-<uuid>", whole */
        NVH_DEVTOK_MIG_LEGACY, /* "MIG-GPU-<uuid>/<gi>/<ci>" (drivers before R470) */
        NVH_DEVTOK_PCI,        /* "[domain:]bus:device.function" (lib/pci.h) */
        NVH_DEVTOK_MIG_INDEX,  /* "<gpu>:<mig>" */
        NVH_DEVTOK_MIG_ID,     /* "<gpu>:<gi>:<ci>", no leading zeros */
};

/* Most device tokens one request may name (-E2BIG beyond): far above any host's GPUs and MIG
 * devices in all their spellings, low enough that the duplicate check stays cheap. */
#define NVH_REQUEST_DEVICES_MAX 1024u

/* A growable NULL-terminated string vector: how lib/request*.c build a request's vectors. */
struct strv_buf {
        char **v;
        size_t n, cap;
};

static inline void
strv_buf_done(struct strv_buf *b)
{
        strv_free(b->v);
        b->v = NULL;
        b->n = b->cap = 0;
}

static inline int
strv_buf_push_n(struct strv_buf *b, const char *s, size_t len)
{
        char *d;

        if (b->n + 2 > b->cap) {
                size_t ncap = b->cap ? b->cap * 2 : 8;
                char **nv = realloc(b->v, ncap * sizeof(char *));

                if (!nv)
                        return -ENOMEM;
                b->v = nv;
                b->cap = ncap;
        }
        d = strndup(s, len);
        if (!d)
                return -ENOMEM;
        b->v[b->n++] = d;
        b->v[b->n] = NULL;
        return 0;
}

static inline int
strv_buf_push(struct strv_buf *b, const char *s)
{
        return strv_buf_push_n(b, s, strlen(s));
}

static inline bool
strv_buf_contains(const struct strv_buf *b, const char *s)
{
        for (size_t i = 0; i < b->n; i++)
                if (streq(b->v[i], s))
                        return true;
        return false;
}

/* Hand the vector out; an empty one is a valid empty vector, never NULL. */
static inline char **
strv_buf_take(struct strv_buf *b)
{
        char **v = b->v;

        if (!v)
                v = calloc(1, sizeof(char *));
        b->v = NULL;
        b->n = b->cap = 0;
        return v;
}

/* Syntax check of one device token (no surrounding spaces). Returns its enum nvh_devtok kind
 * (>= 0) or -EINVAL "unknown device '<tok>'". When ret_canon is not NULL it receives the
 * canonical form (decimal without leading zeros, "GPU-"/"MIG-" with lower-case hex, PCI as
 * the kernel prints it: "%04x:%02x:%02x.%x"); size must be at least NVH_REQUEST_TOKEN_MAX+1. */
int nvh_request_parse_device_token(const char *tok, char *ret_canon, size_t size,
                                   struct nvh_err *err);

/* A device list as NVIDIA_VISIBLE_DEVICES holds it ("all", "none", or a comma list of
 * tokens; "void" counts as "none"), e.g. from a command line. *ret_devices is a canonical,
 * deduplicated vector (empty unless LIST). A blank list is -EINVAL. */
int nvh_request_parse_devices(const char *list, enum nvh_devsel *ret_sel, char ***ret_devices,
                              struct nvh_err *err);

/* For lib/request.c. */

/* Decimal number of at most 9 digits: 0, or -EINVAL. */
int nvh_request_devices_parse_uint(const char *s, size_t n, unsigned *ret);

/* nvh_request_parse_device_token on the first len bytes of tok. */
int nvh_request_devices_parse_token(const char *tok, size_t len, char *canon, size_t size,
                                    struct nvh_err *err);

/* Trim spaces and tabs off both ends of [*s, *s + *n). */
void nvh_request_devices_trim(const char **s, size_t *n);

/* [s, s + n) is word, case-insensitive. */
bool nvh_request_devices_word_eq(const char *s, size_t n, const char *word);

/* A comma list of device tokens (var names it in errors), or "all" / "none" / "void" (as
 * "none") alone. Empty entries are skipped; tokens are appended to ret_list, canonical and
 * deduplicated. Returns the number of entries seen (0: the list was blank). */
int nvh_request_devices_parse_list(const char *var, const char *value, enum nvh_devsel *ret_sel,
                                   struct strv_buf *ret_list, struct nvh_err *err);

/* Devices selected by /dev/null mounts on NVH_REQUEST_DEVICE_MOUNT_ROOT/<device>, appended to
 * ret_list. Returns the number found. "all" anywhere selects all, as nvidia-container-toolkit
 * does. */
int nvh_request_devices_from_mounts(const struct nvh_oci_spec *spec, enum nvh_devsel *ret_sel,
                                    struct strv_buf *ret_list, struct nvh_err *err);
