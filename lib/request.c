/* SPDX-License-Identifier: Apache-2.0 */
#include "request.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "caps.h"
#include "fileio.h"
#include "macros.h"
#include "pci.h"
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

/* A growable NULL-terminated string vector. */
struct strv_buf {
        char **v;
        size_t n, cap;
};

static void
strv_buf_done(struct strv_buf *b)
{
        strv_free(b->v);
        b->v = NULL;
        b->n = b->cap = 0;
}

static int
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

static int
strv_buf_push(struct strv_buf *b, const char *s)
{
        return strv_buf_push_n(b, s, strlen(s));
}

static bool
strv_buf_contains(const struct strv_buf *b, const char *s)
{
        for (size_t i = 0; i < b->n; i++)
                if (streq(b->v[i], s))
                        return true;
        return false;
}

/* Hand the vector out; an empty one is a valid empty vector, never NULL. */
static char **
strv_buf_take(struct strv_buf *b)
{
        char **v = b->v;

        if (!v)
                v = calloc(1, sizeof(char *));
        b->v = NULL;
        b->n = b->cap = 0;
        return v;
}

static bool
is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool
is_hex(char c)
{
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool
all_digits(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_digit(s[i]))
                        return false;
        return true;
}

/* Decimal number of at most 9 digits. */
static int
parse_small_uint(const char *s, size_t n, unsigned *ret)
{
        unsigned v = 0;

        if (!all_digits(s, n) || n > 9)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                v = v * 10 + (unsigned)(s[i] - '0');
        *ret = v;
        return 0;
}

/* A whole UUID, 8-4-4-4-12 hex digits of any case (no prefixes: a prefix could name a
 * different GPU on another host, and nvidia-container-toolkit matches whole UUIDs only). */
static bool
uuid_ok(const char *s, size_t n)
{
        if (n != 36)
                return false;
        for (size_t i = 0; i < n; i++)
                if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-' : !is_hex(s[i]))
                        return false;
        return true;
}

static void
lower_copy(char *dst, const char *src, size_t n)
{
        for (size_t i = 0; i < n; i++)
                dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] | 0x20) : src[i];
        dst[n] = '\0';
}

/* No part of a colon-separated decimal list has a leading zero ("0" itself is fine). */
static bool
no_leading_zero(const char *s, size_t n)
{
        for (size_t i = 0; i + 1 < n; i++)
                if (s[i] == '0' && (i == 0 || s[i - 1] == ':') && is_digit(s[i + 1]))
                        return false;
        return true;
}

static int
parse_pci(const char *tok, size_t len, char *canon, size_t size)
{
        uint64_t key;

        if (nvh_pci_parse(tok, len, &key) < 0)
                return -EINVAL;
        nvh_pci_format(key, canon, size);
        return NVH_DEVTOK_PCI;
}

static int
classify_token(const char *tok, size_t len, char *canon, size_t size)
{
        const char *colon;
        unsigned a, b;

        if (all_digits(tok, len)) {
                if (parse_small_uint(tok, len, &a) < 0)
                        return -EINVAL;
                snprintf(canon, size, "%u", a);
                return NVH_DEVTOK_INDEX;
        }
        if (len > 8 && strncasecmp(tok, "MIG-GPU-", 8) == 0) {
                /* MIG-GPU-<uuid>/<gi>/<ci> */
                const char *s1 = memchr(tok + 8, '/', len - 8), *s2;

                if (!s1 || !uuid_ok(tok + 8, (size_t)(s1 - tok - 8)))
                        return -EINVAL;
                s2 = memchr(s1 + 1, '/', len - (size_t)(s1 + 1 - tok));
                if (!s2 || parse_small_uint(s1 + 1, (size_t)(s2 - s1 - 1), &a) < 0 ||
                    parse_small_uint(s2 + 1, len - (size_t)(s2 + 1 - tok), &b) < 0)
                        return -EINVAL;
                memcpy(canon, "MIG-GPU-", 8);
                lower_copy(canon + 8, tok + 8, (size_t)(s1 - tok - 8));
                snprintf(canon + strlen(canon), size - strlen(canon), "/%u/%u", a, b);
                return NVH_DEVTOK_MIG_LEGACY;
        }
        if (len > 4 && (strncasecmp(tok, "GPU-", 4) == 0 || strncasecmp(tok, "MIG-", 4) == 0)) {
                if (!uuid_ok(tok + 4, len - 4))
                        return -EINVAL;
                canon[0] = (tok[0] == 'g' || tok[0] == 'G') ? 'G' : 'M';
                memcpy(canon + 1, canon[0] == 'G' ? "PU-" : "IG-", 3);
                lower_copy(canon + 4, tok + 4, len - 4);
                return canon[0] == 'G' ? NVH_DEVTOK_GPU_UUID : NVH_DEVTOK_MIG_UUID;
        }
        if (memchr(tok, '.', len))
                return parse_pci(tok, len, canon, size);
        colon = memchr(tok, ':', len);
        if (colon && parse_small_uint(tok, (size_t)(colon - tok), &a) == 0) {
                const char *rest = colon + 1, *colon2;
                size_t rlen = len - (size_t)(rest - tok);
                unsigned c;

                if (parse_small_uint(rest, rlen, &b) == 0) {
                        snprintf(canon, size, "%u:%u", a, b);
                        return NVH_DEVTOK_MIG_INDEX;
                }
                /* "<gpu>:<gi>:<ci>" without leading zeros, so that a bus id missing its
                 * function ("0000:65:00") is not taken for one */
                colon2 = memchr(rest, ':', rlen);
                if (colon2 && no_leading_zero(tok, len) &&
                    parse_small_uint(rest, (size_t)(colon2 - rest), &b) == 0 &&
                    parse_small_uint(colon2 + 1, rlen - (size_t)(colon2 + 1 - rest), &c) == 0) {
                        snprintf(canon, size, "%u:%u:%u", a, b, c);
                        return NVH_DEVTOK_MIG_ID;
                }
        }
        return -EINVAL;
}

static int
parse_token_n(const char *tok, size_t len, char *canon, size_t size, struct nvh_err *err)
{
        char buf[NVH_REQUEST_TOKEN_MAX + 1];
        int kind = -EINVAL;

        if (len > 0 && len <= NVH_REQUEST_TOKEN_MAX && !memchr(tok, '\0', len))
                kind = classify_token(tok, len, buf, sizeof(buf));
        if (kind < 0)
                return nvh_err_set(err, -EINVAL, "unknown device '%.*s'", QUOTE(len), tok);
        if (canon) {
                if (size < strlen(buf) + 1)
                        return nvh_err_set(err, -ENOBUFS, "device '%s': buffer too small", buf);
                memcpy(canon, buf, strlen(buf) + 1);
        }
        return kind;
}

int
nvh_request_parse_device_token(const char *tok, char *ret_canon, size_t size, struct nvh_err *err)
{
        if (!tok)
                return nvh_err_set(err, -EINVAL, "missing device");
        return parse_token_n(tok, strnlen(tok, NVH_REQUEST_TOKEN_MAX + 1), ret_canon, size, err);
}

bool
nvh_request_truthy(const char *value)
{
        return value && (strcasecmp(value, "1") == 0 || strcasecmp(value, "true") == 0 ||
                         strcasecmp(value, "yes") == 0);
}

static void note_add(struct nvh_request *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note_add(struct nvh_request *r, const char *fmt, ...)
{
        size_t len = strlen(r->note);
        va_list ap;

        if (len + 3 >= sizeof(r->note))
                return;
        if (len > 0) {
                memcpy(r->note + len, "; ", 3);
                len += 2;
        }
        va_start(ap, fmt);
        vsnprintf(r->note + len, sizeof(r->note) - len, fmt, ap);
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
                note_add(req,
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

/* Trim spaces and tabs off both ends of [*s, *s + *n). */
static void
trim(const char **s, size_t *n)
{
        while (*n > 0 && (**s == ' ' || **s == '\t')) {
                (*s)++;
                (*n)--;
        }
        while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
                (*n)--;
}

static bool
word_eq(const char *s, size_t n, const char *word)
{
        return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* A comma list of device tokens, or "all" / "none" / "void" (as "none") alone. Empty entries
 * are skipped. Returns the number of entries seen (0: the list was blank). */
static int
parse_device_list(const char *var, const char *value, enum nvh_devsel *ret_sel,
                  struct strv_buf *ret_list, struct nvh_err *err)
{
        enum nvh_devsel sel = NVH_DEVSEL_LIST;
        const char *special = NULL;
        size_t special_len = 0;
        const char *p = value;
        int seen = 0;

        for (;;) {
                size_t n = strcspn(p, ",");
                const char *tok = p;
                char canon[NVH_REQUEST_TOKEN_MAX + 1];
                int r;

                trim(&tok, &n);
                if (n > 0) {
                        seen++;
                        if (word_eq(tok, n, "all") || word_eq(tok, n, "none") ||
                            word_eq(tok, n, "void")) {
                                special = tok;
                                special_len = n;
                                sel = (tok[0] | 0x20) == 'a' ? NVH_DEVSEL_ALL : NVH_DEVSEL_NONE;
                        } else {
                                r = parse_token_n(tok, n, canon, sizeof(canon), err);
                                if (r < 0)
                                        return nvh_err_prefix(err, "%s", var);
                                if (!strv_buf_contains(ret_list, canon) &&
                                    strv_buf_push(ret_list, canon) < 0)
                                        return nvh_err_set(err, -ENOMEM, "out of memory");
                        }
                }
                p += strcspn(p, ",");
                if (!*p)
                        break;
                p++;
        }
        if (special && seen > 1)
                return nvh_err_set(err, -EINVAL,
                                   "%s: '%.*s' cannot be combined with other devices: '%.*s'", var,
                                   (int)special_len, special, QUOTE(strlen(value)), value);
        if (special)
                strv_buf_done(ret_list);
        *ret_sel = sel;
        return seen;
}

/* Devices selected by /dev/null mounts on NVH_REQUEST_DEVICE_MOUNT_ROOT/<device>. Returns the
 * number found. "all" anywhere selects all, as nvidia-container-toolkit does. */
static int
devices_from_mounts(const struct nvh_oci_spec *spec, enum nvh_devsel *ret_sel,
                    struct strv_buf *ret_list, struct nvh_err *err)
{
        static const char root[] = NVH_REQUEST_DEVICE_MOUNT_ROOT "/";
        bool all = false, none = false;
        int found = 0;

        for (size_t i = 0; i < spec->n_mounts; i++) {
                const struct nvh_oci_mount *m = &spec->mounts[i];
                _cleanup_free_ char *src = NULL, *dst = NULL;
                char canon[NVH_REQUEST_TOKEN_MAX + 1];
                const char *dev;

                if (!m->source || !m->destination || m->source[0] != '/' ||
                    m->destination[0] != '/')
                        continue;
                src = nvh_fileio_path_normalize(m->source);
                dst = nvh_fileio_path_normalize(m->destination);
                if (!src || !dst)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                if (!streq(src, "/dev/null") || strncmp(dst, root, sizeof(root) - 1) != 0)
                        continue;
                dev = dst + sizeof(root) - 1;
                if (strchr(dev, '/'))
                        return nvh_err_set(err, -EINVAL, "device mount '%s': unknown device '%s'",
                                           dst, dev);
                found++;
                if (streq(dev, "all")) {
                        all = true;
                        continue;
                }
                if (streq(dev, "none")) {
                        none = true;
                        continue;
                }
                if (parse_token_n(dev, strlen(dev), canon, sizeof(canon), err) < 0)
                        return nvh_err_prefix(err, "device mount '%s'", dst);
                if (!strv_buf_contains(ret_list, canon) && strv_buf_push(ret_list, canon) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        if (all) {
                strv_buf_done(ret_list);
                *ret_sel = NVH_DEVSEL_ALL;
        } else if (ret_list->n > 0) {
                *ret_sel = NVH_DEVSEL_LIST;
        } else if (none) {
                *ret_sel = NVH_DEVSEL_NONE;
        }
        return found;
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
                if (parse_token_n(v[n], strlen(v[n]), canon, sizeof(canon), err) < 0)
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

int
nvh_request_parse_devices(const char *list, enum nvh_devsel *ret_sel, char ***ret_devices,
                          struct nvh_err *err)
{
        _cleanup_(strv_buf_done) struct strv_buf devices = {0};
        enum nvh_devsel sel = NVH_DEVSEL_NONE;
        char **v;
        int r;

        if (!list)
                return nvh_err_set(err, -EINVAL, "missing device list");
        r = parse_device_list("devices", list, &sel, &devices, err);
        if (r < 0)
                return r;
        if (r == 0)
                return nvh_err_set(err, -EINVAL, "devices: empty device list '%.*s'",
                                   QUOTE(strlen(list)), list);
        v = strv_buf_take(&devices);
        if (!v)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        *ret_sel = sel;
        *ret_devices = v;
        return 0;
}

/* "cuda>=<major>.<minor>" from CUDA_VERSION ("10" counts as "10.0"). */
static int
legacy_requirement(const char *cuda_version, char *buf, size_t size, struct nvh_err *err)
{
        const char *p = cuda_version;
        unsigned major, minor = 0;
        size_t n = strspn(p, "0123456789");

        if (parse_small_uint(p, n, &major) < 0)
                goto bad;
        p += n;
        if (*p == '.') {
                p++;
                n = strspn(p, "0123456789");
                if (parse_small_uint(p, n, &minor) < 0)
                        goto bad;
                p += n;
                /* Patch level and beyond are ignored, but must still be a version. */
                while (*p == '.' && is_digit(p[1]))
                        p += 1 + strspn(p + 1, "0123456789");
        }
        if (*p)
                goto bad;
        snprintf(buf, size, "cuda>=%u.%u", major, minor);
        return 0;
bad:
        return nvh_err_set(err, -EINVAL, "%s: invalid version '%.*s'", ENV_CUDA_VERSION,
                           QUOTE(strlen(cuda_version)), cuda_version);
}

static int
cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every NVIDIA_REQUIRE_* variable (its last value), sorted by name. */
static int
collect_requires(const struct nvh_oci_spec *spec, bool legacy, bool check, struct nvh_request *req,
                 struct nvh_err *err)
{
        _cleanup_(strv_buf_done) struct strv_buf names = {0}, names_out = {0}, exprs = {0};
        int r;

        for (char **e = spec->env; e && *e; e++) {
                size_t n = strcspn(*e, "=");

                if ((*e)[n] != '=' || n < sizeof(ENV_REQUIRE_PREFIX) - 1 ||
                    strncmp(*e, ENV_REQUIRE_PREFIX, sizeof(ENV_REQUIRE_PREFIX) - 1) != 0)
                        continue;
                _cleanup_free_ char *name = strndup(*e, n);

                if (!name)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                if (!strv_buf_contains(&names, name) && strv_buf_push(&names, name) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        if (legacy && strv_buf_push(&names, ENV_CUDA_VERSION) < 0)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        if (names.n > 1)
                qsort(names.v, names.n, sizeof(char *), cmp_names);
        for (size_t i = 0; i < names.n; i++) {
                const char *name = names.v[i];
                const char *value;
                char legacy_buf[64];

                if (legacy && streq(name, ENV_CUDA_VERSION)) {
                        r = legacy_requirement(nvh_oci_spec_getenv(spec, ENV_CUDA_VERSION),
                                               legacy_buf, sizeof(legacy_buf), err);
                        if (r < 0)
                                return r;
                        value = legacy_buf;
                } else {
                        value = nvh_oci_spec_getenv(spec, name);
                }
                if (!value || !*value)
                        continue;
                if (check) {
                        r = nvh_require_validate(value, err);
                        if (r < 0)
                                return nvh_err_prefix(err, "%s", name);
                }
                if (strv_buf_push(&names_out, name) < 0 || strv_buf_push(&exprs, value) < 0)
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
                r = parse_device_list(var, value, &sel, &list, err);
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

                trim(&tok, &n);
                if (n > 0) {
                        seen++;
                        if (word_eq(tok, n, "all")) {
                                special = req->imex_all = true;
                        } else if (word_eq(tok, n, "none")) {
                                special = true;
                        } else {
                                if (parse_small_uint(tok, n, &ch) < 0 || ch > INT32_MAX)
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

static int
parse_caps(const struct nvh_oci_spec *spec, const struct nvh_request_policy *policy, bool legacy,
           struct nvh_request *req, struct nvh_err *err)
{
        const char *value = NULL;
        unsigned caps = NVH_CAP_DEFAULT, dropped;
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
        }
        dropped = caps & ~policy->allowed_caps;
        if (dropped) {
                char buf[128];

                note_add(req, "capabilities not allowed by policy dropped: %s",
                         nvh_caps_format(dropped, buf, sizeof(buf)));
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
                r = devices_from_mounts(spec, &sel, &devices, err);
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

                        trim(&v, &n);
                        if (n == 0 || word_eq(v, n, "void")) {
                                note_add(req, "%s='%.64s'", ENV_VISIBLE, visible);
                                req->source = "none";
                        } else {
                                r = parse_device_list(ENV_VISIBLE, visible, &sel, &devices, err);
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
