/* SPDX-License-Identifier: Apache-2.0 */
/* The hook's configuration file (JSON). Every field is optional; an unknown key or a value of
 * the wrong type is an error naming the key, so a typo never silently weakens the policy. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "log.h"

#define NVH_CONF_MAX (1u << 20)
#define NVH_CONF_DEFAULT_PATH "/etc/nvhook/config.json"

/* Same order as enum nvh_cgroup_mode (lib/cgroup.h, a higher layer this one cannot include). */
enum nvh_conf_cgroup {
        NVH_CONF_CGROUP_AUTO,
        NVH_CONF_CGROUP_V1,
        NVH_CONF_CGROUP_V2,
        NVH_CONF_CGROUP_NONE,
};

struct nvh_conf {
        char *driver_root;                /* "driver_root" ("/") */
        char *ldcache;                    /* "ldcache": the cache inside driver_root, resolved in it
                                             ("/etc/ld.so.cache"; null means the default) */
        char *proc_root;                  /* "proc_root" ("/proc"; tests point it elsewhere) */
        char *dev_root;                   /* "dev_root" ("/dev") */
        unsigned allowed_caps;            /* "allowed_capabilities": comma list or array ("all") */
        bool accept_env_unprivileged;     /* "accept_env_unprivileged" (true) */
        bool accept_device_mounts;        /* "accept_device_mounts" (true) */
        char *log_file;                   /* "log_file" (null: none) */
        enum nvh_log_level log_level;     /* "log_level": debug|info|warning|error ("warning") */
        char *cache_dir;                  /* "cache_dir" ("/run/nvhook") */
        bool disable_require;             /* "disable_require" (false) */
        enum nvh_conf_cgroup cgroup_mode; /* "cgroup": auto|v1|v2|none ("auto") */
        char *runtime;                    /* "runtime": the real runtime nvhook-runtime execs
                                             (null: "runc" from PATH) */
        bool cuda_compat;                 /* "cuda_compat": prefer the image's CUDA forward
                                             compatibility libraries (true) */
};

/* Fill c with the defaults (c's previous contents are not freed). 0 or -ENOMEM. */
int nvh_conf_defaults(struct nvh_conf *c);

/* Free the members of c (not c itself) and zero it. */
void nvh_conf_free_contents(struct nvh_conf *c);

/* Free the members and c. */
void nvh_conf_free(struct nvh_conf *c);

static inline void
nvh_conf_freep(struct nvh_conf **c)
{
        nvh_conf_free(*c);
}
#define _cleanup_conf_ __attribute__((cleanup(nvh_conf_freep)))

/* Trusts nothing in buf; what names the source in messages (a path). Every path must be
 * absolute and is kept as written. Rejects duplicate keys. */
int nvh_conf_parse(const char *buf, size_t len, const char *what, struct nvh_conf **ret,
                   struct nvh_err *err);

/* Read host_path (at most NVH_CONF_MAX bytes) and parse it. A missing file is -ENOENT; the
 * caller decides whether that means "use the defaults". */
int nvh_conf_load(const char *host_path, struct nvh_conf **ret, struct nvh_err *err);

/* Replace a string member (an argv override): 0 or -ENOMEM (the old value is kept). */
int nvh_conf_set_str(char **field, const char *value);

const char *nvh_conf_cgroup_name(enum nvh_conf_cgroup cg);
