/* SPDX-License-Identifier: Apache-2.0 */
/* nvhook setup: register nvhook with Docker (daemon.json runtime entry), containerd
 * (config.toml runtime handler) and Podman / CRI-O (hooks.d files), or undo that. Idempotent:
 * a second run changes nothing. Prints the unified diff of every file it changes, then says
 * which daemon must restart.
 *
 * Formatting: daemon.json is JSON and is rewritten by jansson (key order kept, the file's
 * indent width kept, one value per line, no comments); a file that needs no change is never
 * rewritten. config.toml is edited as text: nvhook owns one block between "# BEGIN nvhook"
 * and "# END nvhook" lines appended at the end, replaced in place on later runs, removed by
 * --undo; the rest of the file is never touched. */
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "doctor.h"
#include "fileio.h"
#include "json.h"
#include "macros.h"

#define SETUP_FILE_MAX (4u << 20)
#define DIFF_CONTEXT 3
/* Past this many cells the middle of a diff is shown as removed + added, not as an LCS. */
#define DIFF_LCS_MAX (4u << 20)

static size_t
max_sz(size_t a, size_t b)
{
        return a > b ? a : b;
}

/* ---- unified diff ------------------------------------------------------------------------- */

struct lines {
        const char **p; /* start of each line */
        size_t *len;    /* length including its '\n' (the last line may lack one) */
        size_t n;
};

static void
lines_free(struct lines *l)
{
        free(l->p);
        free(l->len);
}

static int
lines_split(const char *s, struct lines *l)
{
        size_t cap = 1;

        for (const char *c = s; *c; c++)
                cap += *c == '\n';
        l->p = calloc(cap, sizeof(*l->p));
        l->len = calloc(cap, sizeof(*l->len));
        l->n = 0;
        if (!l->p || !l->len)
                return -ENOMEM;
        while (*s) {
                const char *nl = strchr(s, '\n');
                size_t n = nl ? (size_t)(nl - s) + 1 : strlen(s);

                l->p[l->n] = s;
                l->len[l->n++] = n;
                s += n;
        }
        return 0;
}

static bool
line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
        return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

/* One edit: ' ' keep, '-' remove a line of a, '+' add a line of b. */
struct edit {
        char op;
        size_t ai, bi; /* line numbers (0-based) in a and b before this edit */
};

static void
emit_line(FILE *f, char op, const struct lines *l, size_t i)
{
        fputc(op, f);
        fwrite(l->p[i], 1, l->len[i], f);
        if (l->len[i] == 0 || l->p[i][l->len[i] - 1] != '\n')
                fputs("\n\\ No newline at end of file\n", f);
}

/* Edit script: common prefix and suffix, and an LCS of the middle when it is small. */
static struct edit *
edits_make(const struct lines *a, const struct lines *b, size_t *ret_n)
{
        size_t pre = 0, suf = 0, n = 0;
        struct edit *e = calloc(a->n + b->n + 1, sizeof(*e));

        if (!e)
                return NULL;
        while (pre < a->n && pre < b->n && line_eq(a, pre, b, pre))
                pre++;
        while (suf < a->n - pre && suf < b->n - pre &&
               line_eq(a, a->n - 1 - suf, b, b->n - 1 - suf))
                suf++;
        for (size_t i = 0; i < pre; i++)
                e[n++] = (struct edit){' ', i, i};
        size_t am = a->n - pre - suf, bm = b->n - pre - suf;
        unsigned *t = NULL;

        if (am && bm && (am + 1) * (bm + 1) <= DIFF_LCS_MAX)
                t = calloc((am + 1) * (bm + 1), sizeof(*t));
        if (t) {
                /* t[i][j]: LCS length of a[pre+i..] and b[pre+j..] (middles only). */
                for (size_t i = am; i-- > 0;)
                        for (size_t j = bm; j-- > 0;)
                                t[i * (bm + 1) + j] =
                                    line_eq(a, pre + i, b, pre + j)
                                        ? t[(i + 1) * (bm + 1) + j + 1] + 1
                                        : (unsigned)max_sz(t[(i + 1) * (bm + 1) + j],
                                                           t[i * (bm + 1) + j + 1]);
                size_t i = 0, j = 0;
                while (i < am || j < bm) {
                        if (i < am && j < bm && line_eq(a, pre + i, b, pre + j)) {
                                e[n++] = (struct edit){' ', pre + i++, pre + j++};
                        } else if (i < am && (j == bm || t[(i + 1) * (bm + 1) + j] >=
                                                             t[i * (bm + 1) + j + 1])) {
                                e[n++] = (struct edit){'-', pre + i++, pre + j};
                        } else {
                                e[n++] = (struct edit){'+', pre + i, pre + j++};
                        }
                }
                free(t);
        } else {
                for (size_t i = 0; i < am; i++)
                        e[n++] = (struct edit){'-', pre + i, pre};
                for (size_t j = 0; j < bm; j++)
                        e[n++] = (struct edit){'+', pre + am, pre + j};
        }
        for (size_t i = 0; i < suf; i++)
                e[n++] = (struct edit){' ', a->n - suf + i, b->n - suf + i};
        *ret_n = n;
        return e;
}

char *
nvh_setup_diff(const char *path, const char *old_text, const char *new_text)
{
        struct lines a = {0}, b = {0};
        struct edit *e = NULL;
        char *out = NULL;
        size_t out_len = 0, n = 0;
        FILE *f = NULL;

        if (lines_split(old_text, &a) < 0 || lines_split(new_text, &b) < 0)
                goto done;
        e = edits_make(&a, &b, &n);
        f = open_memstream(&out, &out_len);
        if (!e || !f)
                goto done;
        if (streq(old_text, new_text))
                goto done;
        fprintf(f, "--- %s\n+++ %s\n", *old_text ? path : "/dev/null",
                *new_text ? path : "/dev/null");
        for (size_t i = 0; i < n;) {
                size_t start, end, k;

                if (e[i].op == ' ') {
                        i++;
                        continue;
                }
                /* A hunk: from DIFF_CONTEXT lines before this change to DIFF_CONTEXT after
                 * the last change closer than 2 * DIFF_CONTEXT unchanged lines. */
                start = i > DIFF_CONTEXT ? i - DIFF_CONTEXT : 0;
                end = i;
                for (k = i; k < n; k++) {
                        if (e[k].op != ' ')
                                end = k;
                        else if (k - end > 2 * DIFF_CONTEXT)
                                break;
                }
                end = end + 1 + DIFF_CONTEXT < n ? end + 1 + DIFF_CONTEXT : n;
                size_t ac = 0, bc = 0;
                for (k = start; k < end; k++) {
                        ac += e[k].op != '+';
                        bc += e[k].op != '-';
                }
                fprintf(f, "@@ -%zu,%zu +%zu,%zu @@\n", e[start].ai + (ac ? 1 : 0), ac,
                        e[start].bi + (bc ? 1 : 0), bc);
                for (k = start; k < end; k++) {
                        if (e[k].op == '+')
                                emit_line(f, '+', &b, e[k].bi);
                        else
                                emit_line(f, e[k].op, &a, e[k].ai);
                }
                i = end;
        }
done:
        if (f && fclose(f) != 0) {
                free(out);
                out = NULL;
        }
        free(e);
        lines_free(&a);
        lines_free(&b);
        return out;
}

/* ---- files -------------------------------------------------------------------------------- */

/* The text of host_path, "" when it does not exist. */
static int
read_text(const char *host_path, char **ret, struct nvh_err *err)
{
        size_t len = 0;
        int r;

        r = nvh_fileio_read_at(AT_FDCWD, host_path, SETUP_FILE_MAX, 0, ret, &len, err);
        if (r == -ENOENT) {
                nvh_err_clear(err);
                *ret = strdup("");
                return *ret ? 0 : nvh_err_set(err, -ENOMEM, "out of memory");
        }
        if (r >= 0 && strlen(*ret) != len) {
                free(*ret);
                *ret = NULL;
                return nvh_err_set(err, -EINVAL, "'%s' holds a NUL byte", host_path);
        }
        return r < 0 ? r : 0;
}

static int
mkdir_parents(char *path, struct nvh_err *err)
{
        for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
                *s = '\0';
                int r = mkdir(path, 0755);
                int e = errno;
                *s = '/';
                if (r < 0 && e != EEXIST) {
                        errno = e;
                        return nvh_err_errno(err, "mkdir '%.*s'", (int)(s - path), path);
                }
        }
        return 0;
}

/* Replace host_path by text atomically (a temporary file renamed over it), keeping the old
 * file's mode and owner; "" removes the file. */
static int
write_text(const char *host_path, const char *text, struct nvh_err *err)
{
        _cleanup_free_ char *tmp = NULL, *dir = strdup(host_path);
        _cleanup_close_ int fd = -1;
        struct stat st;
        bool had = stat(host_path, &st) == 0;

        if (!dir)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        if (!*text) {
                if (unlink(host_path) < 0 && errno != ENOENT)
                        return nvh_err_errno(err, "remove '%s'", host_path);
                return 0;
        }
        if (mkdir_parents(dir, err) < 0)
                return err->code;
        if (asprintf(&tmp, "%s.nvhook-tmp", host_path) < 0)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  had ? st.st_mode & 07777 : 0644);
        if (fd < 0)
                return nvh_err_errno(err, "create '%s'", tmp);
        if ((had && fchown(fd, st.st_uid, st.st_gid) < 0) ||
            nvh_fileio_write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0 ||
            rename(tmp, host_path) < 0) {
                nvh_err_errno(err, "write '%s'", host_path);
                unlink(tmp);
                return err->code;
        }
        return 0;
}

/* ---- Docker: daemon.json ------------------------------------------------------------------ */

/* The indent width of a JSON text: spaces before the first key on its own line (4 when none). */
static int
json_indent_of(const char *text)
{
        for (const char *s = strchr(text, '\n'); s; s = strchr(s + 1, '\n')) {
                size_t n = strspn(s + 1, " ");
                if (s[1 + n] == '"')
                        return n >= 1 && n <= 8 ? (int)n : 4;
        }
        return 4;
}

static int
docker_edit(const char *old_text, const char *bin_dir, bool undo, char **ret, struct nvh_err *err)
{
        _cleanup_json_ json_t *root = NULL;
        _cleanup_free_ char *runtime = nvh_fileio_path_join(bin_dir, "nvhook-runtime");
        json_t *runtimes, *want, *have;
        char *dump;

        if (!runtime)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        if (old_text[strspn(old_text, " \t\r\n")] == '\0') {
                root = json_object();
        } else {
                int r = nvh_json_load_object(old_text, strlen(old_text), SETUP_FILE_MAX,
                                             "daemon.json", &root, err);
                if (r < 0)
                        return r;
        }
        runtimes = json_object_get(root, "runtimes");
        if (runtimes && !json_is_object(runtimes))
                return nvh_json_type_error("daemon.json", "runtimes", "an object", runtimes, err);
        have = json_object_get(runtimes, "nvhook");
        if (undo) {
                if (!have) {
                        *ret = strdup(old_text);
                        return *ret ? 0 : nvh_err_set(err, -ENOMEM, "out of memory");
                }
                json_object_del(runtimes, "nvhook");
                if (json_object_size(runtimes) == 0)
                        json_object_del(root, "runtimes");
        } else {
                want = json_pack("{s:s}", "path", runtime);
                if (have && json_equal(have, want)) {
                        json_decref(want);
                        *ret = strdup(old_text);
                        return *ret ? 0 : nvh_err_set(err, -ENOMEM, "out of memory");
                }
                if (!runtimes) {
                        runtimes = json_object();
                        json_object_set_new(root, "runtimes", runtimes);
                }
                json_object_set_new(runtimes, "nvhook", want);
        }
        /* An empty daemon.json means the same to dockerd as none: undo removes it. */
        if (json_object_size(root) == 0) {
                *ret = strdup("");
                return *ret ? 0 : nvh_err_set(err, -ENOMEM, "out of memory");
        }
        dump = json_dumps(root, JSON_INDENT(json_indent_of(old_text)) | JSON_PRESERVE_ORDER);
        if (!dump || asprintf(ret, "%s\n", dump) < 0) {
                free(dump);
                return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        free(dump);
        return 0;
}

/* ---- containerd: config.toml -------------------------------------------------------------- */

#define TOML_BEGIN "# BEGIN nvhook"
#define TOML_END "# END nvhook"

/* The line starting at or after s that begins with prefix, or NULL. */
static const char *
find_line(const char *text, const char *prefix)
{
        size_t n = strlen(prefix);

        for (const char *s = text; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
                if (strncmp(s, prefix, n) == 0)
                        return s;
        return NULL;
}

/* The schema version: the top-level "version = N" before the first table; 1 when absent
 * (containerd 1.x reads a file without it as version 1). */
static int
toml_version(const char *text)
{
        for (const char *s = text; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
                const char *p = s + strspn(s, " \t");
                int v;

                if (*p == '[')
                        break;
                if (sscanf(p, "version = %d", &v) == 1 || sscanf(p, "version=%d", &v) == 1)
                        return v;
        }
        return 1;
}

static int
containerd_edit(const char *old_text, const char *bin_dir, bool undo, char **ret,
                struct nvh_err *err)
{
        _cleanup_free_ char *rest = NULL, *block = NULL;
        const char *b = find_line(old_text, TOML_BEGIN), *e = NULL, *table;
        bool empty;
        int version;

        /* rest: the user's text, our block (if any) cut out. */
        if (b) {
                e = find_line(b, TOML_END);
                if (!e)
                        return nvh_err_set(err, -EINVAL,
                                           "config.toml: '" TOML_BEGIN "' without '" TOML_END
                                           "': fix the file by hand");
                e = strchr(e, '\n') ? strchr(e, '\n') + 1 : e + strlen(e);
                if (asprintf(&rest, "%.*s%s", (int)(b - old_text), old_text, e) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        } else if (!(rest = strdup(old_text))) {
                return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        empty = rest[strspn(rest, " \t\r\n")] == '\0';
        if (undo) {
                *ret = empty ? strdup("") : TAKE_PTR(rest);
                return *ret ? 0 : nvh_err_set(err, -ENOMEM, "out of memory");
        }
        if (strstr(rest, ".runtimes.nvhook]") || strstr(rest, ".runtimes.nvhook.options]"))
                return nvh_err_set(err, -EEXIST,
                                   "config.toml already has a runtimes.nvhook table outside "
                                   "nvhook's block: remove it or edit it by hand");
        version = empty ? 2 : toml_version(rest);
        if (version == 1)
                table = "plugins.cri.containerd.runtimes.nvhook";
        else if (version == 2)
                table = "plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.nvhook";
        else if (version == 3)
                table = "plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.nvhook";
        else
                return nvh_err_set(err, -EINVAL, "config.toml: unknown 'version = %d'", version);
        if (asprintf(&block,
                     TOML_BEGIN " (written by `nvhook setup`; `nvhook setup --undo` removes it)\n"
                                "%s"
                                "[%s]\n"
                                "  runtime_type = \"io.containerd.runc.v2\"\n"
                                "[%s.options]\n"
                                "  BinaryName = \"%s/nvhook-runtime\"\n" TOML_END "\n",
                     empty ? "version = 2\n" : "", table, table, bin_dir) < 0)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        if (b) {
                /* In place: the user's text before and after our block stays where it was. */
                if (asprintf(ret, "%.*s%s%s", (int)(b - old_text), old_text, block, e) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        } else if (empty) {
                *ret = TAKE_PTR(block);
        } else {
                size_t n = strlen(old_text);
                bool nl = n && old_text[n - 1] == '\n';
                if (asprintf(ret, "%s%s%s", old_text, nl ? "" : "\n", block) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        return 0;
}

/* ---- Podman / CRI-O: hooks.d -------------------------------------------------------------- */

static int
hooksd_edit(const char *old_text, const char *bin_dir, bool undo, char **ret, struct nvh_err *err)
{
        if (undo) {
                /* Only a file that runs nvhook is ours to remove. */
                *ret = strdup(strstr(old_text, "/nvhook\"") ? "" : old_text);
                return *ret ? 0 : nvh_err_set(err, -ENOMEM, "out of memory");
        }
        if (asprintf(ret,
                     "{\n"
                     "  \"version\": \"1.0.0\",\n"
                     "  \"hook\": {\n"
                     "    \"path\": \"%s/nvhook\",\n"
                     "    \"args\": [\"nvhook\", \"prestart\"]\n"
                     "  },\n"
                     "  \"when\": { \"always\": true },\n"
                     "  \"stages\": [\"prestart\"]\n"
                     "}\n",
                     bin_dir) < 0)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        return 0;
}

/* ---- engines ------------------------------------------------------------------------------ */

static const struct engine {
        const char *name;
        const char *daemon; /* binary that says the engine is installed */
        const char *path;   /* the file setup edits (under --root) */
        int (*edit)(const char *old_text, const char *bin_dir, bool undo, char **ret,
                    struct nvh_err *err);
        const char *restart; /* what to do after a change */
} engines[] = {
    {"docker", "dockerd", "/etc/docker/daemon.json", docker_edit,
     "restart dockerd to load it: systemctl restart docker; then docker run --runtime nvhook "
     "(docker run --gpus needs nvidia-container-runtime-hook -> nvhook in PATH)"},
    {"containerd", "containerd", "/etc/containerd/config.toml", containerd_edit,
     "restart containerd to load it: systemctl restart containerd (Kubernetes: a RuntimeClass "
     "with handler: nvhook)"},
    {"podman", "podman", "/etc/containers/oci/hooks.d/nvhook.json", hooksd_edit,
     "no restart: podman reads hooks.d on every run"},
    /* CRI-O's default hooks_dir; /etc/containers/oci/hooks.d is read only when listed. */
    {"crio", "crio", "/usr/share/containers/oci/hooks.d/nvhook.json", hooksd_edit,
     "no restart: CRI-O watches its hooks_dir"},
};

static bool
installed(const char *daemon)
{
        _cleanup_free_ char *p = nvh_doctor_which(daemon);

        return p != NULL;
}

/* A file the nvhook package installed: dpkg removes it, setup leaves it alone. */
static bool
package_owned(const char *root, const char *path)
{
        _cleanup_free_ char *list = nvh_fileio_path_join(root, "/var/lib/dpkg/info/nvhook.list");
        _cleanup_free_ char *buf = NULL, *needle = NULL;
        struct nvh_err err = {0};
        size_t len;

        if (!list || asprintf(&needle, "\n%s\n", path) < 0)
                return false;
        if (nvh_fileio_read_at(AT_FDCWD, list, SETUP_FILE_MAX, 0, &buf, &len, &err) < 0)
                return false;
        return strstr(buf, needle) || strncmp(buf, needle + 1, strlen(needle + 1)) == 0;
}

static int
setup_one(const struct engine *eng, const struct nvh_cli *cli, const char *root,
          const char *bin_dir, bool *ret_changed)
{
        _cleanup_free_ char *host_path = nvh_fileio_path_join(root, eng->path);
        _cleanup_free_ char *old_text = NULL, *new_text = NULL, *diff = NULL;
        struct nvh_err err = {0};
        int r;

        if (!host_path)
                return -ENOMEM;
        r = read_text(host_path, &old_text, &err);
        if (r >= 0 && cli->undo && package_owned(root, eng->path)) {
                printf("%s: '%s' belongs to the nvhook package (dpkg --purge nvhook removes "
                       "it); left alone\n",
                       eng->name, host_path);
                return 0;
        }
        if (r >= 0)
                r = eng->edit(old_text, bin_dir, cli->undo, &new_text, &err);
        if (r < 0) {
                char what[64];

                snprintf(what, sizeof(what), "setup %s", eng->name);
                if (!err.msg[0])
                        nvh_err_sys(&err, r, "'%s'", host_path);
                nvh_cli_fail(what, &err);
                return r;
        }
        if (streq(old_text, new_text)) {
                printf("%s: '%s' %s\n", eng->name, host_path,
                       cli->undo ? "has no nvhook entry" : "already configured");
                return 0;
        }
        diff = nvh_setup_diff(host_path, old_text, new_text);
        if (!diff)
                return -ENOMEM;
        fputs(diff, stdout);
        if (cli->dry_run) {
                printf("%s: dry run, '%s' not changed\n", eng->name, host_path);
                return 0;
        }
        r = write_text(host_path, new_text, &err);
        if (r < 0) {
                char what[64];

                snprintf(what, sizeof(what), "setup %s", eng->name);
                nvh_cli_fail(what, &err);
                return r;
        }
        printf("%s: %s '%s'; %s\n", eng->name, *new_text ? "wrote" : "removed", host_path,
               eng->restart);
        *ret_changed = true;
        return 0;
}

int
nvh_cmd_setup(struct nvh_cli *cli)
{
        _cleanup_free_ char *bin_dir = nvh_doctor_self_dir();
        const char *want = cli->engine ? cli->engine : "all";
        /* --root, made absolute by main (realpath) into conf.driver_root. */
        const char *root = cli->root_arg ? cli->conf.driver_root : "/";
        bool any = false, changed = false, failed = false;

        if (!bin_dir) {
                fprintf(stderr, "nvhook: setup: cannot find our own executable\n");
                return 1;
        }
        if (root[0] != '/') {
                fprintf(stderr, "nvhook: setup: --root must be absolute: '%s'\n", root);
                return 2;
        }
        for (size_t i = 0; i < ARRAY_SIZE(engines); i++) {
                const struct engine *eng = &engines[i];

                if (!streq(want, "all") && !streq(want, eng->name))
                        continue;
                any = true;
                /* "all" on the real root: only the engines installed here. */
                if (streq(want, "all") && streq(root, "/") && !installed(eng->daemon))
                        continue;
                if (setup_one(eng, cli, root, bin_dir, &changed) < 0)
                        failed = true;
        }
        if (!any) {
                fprintf(stderr,
                        "nvhook: setup: unknown engine '%s' (docker, podman, crio, containerd "
                        "or all)\n",
                        want);
                return 2;
        }
        if (!changed && !failed && !cli->dry_run)
                printf("nothing to change\n");
        return failed ? 1 : 0;
}
