/* SPDX-License-Identifier: Apache-2.0 */
/* nvhook cdi generate | list | check: CDI specs that never go stale, and a staleness check
 * for any CDI spec (ours or one written by another generator). */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cdi.h"
#include "fileio.h"
#include "gpus.h"
#include "macros.h"
#include "nvhook.h"

#define CDI_SPEC_MAX (4u << 20)

/* Append a formatted name to v (sized by the caller, NULL-terminated by calloc). */
static int __attribute__((format(printf, 3, 4))) name_add(char **v, size_t *n, const char *fmt, ...)
{
        char *s = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        v[(*n)++] = s;
        return 0;
}

/* The device names of this node: every GPU by index and by UUID, every MIG device as
 * "<gpu>:<mig>", and "all". NULL-terminated. */
static int
device_names(const struct nvh_system *sys, char ***ret, struct nvh_err *err)
{
        _cleanup_strv_ char **v = NULL;
        size_t cap = 2, n = 0;

        for (size_t i = 0; i < sys->n_gpus; i++)
                cap += 2 + sys->gpus[i].n_migs;
        v = calloc(cap, sizeof(char *));
        if (!v)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < sys->n_gpus; i++) {
                const struct nvh_gpu *g = &sys->gpus[i];

                if (name_add(v, &n, "%u", g->index) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                if (g->uuid[0] && nvh_cdi_name_ok(g->uuid) && name_add(v, &n, "%s", g->uuid) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
                for (size_t m = 0; m < g->n_migs; m++)
                        if (name_add(v, &n, "%u:%u", g->index, g->migs[m].index) < 0)
                                return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        if (name_add(v, &n, "all") < 0)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        *ret = TAKE_PTR(v);
        return 0;
}

/* "vendor.tld/class": lower-case letters, digits, '-', '_' and '.' in the vendor; letters,
 * digits, '-' and '_' in the class (a '.' there would need cdiVersion 0.6.0). */
static bool
kind_ok(const char *kind)
{
        const char *slash = strchr(kind, '/');

        if (!slash || slash == kind || !slash[1] || strchr(slash + 1, '/'))
                return false;
        for (const char *p = kind; *p; p++) {
                bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                             (*p >= '0' && *p <= '9');
                if (p < slash ? !(alnum || *p == '-' || *p == '_' || *p == '.')
                              : p > slash && !(alnum || *p == '-' || *p == '_'))
                        return false;
        }
        return true;
}

static int
open_system(struct nvh_cli *cli, struct nvh_system **sys, struct nvh_err *err)
{
        return nvh_gpus_discover(cli->conf.proc_root, sys, err);
}

/* This node's device names; prints the error (naming cmd) and returns false on failure. */
static bool
node_names(struct nvh_cli *cli, const char *cmd, char ***ret)
{
        _cleanup_gpus_ struct nvh_system *sys = NULL;
        struct nvh_err err = {0};

        if (open_system(cli, &sys, &err) < 0 || device_names(sys, ret, &err) < 0) {
                nvh_cli_fail(cmd, &err);
                return false;
        }
        return true;
}

static json_t *
hook_entry(const char *exe, const char *config, const char *name)
{
        json_t *args = json_array();

        json_array_append_new(args, json_string("nvhook"));
        if (config) {
                json_array_append_new(args, json_string("--config"));
                json_array_append_new(args, json_string(config));
        }
        json_array_append_new(args, json_string("createRuntime"));
        json_array_append_new(args, json_string(NVH_CDI_ARG));
        json_array_append_new(args, json_string(name));
        return json_pack("{s:s,s:s,s:o}", "hookName", "createRuntime", "path", exe, "args", args);
}

static int
cdi_generate(struct nvh_cli *cli, const char *kind)
{
        _cleanup_strv_ char **names = NULL;
        _cleanup_free_ char *exe = NULL, *config = NULL, *out = NULL;
        struct nvh_err err = {0};
        bool digit = false;
        json_t *spec, *devices;
        int r;

        if (!node_names(cli, "cdi generate", &names))
                return 1;
        /* The hook runs the binary generating the spec, by its real path: a package upgrade
         * replaces it in place, so the path stays valid. */
        exe = realpath("/proc/self/exe", NULL);
        if (cli->config_path)
                config = realpath(cli->config_path, NULL);
        if (!exe || (cli->config_path && !config)) {
                nvh_err_errno(&err, "resolve '%s'", exe ? cli->config_path : "/proc/self/exe");
                nvh_cli_fail("cdi generate", &err);
                return 1;
        }
        devices = json_array();
        for (char **n = names; *n; n++) {
                json_t *hooks = json_array();

                digit |= (*n)[0] >= '0' && (*n)[0] <= '9';
                json_array_append_new(hooks, hook_entry(exe, config, *n));
                json_array_append_new(devices, json_pack("{s:s,s:{s:o}}", "name", *n,
                                                         "containerEdits", "hooks", hooks));
        }
        /* Hooks and env are in every CDI version (0.3.0 is the oldest consumers read); device
         * names starting with a digit need 0.5.0. */
        spec = json_pack("{s:s,s:s,s:o}", "cdiVersion", digit ? "0.5.0" : "0.3.0", "kind", kind,
                         "devices", devices);
        out = spec ? json_dumps(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(spec);
        if (!out) {
                fprintf(stderr, "nvhook: cdi generate: out of memory\n");
                return 1;
        }
        if (!cli->output) {
                puts(out);
                return 0;
        }
        {
                _cleanup_free_ char *text = NULL;

                if (asprintf(&text, "%s\n", out) < 0)
                        return 1;
                r = nvh_cdi_replace_file(cli->output, text, strlen(text), 0644, &err);
        }
        if (r < 0) {
                nvh_cli_fail("cdi generate", &err);
                return 1;
        }
        return 0;
}

static int
cdi_list(struct nvh_cli *cli, const char *kind)
{
        _cleanup_strv_ char **names = NULL;

        if (!node_names(cli, "cdi list", &names))
                return 1;
        for (char **n = names; *n; n++)
                printf("%s=%s\n", kind, *n);
        return 0;
}

/* --- check ------------------------------------------------------------------------------- */

struct check {
        const char *driver; /* this node's driver version */
        unsigned checked, stale;
};

static void stale(struct check *c, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
stale(struct check *c, const char *where, const char *fmt, ...)
{
        va_list ap;

        c->stale++;
        printf("stale: %s: ", where);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
}

/* A stale entry whose check failed with errno: the message says what and why. */
static void stale_errno(struct check *c, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
stale_errno(struct check *c, const char *where, const char *fmt, ...)
{
        struct nvh_err e = {0};
        int code = -errno;
        char what[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        nvh_err_sys(&e, code, "%s", what);
        stale(c, where, "%s", e.msg);
}

static bool
is_digit(char ch)
{
        return ch >= '0' && ch <= '9';
}

static bool
is_alnum(char ch)
{
        return is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z');
}

static size_t
digits(const char *s)
{
        size_t n = 0;

        while (is_digit(s[n]))
                n++;
        return n;
}

/* Whether s starts with a driver version: three digits, a dot, two or three digits,
 * optionally a dot and two digits, not followed by a letter or digit. *ret_len: how many
 * characters were read (the version's length when it is one). */
static bool
version_at(const char *s, size_t *ret_len)
{
        size_t a = digits(s), b, c, n;

        *ret_len = a;
        if (a != 3 || s[a] != '.')
                return false;
        b = digits(s + a + 1);
        n = *ret_len = a + 1 + b;
        if (b < 2 || b > 3)
                return false;
        if (s[n] == '.' && is_digit(s[n + 1])) {
                c = digits(s + n + 1);
                n = *ret_len = n + 1 + c;
                if (c != 2)
                        return false;
        }
        return !is_alnum(s[n]);
}

/* A driver version in s ("580.95.05", "470.82"), not part of a longer word. Copies the first
 * one that differs from want into ret; false when every version in s is want (or there is
 * none). */
static bool
foreign_version(const char *s, const char *want, char *ret, size_t size)
{
        for (size_t i = 0; s[i]; i++) {
                size_t n = 0;

                if (!is_digit(s[i]) || (i > 0 && is_alnum(s[i - 1])))
                        continue;
                if (version_at(s + i, &n) && (strlen(want) != n || strncmp(s + i, want, n) != 0)) {
                        snprintf(ret, size, "%.*s", (int)n, s + i);
                        return true;
                }
                i += n ? n - 1 : 0;
        }
        return false;
}

static void
check_version(struct check *c, const char *where, const char *what, const char *s)
{
        char v[32];

        if (foreign_version(s, c->driver, v, sizeof(v)))
                stale(c, where, "%s '%s': driver %s, this node has %s", what, s, v, c->driver);
}

static void
check_path(struct check *c, const char *where, const char *what, const char *path)
{
        struct stat st;

        c->checked++;
        if (lstat(path, &st) < 0)
                stale_errno(c, where, "%s '%s'", what, path);
        else
                check_version(c, where, what, path);
}

static void
check_node(struct check *c, const char *where, json_t *dn)
{
        const char *path = json_string_value(json_object_get(dn, "hostPath"));
        json_t *maj = json_object_get(dn, "major"), *min = json_object_get(dn, "minor");
        struct stat st;

        if (!path)
                path = json_string_value(json_object_get(dn, "path"));
        if (!path) {
                stale(c, where, "device node without a path");
                return;
        }
        c->checked++;
        if (stat(path, &st) < 0) {
                stale_errno(c, where, "device node '%s'", path);
        } else if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
                stale(c, where, "device node '%s': not a device", path);
        } else if ((json_is_integer(maj) && json_integer_value(maj) != major(st.st_rdev)) ||
                   (json_is_integer(min) && json_integer_value(min) != minor(st.st_rdev))) {
                stale(c, where, "device node '%s': is %u:%u, the spec says %lld:%lld", path,
                      major(st.st_rdev), minor(st.st_rdev),
                      json_is_integer(maj) ? (long long)json_integer_value(maj) : -1LL,
                      json_is_integer(min) ? (long long)json_integer_value(min) : -1LL);
        }
}

static void
check_edits(struct check *c, const char *where, json_t *edits)
{
        json_t *e;
        size_t i;

        json_array_foreach(json_object_get(edits, "deviceNodes"), i, e) check_node(c, where, e);
        json_array_foreach(json_object_get(edits, "mounts"), i, e)
        {
                const char *p = json_string_value(json_object_get(e, "hostPath"));

                if (p)
                        check_path(c, where, "mount", p);
                else
                        stale(c, where, "mount without a hostPath");
        }
        json_array_foreach(json_object_get(edits, "hooks"), i, e)
        {
                const char *p = json_string_value(json_object_get(e, "path"));
                json_t *a;
                size_t j;

                if (!p) {
                        stale(c, where, "hook without a path");
                        continue;
                }
                c->checked++;
                if (access(p, X_OK) < 0)
                        stale_errno(c, where, "hook '%s'", p);
                json_array_foreach(json_object_get(e, "args"), j, a)
                {
                        if (json_is_string(a))
                                check_version(c, where, "hook argument", json_string_value(a));
                }
        }
}

static int
cdi_check(struct nvh_cli *cli, const char *file)
{
        _cleanup_gpus_ struct nvh_system *sys = NULL;
        _cleanup_free_ char *buf = NULL;
        struct nvh_err err = {0};
        struct check c = {0};
        json_error_t jerr;
        const char *kind;
        json_t *spec, *d;
        size_t len = 0, i;
        int r;

        r = nvh_fileio_read_at(AT_FDCWD, file, CDI_SPEC_MAX, 0, &buf, &len, &err);
        if (r < 0) {
                nvh_cli_fail("cdi check", &err);
                return 2;
        }
        spec = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(spec) || !json_is_string(json_object_get(spec, "kind")) ||
            !json_is_array(json_object_get(spec, "devices"))) {
                fprintf(stderr, "nvhook: cdi check: '%s': not a CDI spec%s%s\n", file,
                        spec ? "" : ": ", spec ? "" : jerr.text);
                json_decref(spec);
                return 2;
        }
        r = open_system(cli, &sys, &err);
        if (r < 0) {
                nvh_cli_fail("cdi check", &err);
                json_decref(spec);
                return 1;
        }
        c.driver = sys->driver_version;
        kind = json_string_value(json_object_get(spec, "kind"));
        check_edits(&c, kind, json_object_get(spec, "containerEdits"));
        json_array_foreach(json_object_get(spec, "devices"), i, d)
        {
                char where[256];

                snprintf(where, sizeof(where), "%s=%s", kind,
                         json_string_value(json_object_get(d, "name"))
                             ? json_string_value(json_object_get(d, "name"))
                             : "(unnamed)");
                check_edits(&c, where, json_object_get(d, "containerEdits"));
        }
        json_decref(spec);
        if (c.stale) {
                fprintf(stderr, "nvhook: cdi check: '%s': %u stale of %u entries (driver %s)\n",
                        file, c.stale, c.checked, c.driver);
                return 1;
        }
        printf("ok: '%s': %u entries match this node (driver %s)\n", file, c.checked, c.driver);
        return 0;
}

int
nvh_cmd_cdi(struct nvh_cli *cli)
{
        const char *sub = cli->args[0];
        const char *kind = cli->kind ? cli->kind : NVH_CDI_KIND;
        size_t n = 0;

        while (cli->args[n])
                n++;
        if (!kind_ok(kind)) {
                fprintf(stderr, "nvhook: cdi: bad kind '%s' (vendor.tld/class)\n", kind);
                return 2;
        }
        if (sub && streq(sub, "generate") && n == 1)
                return cdi_generate(cli, kind);
        if (sub && streq(sub, "list") && n == 1)
                return cdi_list(cli, kind);
        if (sub && streq(sub, "check") && n == 2)
                return cdi_check(cli, cli->args[1]);
        fprintf(stderr, "nvhook: usage: nvhook cdi generate [--output FILE] [--kind KIND] | "
                        "cdi list [--kind KIND] | cdi check FILE\n");
        return 2;
}
