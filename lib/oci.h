/* SPDX-License-Identifier: Apache-2.0 */
/* OCI runtime state (hook stdin) and bundle config.json, reduced to what the hook needs.
 * Pure parsers: they read only the buffers they are given. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Size limits of the inputs, the one value every reader and parser uses; larger input is
 * -E2BIG. Runtimes copy annotations into config.json and the state, so both can legitimately
 * run to megabytes: the limits sit far above what a runtime writes and only bound memory
 * (jansson holds a parsed document in a small multiple of its size). */
#define NVH_OCI_STATE_MAX (16u << 20)
#define NVH_OCI_SPEC_MAX (64u << 20)

struct nvh_oci_state {
        char *oci_version;  /* NULL when absent */
        char *id;           /* non-empty */
        char *status;       /* any value the runtime chose; NULL when absent */
        int pid;            /* 0 when absent (the caller decides whether it needs one) */
        char *bundle;       /* absolute; from "bundle" or the pre-1.0 "bundlePath" */
        char **annotations; /* key, value, key, value, ..., NULL */
};

/* Trusts nothing in buf. Verifies types, that id is non-empty, that pid fits an int and is
 * positive, that bundle is an absolute path. Rejects duplicate keys. */
int nvh_oci_state_parse(const char *buf, size_t len, struct nvh_oci_state **ret,
                        struct nvh_err *err);
void nvh_oci_state_free(struct nvh_oci_state *s);

static inline void
nvh_oci_state_freep(struct nvh_oci_state **s)
{
        nvh_oci_state_free(*s);
}
#define _cleanup_state_ __attribute__((cleanup(nvh_oci_state_freep)))

struct nvh_oci_mount {
        char *destination; /* non-empty */
        char *source;      /* NULL when absent */
        char *type;        /* NULL when absent */
        char **options;    /* NULL-terminated, never NULL */
};

struct nvh_oci_idmap {
        uint32_t container_id;
        uint32_t host_id;
        uint32_t size;
};

struct nvh_oci_spec {
        char *oci_version; /* NULL when absent */
        char *host_rootfs; /* absolute: root.path, joined to the bundle when relative */
        bool root_readonly;
        char **env; /* process.env as given, NULL-terminated, never NULL */
        struct nvh_oci_mount *mounts;
        size_t n_mounts;
        char **annotations;  /* key, value, key, value, ..., NULL; never NULL */
        bool privileged;     /* CAP_SYS_ADMIN in process.capabilities.bounding */
        bool user_ns;        /* linux.namespaces has a "user" entry */
        char *mount_ns_path; /* path of the "mount" namespace entry, NULL when none given */
        struct nvh_oci_idmap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        char *cgroups_path; /* linux.cgroupsPath, NULL when absent */
};

/* Trusts nothing in buf; host_bundle is the (absolute) bundle directory from the state and
 * is only used to make a relative root.path absolute. Verifies the type of every field it
 * reads and that root.path is a non-empty string; unknown fields and "hooks" are ignored.
 * Rejects duplicate keys (a runtime that keeps the last one would see another value). */
int nvh_oci_spec_parse(const char *buf, size_t len, const char *host_bundle,
                       struct nvh_oci_spec **ret, struct nvh_err *err);
void nvh_oci_spec_free(struct nvh_oci_spec *s);

static inline void
nvh_oci_spec_freep(struct nvh_oci_spec **s)
{
        nvh_oci_spec_free(*s);
}
#define _cleanup_spec_ __attribute__((cleanup(nvh_oci_spec_freep)))

/* The value of name in process.env, NULL when unset. The last occurrence wins, as in
 * nvidia-container-toolkit (which builds a map from the list). */
const char *nvh_oci_spec_getenv(const struct nvh_oci_spec *s, const char *name);

/* The value of an annotation, NULL when absent. */
const char *nvh_oci_spec_annotation(const struct nvh_oci_spec *s, const char *key);
