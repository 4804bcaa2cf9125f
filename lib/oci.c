/* SPDX-License-Identifier: Apache-2.0 */
#include "oci.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fileio.h"
#include "json.h"
#include "macros.h"

static int
dup_str(const char *s, char **ret, struct nvh_err *err)
{
        char *d = strdup(s);

        if (!d)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        *ret = d;
        return 0;
}

/* Optional member of type string: 0 absent (*ret untouched), 1 present, < 0 wrong type. */
static int
get_string(const json_t *obj, const char *key, const char *what, const char *field,
           const char **ret, struct nvh_err *err)
{
        json_t *v = json_object_get(obj, key);

        if (!v)
                return 0;
        if (!json_is_string(v))
                return nvh_json_type_error(what, field, "a string", v, err);
        *ret = json_string_value(v);
        return 1;
}

/* Required member of type string that must not be empty. */
static int
get_string_required(const json_t *obj, const char *key, const char *what, const char *field,
                    const char **ret, struct nvh_err *err)
{
        const char *str = NULL;
        int r;

        r = get_string(obj, key, what, field, &str, err);
        if (r < 0)
                return r;
        if (r == 0)
                return nvh_err_set(err, -EINVAL, "%s: missing '%s'", what, field);
        if (!*str)
                return nvh_err_set(err, -EINVAL, "%s: '%s' is empty", what, field);
        *ret = str;
        return 0;
}

/* Optional member of type string, copied into *ret: 0 absent (*ret untouched), 1 present,
 * < 0 wrong type or out of memory. */
static int
get_string_dup(const json_t *obj, const char *key, const char *what, const char *field, char **ret,
               struct nvh_err *err)
{
        const char *str = NULL;
        int r;

        r = get_string(obj, key, what, field, &str, err);
        if (r <= 0)
                return r;
        if (dup_str(str, ret, err) < 0)
                return -ENOMEM;
        return 1;
}

static int
get_typed(const json_t *obj, const char *key, json_type type, const char *what, const char *field,
          json_t **ret, struct nvh_err *err)
{
        json_t *v = json_object_get(obj, key);

        if (!v)
                return 0;
        if (json_typeof(v) != type)
                return nvh_json_type_error(what, field,
                                           type == JSON_OBJECT  ? "an object"
                                           : type == JSON_ARRAY ? "an array"
                                                                : "of the right type",
                                           v, err);
        *ret = v;
        return 1;
}

static int
get_bool(const json_t *obj, const char *key, const char *what, const char *field, bool *ret,
         struct nvh_err *err)
{
        json_t *v = json_object_get(obj, key);

        if (!v)
                return 0;
        if (!json_is_boolean(v))
                return nvh_json_type_error(what, field, "a boolean", v, err);
        *ret = json_is_true(v);
        return 1;
}

static char **
strv_new_empty(void)
{
        return calloc(1, sizeof(char *));
}

/* An array of strings as a NULL-terminated vector. */
static int
strv_from_array(const json_t *arr, const char *what, const char *field, char ***ret,
                struct nvh_err *err)
{
        size_t n = json_array_size(arr);
        _cleanup_strv_ char **v = calloc(n + 1, sizeof(char *));

        if (!v)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(arr, i);
                char name[128];

                if (!json_is_string(e)) {
                        snprintf(name, sizeof(name), "%s[%zu]", field, i);
                        return nvh_json_type_error(what, name, "a string", e, err);
                }
                if (dup_str(json_string_value(e), &v[i], err) < 0)
                        return err ? err->code : -ENOMEM;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* An object of strings as key, value, key, value, ..., NULL. */
static int
strv_from_annotations(const json_t *obj, const char *what, const char *field, char ***ret,
                      struct nvh_err *err)
{
        size_t n = json_object_size(obj), i = 0;
        _cleanup_strv_ char **v = calloc(2 * n + 1, sizeof(char *));
        const char *key;
        json_t *val;

        if (!v)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        json_object_foreach((json_t *)obj, key, val)
        {
                char name[160];

                if (!json_is_string(val)) {
                        snprintf(name, sizeof(name), "%s.%.64s", field, key);
                        return nvh_json_type_error(what, name, "a string", val, err);
                }
                if (i + 2 > 2 * n)
                        break;
                if (dup_str(key, &v[i], err) < 0 ||
                    dup_str(json_string_value(val), &v[i + 1], err) < 0)
                        return -ENOMEM;
                i += 2;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* The optional "annotations" object as key, value, ..., NULL; absent, an empty vector. */
static int
parse_annotations(const json_t *root, const char *what, char ***ret, struct nvh_err *err)
{
        json_t *ann = NULL;
        int r;

        r = get_typed(root, "annotations", JSON_OBJECT, what, "annotations", &ann, err);
        if (r < 0)
                return r;
        if (r > 0)
                return strv_from_annotations(ann, what, "annotations", ret, err);
        *ret = strv_new_empty();
        if (!*ret)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        return 0;
}

static int
is_absolute(const char *p)
{
        return p && p[0] == '/';
}

void
nvh_oci_state_free(struct nvh_oci_state *s)
{
        if (!s)
                return;
        free(s->oci_version);
        free(s->id);
        free(s->status);
        free(s->bundle);
        strv_free(s->annotations);
        free(s);
}

/* Trust boundary: buf is whatever the runtime wrote on stdin; see oci.h for what is checked. */
int
nvh_oci_state_parse(const char *buf, size_t len, struct nvh_oci_state **ret, struct nvh_err *err)
{
        static const char what[] = "state";
        _cleanup_json_ json_t *root = NULL;
        _cleanup_state_ struct nvh_oci_state *s = NULL;
        const char *str = NULL;
        json_t *v = NULL;
        int r;

        r = nvh_json_load_object(buf, len, NVH_OCI_STATE_MAX, what, &root, err);
        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s)
                return nvh_err_set(err, -ENOMEM, "out of memory");

        r = get_string_dup(root, "ociVersion", what, "ociVersion", &s->oci_version, err);
        if (r < 0)
                return r;

        r = get_string_required(root, "id", what, "id", &str, err);
        if (r < 0)
                return r;
        if (dup_str(str, &s->id, err) < 0)
                return -ENOMEM;

        r = get_string_dup(root, "status", what, "status", &s->status, err);
        if (r < 0)
                return r;

        v = json_object_get(root, "pid");
        if (v) {
                json_int_t pid;

                if (!json_is_integer(v))
                        return nvh_json_type_error(what, "pid", "an integer", v, err);
                pid = json_integer_value(v);
                if (pid <= 0 || pid > INT_MAX)
                        return nvh_err_set(err, -EINVAL,
                                           "%s: 'pid' is out of range: %" JSON_INTEGER_FORMAT, what,
                                           pid);
                s->pid = (int)pid;
        }

        /* "bundlePath" is what runtimes before OCI 1.0 wrote. */
        str = NULL;
        r = get_string(root, "bundle", what, "bundle", &str, err);
        if (r == 0)
                r = get_string(root, "bundlePath", what, "bundlePath", &str, err);
        if (r < 0)
                return r;
        if (r == 0)
                return nvh_err_set(err, -EINVAL, "%s: missing 'bundle'", what);
        if (!is_absolute(str))
                return nvh_err_set(err, -EINVAL, "%s: 'bundle' is not an absolute path: '%s'", what,
                                   str);
        s->bundle = nvh_fileio_path_normalize(str);
        if (!s->bundle)
                return nvh_err_set(err, -ENOMEM, "out of memory");

        r = parse_annotations(root, what, &s->annotations, err);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(s);
        return 0;
}

void
nvh_oci_spec_free(struct nvh_oci_spec *s)
{
        if (!s)
                return;
        free(s->oci_version);
        free(s->host_rootfs);
        strv_free(s->env);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].destination);
                free(s->mounts[i].source);
                free(s->mounts[i].type);
                strv_free(s->mounts[i].options);
        }
        free(s->mounts);
        strv_free(s->annotations);
        free(s->mount_ns_path);
        free(s->uid_mappings);
        free(s->gid_mappings);
        free(s->cgroups_path);
        free(s);
}

static int
parse_root(const json_t *root, const char *host_bundle, struct nvh_oci_spec *s, struct nvh_err *err)
{
        static const char what[] = "config.json";
        json_t *jroot = NULL;
        const char *path = NULL;
        int r;

        r = get_typed(root, "root", JSON_OBJECT, what, "root", &jroot, err);
        if (r < 0)
                return r;
        if (r == 0)
                return nvh_err_set(err, -EINVAL, "%s: missing 'root'", what);
        r = get_string_required(jroot, "path", what, "root.path", &path, err);
        if (r < 0)
                return r;
        if (is_absolute(path)) {
                s->host_rootfs = nvh_fileio_path_normalize(path);
        } else {
                _cleanup_free_ char *joined = NULL;

                if (!host_bundle)
                        return nvh_err_set(
                            err, -EINVAL,
                            "%s: 'root.path' is relative and the bundle is unknown: '%s'", what,
                            path);
                if (!is_absolute(host_bundle))
                        return nvh_err_set(err, -EINVAL, "bundle is not an absolute path: '%s'",
                                           host_bundle);
                if (asprintf(&joined, "%s/%s", host_bundle, path) < 0) {
                        joined = NULL;
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                }
                s->host_rootfs = nvh_fileio_path_normalize(joined);
        }
        if (!s->host_rootfs)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        return get_bool(jroot, "readonly", what, "root.readonly", &s->root_readonly, err);
}

static int
parse_process(const json_t *root, struct nvh_oci_spec *s, struct nvh_err *err)
{
        static const char what[] = "config.json";
        json_t *proc = NULL, *env = NULL, *caps = NULL, *bounding = NULL;
        int r;

        r = get_typed(root, "process", JSON_OBJECT, what, "process", &proc, err);
        if (r <= 0)
                return r;
        r = get_typed(proc, "env", JSON_ARRAY, what, "process.env", &env, err);
        if (r < 0)
                return r;
        if (r > 0) {
                strv_free(s->env);
                s->env = NULL;
                r = strv_from_array(env, what, "process.env", &s->env, err);
                if (r < 0)
                        return r;
        }

        /* Before OCI 1.0.0-rc5 process.capabilities was a plain array (the bounding set). */
        caps = json_object_get(proc, "capabilities");
        if (!caps || json_is_null(caps))
                return 0;
        if (json_is_array(caps)) {
                bounding = caps;
        } else if (json_is_object(caps)) {
                r = get_typed(caps, "bounding", JSON_ARRAY, what, "process.capabilities.bounding",
                              &bounding, err);
                if (r <= 0)
                        return r;
        } else {
                return nvh_json_type_error(what, "process.capabilities", "an object", caps, err);
        }
        for (size_t i = 0; i < json_array_size(bounding); i++) {
                json_t *e = json_array_get(bounding, i);
                char name[80];

                if (!json_is_string(e)) {
                        snprintf(name, sizeof(name), "process.capabilities.bounding[%zu]", i);
                        return nvh_json_type_error(what, name, "a string", e, err);
                }
                if (streq(json_string_value(e), "CAP_SYS_ADMIN"))
                        s->privileged = true;
        }
        return 0;
}

static int
parse_mounts(const json_t *root, struct nvh_oci_spec *s, struct nvh_err *err)
{
        static const char what[] = "config.json";
        json_t *mounts = NULL;
        size_t n;
        int r;

        r = get_typed(root, "mounts", JSON_ARRAY, what, "mounts", &mounts, err);
        if (r <= 0)
                return r;
        n = json_array_size(mounts);
        s->mounts = calloc(n ? n : 1, sizeof(*s->mounts));
        if (!s->mounts)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_t *m = json_array_get(mounts, i), *opts = NULL;
                struct nvh_oci_mount *dst = &s->mounts[i];
                const char *str = NULL;
                char field[64];

                snprintf(field, sizeof(field), "mounts[%zu]", i);
                if (!json_is_object(m))
                        return nvh_json_type_error(what, field, "an object", m, err);
                s->n_mounts = i + 1;

                snprintf(field, sizeof(field), "mounts[%zu].destination", i);
                r = get_string_required(m, "destination", what, field, &str, err);
                if (r < 0)
                        return r;
                if (dup_str(str, &dst->destination, err) < 0)
                        return -ENOMEM;

                snprintf(field, sizeof(field), "mounts[%zu].source", i);
                r = get_string_dup(m, "source", what, field, &dst->source, err);
                if (r < 0)
                        return r;

                snprintf(field, sizeof(field), "mounts[%zu].type", i);
                r = get_string_dup(m, "type", what, field, &dst->type, err);
                if (r < 0)
                        return r;

                snprintf(field, sizeof(field), "mounts[%zu].options", i);
                r = get_typed(m, "options", JSON_ARRAY, what, field, &opts, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        r = strv_from_array(opts, what, field, &dst->options, err);
                else if (!(dst->options = strv_new_empty()))
                        r = nvh_err_set(err, -ENOMEM, "out of memory");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int
get_u32(const json_t *obj, const char *key, const char *field, uint32_t *ret, struct nvh_err *err)
{
        static const char what[] = "config.json";
        json_t *v = json_object_get(obj, key);
        char name[96];

        snprintf(name, sizeof(name), "%s.%s", field, key);
        if (!v)
                return nvh_err_set(err, -EINVAL, "%s: missing '%s'", what, name);
        if (!json_is_integer(v))
                return nvh_json_type_error(what, name, "an integer", v, err);
        if (json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
                return nvh_err_set(err, -EINVAL, "%s: '%s' is out of range: %" JSON_INTEGER_FORMAT,
                                   what, name, json_integer_value(v));
        *ret = (uint32_t)json_integer_value(v);
        return 0;
}

static int
parse_idmaps(const json_t *linux_obj, const char *key, struct nvh_oci_idmap **ret, size_t *ret_n,
             struct nvh_err *err)
{
        static const char what[] = "config.json";
        json_t *arr = NULL;
        char field[64];
        size_t n;
        int r;

        snprintf(field, sizeof(field), "linux.%s", key);
        r = get_typed(linux_obj, key, JSON_ARRAY, what, field, &arr, err);
        if (r <= 0)
                return r;
        n = json_array_size(arr);
        _cleanup_free_ struct nvh_oci_idmap *maps = calloc(n ? n : 1, sizeof(*maps));
        if (!maps)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(arr, i);

                snprintf(field, sizeof(field), "linux.%s[%zu]", key, i);
                if (!json_is_object(e))
                        return nvh_json_type_error(what, field, "an object", e, err);
                if ((r = get_u32(e, "containerID", field, &maps[i].container_id, err)) < 0 ||
                    (r = get_u32(e, "hostID", field, &maps[i].host_id, err)) < 0 ||
                    (r = get_u32(e, "size", field, &maps[i].size, err)) < 0)
                        return r;
                if (maps[i].size == 0 ||
                    (uint64_t)maps[i].container_id + maps[i].size > (uint64_t)UINT32_MAX + 1 ||
                    (uint64_t)maps[i].host_id + maps[i].size > (uint64_t)UINT32_MAX + 1)
                        return nvh_err_set(
                            err, -EINVAL,
                            "%s: '%s' is not a valid range: %" PRIu32 " %" PRIu32 " %" PRIu32, what,
                            field, maps[i].container_id, maps[i].host_id, maps[i].size);
        }
        *ret = TAKE_PTR(maps);
        *ret_n = n;
        return 0;
}

static int
parse_linux(const json_t *root, struct nvh_oci_spec *s, struct nvh_err *err)
{
        static const char what[] = "config.json";
        json_t *lnx = NULL, *nss = NULL;
        int r;

        r = get_typed(root, "linux", JSON_OBJECT, what, "linux", &lnx, err);
        if (r <= 0)
                return r;
        r = get_typed(lnx, "namespaces", JSON_ARRAY, what, "linux.namespaces", &nss, err);
        if (r < 0)
                return r;
        for (size_t i = 0; nss && i < json_array_size(nss); i++) {
                json_t *ns = json_array_get(nss, i);
                const char *type = NULL, *path = NULL;
                char field[64];

                snprintf(field, sizeof(field), "linux.namespaces[%zu]", i);
                if (!json_is_object(ns))
                        return nvh_json_type_error(what, field, "an object", ns, err);
                snprintf(field, sizeof(field), "linux.namespaces[%zu].type", i);
                r = get_string(ns, "type", what, field, &type, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        return nvh_err_set(err, -EINVAL, "%s: missing '%s'", what, field);
                snprintf(field, sizeof(field), "linux.namespaces[%zu].path", i);
                r = get_string(ns, "path", what, field, &path, err);
                if (r < 0)
                        return r;
                if (streq(type, "user"))
                        s->user_ns = true;
                if (streq(type, "mount") && path && *path) {
                        free(s->mount_ns_path);
                        s->mount_ns_path = NULL;
                        if (dup_str(path, &s->mount_ns_path, err) < 0)
                                return -ENOMEM;
                }
        }
        r = parse_idmaps(lnx, "uidMappings", &s->uid_mappings, &s->n_uid_mappings, err);
        if (r < 0)
                return r;
        r = parse_idmaps(lnx, "gidMappings", &s->gid_mappings, &s->n_gid_mappings, err);
        if (r < 0)
                return r;
        r = get_string_dup(lnx, "cgroupsPath", what, "linux.cgroupsPath", &s->cgroups_path, err);
        return r < 0 ? r : 0;
}

/* Trust boundary: config.json is written by whoever started the container; every field read
 * is type-checked, duplicates are refused, root.path comes back absolute. */
int
nvh_oci_spec_parse(const char *buf, size_t len, const char *host_bundle, struct nvh_oci_spec **ret,
                   struct nvh_err *err)
{
        static const char what[] = "config.json";
        _cleanup_json_ json_t *root = NULL;
        _cleanup_spec_ struct nvh_oci_spec *s = NULL;
        int r;

        r = nvh_json_load_object(buf, len, NVH_OCI_SPEC_MAX, what, &root, err);
        if (r < 0)
                return r;
        s = calloc(1, sizeof(*s));
        if (!s)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        s->env = strv_new_empty();
        if (!s->env)
                return nvh_err_set(err, -ENOMEM, "out of memory");

        r = get_string_dup(root, "ociVersion", what, "ociVersion", &s->oci_version, err);
        if (r < 0)
                return r;
        if ((r = parse_root(root, host_bundle, s, err)) < 0 ||
            (r = parse_process(root, s, err)) < 0 || (r = parse_mounts(root, s, err)) < 0 ||
            (r = parse_linux(root, s, err)) < 0)
                return r;
        r = parse_annotations(root, what, &s->annotations, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

const char *
nvh_oci_spec_getenv(const struct nvh_oci_spec *s, const char *name)
{
        const char *found = NULL;
        size_t n;

        if (!s || !s->env || !name)
                return NULL;
        n = strlen(name);
        for (char **e = s->env; *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        found = *e + n + 1;
        return found;
}

const char *
nvh_oci_spec_annotation(const struct nvh_oci_spec *s, const char *key)
{
        const char *found = NULL;

        if (!s || !s->annotations || !key)
                return NULL;
        for (char **a = s->annotations; a[0] && a[1]; a += 2)
                if (streq(a[0], key))
                        found = a[1];
        return found;
}
