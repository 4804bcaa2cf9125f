/* SPDX-License-Identifier: Apache-2.0 */
/* lib/drvcache.c on copies of the fixture driver trees (tests/fixtures/mkdriver.sh): a cached
 * answer must equal a fresh nvh_driver_discover field by field, and anything that could make
 * it differ (ld.so.cache rewritten, a library replaced, other caps) or that makes the cache
 * untrustworthy (corrupt, writable by others, owned by someone else, a symlink) must lead to a
 * fresh discovery. A hit is told apart from a rediscovery by a marker: the test edits the
 * cache's "skipped" count, which only a hit can return. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "caps.h"
#include "driver.h"
#include "drvcache.h"
#include "fileio.h"
#include "macros.h"

#define VER "580.159.04"
#define MARK 7

struct env {
        char *root;  /* copy of a fixture driver tree */
        char *cache; /* cache dir (does not exist at first) */
        char *ipc;   /* host IPC root */
};

static int n_env;

static struct env
env_new(const char *fixture)
{
        struct env e;
        int n = n_env++;

        assert_true(asprintf(&e.root, "%s/root%d", tu_tmpdir(), n) > 0);
        assert_true(asprintf(&e.cache, "%s/cache%d/nvhook", tu_tmpdir(), n) > 0);
        assert_true(asprintf(&e.ipc, "%s/ipc%d", tu_tmpdir(), n) > 0);
        assert_int_equal(tu_sh("cp -a '%s/%s' '%s' && mkdir -p '%s' '%s'", tu_fixtures(), fixture,
                               e.root, e.ipc, e.cache),
                         0);
        assert_int_equal(rmdir(e.cache), 0); /* its parent exists, it does not */
        return e;
}

static void
env_done(struct env *e)
{
        free(e->root);
        free(e->cache);
        free(e->ipc);
}

static struct nvh_driver_opts
opts_of(const struct env *e, unsigned caps)
{
        return (struct nvh_driver_opts){
            .host_root = e->root, .version = VER, .caps = caps, .host_ipc_root = e->ipc};
}

static struct nvh_driver *
fresh(const struct env *e, unsigned caps)
{
        struct nvh_driver_opts o = opts_of(e, caps);
        struct nvh_driver *drv = NULL;
        struct nvh_err err = {0};

        assert_int_equal(nvh_driver_discover(&o, &drv, &err), 0);
        return drv;
}

static struct nvh_driver *
cached(const struct env *e, unsigned caps)
{
        struct nvh_driver_opts o = opts_of(e, caps);
        struct nvh_driver *drv = NULL;
        struct nvh_err err = {0};
        int r = nvh_drvcache_discover(e->cache, &o, true, &drv, &err);

        if (r < 0)
                fprintf(stderr, "drvcache: %s\n", err.msg);
        assert_int_equal(r, 0);
        assert_non_null(drv);
        return drv;
}

static char *
cache_file(const struct env *e, unsigned caps)
{
        struct nvh_driver_opts o = opts_of(e, caps);
        _cleanup_free_ char *name = nvh_drvcache_file_name(&o);

        assert_non_null(name);
        return nvh_fileio_path_join(e->cache, name);
}

static bool
opt_eq(const char *a, const char *b)
{
        return (!a && !b) || (a && b && streq(a, b));
}

static void
assert_same(const struct nvh_driver *a, const struct nvh_driver *b)
{
        assert_string_equal(a->host_root, b->host_root);
        assert_string_equal(a->version, b->version);
        assert_true(opt_eq(a->host_prefix, b->host_prefix));
        assert_int_equal(a->n_skipped, b->n_skipped);
        assert_int_equal(a->n_files, b->n_files);
        for (size_t i = 0; i < a->n_files; i++) {
                const struct nvh_driver_file *x = &a->files[i], *y = &b->files[i];
                assert_int_equal(x->kind, y->kind);
                assert_int_equal(x->caps, y->caps);
                assert_string_equal(x->host_path, y->host_path);
                assert_true(opt_eq(x->ctr_path, y->ctr_path));
                assert_true(opt_eq(x->soname, y->soname));
                assert_int_equal(x->elf_class, y->elf_class);
                assert_ptr_equal(x->why, y->why); /* the static table string itself */
        }
}

/* cached() equals fresh(), freeing both; returns whether it was a hit (the marker). */
static bool
check_same(const struct env *e, unsigned caps)
{
        struct nvh_driver *c = cached(e, caps), *f = fresh(e, caps);
        bool hit = c->n_skipped == MARK;

        if (hit)
                c->n_skipped = f->n_skipped;
        assert_same(c, f);
        nvh_driver_free(c);
        nvh_driver_free(f);
        return hit;
}

static char *
slurp(const char *path)
{
        char *buf = NULL;
        struct nvh_err err = {0};

        assert_int_equal(
            nvh_fileio_read_at(AT_FDCWD, path, NVH_DRVCACHE_MAX_SIZE, 1, &buf, NULL, &err), 0);
        return buf;
}

/* Rewrite the file in place (same inode, owner, mode). */
static void
overwrite(const char *path, const char *buf)
{
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);

        assert_true(fd >= 0);
        assert_int_equal(nvh_fileio_write_all(fd, buf, strlen(buf)), 0);
        close(fd);
}

/* Make the cache file say "skipped MARK"; a hit returns it, a rediscovery 0. */
static void
mark(const char *path)
{
        _cleanup_free_ char *buf = slurp(path);
        char *p = strstr(buf, "\nskipped\t0\n");

        assert_non_null(p);
        p[strlen("\nskipped\t")] = '0' + MARK;
        overwrite(path, buf);
}

static void
test_miss_writes_hit_reads(void **state)
{
        struct env e = env_new("driver");
        _cleanup_free_ char *path = cache_file(&e, NVH_CAP_ALL);
        struct stat st;

        assert_false(check_same(&e, NVH_CAP_ALL)); /* miss: writes the cache */
        assert_int_equal(stat(e.cache, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_uid, geteuid());
        assert_false(check_same(&e, NVH_CAP_ALL)); /* hit, unmarked: equal */
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL)); /* hit */
        assert_true(check_same(&e, NVH_CAP_ALL));

        /* no temp files left behind */
        assert_int_equal(tu_sh("test $(ls -A '%s' | wc -l) = 1", e.cache), 0);
        env_done(&e);
}

/* list, info and explain read the host and write nothing: without update, a miss leaves no
 * cache behind, and a cache the hook wrote is still used. */
static void
test_read_only(void **state)
{
        struct env e = env_new("driver");
        struct nvh_driver_opts o = opts_of(&e, NVH_CAP_ALL);
        struct nvh_driver *drv = NULL;
        struct nvh_err err = {0};
        _cleanup_free_ char *path = cache_file(&e, NVH_CAP_ALL);
        struct stat st;

        (void)state;
        assert_int_equal(nvh_drvcache_discover(e.cache, &o, false, &drv, &err), 0);
        nvh_driver_free(drv);
        assert_int_equal(stat(e.cache, &st), -1);
        assert_int_equal(lstat(path, &st), -1);
        nvh_driver_free(cached(&e, NVH_CAP_ALL)); /* the hook writes it */
        mark(path);
        drv = NULL;
        assert_int_equal(nvh_drvcache_discover(e.cache, &o, false, &drv, &err), 0);
        assert_int_equal(drv->n_skipped, MARK); /* answered from the cache */
        nvh_driver_free(drv);
        env_done(&e);
}

static void
test_prefix_layout(void **state)
{
        struct env e = env_new("driver-prefix");
        _cleanup_free_ char *path = cache_file(&e, NVH_CAP_ALL);
        struct nvh_driver *drv;

        assert_false(check_same(&e, NVH_CAP_ALL));
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL));
        drv = cached(&e, NVH_CAP_ALL);
        assert_non_null(drv->host_prefix); /* survives the round trip */
        assert_true(drv->n_files > 10);
        nvh_driver_free(drv);
        env_done(&e);
}

static void
test_null_or_empty_dir(void **state)
{
        struct env e = env_new("driver");
        struct nvh_driver_opts o = opts_of(&e, NVH_CAP_ALL);
        struct nvh_driver *a = NULL, *b = NULL;
        struct nvh_err err = {0};
        struct stat st;

        assert_int_equal(nvh_drvcache_discover(NULL, &o, true, &a, &err), 0);
        assert_int_equal(nvh_drvcache_discover("", &o, true, &b, &err), 0);
        assert_same(a, b);
        assert_int_equal(stat(e.cache, &st), -1);
        nvh_driver_free(a);
        nvh_driver_free(b);

        /* errors are discovery's */
        o.version = "../x";
        assert_int_equal(nvh_drvcache_discover(e.cache, &o, true, &a, &err), -EINVAL);
        o.version = VER;
        o.rel_ldcache = "etc/nonexistent";
        assert_true(nvh_drvcache_discover(e.cache, &o, true, &a, &err) < 0);
        assert_int_equal(stat(e.cache, &st), -1);
        env_done(&e);
}

static void
test_ldcache_touched(void **state)
{
        struct env e = env_new("driver");
        _cleanup_free_ char *path = cache_file(&e, NVH_CAP_ALL), *ldc = NULL;
        struct timespec ts[2] = {{.tv_sec = 1000000000, .tv_nsec = 1}, {.tv_sec = 1000000000}};

        assert_false(check_same(&e, NVH_CAP_ALL));
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL));
        assert_true(asprintf(&ldc, "%s/etc/ld.so.cache", e.root) > 0);
        assert_int_equal(utimensat(AT_FDCWD, ldc, ts, 0), 0);
        assert_false(check_same(&e, NVH_CAP_ALL)); /* stale: rediscovered and rewritten */
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL)); /* the rewritten cache hits again */
        env_done(&e);
}

static void
test_library_replaced(void **state)
{
        struct env e = env_new("driver");
        _cleanup_free_ char *path = cache_file(&e, NVH_CAP_ALL), *lib = NULL;
        struct nvh_driver *drv;

        assert_false(check_same(&e, NVH_CAP_ALL));
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL));

        /* a new inode with the same content */
        assert_true(asprintf(&lib, "%s/usr/lib/x86_64-linux-gnu/libcuda.so." VER, e.root) > 0);
        assert_int_equal(tu_sh("cp -p '%s' '%s.new' && mv '%s.new' '%s'", lib, lib, lib, lib), 0);
        assert_false(check_same(&e, NVH_CAP_ALL));
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL));

        /* rewritten in place (same inode, directory unchanged) */
        assert_int_equal(tu_sh("printf 'not an elf' > '%s'", lib), 0);
        assert_false(check_same(&e, NVH_CAP_ALL));
        drv = cached(&e, NVH_CAP_ALL);
        assert_int_equal(drv->n_skipped, 1);
        nvh_driver_free(drv);
        /* a result with skipped candidates is not cached: it cannot tell when they are fixed */
        assert_int_equal(tu_sh("grep -qx 'skipped.%d' '%s'", MARK, path), 0);
        /* back to the very file the cache recorded (content, size, mtime): a hit again */
        assert_int_equal(tu_sh("cp -p '%s/driver/usr/lib/x86_64-linux-gnu/libcuda.so." VER "' '%s'",
                               tu_fixtures(), lib),
                         0);
        assert_true(check_same(&e, NVH_CAP_ALL));

        /* replaced by a corrupt file: the fresh discovery skips it, and so must we */
        assert_int_equal(tu_sh("printf 'not an elf' > '%s.new' && mv '%s.new' '%s'", lib, lib, lib),
                         0);
        drv = cached(&e, NVH_CAP_ALL);
        assert_int_equal(drv->n_skipped, 1);
        nvh_driver_free(drv);
        assert_false(check_same(&e, NVH_CAP_ALL));
        /* fixed again (new inode): rediscovered, cached */
        assert_int_equal(tu_sh("cp '%s/driver/usr/lib/x86_64-linux-gnu/libcuda.so." VER
                               "' '%s.new' "
                               "&& mv '%s.new' '%s'",
                               tu_fixtures(), lib, lib, lib),
                         0);
        assert_false(check_same(&e, NVH_CAP_ALL));
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL));
        env_done(&e);
}

/* A file added next to recorded ones (a new firmware blob, no ldconfig run) is a candidate
 * the cache does not know: the directory's identity catches it. */
static void
test_new_file_in_dir(void **state)
{
        struct env e = env_new("driver");
        _cleanup_free_ char *path = cache_file(&e, NVH_CAP_ALL), *fw = NULL;
        struct nvh_driver *drv;
        bool found = false;

        assert_false(check_same(&e, NVH_CAP_ALL));
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL));
        assert_true(asprintf(&fw, "%s/usr/lib/firmware/nvidia/" VER "/gsp_new.bin", e.root) > 0);
        tu_write_file(fw, "fw", 2);
        assert_false(check_same(&e, NVH_CAP_ALL));
        drv = cached(&e, NVH_CAP_ALL);
        for (size_t i = 0; i < drv->n_files; i++)
                found = found || streq(drv->files[i].host_path, fw);
        assert_true(found);
        nvh_driver_free(drv);
        env_done(&e);
}

static void
test_caps_separate(void **state)
{
        struct env e = env_new("driver");
        _cleanup_free_ char *all = cache_file(&e, NVH_CAP_ALL),
                            *compute = cache_file(&e, NVH_CAP_COMPUTE | NVH_CAP_UTILITY);
        struct stat st;

        assert_string_not_equal(all, compute);
        assert_false(check_same(&e, NVH_CAP_ALL));
        assert_int_equal(stat(compute, &st), -1); /* no entry for other caps */
        mark(all);
        assert_false(check_same(&e, NVH_CAP_COMPUTE | NVH_CAP_UTILITY)); /* miss */
        assert_int_equal(stat(compute, &st), 0);
        mark(compute);
        assert_true(check_same(&e, NVH_CAP_COMPUTE | NVH_CAP_UTILITY));
        assert_true(check_same(&e, NVH_CAP_ALL)); /* both entries live */

        /* an entry whose key says other caps (a renamed file) is not believed */
        assert_int_equal(rename(compute, all), 0);
        assert_false(check_same(&e, NVH_CAP_ALL));
        env_done(&e);
}

/* Field i (0 = "f") of the first file line of a cache text. */
static char *
file_field(char *buf, int i)
{
        char *p = strstr(buf, "\nf\t");

        assert_non_null(p);
        p++;
        while (i-- > 0) {
                p = strchr(p, '\t');
                assert_non_null(p);
                p++;
        }
        return p;
}

static void
test_corrupt(void **state)
{
        struct env e = env_new("driver");
        _cleanup_free_ char *path = cache_file(&e, NVH_CAP_ALL), *good = NULL, *hostile = NULL;
        char *p;

        assert_false(check_same(&e, NVH_CAP_ALL));
        good = slurp(path);
        size_t len = strlen(good);
        assert_true(len > 10 && streq(good + len - 4, "end\n"));

        for (int i = 0; i < 9; i++) {
                free(hostile);
                switch (i) {
                case 0: /* empty */
                        hostile = strdup("");
                        break;
                case 1: /* not ours */
                        hostile = strdup("{\"format\":1}\n");
                        break;
                case 2: /* only the magic */
                        hostile = strndup(good, (size_t)(strchr(good, '\n') - good + 1));
                        break;
                case 3: /* another format version */
                        assert_true(asprintf(&hostile, "nvhook-drvcache 2%s", strchr(good, '\n')) >
                                    0);
                        break;
                case 4: /* truncated at a line end in the middle of the files */
                        hostile = strndup(good, (size_t)(strchr(good + len / 2, '\n') - good + 1));
                        break;
                case 5: /* no "end" */
                        hostile = strndup(good, len - 4);
                        break;
                case 6: /* something after "end" */
                        assert_true(asprintf(&hostile, "%sf\t0\n", good) > 0);
                        break;
                case 7: /* a field too many */
                        hostile = strdup(good);
                        *strchr(file_field(hostile, 9), '\n') = '\t';
                        break;
                case 8: /* a negative number */
                        p = file_field(good, 1);
                        assert_true(asprintf(&hostile, "%.*s-%s", (int)(p - good), good, p + 1) >
                                    0);
                        break;
                }
                overwrite(path, hostile);
                assert_false(check_same(&e, NVH_CAP_ALL)); /* rediscovered ... */
                mark(path);                                /* ... and rewritten */
                assert_true(check_same(&e, NVH_CAP_ALL));
        }

        /* an embedded NUL */
        free(hostile);
        hostile = strdup(good);
        int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_true(fd >= 0);
        p = file_field(hostile, 6);
        p[0] = '\0';
        assert_int_equal(nvh_fileio_write_all(fd, hostile, len), 0);
        close(fd);
        assert_false(check_same(&e, NVH_CAP_ALL));

        /* a well-formed entry pointing outside the driver root is refused */
        free(hostile);
        hostile = strdup(good);
        p = file_field(hostile, 6);
        assert_true(strncmp(p, e.root, strlen(e.root)) == 0);
        memcpy(p, "/etc", 4);
        overwrite(path, hostile);
        assert_false(check_same(&e, NVH_CAP_ALL));

        /* a why that is not the table's */
        free(hostile);
        hostile = strdup(good);
        p = file_field(hostile, 9);
        p[0] ^= 0x20;
        overwrite(path, hostile);
        assert_false(check_same(&e, NVH_CAP_ALL));

        /* a table index that names another entry, or none */
        for (int i = 0; i < 2; i++) {
                char *end;
                free(hostile);
                p = file_field(good, 4);
                long n = strtol(p, &end, 10);
                assert_true(asprintf(&hostile, "%.*s%ld%s", (int)(p - good), good,
                                     i == 0 ? (n == 0 ? 1 : n - 1) : 99999, end) > 0);
                overwrite(path, hostile);
                assert_false(check_same(&e, NVH_CAP_ALL));
        }

        /* over the size limit */
        assert_int_equal(truncate(path, NVH_DRVCACHE_MAX_SIZE + 1), 0);
        assert_false(check_same(&e, NVH_CAP_ALL));
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL));
        env_done(&e);
}

static void
test_untrusted(void **state)
{
        struct env e = env_new("driver");
        _cleanup_free_ char *path = cache_file(&e, NVH_CAP_ALL), *other = NULL;
        struct stat st;

        assert_false(check_same(&e, NVH_CAP_ALL));
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL));

        /* world-writable directory: ignored and not written */
        assert_int_equal(chmod(e.cache, 0777), 0);
        assert_false(check_same(&e, NVH_CAP_ALL));
        assert_false(check_same(&e, NVH_CAP_ALL));
        assert_int_equal(chmod(e.cache, 0700), 0);
        assert_true(check_same(&e, NVH_CAP_ALL)); /* the marked file was left alone */

        /* group-writable file: ignored, replaced by a good one */
        assert_int_equal(chmod(path, 0620), 0);
        assert_false(check_same(&e, NVH_CAP_ALL));
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        mark(path);
        assert_true(check_same(&e, NVH_CAP_ALL));

        /* a symlink to a marked cache: not followed */
        assert_true(asprintf(&other, "%s/../elsewhere.json", e.cache) > 0);
        assert_int_equal(rename(path, other), 0);
        assert_int_equal(symlink(other, path), 0);
        assert_false(check_same(&e, NVH_CAP_ALL));
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode)); /* rename replaced the link */

        /* the directory itself a symlink: not used */
        mark(path);
        assert_int_equal(
            tu_sh("mv '%s' '%s.real' && ln -s '%s.real' '%s'", e.cache, e.cache, e.cache, e.cache),
            0);
        assert_false(check_same(&e, NVH_CAP_ALL));
        assert_int_equal(tu_sh("rm '%s' && mv '%s.real' '%s'", e.cache, e.cache, e.cache), 0);
        assert_true(check_same(&e, NVH_CAP_ALL));

        /* owned by another user */
        if (geteuid() == 0) {
                assert_int_equal(chown(path, 65534, 65534), 0);
                assert_false(check_same(&e, NVH_CAP_ALL));
                assert_int_equal(lstat(path, &st), 0);
                assert_int_equal(st.st_uid, 0); /* rewritten by us */
                mark(path);
                assert_true(check_same(&e, NVH_CAP_ALL));
                assert_int_equal(chown(e.cache, 65534, 65534), 0);
                assert_false(check_same(&e, NVH_CAP_ALL));
        } else {
                fprintf(stderr, "not root: the other-owner case is skipped\n");
        }
        env_done(&e);
}

static void
make_socket(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        assert_true(strlen(path) < sizeof(sa.sun_path));
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
}

/* IPC endpoints come and go while the cache stays valid: looked up on every hit. */
static void
test_ipc_not_cached(void **state)
{
        struct env e = env_new("driver");
        _cleanup_free_ char *path = cache_file(&e, NVH_CAP_ALL), *sock = NULL;
        struct nvh_driver *drv;
        bool found = false;

        assert_false(check_same(&e, NVH_CAP_ALL));
        mark(path);
        assert_int_equal(
            tu_sh("mkdir -p '%s/run/nvidia-persistenced' '%s/tmp/nvidia-mps'", e.ipc, e.ipc), 0);
        assert_true(asprintf(&sock, "%s/run/nvidia-persistenced/socket", e.ipc) > 0);
        make_socket(sock);
        assert_true(check_same(&e, NVH_CAP_ALL)); /* hit, with the new endpoints */
        drv = cached(&e, NVH_CAP_ALL);
        for (size_t i = 0; i < drv->n_files; i++)
                found = found || (drv->files[i].kind == NVH_FILE_SOCKET &&
                                  streq(drv->files[i].host_path, sock));
        assert_true(found);
        nvh_driver_free(drv);
        assert_int_equal(unlink(sock), 0);
        assert_true(check_same(&e, NVH_CAP_ALL)); /* gone again */
        env_done(&e);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_miss_writes_hit_reads),
            cmocka_unit_test(test_read_only),
            cmocka_unit_test(test_prefix_layout),
            cmocka_unit_test(test_null_or_empty_dir),
            cmocka_unit_test(test_ldcache_touched),
            cmocka_unit_test(test_library_replaced),
            cmocka_unit_test(test_new_file_in_dir),
            cmocka_unit_test(test_caps_separate),
            cmocka_unit_test(test_corrupt),
            cmocka_unit_test(test_untrusted),
            cmocka_unit_test(test_ipc_not_cached),
        };

        tu_fixtures();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
