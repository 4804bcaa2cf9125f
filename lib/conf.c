/* SPDX-License-Identifier: Apache-2.0 */
#include "conf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "caps.h"
#include "fileio.h"
#include "json.h"
#include "macros.h"

static const char *const cgroup_names[] = {
    [NVH_CONF_CGROUP_AUTO] = "auto",
    [NVH_CONF_CGROUP_V1] = "v1",
    [NVH_CONF_CGROUP_V2] = "v2",
    [NVH_CONF_CGROUP_NONE] = "none",
};

static const struct {
        const char *name;
        enum nvh_log_level level;
} log_levels[] = {
    {"debug", NVH_LOG_DEBUG},
    {"info", NVH_LOG_INFO},
    {"warning", NVH_LOG_WARN},
    {"error", NVH_LOG_ERROR},
};

const char *
nvh_conf_cgroup_name(enum nvh_conf_cgroup cg)
{
        if ((unsigned)cg >= ARRAY_SIZE(cgroup_names))
                return "?";
        return cgroup_names[cg];
}

void
nvh_conf_free_contents(struct nvh_conf *c)
{
        if (!c)
                return;
        free(c->driver_root);
        free(c->ldcache);
        free(c->proc_root);
        free(c->dev_root);
        free(c->log_file);
        free(c->cache_dir);
        free(c->runtime);
        memset(c, 0, sizeof(*c));
}

void
nvh_conf_free(struct nvh_conf *c)
{
        nvh_conf_free_contents(c);
        free(c);
}

int
nvh_conf_defaults(struct nvh_conf *c)
{
        *c = (struct nvh_conf){
            .driver_root = strdup("/"),
            .ldcache = strdup("/etc/ld.so.cache"),
            .proc_root = strdup("/proc"),
            .dev_root = strdup("/dev"),
            .allowed_caps = NVH_CAP_ALL,
            .accept_env_unprivileged = true,
            .accept_device_mounts = true,
            .log_file = NULL,
            .log_level = NVH_LOG_WARN,
            .cache_dir = strdup("/run/nvhook"),
            .disable_require = false,
            .cgroup_mode = NVH_CONF_CGROUP_AUTO,
            .cuda_compat = true,
        };
        if (!c->driver_root || !c->ldcache || !c->proc_root || !c->dev_root || !c->cache_dir) {
                nvh_conf_free_contents(c);
                return -ENOMEM;
        }
        return 0;
}

enum kind { K_PATH, K_PATH_OR_NULL, K_BOOL, K_CAPS, K_LOG_LEVEL, K_CGROUP };

static const struct field {
        const char *key;
        enum kind kind;
        size_t off;
} fields[] = {
    {"driver_root", K_PATH, offsetof(struct nvh_conf, driver_root)},
    {"ldcache", K_PATH_OR_NULL, offsetof(struct nvh_conf, ldcache)},
    {"proc_root", K_PATH, offsetof(struct nvh_conf, proc_root)},
    {"dev_root", K_PATH, offsetof(struct nvh_conf, dev_root)},
    {"allowed_capabilities", K_CAPS, offsetof(struct nvh_conf, allowed_caps)},
    {"accept_env_unprivileged", K_BOOL, offsetof(struct nvh_conf, accept_env_unprivileged)},
    {"accept_device_mounts", K_BOOL, offsetof(struct nvh_conf, accept_device_mounts)},
    {"log_file", K_PATH_OR_NULL, offsetof(struct nvh_conf, log_file)},
    {"log_level", K_LOG_LEVEL, offsetof(struct nvh_conf, log_level)},
    {"cache_dir", K_PATH, offsetof(struct nvh_conf, cache_dir)},
    {"disable_require", K_BOOL, offsetof(struct nvh_conf, disable_require)},
    {"cgroup", K_CGROUP, offsetof(struct nvh_conf, cgroup_mode)},
    {"runtime", K_PATH_OR_NULL, offsetof(struct nvh_conf, runtime)},
    {"cuda_compat", K_BOOL, offsetof(struct nvh_conf, cuda_compat)},
};

static int
set_caps(const json_t *v, const char *what, const char *key, unsigned *ret, struct nvh_err *err)
{
        unsigned caps = 0;
        int r;

        if (json_is_string(v)) {
                r = nvh_caps_parse(json_string_value(v), &caps, err);
                if (r < 0)
                        return nvh_err_prefix(err, "%s: '%s'", what, key);
        } else if (json_is_array(v)) {
                for (size_t i = 0; i < json_array_size(v); i++) {
                        json_t *e = json_array_get(v, i);
                        char name[64];
                        unsigned one;

                        if (!json_is_string(e)) {
                                snprintf(name, sizeof(name), "%s[%zu]", key, i);
                                return nvh_json_type_error(what, name, "a string", e, err);
                        }
                        /* One name per element: a comma inside one is a mistake. */
                        if (strchr(json_string_value(e), ','))
                                return nvh_err_set(err, -EINVAL,
                                                   "%s: '%s' holds a list in one element: '%.64s'",
                                                   what, key, json_string_value(e));
                        r = nvh_caps_parse(json_string_value(e), &one, err);
                        if (r < 0)
                                return nvh_err_prefix(err, "%s: '%s'", what, key);
                        caps |= one;
                }
        } else {
                return nvh_json_type_error(what, key, "a string or an array", v, err);
        }
        *ret = caps;
        return 0;
}

static int
set_field(const struct field *f, const json_t *v, const char *what, struct nvh_conf *c,
          struct nvh_err *err)
{
        char *base = (char *)c + f->off;

        switch (f->kind) {
        case K_PATH:
        case K_PATH_OR_NULL: {
                char **dst = (char **)(void *)base;
                const char *s;

                if (f->kind == K_PATH_OR_NULL && json_is_null(v)) {
                        free(*dst);
                        *dst = NULL;
                        return 0;
                }
                if (!json_is_string(v))
                        return nvh_json_type_error(what, f->key, "a string", v, err);
                s = json_string_value(v);
                if (s[0] != '/')
                        return nvh_err_set(err, -EINVAL,
                                           "%s: '%s' is not an absolute path: '%.64s'", what,
                                           f->key, s);
                char *d = strdup(s);
                if (!d)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                free(*dst);
                *dst = d;
                return 0;
        }
        case K_BOOL:
                if (!json_is_boolean(v))
                        return nvh_json_type_error(what, f->key, "a boolean", v, err);
                *(bool *)(void *)base = json_is_true(v);
                return 0;
        case K_CAPS:
                return set_caps(v, what, f->key, (unsigned *)(void *)base, err);
        case K_LOG_LEVEL:
                if (!json_is_string(v))
                        return nvh_json_type_error(what, f->key, "a string", v, err);
                for (size_t i = 0; i < ARRAY_SIZE(log_levels); i++)
                        if (streq(json_string_value(v), log_levels[i].name)) {
                                *(enum nvh_log_level *)(void *)base = log_levels[i].level;
                                return 0;
                        }
                return nvh_err_set(err, -EINVAL, "%s: unknown '%s' '%.64s'", what, f->key,
                                   json_string_value(v));
        case K_CGROUP:
                if (!json_is_string(v))
                        return nvh_json_type_error(what, f->key, "a string", v, err);
                for (size_t i = 0; i < ARRAY_SIZE(cgroup_names); i++)
                        if (streq(json_string_value(v), cgroup_names[i])) {
                                *(enum nvh_conf_cgroup *)(void *)base = (enum nvh_conf_cgroup)i;
                                return 0;
                        }
                return nvh_err_set(err, -EINVAL, "%s: unknown '%s' '%.64s'", what, f->key,
                                   json_string_value(v));
        }
        return -EINVAL;
}

/* Trust boundary: the file is the administrator's, but a typo must not weaken the policy:
 * unknown keys, wrong types and relative paths are errors naming the key. */
int
nvh_conf_parse(const char *buf, size_t len, const char *what, struct nvh_conf **ret,
               struct nvh_err *err)
{
        _cleanup_json_ json_t *root = NULL;
        _cleanup_conf_ struct nvh_conf *c = NULL;
        const char *key;
        json_t *v;
        int r;

        if (!what)
                what = "config";
        r = nvh_json_load_object(buf, len, NVH_CONF_MAX, what, &root, err);
        if (r < 0)
                return r;
        c = calloc(1, sizeof(*c));
        if (!c || nvh_conf_defaults(c) < 0)
                return nvh_err_set(err, -ENOMEM, "out of memory");

        json_object_foreach(root, key, v)
        {
                const struct field *f = NULL;

                for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
                        if (streq(fields[i].key, key)) {
                                f = &fields[i];
                                break;
                        }
                if (!f)
                        return nvh_err_set(err, -EINVAL, "%s: unknown key '%.64s'", what, key);
                r = set_field(f, v, what, c, err);
                if (r < 0)
                        return r;
        }
        if (!c->ldcache && !(c->ldcache = strdup("/etc/ld.so.cache")))
                return nvh_err_set(err, -ENOMEM, "out of memory");
        *ret = TAKE_PTR(c);
        return 0;
}

int
nvh_conf_set_str(char **field, const char *value)
{
        char *d = NULL;

        if (value && !(d = strdup(value)))
                return -ENOMEM;
        free(*field);
        *field = d;
        return 0;
}

int
nvh_conf_load(const char *host_path, struct nvh_conf **ret, struct nvh_err *err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        r = nvh_fileio_read_at(AT_FDCWD, host_path, NVH_CONF_MAX, 0, &buf, &len, err);
        if (r < 0)
                return r;
        return nvh_conf_parse(buf, len, host_path, ret, err);
}
