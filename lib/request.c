/* SPDX-License-Identifier: Apache-2.0 */
#include "request.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "caps.h"
#include "macros.h"
#include "require.h"

/* How much of a user-supplied value an error message quotes. */
#define QUOTE_MAX 96
#define QUOTE(n) ((int)((n) > QUOTE_MAX ? QUOTE_MAX : (n)))

#define ENV_VISIBLE "NVIDIA_VISIBLE_DEVICES"
#define ENV_CAPS "NVIDIA_DRIVER_CAPABILITIES"
#define ENV_REQUIRE_PREFIX "NVIDIA_REQUIRE_"
#define ENV_REQUIRE_CUDA "NVIDIA_REQUIRE_CUDA"
#define ENV_DISABLE_REQUIRE "NVIDIA_DISABLE_REQUIRE"
#define ENV_MIG_CONFIG "NVIDIA_MIG_CONFIG_DEVICES"
#define ENV_MIG_MONITOR "NVIDIA_MIG_MONITOR_DEVICES"
#define ENV_IMEX "NVIDIA_IMEX_CHANNELS"
#define ENV_CUDA_VERSION "CUDA_VERSION"

bool
nvh_request_truthy(const char *value)
{
        return value && (strcasecmp(value, "1") == 0 || strcasecmp(value, "true") == 0 ||
                         strcasecmp(value, "yes") == 0);
}

/* Append to a "; "-separated message buffer (note or warning). */
static void __attribute__((format(printf, 3, 0)))
msg_append(char *buf, size_t size, const char *fmt, va_list ap)
{
        size_t len = strlen(buf);

        if (len + 3 >= size)
                return;
        if (len > 0) {
                memcpy(buf + len, "; ", 3);
                len += 2;
        }
        vsnprintf(buf + len, size - len, fmt, ap);
}

/* A decision worth a debug line. */
static void __attribute__((format(printf, 2, 3)))
note_add(struct nvh_request *r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        msg_append(r->note, sizeof(r->note), fmt, ap);
        va_end(ap);
}

/* Something the container asked for and does not get: a warning, never silent. */
static void __attribute__((format(printf, 2, 3)))
warn_add(struct nvh_request *r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        msg_append(r->warning, sizeof(r->warning), fmt, ap);
        va_end(ap);
}

/* The env-driven requests, each decided by policy_gate. */
enum env_request {
        ENV_REQ_DEVICES, /* NVIDIA_VISIBLE_DEVICES (and the legacy image's implied "all") */
        ENV_REQ_CAPS,    /* NVIDIA_DRIVER_CAPABILITIES */
        ENV_REQ_MIG,     /* NVIDIA_MIG_CONFIG_DEVICES, NVIDIA_MIG_MONITOR_DEVICES */
        ENV_REQ_IMEX,    /* NVIDIA_IMEX_CHANNELS */
};

/* The one policy gate for every request a container makes through its environment (which
 * the image and the user control). Returns 1 when var='value' is honoured, 0 when it is
 * ignored (noted), or a negative errno when it is refused.
 *  - devices and IMEX channels grant device nodes: honoured from a privileged container, or
 *    when accept_env_unprivileged is on; otherwise ignored, so that an orchestrator choosing
 *    devices through device mounts keeps that choice (nvidia-container-toolkit's rule for
 *    both).
 *  - MIG config and monitor grant control of every GPU: a privileged container only, else
 *    refused.
 *  - capabilities choose which of the host's own driver files are mounted read-only, not
 *    which devices: honoured, then limited to policy->allowed_caps (parse_caps). */
static int
policy_gate(const struct nvh_oci_spec *spec, const struct nvh_request_policy *policy,
            enum env_request what, const char *var, const char *value, struct nvh_request *req,
            struct nvh_err *err)
{
        switch (what) {
        case ENV_REQ_CAPS:
                return 1;
        case ENV_REQ_MIG:
                if (spec->privileged)
                        return 1;
                return nvh_err_set(err, -EPERM, "%s: requires a privileged container: '%.*s'", var,
                                   QUOTE(strlen(value)), value);
        case ENV_REQ_DEVICES:
        case ENV_REQ_IMEX:
                if (spec->privileged || policy->accept_env_unprivileged)
                        return 1;
                warn_add(req,
                         "ignoring %s='%.64s' in an unprivileged container "
                         "(accept_env_unprivileged is off)",
                         var, value);
                return 0;
        }
        return nvh_err_set(err, -EINVAL, "%s: unknown request", var);
}

/* var's value through the gate: as set (NULL when unset), or NULL when the gate ignores it. */
static int
gated_getenv(const struct nvh_oci_spec *spec, const struct nvh_request_policy *policy,
             enum env_request what, const char *var, struct nvh_request *req,
             const char **ret_value, struct nvh_err *err)
{
        const char *value = nvh_oci_spec_getenv(spec, var);
        int r = 1;

        if (value && *value)
                r = policy_gate(spec, policy, what, var, value, req, err);
        if (r < 0)
                return r;
        *ret_value = r > 0 ? value : NULL;
        return 0;
}

/* Devices named by nvhook's CDI hook entries: set by the engine from the node's CDI spec (or
 * by nvhook-runtime), never by the image, so trusted like device mounts. Returns the number of
 * tokens, 0 when there are none; req->source tells whether this run leads ("cdi") or defers to
 * the lead's run ("none", noted). */
static int
devices_from_cdi(const struct nvh_request_policy *policy, enum nvh_devsel *ret_sel,
                 struct strv_buf *ret_list, struct nvh_request *req, struct nvh_err *err)
{
        char *const *v = policy->cdi_devices;
        char canon[NVH_REQUEST_TOKEN_MAX + 1];
        bool all = false;
        size_t n = 0;

        if (!v || !v[0])
                return 0;
        if (policy->cdi_self && !streq(policy->cdi_self, v[0])) {
                note_add(req, "CDI device '%.64s': the hook run of CDI device '%.64s' injects",
                         policy->cdi_self[0] ? policy->cdi_self : "(none)", v[0]);
                req->source = "none";
                return 1;
        }
        for (; v[n]; n++) {
                if (streq(v[n], "all")) {
                        all = true;
                        continue;
                }
                if (nvh_request_devices_parse_token(v[n], strlen(v[n]), canon, sizeof(canon), err) <
                    0)
                        return nvh_err_prefix(err, "CDI device");
                if (!strv_buf_contains(ret_list, canon) && strv_buf_push(ret_list, canon) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        if (all)
                strv_buf_done(ret_list);
        *ret_sel = all ? NVH_DEVSEL_ALL : NVH_DEVSEL_LIST;
        req->source = "cdi";
        return (int)n;
}

static bool
is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* CUDA_VERSION's major and minor ("10" counts as "10.0"; a patch level and beyond are
 * ignored, but must still be a version). -EINVAL when it is not one. */
static int
cuda_version_parse(const char *s, unsigned *ret_major, unsigned *ret_minor)
{
        unsigned major, minor = 0;
        size_t n = strspn(s, "0123456789");

        if (nvh_request_devices_parse_uint(s, n, &major) < 0)
                return -EINVAL;
        s += n;
        if (*s == '.') {
                s++;
                n = strspn(s, "0123456789");
                if (nvh_request_devices_parse_uint(s, n, &minor) < 0)
                        return -EINVAL;
                s += n;
                while (*s == '.' && is_digit(s[1]))
                        s += 1 + strspn(s + 1, "0123456789");
        }
        if (*s)
                return -EINVAL;
        *ret_major = major;
        *ret_minor = minor;
        return 0;
}

/* "cuda>=<major>.<minor>" from CUDA_VERSION. */
static int
legacy_requirement(const char *cuda_version, char *buf, size_t size, struct nvh_err *err)
{
        unsigned major, minor;

        if (cuda_version_parse(cuda_version, &major, &minor) < 0)
                return nvh_err_set(err, -EINVAL, "%s: invalid version '%.*s'", ENV_CUDA_VERSION,
                                   QUOTE(strlen(cuda_version)), cuda_version);
        snprintf(buf, size, "cuda>=%u.%u", major, minor);
        return 0;
}

/* One NVIDIA_REQUIRE_* entry of the environment: its name and value as slices of the entry,
 * and its position, so that the last of several entries of one name wins. */
struct require_var {
        const char *name;
        size_t name_len;
        const char *value;
        size_t idx;
};

static int
cmp_require_vars(const void *a, const void *b)
{
        const struct require_var *x = a, *y = b;
        size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
        int r = memcmp(x->name, y->name, n);

        /* strcmp's order on the names, then environment order. */
        if (r != 0)
                return r;
        if (x->name_len != y->name_len)
                return x->name_len < y->name_len ? -1 : 1;
        return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Every NVIDIA_REQUIRE_* variable (its last value), sorted by name. The image decides how
 * many there are: one pass, one sort, and at most NVH_REQUIRE_MAX_VARS names when they are
 * checked. */
static int
collect_requires(const struct nvh_oci_spec *spec, bool legacy, bool check, struct nvh_request *req,
                 struct nvh_err *err)
{
        _cleanup_(strv_buf_done) struct strv_buf names_out = {0}, exprs = {0};
        _cleanup_free_ struct require_var *vars = NULL;
        size_t n_env = 0, n_vars = 0, n_names = 0;
        char legacy_buf[64];
        int r;

        for (char **e = spec->env; e && *e; e++)
                n_env++;
        vars = calloc(n_env + 1, sizeof(*vars));
        if (!vars)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        if (legacy) {
                r = legacy_requirement(nvh_oci_spec_getenv(spec, ENV_CUDA_VERSION), legacy_buf,
                                       sizeof(legacy_buf), err);
                if (r < 0)
                        return r;
                vars[n_vars++] = (struct require_var){ENV_CUDA_VERSION,
                                                      sizeof(ENV_CUDA_VERSION) - 1, legacy_buf, 0};
        }
        for (size_t i = 0; i < n_env; i++) {
                const char *e = spec->env[i];
                size_t n = strcspn(e, "=");

                if (e[n] != '=' || n < sizeof(ENV_REQUIRE_PREFIX) - 1 ||
                    strncmp(e, ENV_REQUIRE_PREFIX, sizeof(ENV_REQUIRE_PREFIX) - 1) != 0)
                        continue;
                vars[n_vars++] = (struct require_var){e, n, e + n + 1, i + 1};
        }
        if (n_vars > 1)
                qsort(vars, n_vars, sizeof(*vars), cmp_require_vars);
        for (size_t i = 0; i < n_vars; i++) {
                const struct require_var *v = &vars[i];

                /* The last entry of each name. */
                if (i + 1 < n_vars && v->name_len == vars[i + 1].name_len &&
                    memcmp(v->name, vars[i + 1].name, v->name_len) == 0)
                        continue;
                if (!*v->value)
                        continue;
                if (check && ++n_names > NVH_REQUIRE_MAX_VARS)
                        return nvh_err_set(err, -E2BIG, "%s*: more than %u requirement variables",
                                           ENV_REQUIRE_PREFIX, NVH_REQUIRE_MAX_VARS);
                if (check) {
                        r = nvh_require_validate(v->value, err);
                        if (r < 0)
                                return nvh_err_prefix(err, "%.*s", (int)v->name_len, v->name);
                }
                if (strv_buf_push_n(&names_out, v->name, v->name_len) < 0 ||
                    strv_buf_push(&exprs, v->value) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        req->require_names = strv_buf_take(&names_out);
        req->requires = strv_buf_take(&exprs);
        if (!req->require_names || !req->requires)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        return 0;
}

static int
parse_mig(const struct nvh_oci_spec *spec, const struct nvh_request_policy *policy, const char *var,
          struct nvh_request *req, enum nvh_devsel *ret_sel, char ***ret_list, struct nvh_err *err)
{
        _cleanup_(strv_buf_done) struct strv_buf list = {0};
        const char *value = nvh_oci_spec_getenv(spec, var);
        enum nvh_devsel sel = NVH_DEVSEL_NONE;
        int r;

        if (value && *value) {
                r = nvh_request_devices_parse_list(var, value, &sel, &list, err);
                if (r < 0)
                        return r;
                if (r == 0)
                        sel = NVH_DEVSEL_NONE;
        }
        if (sel != NVH_DEVSEL_NONE) {
                r = policy_gate(spec, policy, ENV_REQ_MIG, var, value, req, err);
                if (r < 0)
                        return r;
        }
        *ret_list = strv_buf_take(&list);
        if (!*ret_list)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        *ret_sel = sel;
        return 0;
}

static int
parse_imex(const struct nvh_oci_spec *spec, const struct nvh_request_policy *policy,
           struct nvh_request *req, struct nvh_err *err)
{
        _cleanup_(strv_buf_done) struct strv_buf list = {0};
        const char *value = NULL, *p;
        bool special = false;
        int seen = 0, r;

        r = gated_getenv(spec, policy, ENV_REQ_IMEX, ENV_IMEX, req, &value, err);
        if (r < 0)
                return r;
        p = value;

        while (p && *p) {
                size_t n = strcspn(p, ",");
                const char *tok = p;
                unsigned ch;
                char canon[16];

                nvh_request_devices_trim(&tok, &n);
                if (n > 0) {
                        /* The image sets the list: bound the work (and the dedup scan). */
                        if (++seen > (int)NVH_REQUEST_DEVICES_MAX)
                                return nvh_err_set(err, -E2BIG, "%s: more than %u channels",
                                                   ENV_IMEX, NVH_REQUEST_DEVICES_MAX);
                        if (nvh_request_devices_word_eq(tok, n, "all")) {
                                special = req->imex_all = true;
                        } else if (nvh_request_devices_word_eq(tok, n, "none")) {
                                special = true;
                        } else {
                                if (nvh_request_devices_parse_uint(tok, n, &ch) < 0 ||
                                    ch > INT32_MAX)
                                        return nvh_err_set(err, -EINVAL,
                                                           "%s: invalid channel '%.*s'", ENV_IMEX,
                                                           QUOTE(n), tok);
                                snprintf(canon, sizeof(canon), "%u", ch);
                                if (!strv_buf_contains(&list, canon) &&
                                    strv_buf_push(&list, canon) < 0)
                                        return nvh_err_set(err, -ENOMEM, "out of memory");
                        }
                }
                p += strcspn(p, ",");
                if (*p)
                        p++;
        }
        if (special && seen > 1)
                return nvh_err_set(err, -EINVAL,
                                   "%s: 'all' and 'none' cannot be combined with channels: '%.*s'",
                                   ENV_IMEX, QUOTE(strlen(value)), value);
        req->imex_channels = strv_buf_take(&list);
        if (!req->imex_channels)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        return 0;
}

/* NVIDIA_DRIVER_CAPABILITIES names "all" (among its words). */
static bool
all_caps(const char *value)
{
        const char *p = value;

        while (*p) {
                size_t n;

                p += strspn(p, ", \t");
                n = strcspn(p, ", \t");
                if (n == 3 && strncasecmp(p, "all", 3) == 0)
                        return true;
                p += n;
        }
        return false;
}

static int
parse_caps(const struct nvh_oci_spec *spec, const struct nvh_request_policy *policy, bool legacy,
           struct nvh_request *req, struct nvh_err *err)
{
        const char *value = NULL;
        unsigned caps = NVH_CAP_DEFAULT, dropped;
        bool explicit = false;
        int r;

        r = gated_getenv(spec, policy, ENV_REQ_CAPS, ENV_CAPS, req, &value, err);
        if (r < 0)
                return r;
        if (!value && legacy) {
                caps = NVH_CAP_ALL;
        } else if (value && *value) {
                r = nvh_caps_parse(value, &caps, err);
                if (r < 0)
                        return nvh_err_prefix(err, "%s", ENV_CAPS);
                if (caps == 0)
                        caps = NVH_CAP_DEFAULT;
                explicit = !all_caps(value);
        }
        dropped = caps & ~policy->allowed_caps;
        if (dropped) {
                char buf[128], abuf[128];

                nvh_caps_format(dropped, buf, sizeof(buf));
                nvh_caps_format(policy->allowed_caps, abuf, sizeof(abuf));
                /* Named capabilities the policy refuses fail, as the incumbent does; "all"
                 * and a legacy image's implied set get what the policy allows. */
                if (explicit)
                        return nvh_err_set(err, -EPERM,
                                           "%s: capability '%s' is not allowed "
                                           "(allowed_capabilities: %s)",
                                           ENV_CAPS, buf, abuf[0] ? abuf : "none");
                warn_add(req, "capabilities not allowed by policy dropped: %s", buf);
        }
        req->caps = caps & policy->allowed_caps;
        return 0;
}

void
nvh_request_free(struct nvh_request *r)
{
        if (!r)
                return;
        strv_free(r->devices);
        strv_free(r->requires);
        strv_free(r->require_names);
        strv_free(r->mig_config);
        strv_free(r->mig_monitor);
        strv_free(r->imex_channels);
        free(r);
}

/* Fill the vectors of a request that asks for nothing, so every field is usable. */
static int
request_empty_vectors(struct nvh_request *r)
{
        char ***vs[] = {&r->devices,    &r->requires,    &r->require_names,
                        &r->mig_config, &r->mig_monitor, &r->imex_channels};

        for (size_t i = 0; i < ARRAY_SIZE(vs); i++)
                if (!*vs[i] && !(*vs[i] = calloc(1, sizeof(char *))))
                        return -ENOMEM;
        return 0;
}

/* Trust boundary: env and mounts are the image's and the user's; every value used is
 * syntax-checked and bounded, the policy decides what is honoured (see request.h). */
int
nvh_request_parse(const struct nvh_oci_spec *spec, const struct nvh_request_policy *policy,
                  struct nvh_request **ret, struct nvh_err *err)
{
        _cleanup_request_ struct nvh_request *req = NULL;
        _cleanup_(strv_buf_done) struct strv_buf devices = {0};
        enum nvh_devsel sel = NVH_DEVSEL_NONE;
        const char *cuda_version, *require_cuda, *visible;
        bool legacy;
        int r;

        req = calloc(1, sizeof(*req));
        if (!req)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        req->source = "none";

        cuda_version = nvh_oci_spec_getenv(spec, ENV_CUDA_VERSION);
        require_cuda = nvh_oci_spec_getenv(spec, ENV_REQUIRE_CUDA);
        legacy = cuda_version && *cuda_version && !(require_cuda && *require_cuda);

        r = devices_from_cdi(policy, &sel, &devices, req, err);
        if (r < 0)
                return r;
        if (r == 0 && policy->accept_device_mounts) {
                r = nvh_request_devices_from_mounts(spec, &sel, &devices, err);
                if (r < 0)
                        return r;
                if (r > 0)
                        req->source = "mounts";
        }
        if (streq(req->source, "none") && !(policy->cdi_devices && policy->cdi_devices[0])) {
                visible = nvh_oci_spec_getenv(spec, ENV_VISIBLE);
                if (!visible && legacy) {
                        visible = "all";
                        req->source = "legacy";
                } else if (visible) {
                        req->source = "env";
                }
                if (!visible) {
                        note_add(req, "%s is unset", ENV_VISIBLE);
                        req->source = "none";
                } else if ((r = policy_gate(spec, policy, ENV_REQ_DEVICES, ENV_VISIBLE, visible,
                                            req, err)) <= 0) {
                        if (r < 0)
                                return r;
                        req->source = "none";
                } else {
                        const char *v = visible;
                        size_t n = strlen(visible);

                        nvh_request_devices_trim(&v, &n);
                        if (n == 0 || nvh_request_devices_word_eq(v, n, "void")) {
                                note_add(req, "%s='%.64s'", ENV_VISIBLE, visible);
                                req->source = "none";
                        } else {
                                r = nvh_request_devices_parse_list(ENV_VISIBLE, visible, &sel,
                                                                   &devices, err);
                                if (r < 0)
                                        return r;
                                if (r == 0) {
                                        note_add(req, "%s='%.64s'", ENV_VISIBLE, visible);
                                        req->source = "none";
                                }
                        }
                }
        }

        if (streq(req->source, "none")) {
                if (request_empty_vectors(req) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                *ret = TAKE_PTR(req);
                return 0;
        }
        req->gpu_container = true;
        req->sel = sel;
        req->devices = strv_buf_take(&devices);
        if (!req->devices)
                return nvh_err_set(err, -ENOMEM, "out of memory");

        r = parse_caps(spec, policy, legacy, req, err);
        if (r < 0)
                return r;
        req->disable_require = nvh_request_truthy(nvh_oci_spec_getenv(spec, ENV_DISABLE_REQUIRE));
        r = collect_requires(spec, legacy, !req->disable_require, req, err);
        if (r < 0)
                return r;
        r = parse_mig(spec, policy, ENV_MIG_CONFIG, req, &req->mig_config_sel, &req->mig_config,
                      err);
        if (r < 0)
                return r;
        r = parse_mig(spec, policy, ENV_MIG_MONITOR, req, &req->mig_monitor_sel, &req->mig_monitor,
                      err);
        if (r < 0)
                return r;
        r = parse_imex(spec, policy, req, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(req);
        return 0;
}
