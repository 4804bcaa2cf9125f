/* SPDX-License-Identifier: Apache-2.0 */
#include "drvcache.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components.h"
#include "fileio.h"
#include "log.h"
#include "macros.h"

/* First line of a cache file; bump when the layout or what discovery records changes
 * meaning. */
#define MAGIC "nvhook-drvcache 1"
/* "<type>:<dev>:<ino>:<size>:<sec>.<nsec>" */
#define ID_MAX 96

struct key {
        char *host_root;         /* normalised as nvh_driver_discover does */
        const char *rel_ldcache; /* without leading '/' */
        const char *version;
        unsigned caps;
        char exe_id[ID_MAX];     /* this nvhook binary: tables and discovery code */
        char ldcache_id[ID_MAX]; /* ldconfig rewrites it on every driver install */
};

static void
key_done(struct key *k)
{
        free(k->host_root);
}

static bool
is_ipc(enum nvh_file_kind kind)
{
        return kind == NVH_FILE_SOCKET || kind == NVH_FILE_DIR;
}

static void
ident_of(const struct stat *st, char buf[ID_MAX])
{
        snprintf(buf, ID_MAX, "%o:%" PRIx64 ":%" PRIx64 ":%" PRIx64 ":%" PRIx64 ".%09ld",
                 (unsigned)(st->st_mode & S_IFMT), (uint64_t)st->st_dev, (uint64_t)st->st_ino,
                 (uint64_t)st->st_size, (uint64_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
}

/* Identity of path (flags: 0 or AT_SYMLINK_NOFOLLOW); negative errno when it cannot be had. */
static int
ident(const char *path, int flags, char buf[ID_MAX])
{
        struct stat st;

        if (fstatat(AT_FDCWD, path, &st, flags) < 0)
                return -errno;
        ident_of(&st, buf);
        return 0;
}

static uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
        const unsigned char *s = p;

        for (size_t i = 0; i < n; i++)
                h = (h ^ s[i]) * 0x100000001b3ULL;
        return h;
}

static int
key_init(const struct nvh_driver_opts *opts, struct key *k)
{
        const char *rel = opts->rel_ldcache ? opts->rel_ldcache : "etc/ld.so.cache";

        while (*rel == '/')
                rel++;
        k->host_root =
            nvh_fileio_path_strip_trailing_slashes(opts->host_root ? opts->host_root : "/");
        if (!k->host_root)
                return -ENOMEM;
        k->rel_ldcache = rel;
        k->version = opts->version;
        k->caps = opts->caps;
        return 0;
}

char *
nvh_drvcache_file_name(const struct nvh_driver_opts *opts)
{
        _cleanup_(key_done) struct key k = {0};
        char caps[16], *name = NULL;
        uint64_t h = 0xcbf29ce484222325ULL;

        if (key_init(opts, &k) < 0)
                return NULL;
        snprintf(caps, sizeof(caps), "%x", k.caps);
        h = fnv1a(h, k.host_root, strlen(k.host_root) + 1);
        h = fnv1a(h, k.rel_ldcache, strlen(k.rel_ldcache) + 1);
        h = fnv1a(h, k.version ? k.version : "", k.version ? strlen(k.version) + 1 : 1);
        h = fnv1a(h, caps, strlen(caps));
        if (asprintf(&name, "driver-%016" PRIx64, h) < 0)
                return NULL;
        return name;
}

/* The cache decides which host files are bound into containers: only a file and directory
 * owned by us and writable by nobody else are believed. */
static bool
trusted(const struct stat *st, mode_t type)
{
        return (st->st_mode & S_IFMT) == type && st->st_uid == geteuid() &&
               !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* Opens the cache directory, creating it (0700) when create is set; -EPERM when it is not
 * trusted. */
static int
open_dir(const char *host_cache_dir, bool create)
{
        _cleanup_close_ int dir_fd = -1;
        struct stat st;

        if (create && mkdir(host_cache_dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        dir_fd = open(host_cache_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0)
                return -errno;
        if (fstat(dir_fd, &st) < 0)
                return -errno;
        if (!trusted(&st, S_IFDIR))
                return -EPERM;
        return TAKE_FD(dir_fd);
}

int
nvh_drvcache_read_file(const char *host_cache_dir, const char *name, size_t max_size,
                       char **ret_buf, size_t *ret_len)
{
        _cleanup_close_ int dir_fd = -1, fd = -1;
        struct stat st;

        dir_fd = open_dir(host_cache_dir, false);
        if (dir_fd < 0)
                return dir_fd;
        fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!trusted(&st, S_IFREG))
                return -EPERM;
        if ((uint64_t)st.st_size > max_size)
                return -E2BIG;
        return nvh_fileio_read_fd(fd, name, max_size, ret_buf, ret_len, NULL);
}

int
nvh_drvcache_write_file(const char *host_cache_dir, const char *name, const char *buf)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int dir_fd = -1, fd = -1;
        int r;

        if (asprintf(&tmp, "%s.tmp.%d", name, (int)getpid()) < 0)
                return -ENOMEM;
        dir_fd = open_dir(host_cache_dir, true);
        if (dir_fd < 0)
                return dir_fd;
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST && unlinkat(dir_fd, tmp, 0) == 0)
                fd =
                    openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        r = nvh_fileio_write_all(fd, buf, strlen(buf));
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                unlinkat(dir_fd, tmp, 0);
        return r;
}

/* The why string of entry i of the component table for kind; NULL past its end. */
static const char *
why_at(enum nvh_file_kind kind, size_t i)
{
        size_t n = 0;

        switch (kind) {
        case NVH_FILE_LIB: {
                const struct nvh_component_lib *t = nvh_components_libs(&n);
                return i < n ? t[i].why : NULL;
        }
        case NVH_FILE_BIN: {
                const struct nvh_component_bin *t = nvh_components_bins(&n);
                return i < n ? t[i].why : NULL;
        }
        case NVH_FILE_FIRMWARE: {
                const struct nvh_component_firmware *t = nvh_components_firmware(&n);
                return i < n ? t[i].why : NULL;
        }
        case NVH_FILE_CONFIG: {
                const struct nvh_component_config *t = nvh_components_configs(&n);
                return i < n ? t[i].why : NULL;
        }
        case NVH_FILE_SOCKET:
        case NVH_FILE_DIR:
                break;
        }
        return NULL;
}

/* Index of the table entry whose why is this very pointer (discovery stores the table's). */
static int
why_index(enum nvh_file_kind kind, const char *why)
{
        const char *w;

        for (size_t i = 0; (w = why_at(kind, i)); i++)
                if (w == why)
                        return (int)i;
        return -1;
}

/* What discovery would find now for the IPC endpoints (as lib/driver.c: they live on the real
 * host and come and go at run time, so they are never cached). */
static int
add_ipc(struct nvh_driver *drv, const struct nvh_driver_opts *opts)
{
        size_t n_ipc;
        const struct nvh_component_ipc *ipc = nvh_components_ipcs(&n_ipc);

        for (size_t i = 0; i < n_ipc; i++) {
                int r;

                if (!(ipc[i].caps & opts->caps))
                        continue;
                r = nvh_driver_ipc_probe(&ipc[i], opts->host_ipc_root, &drv->files[drv->n_files]);
                if (r < 0)
                        return r;
                drv->n_files += (size_t)r;
        }
        return 0;
}

/* A line of tab-separated fields, split in place. Returns the number of fields (at most max),
 * or -EBADMSG when there are more. */
static int
split(char *line, char **fields, int max)
{
        int n = 0;

        for (char *p = line;;) {
                if (n == max)
                        return -EBADMSG;
                fields[n++] = p;
                p = strchr(p, '\t');
                if (!p)
                        return n;
                *p++ = '\0';
        }
}

/* The next line of *cur (NUL-terminated in place), or NULL at the end. */
static char *
next_line(char **cur)
{
        char *line = *cur, *nl;

        if (!line || !*line)
                return NULL;
        nl = strchr(line, '\n');
        if (nl) {
                *nl = '\0';
                *cur = nl + 1;
        } else {
                *cur = NULL;
        }
        return line;
}

static bool
parse_uint(const char *s, int base, unsigned long max, unsigned *ret)
{
        char *end;
        unsigned long v;

        if (!*s || *s == '-' || *s == '+' || *s == ' ')
                return false;
        errno = 0;
        v = strtoul(s, &end, base);
        if (errno || *end || v > max)
                return false;
        *ret = (unsigned)v;
        return true;
}

/* "name\tvalue" with this name; value returned in place. */
static const char *
header(char **cur, const char *name)
{
        char *line = next_line(cur), *f[2];

        if (!line || split(line, f, 2) != 2 || !streq(f[0], name))
                return NULL;
        return f[1];
}

/* A file line: "f kind caps class why_index id host_path ctr_path soname why"; well-formed,
 * under the driver root, and still the very file that discovery examined (same type, device,
 * inode, size, mtime). */
static int
load_file(char **fl, const struct key *k, struct nvh_driver_file *f)
{
        unsigned kind, cls, wi;
        const char *host_path = fl[6];
        size_t root_len = strlen(k->host_root);
        char now[ID_MAX];

        if (!parse_uint(fl[1], 10, NVH_FILE_CONFIG, &kind) ||
            !parse_uint(fl[2], 16, ~0u, &f->caps) || !parse_uint(fl[3], 10, 64, &cls) ||
            (cls != 0 && cls != 32 && cls != 64) || !parse_uint(fl[4], 10, 100000, &wi))
                return -EBADMSG;
        f->kind = (enum nvh_file_kind)kind;
        f->elf_class = (int)cls;
        if (host_path[0] != '/' || strncmp(host_path, k->host_root, root_len) != 0 ||
            (root_len > 1 && host_path[root_len] != '/'))
                return -EBADMSG;
        /* the result points into the static table, never into the cache */
        f->why = why_at(f->kind, wi);
        if (!f->why || !streq(f->why, fl[9]))
                return -EBADMSG;
        if ((f->kind == NVH_FILE_LIB) != (fl[8][0] != '\0') ||
            (f->kind == NVH_FILE_LIB) == (fl[7][0] != '\0'))
                return -EBADMSG;
        if (ident(host_path, AT_SYMLINK_NOFOLLOW, now) < 0 || !streq(now, fl[5]))
                return -ESTALE;
        f->host_path = strdup(host_path);
        f->ctr_path = fl[7][0] ? strdup(fl[7]) : NULL;
        f->soname = fl[8][0] ? strdup(fl[8]) : NULL;
        if (!f->host_path || (fl[7][0] && !f->ctr_path) || (fl[8][0] && !f->soname))
                return -ENOMEM;
        return 0;
}

/* Builds the result from the cache text (modified in place) when its key is ours and nothing
 * it recorded has changed; -ESTALE/-EBADMSG otherwise. Layout, one record a line, fields
 * separated by tabs: the MAGIC line, then root, ldcache, version, caps, exe, ldcache_id,
 * prefix, skipped, n (file count) as "name\tvalue", then "d\tid\tpath" per directory and
 * "f\t..." per file (load_file), then "end". */
static int
load_hit(char *buf, const struct key *k, const struct nvh_driver_opts *opts,
         struct nvh_driver **ret)
{
        _cleanup_driver_ struct nvh_driver *drv = NULL;
        char *cur = buf, *line, caps[16];
        const char *v;
        unsigned n, skipped;
        size_t n_ipc;
        int r;

        line = next_line(&cur);
        if (!line || !streq(line, MAGIC))
                return -EBADMSG;
        snprintf(caps, sizeof(caps), "%x", k->caps);
        if (!(v = header(&cur, "root")) || !streq(v, k->host_root) ||
            !(v = header(&cur, "ldcache")) || !streq(v, k->rel_ldcache) ||
            !(v = header(&cur, "version")) || !streq(v, k->version) ||
            !(v = header(&cur, "caps")) || !streq(v, caps) || !(v = header(&cur, "exe")) ||
            !streq(v, k->exe_id) || !(v = header(&cur, "ldcache_id")) || !streq(v, k->ldcache_id))
                return -ESTALE;

        nvh_components_ipcs(&n_ipc);
        drv = calloc(1, sizeof(*drv));
        if (!drv)
                return -ENOMEM;
        drv->host_root = strdup(k->host_root);
        drv->version = strdup(k->version);
        if (!drv->host_root || !drv->version)
                return -ENOMEM;
        if (!(v = header(&cur, "prefix")))
                return -EBADMSG;
        if (v[0] && !(drv->host_prefix = strdup(v)))
                return -ENOMEM;
        if (!(v = header(&cur, "skipped")) || !parse_uint(v, 10, ~0u, &skipped) ||
            !(v = header(&cur, "n")) || !parse_uint(v, 10, 100000, &n))
                return -EBADMSG;
        drv->n_skipped = skipped;
        drv->files = calloc(n + n_ipc + 1, sizeof(*drv->files));
        if (!drv->files)
                return -ENOMEM;

        while ((line = next_line(&cur)) && !streq(line, "end")) {
                char *fl[10];
                int nf = split(line, fl, 10);

                if (nf == 3 && streq(fl[0], "d")) {
                        /* a directory that gained or lost an entry may hold a new candidate */
                        char now[ID_MAX];
                        if (fl[2][0] != '/')
                                return -EBADMSG;
                        if (ident(fl[2], 0, now) < 0 || !streq(now, fl[1]))
                                return -ESTALE;
                } else if (nf == 10 && streq(fl[0], "f") && drv->n_files < n) {
                        /* counted before it is filled: nvh_driver_free releases a partial one */
                        r = load_file(fl, k, &drv->files[drv->n_files++]);
                        if (r < 0)
                                return r;
                } else {
                        return -EBADMSG;
                }
        }
        if (!line || drv->n_files != n || (cur && *cur))
                return -EBADMSG; /* truncated, short, or something after "end" */
        r = add_ipc(drv, opts);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(drv);
        return 0;
}

/* A field must not contain the separators. */
static bool
clean(const char *s)
{
        return !s || !strpbrk(s, "\t\n");
}

/* The cache text for drv; NULL when it cannot be recorded (out of memory, a path with a tab or
 * newline, a file that changed under us, IPC entries not at the end). */
static char *
build_cache(const struct key *k, const struct nvh_driver *drv)
{
        _cleanup_free_ char *buf = NULL, *dirs = NULL;
        size_t len = 0, dlen = 0, n = 0;
        FILE *f, *df;
        char id[ID_MAX];
        bool ok = clean(k->host_root) && clean(k->rel_ldcache) && clean(k->version) &&
                  clean(drv->host_prefix);

        for (; n < drv->n_files && !is_ipc(drv->files[n].kind); n++)
                ;
        for (size_t i = n; i < drv->n_files; i++)
                ok = ok && is_ipc(drv->files[i].kind); /* found again on every hit */
        if (!ok)
                return NULL;
        f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        df = open_memstream(&dirs, &dlen);
        if (!df) {
                fclose(f);
                return NULL;
        }
        fprintf(f,
                "%s\nroot\t%s\nldcache\t%s\nversion\t%s\ncaps\t%x\nexe\t%s\nldcache_id\t%s\n"
                "prefix\t%s\nskipped\t%u\nn\t%zu\n",
                MAGIC, k->host_root, k->rel_ldcache, k->version, k->caps, k->exe_id, k->ldcache_id,
                drv->host_prefix ? drv->host_prefix : "", drv->n_skipped, n);
        for (size_t i = 0; i < n && ok; i++) {
                const struct nvh_driver_file *fi = &drv->files[i];
                int wi = why_index(fi->kind, fi->why);
                char *slash;

                ok = wi >= 0 && clean(fi->host_path) && clean(fi->ctr_path) && clean(fi->soname) &&
                     clean(fi->why) && (fi->ctr_path || fi->soname) &&
                     ident(fi->host_path, AT_SYMLINK_NOFOLLOW, id) >= 0;
                if (!ok)
                        break;
                fprintf(f, "f\t%d\t%x\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", (int)fi->kind, fi->caps,
                        fi->elf_class, wi, id, fi->host_path, fi->ctr_path ? fi->ctr_path : "",
                        fi->soname ? fi->soname : "", fi->why);

                /* its directory, once */
                slash = strrchr(fi->host_path, '/');
                if (slash == fi->host_path)
                        continue;
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++) {
                        const char *o = drv->files[j].host_path;
                        seen =
                            strncmp(o, fi->host_path, (size_t)(slash - fi->host_path + 1)) == 0 &&
                            !strchr(o + (slash - fi->host_path) + 1, '/');
                }
                if (seen)
                        continue;
                _cleanup_free_ char *dir = strndup(fi->host_path, (size_t)(slash - fi->host_path));
                ok = dir && ident(dir, 0, id) >= 0;
                if (ok)
                        fprintf(df, "d\t%s\t%s\n", id, dir);
        }
        if (fclose(df) != 0)
                ok = false;
        if (ok)
                fprintf(f, "%send\n", dirs ? dirs : "");
        if (fclose(f) != 0 || !ok)
                return NULL;
        return TAKE_PTR(buf);
}

/* Debug line "driver cache '<dir>/<name>': <why r>, <then>" for a cache not used or written. */
static void
log_miss(const char *host_cache_dir, const char *name, int r, const char *then)
{
        struct nvh_err e = {0};

        if (r == -EPERM)
                nvh_err_set(&e, r, "driver cache '%s/%s': not owned by us or writable by others",
                            host_cache_dir, name);
        else if (r == -ESTALE)
                nvh_err_set(&e, r, "driver cache '%s/%s': stale", host_cache_dir, name);
        else if (r == -EBADMSG)
                nvh_err_set(&e, r, "driver cache '%s/%s': corrupt", host_cache_dir, name);
        else
                nvh_err_sys(&e, r, "driver cache '%s/%s'", host_cache_dir, name);
        nvh_log_debug("%s, %s", e.msg, then);
}

/* Best effort: a cache that cannot be written only costs the next start a discovery. */
static void
write_cache(const char *host_cache_dir, const char *name, const struct key *k,
            const struct nvh_driver *drv)
{
        _cleanup_free_ char *buf = build_cache(k, drv);
        int r = buf ? nvh_drvcache_write_file(host_cache_dir, name, buf) : -ENOMEM;

        if (r < 0)
                log_miss(host_cache_dir, name, r, "skipping");
}

/* Trusts the cache file only when it and its directory belong to us and nobody else can write
 * them (trusted()), and only for a key equal to ours; verifies that every recorded file and
 * directory still has the identity it had at discovery. Guarantees the result of a fresh
 * nvh_driver_discover as of the moment the cache was written, with IPC endpoints as of now. */
int
nvh_drvcache_discover(const char *host_cache_dir, const struct nvh_driver_opts *opts, bool update,
                      struct nvh_driver **ret, struct nvh_err *err)
{
        _cleanup_(key_done) struct key k = {0};
        _cleanup_free_ char *name = NULL, *buf = NULL, *ldcache = NULL;
        struct nvh_driver *drv = NULL;
        size_t len = 0;
        int r;

        if (!host_cache_dir || !host_cache_dir[0] || !opts->version)
                return nvh_driver_discover(opts, ret, err);
        name = nvh_drvcache_file_name(opts);
        if (!name || key_init(opts, &k) < 0)
                return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
        ldcache = nvh_fileio_path_join(k.host_root, k.rel_ldcache);
        if (!ldcache)
                return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
        /* Without both identities nothing can be cached; discovery words any error. */
        if (ident("/proc/self/exe", 0, k.exe_id) < 0 || ident(ldcache, 0, k.ldcache_id) < 0)
                return nvh_driver_discover(opts, ret, err);

        r = nvh_drvcache_read_file(host_cache_dir, name, NVH_DRVCACHE_MAX_SIZE, &buf, &len);
        if (r >= 0) {
                r = strlen(buf) == len ? load_hit(buf, &k, opts, &drv) : -EBADMSG;
                if (r == -ENOMEM)
                        return nvh_err_set(err, r, "driver discovery: out of memory");
        }
        if (r >= 0) {
                nvh_log_debug("driver cache '%s/%s': hit, %zu files", host_cache_dir, name,
                              drv->n_files);
                *ret = drv;
                return 0;
        }
        log_miss(host_cache_dir, name, r, "discovering");

        r = nvh_driver_discover(opts, &drv, err);
        if (r < 0)
                return r;
        /* A skipped candidate is not recorded, so its repair could not be noticed; and its
         * warning is worth repeating on every start until someone fixes it. */
        if (!update)
                ; /* a read-only command: leave the host as it is */
        else if (drv->n_skipped == 0)
                write_cache(host_cache_dir, name, &k, drv);
        else
                nvh_log_debug("driver cache '%s/%s': %u candidates skipped, not cached",
                              host_cache_dir, name, drv->n_skipped);
        *ret = drv;
        return 0;
}
