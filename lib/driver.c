/* SPDX-License-Identifier: Apache-2.0 */
#include "driver.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "components.h"
#include "driver_resolve.h"
#include "elf.h"
#include "fileio.h"
#include "ldcache.h"
#include "log.h"
#include "macros.h"

#define MAX_PREFIXES 4
#define MAX_DIR_ENTRIES 4096 /* per firmware/config directory */
#define MAX_VERSION_LEN 64

#if defined(__x86_64__)
#define MACHINE64 EM_X86_64
#define MACHINE32 EM_386
#elif defined(__aarch64__)
#define MACHINE64 EM_AARCH64
#define MACHINE32 (-1) /* no 32-bit driver libraries on arm64 */
#else
#define MACHINE64 (-1)
#define MACHINE32 (-1)
#endif

struct ctx {
        const char *version;
        unsigned caps;
        int root_fd;
        struct nvh_driver *drv;
        size_t cap_files;
        char *prefixes[MAX_PREFIXES]; /* relative to the root, symlinks resolved */
        size_t n_prefixes;
        struct nvh_driver_memo memo;
};

static void
ctx_done(struct ctx *c)
{
        closep(&c->root_fd);
        for (size_t i = 0; i < c->n_prefixes; i++)
                free(c->prefixes[i]);
        nvh_driver_resolve_memo_clear(&c->memo);
}

static bool
valid_version(const char *v)
{
        size_t n = strlen(v);

        if (n == 0 || n > MAX_VERSION_LEN || v[0] == '.')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'z') ||
                      (v[i] >= 'A' && v[i] <= 'Z') || v[i] == '.' || v[i] == '-'))
                        return false;
        return true;
}

static const char *
base_name(const char *path)
{
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

/* name ends in ".so.<version>" */
static bool
named_for_version(const char *name, const char *version)
{
        size_t ln = strlen(name), lv = strlen(version);

        return ln >= lv + 4 && memcmp(name + ln - lv - 4, ".so.", 4) == 0 &&
               memcmp(name + ln - lv, version, lv) == 0;
}

static char *
host_path_of(const struct ctx *c, const char *rel)
{
        return nvh_fileio_path_join(c->drv->host_root, rel);
}

static struct nvh_driver_file *
add_file(struct ctx *c, enum nvh_file_kind kind, unsigned caps, const char *why,
         struct nvh_err *err)
{
        struct nvh_driver *drv = c->drv;

        if (drv->n_files == c->cap_files) {
                size_t ncap = c->cap_files ? c->cap_files * 2 : 64;
                struct nvh_driver_file *nf = realloc(drv->files, ncap * sizeof(*nf));
                if (!nf) {
                        nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
                        return NULL;
                }
                drv->files = nf;
                c->cap_files = ncap;
        }
        struct nvh_driver_file *f = &drv->files[drv->n_files++];
        *f = (struct nvh_driver_file){.kind = kind, .caps = caps, .why = why};
        return f;
}

static bool
have_host_path(const struct ctx *c, const char *host_path)
{
        for (size_t i = 0; i < c->drv->n_files; i++)
                if (streq(c->drv->files[i].host_path, host_path))
                        return true;
        return false;
}

static bool
have_ctr_path(const struct ctx *c, const char *ctr_path)
{
        for (size_t i = 0; i < c->drv->n_files; i++)
                if (c->drv->files[i].ctr_path && streq(c->drv->files[i].ctr_path, ctr_path))
                        return true;
        return false;
}

static bool
have_soname(const struct ctx *c, const char *soname, int elf_class)
{
        for (size_t i = 0; i < c->drv->n_files; i++) {
                const struct nvh_driver_file *f = &c->drv->files[i];
                if (f->kind == NVH_FILE_LIB && f->elf_class == elf_class &&
                    streq(f->soname, soname))
                        return true;
        }
        return false;
}

/* A candidate that looked like a driver file but is not usable: warn, count, go on. */
#define skip(c, ...) (nvh_log_warn(__VA_ARGS__), (c)->drv->n_skipped++, 0)

/* "usr/local/nvidia/lib64" -> "usr/local/nvidia"; "usr/lib/x86_64-linux-gnu" -> "usr". */
static int
note_prefix(struct ctx *c, const char *value)
{
        const char *rel = value;
        size_t len;

        while (*rel == '/')
                rel++;
        len = strlen(rel);
        for (;;) {
                while (len > 0 && rel[len - 1] != '/')
                        len--; /* drop the last component (the file, then library dirs) */
                while (len > 0 && rel[len - 1] == '/')
                        len--;
                size_t start = len;
                while (start > 0 && rel[start - 1] != '/')
                        start--;
                const char *comp = rel + start;
                size_t clen = len - start;
                if (len == 0)
                        break;
                if ((clen == 3 && memcmp(comp, "lib", 3) == 0) ||
                    (clen == 5 &&
                     (memcmp(comp, "lib64", 5) == 0 || memcmp(comp, "lib32", 5) == 0)) ||
                    memmem(comp, clen, "-linux-gnu", 10))
                        continue;
                break;
        }
        for (size_t i = 0; i < c->n_prefixes; i++)
                if (strlen(c->prefixes[i]) == len && memcmp(c->prefixes[i], rel, len) == 0)
                        return 0;
        if (c->n_prefixes == MAX_PREFIXES)
                return 0;
        c->prefixes[c->n_prefixes] = strndup(rel, len);
        if (!c->prefixes[c->n_prefixes])
                return -ENOMEM;
        c->n_prefixes++;
        return 0;
}

/* consider_lib's answer when the short path cannot decide: take the walker's path. */
#define SLOW_PATH 1

/* The table entry of an ld.so.cache entry this run wants, with the ELF class and machine its
 * file must have; NULL when the entry names no driver library of the requested capabilities. */
static const struct nvh_component_lib *
wanted_lib(const struct ctx *c, const struct nvh_ldcache_entry *e, int *ret_cls, int *ret_machine)
{
        const char *so = strstr(e->key, ".so");
        const struct nvh_component_lib *comp;
        int cls, machine;

        if (!so || (so[3] != '\0' && so[3] != '.'))
                return NULL;
        comp = nvh_components_find_lib(e->key, (size_t)(so - e->key));
        if (!comp)
                return NULL;
        cls = nvh_ldcache_flags_class(e->flags);
        if (!(comp->caps & c->caps))
                return NULL;
        if (cls == 64)
                machine = MACHINE64;
        else if (cls == 32 && (c->caps & NVH_CAP_COMPAT32))
                machine = MACHINE32;
        else
                return NULL;
        if (machine < 0)
                return NULL;
        *ret_cls = cls;
        *ret_machine = machine;
        return comp;
}

/* Open the candidate rel without following links and check that its ELF header agrees with
 * the cache (cls), the host (machine) and the table (comp's soname). 0 and *info filled when
 * usable; SLOW_PATH when fast and it cannot be opened; otherwise negative with why set to the
 * warning. */
static int
check_lib(const struct ctx *c, const char *rel, const char *host_path,
          const struct nvh_component_lib *comp, int cls, int machine, bool fast,
          struct nvh_elf_info *info, struct nvh_err *why)
{
        _cleanup_close_ int fd = -1;
        struct nvh_err lerr = {0};
        struct stat st;
        int r;

        fd = nvh_driver_resolve_open(c->root_fd, rel);
        if (fd < 0 && fast)
                return SLOW_PATH;
        if (fd < 0)
                return nvh_err_sys(why, fd, "open driver library '%s'", host_path);
        if (fstat(fd, &st) < 0)
                return nvh_err_errno(why, "open driver library '%s'", host_path);
        if (!S_ISREG(st.st_mode))
                return nvh_err_set(why, -EINVAL, "driver library '%s' is %s", host_path,
                                   "not a regular file");
        r = nvh_elf_read_fd_size(fd, (uint64_t)st.st_size, host_path, info, &lerr);
        if (r < 0)
                return nvh_err_set(why, r, "driver library %s", lerr.msg);
        if (info->elf_class != cls)
                return nvh_err_set(why, -ENOEXEC,
                                   "driver library '%s': ELF class does not match %s", host_path,
                                   "its ld.so.cache entry");
        if (info->machine != machine)
                return nvh_err_set(why, -ENOEXEC, "driver library '%s': %s", host_path,
                                   "ELF machine is not this host's");
        if (info->type != ET_DYN)
                return nvh_err_set(why, -ENOEXEC, "driver library '%s': %s", host_path,
                                   "not a shared object");
        if (!info->soname)
                return nvh_err_set(why, -ENOEXEC, "driver library '%s': %s", host_path,
                                   "no DT_SONAME");
        if (strncmp(info->soname, comp->name, strlen(comp->name)) != 0 ||
            strncmp(info->soname + strlen(comp->name), ".so", 3) != 0)
                return nvh_err_set(why, -ENOEXEC, "driver library '%s': unexpected soname '%s'",
                                   host_path, info->soname);
        return 0;
}

/* One cache entry: trusts the cache only to name candidates. The file is resolved inside
 * the root, then checked by check_lib. fast: name the file from the memo and one readlink
 * (nvh_driver_resolve_guess); whatever that cannot prove exactly, including every failure,
 * returns SLOW_PATH so that the walker decides and words the warning. */
static int
consider_lib(struct ctx *c, const struct nvh_ldcache_entry *e, bool fast, struct nvh_err *err)
{
        const struct nvh_component_lib *comp;
        _cleanup_free_ char *rel = NULL, *host_path = NULL;
        _cleanup_elf_info_ struct nvh_elf_info info = {0};
        struct nvh_err lerr = {0};
        bool verified = true;
        int cls, machine, r;

        comp = wanted_lib(c, e, &cls, &machine);
        if (!comp)
                return 0;
        if (fast) {
                r = nvh_driver_resolve_guess(c->root_fd, e->value, &c->memo, &rel, &verified);
                if (r < 0)
                        return nvh_err_set(err, r, "driver discovery: out of memory");
                if (r > 0)
                        return SLOW_PATH;
        } else {
                r = nvh_driver_resolve_cached(c->root_fd, e->value, &c->memo, &rel, &lerr);
                if (r < 0)
                        return skip(c, "driver library '%s' in '%s': %s, skipping", e->value,
                                    c->drv->host_root, lerr.msg);
        }
        host_path = host_path_of(c, rel);
        if (!host_path)
                return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
        /* every host_path recorded names a file proved not to be a link: exact for a guess */
        if (have_host_path(c, host_path))
                return 0;
        if (!(comp->flags & NVH_COMPONENT_UNVERSIONED)) {
                if (!named_for_version(base_name(rel), c->version)) {
                        if (!verified && nvh_driver_resolve_is_link(c->root_fd, rel))
                                return SLOW_PATH;
                        nvh_log_debug("'%s' is not driver %s, skipping", host_path, c->version);
                        return 0;
                }
        }

        r = check_lib(c, rel, host_path, comp, cls, machine, fast, &info, &lerr);
        if (r < 0)
                return skip(c, "%s, skipping", lerr.msg);
        if (r == SLOW_PATH)
                return SLOW_PATH;
        if (have_soname(c, info.soname, cls))
                return 0; /* ld.so would use the first one too */

        struct nvh_driver_file *f = add_file(c, NVH_FILE_LIB, comp->caps, comp->why, err);
        if (!f)
                return -ENOMEM;
        f->host_path = TAKE_PTR(host_path);
        f->soname = TAKE_PTR(info.soname);
        f->elf_class = cls;
        if (cls == 64 && note_prefix(c, rel) < 0)
                return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
        return 0;
}

static int
discover_libs(struct ctx *c, const char *rel_ldcache, struct nvh_err *err)
{
        struct nvh_ldcache *cache = NULL;
        int r;

        r = nvh_ldcache_load(c->root_fd, rel_ldcache, &cache, err);
        if (r < 0)
                return nvh_err_prefix(err, "driver root '%s'", c->drv->host_root);
        for (size_t i = 0; i < cache->n_entries; i++) {
                r = consider_lib(c, &cache->entries[i], true, err);
                if (r == SLOW_PATH)
                        r = consider_lib(c, &cache->entries[i], false, err);
                if (r < 0)
                        break;
        }
        nvh_ldcache_free(cache);
        return r < 0 ? r : 0;
}

/* Search-directory list: fixed ones, then "<prefix>/<sub>" for each driver prefix, without
 * duplicates. Returns the count; entries are malloc'ed. */
static int
search_dirs(const struct ctx *c, const char *const *fixed, size_t n_fixed, const char *sub,
            char **dirs, size_t max)
{
        size_t n = 0;

        for (size_t i = 0; i < n_fixed + c->n_prefixes && n < max; i++) {
                char *d;
                if (i < n_fixed)
                        d = strdup(fixed[i]);
                else if (c->prefixes[i - n_fixed][0])
                        d = nvh_fileio_path_join(c->prefixes[i - n_fixed], sub);
                else
                        d = strdup(sub);
                if (!d) {
                        for (size_t j = 0; j < n; j++)
                                free(dirs[j]);
                        return -ENOMEM;
                }
                bool dup = false;
                for (size_t j = 0; j < n && !dup; j++)
                        dup = streq(dirs[j], d);
                if (dup)
                        free(d);
                else
                        dirs[n++] = d;
        }
        return (int)n;
}

static void
free_dirs(char **dirs, int n)
{
        for (int i = 0; i < n; i++)
                free(dirs[i]);
}

/* Resolve rel in the root and check its type; 0 and *ret_rel on success, -ENOENT (quietly)
 * when it does not exist or has another type. */
static int
find_in_root(const struct ctx *c, const char *rel, mode_t type, char **ret_rel)
{
        _cleanup_free_ char *res = NULL;
        struct stat st;

        if (nvh_driver_resolve(c->root_fd, rel, &res, NULL) < 0)
                return -ENOENT;
        if (fstatat(c->root_fd, res[0] ? res : ".", &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -ENOENT;
        if ((st.st_mode & S_IFMT) != type)
                return -ENOENT;
        *ret_rel = TAKE_PTR(res);
        return 0;
}

static int
add_found(struct ctx *c, enum nvh_file_kind kind, unsigned caps, const char *why, const char *rel,
          const char *ctr_path, struct nvh_err *err)
{
        _cleanup_free_ char *host_path = host_path_of(c, rel);
        _cleanup_free_ char *ctr = strdup(ctr_path);

        if (!host_path || !ctr)
                return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
        if (have_host_path(c, host_path) || have_ctr_path(c, ctr))
                return 0;
        struct nvh_driver_file *f = add_file(c, kind, caps, why, err);
        if (!f)
                return -ENOMEM;
        f->host_path = TAKE_PTR(host_path);
        f->ctr_path = TAKE_PTR(ctr);
        return 0;
}

/* A driver binary is an ELF executable. Hosts often put wrapper scripts in /usr/bin that exec
 * the driver's real binary by its host path (the GPU machine's /usr/bin/nvidia-smi does): bound
 * into a container such a script points at a path that is not there. */
static bool
is_elf_at(const struct ctx *c, const char *rel)
{
        _cleanup_close_ int fd = -1;
        unsigned char magic[4];

        fd = openat(c->root_fd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || read(fd, magic, sizeof(magic)) != (ssize_t)sizeof(magic))
                return false;
        return memcmp(magic,
                      "\x7f"
                      "ELF",
                      4) == 0;
}

static int
discover_bins(struct ctx *c, struct nvh_err *err)
{
        static const char *const fixed[] = {"usr/bin", "usr/sbin", "bin", "sbin", "usr/local/bin"};
        char *dirs[ARRAY_SIZE(fixed) + MAX_PREFIXES];
        size_t n_bins;
        const struct nvh_component_bin *bins = nvh_components_bins(&n_bins);
        int n, r = 0;

        n = search_dirs(c, fixed, ARRAY_SIZE(fixed), "bin", dirs, ARRAY_SIZE(dirs));
        if (n < 0)
                return nvh_err_set(err, n, "driver discovery: out of memory");
        for (size_t b = 0; b < n_bins && r >= 0; b++) {
                if (!(bins[b].caps & c->caps))
                        continue;
                for (int d = 0; d < n; d++) {
                        _cleanup_free_ char *rel = nvh_fileio_path_join(dirs[d], bins[b].name);
                        _cleanup_free_ char *res = NULL, *ctr = NULL;
                        if (!rel || asprintf(&ctr, "/usr/bin/%s", bins[b].name) < 0) {
                                r = nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
                                break;
                        }
                        if (find_in_root(c, rel, S_IFREG, &res) < 0)
                                continue;
                        if (!is_elf_at(c, res)) {
                                nvh_log_debug("'%s' is not an ELF executable, skipping", rel);
                                continue;
                        }
                        r = add_found(c, NVH_FILE_BIN, bins[b].caps, bins[b].why, res, ctr, err);
                        break;
                }
        }
        free_dirs(dirs, n);
        return r;
}

static int
cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir_rel (resolved) matching pattern, sorted; hidden entries are ignored. */
static int
list_matches(const struct ctx *c, const char *dir_rel, const char *pattern, char ***ret_names,
             size_t *ret_n, struct nvh_err *err)
{
        _cleanup_close_ int dir_fd = -1;
        _cleanup_strv_ char **names = NULL;
        _cleanup_closedir_ DIR *d = NULL;
        size_t n = 0;
        struct dirent *de;

        dir_fd = openat(c->root_fd, dir_rel[0] ? dir_rel : ".",
                        O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dir_fd < 0)
                return -ENOENT;
        d = fdopendir(dir_fd);
        if (!d)
                return -ENOENT;
        TAKE_FD(dir_fd);
        names = calloc(1, sizeof(char *));
        if (!names)
                return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || fnmatch(pattern, de->d_name, 0) != 0)
                        continue;
                if (n == MAX_DIR_ENTRIES)
                        break;
                char **nn = realloc(names, (n + 2) * sizeof(char *));
                if (!nn)
                        return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
                names = nn;
                names[n] = strdup(de->d_name);
                names[n + 1] = NULL;
                if (!names[n])
                        return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
                n++;
        }
        qsort(names, n, sizeof(char *), cmp_str);
        *ret_names = TAKE_PTR(names);
        *ret_n = n;
        return 0;
}

/* Every match of pattern in dir_rel, as kind, with ctr_dir/<name> as target. */
static int
add_matches(struct ctx *c, enum nvh_file_kind kind, unsigned caps, const char *why,
            const char *dir_rel, const char *pattern, const char *ctr_dir, struct nvh_err *err)
{
        _cleanup_free_ char *dir_res = NULL;
        _cleanup_strv_ char **names = NULL;
        size_t n = 0;
        int r;

        if (find_in_root(c, dir_rel, S_IFDIR, &dir_res) < 0)
                return 0;
        r = list_matches(c, dir_res, pattern, &names, &n, err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *rel = nvh_fileio_path_join(dir_res, names[i]);
                _cleanup_free_ char *ctr = nvh_fileio_path_join(ctr_dir, names[i]);
                _cleanup_free_ char *res = NULL;
                if (!rel || !ctr)
                        return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
                if (find_in_root(c, rel, S_IFREG, &res) < 0)
                        continue;
                r = add_found(c, kind, caps, why, res, ctr, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int
discover_firmware(struct ctx *c, struct nvh_err *err)
{
        static const char *const fixed[] = {"lib/firmware", "usr/lib/firmware"};
        char *dirs[ARRAY_SIZE(fixed) + MAX_PREFIXES];
        size_t n_fw;
        const struct nvh_component_firmware *fw = nvh_components_firmware(&n_fw);
        int n, r = 0;

        n = search_dirs(c, fixed, ARRAY_SIZE(fixed), "firmware", dirs, ARRAY_SIZE(dirs));
        if (n < 0)
                return nvh_err_set(err, n, "driver discovery: out of memory");
        for (size_t i = 0; i < n_fw && r >= 0; i++) {
                if (!(fw[i].caps & c->caps))
                        continue;
                for (int d = 0; d < n && r >= 0; d++) {
                        _cleanup_free_ char *rel = NULL, *ctr = NULL;
                        /* The kernel loads from /lib/firmware; a standard directory keeps its
                         * path, one under the driver prefix goes to /lib/firmware. */
                        bool standard = (size_t)d < ARRAY_SIZE(fixed);
                        if (asprintf(&rel, "%s/nvidia/%s", dirs[d], c->version) < 0 ||
                            asprintf(&ctr, "/%s/nvidia/%s", standard ? dirs[d] : "lib/firmware",
                                     c->version) < 0) {
                                r = nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
                                break;
                        }
                        r = add_matches(c, NVH_FILE_FIRMWARE, fw[i].caps, fw[i].why, rel,
                                        fw[i].pattern, ctr, err);
                }
        }
        free_dirs(dirs, n);
        return r;
}

static int
discover_configs(struct ctx *c, struct nvh_err *err)
{
        static const char *const fixed[] = {"etc", "usr/local/share", "usr/share"};
        char *dirs[ARRAY_SIZE(fixed) + MAX_PREFIXES];
        size_t n_cfg;
        const struct nvh_component_config *cfg = nvh_components_configs(&n_cfg);
        int n, r = 0;

        n = search_dirs(c, fixed, ARRAY_SIZE(fixed), "share", dirs, ARRAY_SIZE(dirs));
        if (n < 0)
                return nvh_err_set(err, n, "driver discovery: out of memory");
        for (size_t i = 0; i < n_cfg && r >= 0; i++) {
                const char *last = base_name(cfg[i].rel);
                bool pattern = strpbrk(last, "*?[") != NULL;

                if (!(cfg[i].caps & c->caps))
                        continue;
                for (int d = 0; d < n && r >= 0; d++) {
                        const char *ctr_base = cfg[i].ctr_base;
                        _cleanup_free_ char *rel = NULL, *ctr = NULL;

                        if (!ctr_base)
                                ctr_base = streq(dirs[d], "etc") ? "/etc" : "/usr/share";
                        rel = nvh_fileio_path_join(dirs[d], cfg[i].rel);
                        ctr = nvh_fileio_path_join(ctr_base, cfg[i].rel);
                        if (!rel || !ctr) {
                                r = nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
                                break;
                        }
                        if (pattern) {
                                /* rel and ctr end with the pattern: match in their parent. */
                                *strrchr(rel, '/') = '\0';
                                *strrchr(ctr, '/') = '\0';
                                r = add_matches(c, NVH_FILE_CONFIG, cfg[i].caps, cfg[i].why, rel,
                                                last, ctr, err);
                                continue;
                        }
                        _cleanup_free_ char *res = NULL;
                        if (find_in_root(c, rel, S_IFREG, &res) < 0)
                                continue;
                        r = add_found(c, NVH_FILE_CONFIG, cfg[i].caps, cfg[i].why, res, ctr, err);
                        break; /* the first one found wins, as with the loaders' search order */
                }
        }
        free_dirs(dirs, n);
        return r;
}

int
nvh_driver_ipc_probe(const struct nvh_component_ipc *ipc, const char *host_ipc_root,
                     struct nvh_driver_file *ret)
{
        _cleanup_free_ char *host_path = NULL, *ctr = NULL;
        bool is_dir = ipc->kind == NVH_COMPONENT_IPC_DIR;
        struct stat st;

        host_path = nvh_fileio_path_join(host_ipc_root ? host_ipc_root : "/", ipc->path);
        ctr = strdup(ipc->path);
        if (!host_path || !ctr)
                return -ENOMEM;
        if (lstat(host_path, &st) < 0 || (is_dir ? !S_ISDIR(st.st_mode) : !S_ISSOCK(st.st_mode)))
                return 0;
        *ret = (struct nvh_driver_file){
            .kind = is_dir ? NVH_FILE_DIR : NVH_FILE_SOCKET,
            .caps = ipc->caps,
            .host_path = TAKE_PTR(host_path),
            .ctr_path = TAKE_PTR(ctr),
            .why = ipc->why,
        };
        return 1;
}

/* IPC endpoints live on the real host, not under the driver root. */
static int
discover_ipc(struct ctx *c, const char *host_ipc_root, struct nvh_err *err)
{
        size_t n_ipc;
        const struct nvh_component_ipc *ipc = nvh_components_ipcs(&n_ipc);

        for (size_t i = 0; i < n_ipc; i++) {
                struct nvh_driver_file found;
                int r;

                if (!(ipc[i].caps & c->caps))
                        continue;
                r = nvh_driver_ipc_probe(&ipc[i], host_ipc_root, &found);
                if (r < 0)
                        return nvh_err_set(err, r, "driver discovery: out of memory");
                if (r == 0)
                        continue;
                struct nvh_driver_file *f = add_file(c, found.kind, found.caps, found.why, err);
                if (!f) {
                        free(found.host_path);
                        free(found.ctr_path);
                        return -ENOMEM;
                }
                f->host_path = found.host_path;
                f->ctr_path = found.ctr_path;
        }
        return 0;
}

int
nvh_driver_discover(const struct nvh_driver_opts *opts, struct nvh_driver **ret,
                    struct nvh_err *err)
{
        const char *host_root = opts->host_root ? opts->host_root : "/";
        const char *rel_ldcache = opts->rel_ldcache ? opts->rel_ldcache : "etc/ld.so.cache";
        const char *ipc_root = opts->host_ipc_root ? opts->host_ipc_root : "/";
        _cleanup_driver_ struct nvh_driver *drv = NULL;
        _cleanup_(ctx_done) struct ctx c = {.root_fd = -1};
        int r;

        if (host_root[0] != '/')
                return nvh_err_set(err, -EINVAL, "driver root '%s' is not an absolute path",
                                   host_root);
        if (!opts->version || !valid_version(opts->version))
                return nvh_err_set(err, -EINVAL, "bad driver version '%s'",
                                   opts->version ? opts->version : "(none)");
        while (*rel_ldcache == '/')
                rel_ldcache++;

        drv = calloc(1, sizeof(*drv));
        if (!drv)
                return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
        drv->host_root = nvh_fileio_path_strip_trailing_slashes(host_root);
        drv->version = strdup(opts->version);
        if (!drv->host_root || !drv->version)
                return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
        c.version = drv->version;
        c.caps = opts->caps;
        c.drv = drv;
        c.root_fd = open(drv->host_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (c.root_fd < 0)
                return nvh_err_errno(err, "open driver root '%s'", drv->host_root);

        r = discover_libs(&c, rel_ldcache, err);
        if (r < 0)
                return r;
        if (c.n_prefixes > 0) {
                drv->host_prefix = host_path_of(&c, c.prefixes[0]);
                if (!drv->host_prefix)
                        return nvh_err_set(err, -ENOMEM, "driver discovery: out of memory");
        }
        r = discover_bins(&c, err);
        if (r >= 0)
                r = discover_firmware(&c, err);
        if (r >= 0)
                r = discover_configs(&c, err);
        if (r >= 0)
                r = discover_ipc(&c, ipc_root, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(drv);
        return 0;
}

void
nvh_driver_free(struct nvh_driver *drv)
{
        if (!drv)
                return;
        for (size_t i = 0; i < drv->n_files; i++) {
                free(drv->files[i].host_path);
                free(drv->files[i].ctr_path);
                free(drv->files[i].soname);
        }
        free(drv->files);
        free(drv->host_root);
        free(drv->version);
        free(drv->host_prefix);
        free(drv);
}

bool
nvh_driver_file_selected(const struct nvh_driver_file *f, unsigned caps)
{
        if (!(f->caps & caps))
                return false;
        return f->kind != NVH_FILE_LIB || f->elf_class != 32 || (caps & NVH_CAP_COMPAT32);
}

const char *
nvh_driver_file_kind_name(enum nvh_file_kind kind)
{
        switch (kind) {
        case NVH_FILE_LIB:
                return "library";
        case NVH_FILE_BIN:
                return "binary";
        case NVH_FILE_FIRMWARE:
                return "firmware";
        case NVH_FILE_CONFIG:
                return "config";
        case NVH_FILE_SOCKET:
                return "ipc";
        case NVH_FILE_DIR:
                return "ipc-dir";
        }
        return "file";
}
