/* SPDX-License-Identifier: Apache-2.0 */
#include "layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "ldcache.h"
#include "macros.h"
#include "nsenter.h"
#include "rootfs.h"

/* Library directories by family, most specific first. The loader of each family searches
 * these by default, so a library placed there loads even without a cache. */
static const struct family {
        const char *marker;   /* libc (or loader) path that identifies the family */
        const char *libdir;   /* where 64-bit libraries go */
        const char *libdir32; /* where 32-bit libraries go */
        const char *name;
} families[] = {
    /* Debian/Ubuntu multiarch (merged /usr or not). */
    {"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu", "/usr/lib/i386-linux-gnu",
     "multiarch libc"},
    {"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu", "/usr/lib/i386-linux-gnu",
     "multiarch libc"},
    {"/usr/lib/aarch64-linux-gnu/libc.so.6", "/usr/lib/aarch64-linux-gnu", "", "multiarch libc"},
    /* RHEL, SUSE, Fedora, Amazon Linux: lib64. */
    {"/usr/lib64/libc.so.6", "/usr/lib64", "/usr/lib", "lib64 libc"},
    {"/lib64/libc.so.6", "/usr/lib64", "/usr/lib", "lib64 libc"},
    /* musl (Alpine): the loader searches /lib:/usr/local/lib:/usr/lib. */
    {"/lib/ld-musl-x86_64.so.1", "/usr/lib", "", "musl loader"},
    {"/lib/ld-musl-aarch64.so.1", "/usr/lib", "", "musl loader"},
    /* Arch and others: plain /usr/lib. */
    {"/usr/lib/libc.so.6", "/usr/lib", "/usr/lib32", "/usr/lib libc"},
};

/* ctr_path resolves in-root (extra_flags: e.g. O_DIRECTORY, to ask for a directory). */
static bool
exists_in_root(int root_fd, const char *ctr_path, int extra_flags)
{
        _cleanup_close_ int fd = -1;
        struct nvh_err ignored = {0};

        return nvh_rootfs_resolve(root_fd, ctr_path, O_PATH | extra_flags, &fd, &ignored) >= 0;
}

static void
dir_of(const char *path, char *buf, size_t size)
{
        const char *slash = strrchr(path, '/');
        size_t len = slash ? (size_t)(slash - path) : 0;

        if (len == 0 || len >= size) {
                snprintf(buf, size, "/");
                return;
        }
        memcpy(buf, path, len);
        buf[len] = '\0';
}

static const char ctr_ldcache[] = "/etc/ld.so.cache";

static int
open_ldcache(int root_fd, int *ret_fd, struct nvh_layout_file_id *ret_id, struct nvh_err *err)
{
        struct stat sb;
        int r = nvh_rootfs_open_file(root_fd, ctr_ldcache, NVH_LDCACHE_MAX_SIZE, ret_fd, &sb, err);

        if (r < 0)
                return r;
        *ret_id = (struct nvh_layout_file_id){(uint64_t)sb.st_dev, (uint64_t)sb.st_ino,
                                              (int64_t)sb.st_size, sb.st_mtim, sb.st_ctim};
        return 0;
}

int
nvh_layout_ldcache_id(int root_fd, struct nvh_layout_file_id *ret_id, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;

        return open_ldcache(root_fd, &fd, ret_id, err);
}

int
nvh_layout_read_ldcache(int root_fd, char **ret_buf, size_t *ret_len,
                        struct nvh_layout_file_id *ret_id, struct nvh_err *err)
{
        _cleanup_close_ int fd = -1;
        int r = open_ldcache(root_fd, &fd, ret_id, err);

        if (r < 0)
                return r;
        return nvh_fileio_read_fd(fd, ctr_ldcache, NVH_LDCACHE_MAX_SIZE, ret_buf, ret_len, err);
}

bool
nvh_layout_file_id_eq(const struct nvh_layout_file_id *a, const struct nvh_layout_file_id *b)
{
        return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
               a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
               a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* The cache says where the image's own libc lives: that directory is searched by the loader
 * for certain, whatever the distribution. With keep, the parsed cache stays in ret. */
static bool
probe_cache(int root_fd, bool keep, struct nvh_layout *ret)
{
        _cleanup_free_ char *buf = NULL;
        struct nvh_err ignored = {0};
        struct nvh_ldcache *cache = NULL;
        struct nvh_layout_file_id id;
        bool found = false;
        size_t len = 0;
        int r;

        /* A FIFO or device node there is not a cache: never read (rootfs.h). */
        r = nvh_layout_read_ldcache(root_fd, &buf, &len, &id, &ignored);
        if (r < 0 && r != -E2BIG)
                return false;
        ret->has_ldcache = true;
        if (r < 0 || nvh_ldcache_parse_take(TAKE_PTR(buf), len, ctr_ldcache, &cache, &ignored) < 0)
                return false;
        for (size_t i = 0; i < cache->n_entries; i++) {
                const struct nvh_ldcache_entry *e = &cache->entries[i];
                if (!streq(e->key, "libc.so.6") || e->value[0] != '/')
                        continue;
                if (nvh_ldcache_flags_class(e->flags) == 64 && !ret->libdir[0]) {
                        dir_of(e->value, ret->libdir, sizeof(ret->libdir));
                        found = true;
                } else if (nvh_ldcache_flags_i386(e->flags) && !ret->libdir32[0]) {
                        dir_of(e->value, ret->libdir32, sizeof(ret->libdir32));
                }
        }
        if (keep) {
                ret->ldcache = cache;
                ret->ldcache_id = id;
        } else {
                nvh_ldcache_free(cache);
        }
        return found;
}

static bool
same_dir(int root_fd, const char *a, const char *b)
{
        _cleanup_close_ int a_fd = -1, b_fd = -1;
        struct nvh_err ignored = {0};
        struct stat sa, sb;

        if (!a[0] || !b[0])
                return false;
        if (streq(a, b))
                return true;
        if (nvh_rootfs_resolve(root_fd, a, O_PATH | O_DIRECTORY, &a_fd, &ignored) < 0 ||
            nvh_rootfs_resolve(root_fd, b, O_PATH | O_DIRECTORY, &b_fd, &ignored) < 0 ||
            fstat(a_fd, &sa) < 0 || fstat(b_fd, &sb) < 0)
                return false;
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int
probe_fd(int root_fd, bool keep, struct nvh_layout *ret)
{
        struct nvh_layout l = {0};
        const struct family *fam = NULL;
        bool from_cache;

        for (size_t i = 0; i < ARRAY_SIZE(families); i++) {
                if (exists_in_root(root_fd, families[i].marker, 0)) {
                        fam = &families[i];
                        break;
                }
        }
        if (fam && strstr(fam->marker, "ld-musl")) {
                l.musl = true;
                snprintf(l.musl_arch, sizeof(l.musl_arch), "%s",
                         strstr(fam->marker, "aarch64") ? "aarch64" : "x86_64");
        }
        from_cache = probe_cache(root_fd, keep, &l);
        if (from_cache) {
                snprintf(l.why, sizeof(l.why), "directory of libc.so.6 in the image's ld.so.cache");
        } else if (fam) {
                snprintf(l.libdir, sizeof(l.libdir), "%s", fam->libdir);
                snprintf(l.why, sizeof(l.why), "%s at '%s'", fam->name, fam->marker);
        } else {
                /* No libc at all (busybox, static or distroless-static images): nothing can
                 * load a library without a loader, but one brought in later searches the
                 * cache we write, so use the neutral default. */
                snprintf(l.libdir, sizeof(l.libdir), "/usr/lib64");
                snprintf(l.why, sizeof(l.why), "no libc found: default directory");
        }
        l.glibc = !l.musl && (from_cache || fam);
        l.ldconf_d = l.glibc && exists_in_root(root_fd, "/etc/ld.so.conf.d", O_DIRECTORY);
        if (!l.libdir32[0] && fam)
                snprintf(l.libdir32, sizeof(l.libdir32), "%s", fam->libdir32);
        if (!l.libdir32[0] && !fam)
                snprintf(l.libdir32, sizeof(l.libdir32), "/usr/lib");
        if (same_dir(root_fd, l.libdir, l.libdir32)) {
                /* Arch-like images link lib64 to lib: one directory cannot hold both classes
                 * under one name, so 32-bit libraries are not injected there. */
                l.libdir32[0] = '\0';
        }
        *ret = l;
        return 0;
}

int
nvh_layout_probe_fd(int root_fd, struct nvh_layout *ret, struct nvh_err *err)
{
        (void)err;
        return probe_fd(root_fd, false, ret);
}

int
nvh_layout_probe(const char *host_rootfs, int pid, struct nvh_layout *ret, struct nvh_err *err)
{
        _cleanup_close_ int root_fd = -1;
        int r = nvh_layout_open_root(host_rootfs, pid, &root_fd, err);

        return r < 0 ? r : probe_fd(root_fd, false, ret);
}

int
nvh_layout_probe_keep(const char *host_rootfs, int pid, struct nvh_layout *ret, struct nvh_err *err)
{
        _cleanup_close_ int root_fd = -1;
        int r = nvh_layout_open_root(host_rootfs, pid, &root_fd, err);

        return r < 0 ? r : probe_fd(root_fd, true, ret);
}

void
nvh_layout_done(struct nvh_layout *layout)
{
        nvh_ldcache_free(layout->ldcache);
        layout->ldcache = NULL;
}

int
nvh_layout_open_root(const char *host_rootfs, int pid, int *ret_fd, struct nvh_err *err)
{
        _cleanup_free_ char *path = NULL;
        int root_fd;

        /* Before pivot_root the container's mount namespace shows the rootfs at the same path
         * as the bundle says; /proc/<pid>/root enters that namespace's view without setns. */
        if (pid > 0) {
                int r = nvh_nsenter_check(pid, err);
                if (r < 0)
                        return r;
                if (asprintf(&path, "/proc/%d/root%s", pid, host_rootfs) < 0)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        } else {
                path = strdup(host_rootfs);
                if (!path)
                        return nvh_err_set(err, -ENOMEM, "out of memory");
        }
        root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                int e = errno;
                if (pid > 0 && e == ENOENT && kill(pid, 0) < 0)
                        return nvh_err_set(err, -ESRCH, "container process %d is not running", pid);
                return nvh_err_sys(err, -e, "open rootfs '%s'", host_rootfs);
        }
        *ret_fd = root_fd;
        return 0;
}
