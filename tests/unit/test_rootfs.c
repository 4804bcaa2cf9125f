/* SPDX-License-Identifier: Apache-2.0 */
/* In-root resolution against hostile trees built in a temp dir (no root needed). Every
 * resolution runs twice, through openat2 and through the forced walker, and both must give
 * the same answer, which must also be the expected one. A host sentinel directory outside the
 * root must be unchanged after every test. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "kfeatures.h"
#include "macros.h"
#include "rootfs.h"

static char root[PATH_MAX / 2];     /* the container root */
static char sentinel[PATH_MAX / 2]; /* a host directory the tree points at */
static char sentinel_sig[4096];
static int root_fd = -1;

static void
signature(const char *dir, char *buf, size_t size)
{
        char cmd[PATH_MAX + 128];
        FILE *f;
        size_t n;

        snprintf(cmd, sizeof(cmd), "find '%s' -printf '%%p %%y %%s %%m %%T@ %%l\\n' | sort", dir);
        f = popen(cmd, "r");
        assert_non_null(f);
        n = fread(buf, 1, size - 1, f);
        buf[n] = '\0';
        assert_int_equal(pclose(f), 0);
}

static void
mklink(const char *target, const char *rel)
{
        char p[PATH_MAX];

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        assert_int_equal(symlink(target, p), 0);
}

static void
mkd(const char *rel)
{
        assert_int_equal(tu_sh("mkdir -p '%s/%s'", root, rel), 0);
}

static int
setup(void **state __attribute__((unused)))
{
        const char *t = tu_tmpdir();
        char p[PATH_MAX + 64];
        struct nvh_err err = {0};

        snprintf(root, sizeof(root), "%s/root", t);
        snprintf(sentinel, sizeof(sentinel), "%s/host-sentinel", t);
        assert_int_equal(tu_sh("rm -rf '%s' '%s'", root, sentinel), 0);
        mkd("etc");
        mkd("a/b/c");
        mkd("usr/lib");
        mkd("tmp");
        snprintf(p, sizeof(p), "%s/etc/passwd", root);
        tu_write_file(p, "root\n", 5);
        snprintf(p, sizeof(p), "%s/secret", sentinel);
        tu_write_file(p, "host\n", 5);

        mklink("/etc", "abs_etc");
        mklink("../../../../../../../etc", "dotdot_etc");
        mklink("../../../../../..", "a/b/c/up");
        mklink("/etc/passwd", "a/b/abs_passwd");
        mklink("/a/b", "a/b/c/abs_b");
        mklink("loop2", "loop1");
        mklink("loop1", "loop2");
        mklink("self", "self");
        mklink("/", "lib64");
        /* The incumbent's CVE shape: a library dir pointing outside. */
        mklink("/../../../tmp/host-sentinel", "usr/lib/x86_64-linux-gnu");
        mklink(sentinel, "escape_abs");
        snprintf(p, sizeof(p), "../../../../../../../../../..%s", sentinel);
        mklink(p, "escape_rel");
        mklink("/nonexistent/deep", "dangling");
        mklink("../../../../outside-rel", "dangling_rel");
        mklink("/etc/passwd", "tgt_link");
        snprintf(p, sizeof(p), "%s/secret", sentinel);
        mklink(p, "tgt_link_host");
        mklink("passwd", "etc/passwd_rel");
        /* A chain of 41 links: n0 -> n1 -> ... -> n40 -> /etc */
        for (int i = 0; i <= 40; i++) {
                char name[16], target[16];
                snprintf(name, sizeof(name), "n%d", i);
                if (i == 40)
                        snprintf(target, sizeof(target), "/etc");
                else
                        snprintf(target, sizeof(target), "n%d", i + 1);
                mklink(target, name);
        }

        signature(sentinel, sentinel_sig, sizeof(sentinel_sig));
        assert_int_equal(nvh_rootfs_open(root, &root_fd, &err), 0);
        *state = NULL;
        return 0;
}

static int
teardown(void **state __attribute__((unused)))
{
        char sig[4096];

        signature(sentinel, sig, sizeof(sig));
        assert_string_equal(sig, sentinel_sig);
        nvh_kfeatures_force_fallbacks(false);
        close(root_fd);
        root_fd = -1;
        return 0;
}

/* Resolve through one mechanism; on success report the object's identity and type. */
static int
resolve_one(bool fallback, const char *ctr_path, int flags, struct stat *ret_st)
{
        struct nvh_err err = {0};
        int fd = -1, r;

        nvh_kfeatures_force_fallbacks(fallback);
        r = nvh_rootfs_resolve(root_fd, ctr_path, flags, &fd, &err);
        nvh_kfeatures_force_fallbacks(false);
        if (r < 0) {
                assert_true(fd < 0);
                assert_int_equal(err.code, r);
                assert_true(strlen(err.msg) > 0);
                return r;
        }
        assert_true(fd >= 0);
        assert_int_equal(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        assert_int_equal(fstat(fd, ret_st), 0);
        close(fd);
        fd = -1;
        return 0;
}

/* Both mechanisms must agree; expect_rel (relative to the root dir on the host) names the
 * object expected, or NULL with expect_err. */
static void
check(const char *ctr_path, int flags, const char *expect_rel, int expect_err)
{
        struct stat a, b, want;
        int ra, rb;

        ra = resolve_one(false, ctr_path, flags, &a);
        rb = resolve_one(true, ctr_path, flags, &b);
        if (ra != rb)
                fail_msg("'%s': openat2 gave %d, walker gave %d", ctr_path, ra, rb);
        if (!expect_rel) {
                if (ra != expect_err)
                        fail_msg("'%s': got %d, want %d", ctr_path, ra, expect_err);
                return;
        }
        if (ra != 0)
                fail_msg("'%s': got %d (%s), want success", ctr_path, ra, strerror(-ra));
        {
                char p[PATH_MAX * 2];
                snprintf(p, sizeof(p), "%s/%s", root, expect_rel);
                assert_int_equal(lstat(p, &want), 0);
        }
        if (a.st_ino != want.st_ino || a.st_dev != want.st_dev)
                fail_msg("'%s': openat2 resolved to the wrong object, want '%s'", ctr_path,
                         expect_rel);
        if (b.st_ino != want.st_ino || b.st_dev != want.st_dev)
                fail_msg("'%s': walker resolved to the wrong object, want '%s'", ctr_path,
                         expect_rel);
}

static void
test_plain(void **state __attribute__((unused)))
{
        check("/etc/passwd", O_RDONLY, "etc/passwd", 0);
        check("etc/passwd", O_PATH, "etc/passwd", 0);
        check("/", O_PATH | O_DIRECTORY, ".", 0);
        check("/a/b/c", O_PATH | O_DIRECTORY, "a/b/c", 0);
        check("/a//b/./c/", O_PATH, "a/b/c", 0);
        check("/missing", O_PATH, NULL, -ENOENT);
        check("/etc/missing/x", O_PATH, NULL, -ENOENT);
}

static void
test_absolute_and_dotdot(void **state __attribute__((unused)))
{
        check("/abs_etc/passwd", O_RDONLY, "etc/passwd", 0);
        check("/dotdot_etc", O_PATH | O_DIRECTORY, "etc", 0);
        check("/../../../../etc/passwd", O_RDONLY, "etc/passwd", 0);
        check("/a/b/c/up", O_PATH, ".", 0);
        /* Absolute links restart at the root, wherever they are. */
        check("/a/b/abs_passwd", O_RDONLY, "etc/passwd", 0);
        check("/a/b/c/abs_b/abs_passwd", O_RDONLY, "etc/passwd", 0);
        check("/a/b/c/abs_b/c/abs_b/c", O_PATH, "a/b/c", 0);
        check("/a/b/c/up/etc/passwd", O_PATH, "etc/passwd", 0);
        check("/a/b/../../../../a/b", O_PATH, "a/b", 0);
        check("/lib64/lib64/lib64/etc/passwd", O_PATH, "etc/passwd", 0);
        check("/etc/passwd_rel", O_RDONLY, "etc/passwd", 0);
}

static void
test_escapes_stay_inside(void **state __attribute__((unused)))
{
        char p[PATH_MAX + 32];

        /* Pointing at the host sentinel: in-root there is nothing there. */
        check("/usr/lib/x86_64-linux-gnu", O_PATH, NULL, -ENOENT);
        check("/usr/lib/x86_64-linux-gnu/secret", O_RDONLY, NULL, -ENOENT);
        check("/escape_abs/secret", O_RDONLY, NULL, -ENOENT);
        check("/escape_rel/secret", O_RDONLY, NULL, -ENOENT);
        check("/tgt_link_host", O_RDONLY, NULL, -ENOENT);
        /* Once the in-root copy exists, that is what is found. */
        mkd("tmp/host-sentinel");
        snprintf(p, sizeof(p), "%s/tmp/host-sentinel/secret", root);
        tu_write_file(p, "inside\n", 7);
        check("/usr/lib/x86_64-linux-gnu/secret", O_RDONLY, "tmp/host-sentinel/secret", 0);
        assert_int_equal(tu_sh("rm -rf '%s/tmp/host-sentinel'", root), 0);
}

static void
test_loops(void **state __attribute__((unused)))
{
        check("/loop1", O_PATH, NULL, -ELOOP);
        check("/loop1/x", O_PATH, NULL, -ELOOP);
        check("/self", O_RDONLY, NULL, -ELOOP);
        /* n1 -> ... -> n40 -> /etc is 40 links: allowed. n0 is 41: refused. */
        check("/n1", O_PATH | O_DIRECTORY, "etc", 0);
        check("/n0", O_PATH | O_DIRECTORY, NULL, -ELOOP);
        check("/n1/passwd", O_RDONLY, "etc/passwd", 0);
}

static void
test_types_and_nofollow(void **state __attribute__((unused)))
{
        check("/etc/passwd/x", O_PATH, NULL, -ENOTDIR);
        check("/etc/passwd/", O_PATH, NULL, -ENOTDIR);
        check("/etc/passwd", O_PATH | O_DIRECTORY, NULL, -ENOTDIR);
        check("/abs_etc/", O_PATH, "etc", 0);
        /* O_NOFOLLOW: O_PATH gives the link itself, a real open refuses it. */
        check("/abs_etc", O_PATH | O_NOFOLLOW, "abs_etc", 0);
        check("/tgt_link", O_PATH | O_NOFOLLOW, "tgt_link", 0);
        check("/tgt_link", O_RDONLY | O_NOFOLLOW, NULL, -ELOOP);
        check("/tgt_link", O_RDONLY, "etc/passwd", 0);
        /* Intermediate links are followed even with O_NOFOLLOW. */
        check("/abs_etc/passwd", O_RDONLY | O_NOFOLLOW, "etc/passwd", 0);
        check("/abs_etc/", O_PATH | O_NOFOLLOW, "etc", 0);
}

static void
test_bad_args(void **state __attribute__((unused)))
{
        struct nvh_err err = {0};
        int fd = -1;

        assert_int_equal(nvh_rootfs_resolve(root_fd, "", O_PATH, &fd, &err), -EINVAL);
        assert_int_equal(nvh_rootfs_resolve(root_fd, "/x", O_CREAT | O_WRONLY, &fd, &err), -EINVAL);
        assert_int_equal(fd, -1);
}

static void
check_dir_is(int fd, const char *rel)
{
        struct stat a, want;
        char p[PATH_MAX * 2];

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        assert_int_equal(fstat(fd, &a), 0);
        assert_int_equal(lstat(p, &want), 0);
        assert_true(S_ISDIR(want.st_mode));
        assert_true(a.st_ino == want.st_ino && a.st_dev == want.st_dev);
}

static void
mkdir_p_both(void (*fn)(bool))
{
        fn(false);
        assert_int_equal(tu_sh("cd '%s' && rm -rf nonexistent outside-rel new etc/new", root), 0);
        fn(true);
}

/* mkdir -p ctr_path in the root succeeds, and the fd it returns is rel under the root. */
static void
mkdir_is(const char *ctr_path, const char *rel)
{
        struct nvh_err err = {0};
        int fd = -1;

        assert_int_equal(nvh_rootfs_mkdir_p(root_fd, ctr_path, 0755, &fd, &err), 0);
        check_dir_is(fd, rel);
        close(fd);
}

static void
mkdir_cases(bool fallback)
{
        struct nvh_err err = {0};
        int fd = -1;

        nvh_kfeatures_force_fallbacks(fallback);
        mkdir_is("/new/x/y", "new/x/y");
        /* Existing: same answer. */
        mkdir_is("/new/x/y", "new/x/y");
        /* Through an absolute link. */
        mkdir_is("/abs_etc/new", "etc/new");
        /* Dangling symlinks as parents: created inside the root, never outside. */
        mkdir_is("/dangling/sub", "nonexistent/deep/sub");
        mkdir_is("/dangling_rel/sub", "outside-rel/sub");
        /* The escaping library dir: created in-root, host sentinel untouched (teardown). */
        mkdir_is("/usr/lib/x86_64-linux-gnu/nvidia", "tmp/host-sentinel/nvidia");
        assert_int_equal(tu_sh("rm -rf '%s/tmp/host-sentinel'", root), 0);
        /* A file where a directory is expected, named in the message. */
        assert_int_equal(nvh_rootfs_mkdir_p(root_fd, "/etc/passwd/x", 0755, &fd, &err), -ENOTDIR);
        assert_non_null(strstr(err.msg, "passwd"));
        assert_int_equal(nvh_rootfs_mkdir_p(root_fd, "/loop1/x", 0755, &fd, &err), -ELOOP);
        assert_int_equal(fd, -1);
        nvh_kfeatures_force_fallbacks(false);
}

static void
test_mkdir_p(void **state __attribute__((unused)))
{
        mkdir_p_both(mkdir_cases);
}

static void
target_cases(bool fallback)
{
        struct nvh_err err = {0};
        struct stat sb;
        int fd = -1;

        nvh_kfeatures_force_fallbacks(fallback);
        assert_int_equal(
            nvh_rootfs_create_target(root_fd, "/new/lib/libfoo.so.1", false, 0644, &fd, &err), 0);
        assert_int_equal(fstat(fd, &sb), 0);
        assert_true(S_ISREG(sb.st_mode) && sb.st_size == 0);
        close(fd);
        fd = -1;
        /* Existing regular file: fine, the same one. */
        assert_int_equal(nvh_rootfs_create_target(root_fd, "/etc/passwd", false, 0644, &fd, &err),
                         0);
        {
                struct stat want;
                char p[PATH_MAX + 16];
                snprintf(p, sizeof(p), "%s/etc/passwd", root);
                assert_int_equal(stat(p, &want), 0);
                assert_int_equal(fstat(fd, &sb), 0);
                assert_true(sb.st_ino == want.st_ino);
                assert_int_equal(want.st_size, 5);
        }
        close(fd);
        fd = -1;
        /* Directory target, through a link to "/" in the parent. */
        assert_int_equal(nvh_rootfs_create_target(root_fd, "/lib64/new/fw", true, 0755, &fd, &err),
                         0);
        check_dir_is(fd, "new/fw");
        close(fd);
        fd = -1;
        /* A symlink as the last component is never followed nor replaced. */
        assert_int_equal(nvh_rootfs_create_target(root_fd, "/tgt_link", false, 0644, &fd, &err),
                         -ELOOP);
        assert_non_null(strstr(err.msg, "tgt_link"));
        assert_int_equal(
            nvh_rootfs_create_target(root_fd, "/tgt_link_host", false, 0644, &fd, &err), -ELOOP);
        assert_int_equal(nvh_rootfs_create_target(root_fd, "/abs_etc", true, 0755, &fd, &err),
                         -ELOOP);
        assert_int_equal(nvh_rootfs_create_target(root_fd, "/dangling", true, 0755, &fd, &err),
                         -ELOOP);
        /* Wrong types. */
        assert_int_equal(nvh_rootfs_create_target(root_fd, "/etc", false, 0644, &fd, &err),
                         -EISDIR);
        assert_int_equal(nvh_rootfs_create_target(root_fd, "/etc/passwd", true, 0755, &fd, &err),
                         -ENOTDIR);
        assert_int_equal(nvh_rootfs_create_target(root_fd, "/", true, 0755, &fd, &err), -EINVAL);
        assert_int_equal(nvh_rootfs_create_target(root_fd, "/a/..", true, 0755, &fd, &err),
                         -EINVAL);
        assert_int_equal(fd, -1);
        /* Parent escaping: file lands inside. */
        assert_int_equal(
            nvh_rootfs_create_target(root_fd, "/escape_abs/secret", false, 0644, &fd, &err), 0);
        close(fd);
        fd = -1;
        {
                char p[PATH_MAX * 2];
                snprintf(p, sizeof(p), "%s%s/secret", root, sentinel);
                assert_int_equal(access(p, F_OK), 0);
        }
        nvh_kfeatures_force_fallbacks(false);
        assert_int_equal(tu_sh("cd '%s' && rm -rf new tmp/*", root), 0);
}

static void
test_create_target(void **state __attribute__((unused)))
{
        target_cases(false);
        target_cases(true);
}

static void
read_link(const char *rel, char *buf, size_t size)
{
        char p[PATH_MAX * 2];
        ssize_t n;

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        n = readlink(p, buf, size - 1);
        assert_true(n > 0);
        buf[n] = '\0';
}

static void
symlink_cases(bool fallback)
{
        struct nvh_err err = {0};
        char buf[PATH_MAX];

        nvh_kfeatures_force_fallbacks(fallback);
        assert_int_equal(nvh_rootfs_symlink(root_fd, "/new/libcuda.so.1", "libcuda.so.580", &err),
                         0);
        read_link("new/libcuda.so.1", buf, sizeof(buf));
        assert_string_equal(buf, "libcuda.so.580");
        /* Same target again: fine. */
        assert_int_equal(nvh_rootfs_symlink(root_fd, "/new/libcuda.so.1", "libcuda.so.580", &err),
                         0);
        /* Another target: the link is replaced. */
        assert_int_equal(nvh_rootfs_symlink(root_fd, "/new/libcuda.so.1", "libcuda.so.999", &err),
                         0);
        read_link("new/libcuda.so.1", buf, sizeof(buf));
        assert_string_equal(buf, "libcuda.so.999");
        /* Never over a file or a directory. */
        assert_int_equal(nvh_rootfs_symlink(root_fd, "/etc/passwd", "x", &err), -EEXIST);
        assert_non_null(strstr(err.msg, "/etc/passwd"));
        assert_int_equal(nvh_rootfs_symlink(root_fd, "/etc", "x", &err), -EEXIST);
        /* An existing link that points outside is replaced, not followed. */
        assert_int_equal(nvh_rootfs_symlink(root_fd, "/tgt_link_host", "/etc/passwd", &err), 0);
        read_link("tgt_link_host", buf, sizeof(buf));
        assert_string_equal(buf, "/etc/passwd");
        /* Created through an escaping parent: inside. */
        assert_int_equal(nvh_rootfs_symlink(root_fd, "/escape_rel/l", "secret", &err), 0);
        {
                char rel[PATH_MAX + 8];
                snprintf(rel, sizeof(rel), "%s/l", sentinel + 1);
                read_link(rel, buf, sizeof(buf));
                assert_string_equal(buf, "secret");
        }
        assert_int_equal(nvh_rootfs_symlink(root_fd, "/new/x", "", &err), -EINVAL);
        nvh_kfeatures_force_fallbacks(false);
        assert_int_equal(tu_sh("cd '%s' && rm -rf new tmp/* && ln -sfn '%s/secret' tgt_link_host",
                               root, sentinel),
                         0);
}

static void
test_symlink(void **state __attribute__((unused)))
{
        symlink_cases(false);
        symlink_cases(true);
}

static void
write_cases(bool fallback)
{
        struct nvh_err err = {0};
        char p[PATH_MAX + 32], buf[64];
        struct stat sb;
        FILE *f;
        size_t n;

        nvh_kfeatures_force_fallbacks(fallback);
        /* The image's cache is a symlink to a host file: the link is replaced, the host file
         * is untouched (teardown checks the sentinel). */
        assert_int_equal(nvh_rootfs_symlink(root_fd, "/etc/ld.so.cache", sentinel, &err), 0);
        snprintf(p, sizeof(p), "%s/secret", sentinel);
        assert_int_equal(nvh_rootfs_symlink(root_fd, "/etc/ld.so.cache", p, &err), 0);
        assert_int_equal(
            nvh_rootfs_write_atomic(root_fd, "/abs_etc/ld.so.cache", "cache", 5, 0644, &err), 0);
        snprintf(p, sizeof(p), "%s/etc/ld.so.cache", root);
        assert_int_equal(lstat(p, &sb), 0);
        assert_true(S_ISREG(sb.st_mode));
        assert_int_equal(sb.st_mode & 07777, 0644);
        f = fopen(p, "re");
        assert_non_null(f);
        n = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        assert_int_equal(n, 5);
        assert_memory_equal(buf, "cache", 5);
        /* Replace again, and no temp file is left behind. */
        assert_int_equal(nvh_rootfs_write_atomic(root_fd, "/etc/ld.so.cache", "v2", 2, 0600, &err),
                         0);
        assert_int_equal(lstat(p, &sb), 0);
        assert_int_equal(sb.st_size, 2);
        assert_int_equal(sb.st_mode & 07777, 0600);
        assert_int_equal(tu_sh("test -z \"$(ls -A '%s/etc' | grep nvh)\"", root), 0);
        assert_int_equal(nvh_rootfs_write_atomic(root_fd, "/etc", "x", 1, 0644, &err), -EISDIR);
        unlink(p);
        nvh_kfeatures_force_fallbacks(false);
}

static void
test_write_atomic(void **state __attribute__((unused)))
{
        write_cases(false);
        write_cases(true);
}

static void
read_cases(bool fallback)
{
        struct nvh_err err = {0};
        char p[PATH_MAX + 32], *buf = NULL;
        size_t len = 0;

        nvh_kfeatures_force_fallbacks(fallback);
        assert_int_equal(nvh_rootfs_read_file(root_fd, "/abs_etc/passwd", 64, &buf, &len, &err), 0);
        assert_int_equal(len, 5);
        assert_string_equal(buf, "root\n");
        free(buf);
        buf = NULL;
        assert_int_equal(nvh_rootfs_read_file(root_fd, "/etc/passwd", 4, &buf, &len, &err), -E2BIG);
        /* A symlink as the last component is not followed, even one that stays inside. */
        assert_int_equal(nvh_rootfs_read_file(root_fd, "/tgt_link", 64, &buf, &len, &err), -ELOOP);
        /* A FIFO would block a reader forever: refused on the fd, without reading. */
        snprintf(p, sizeof(p), "%s/etc/fifo", root);
        assert_int_equal(mkfifo(p, 0644), 0);
        assert_int_equal(nvh_rootfs_read_file(root_fd, "/etc/fifo", 64, &buf, &len, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "'/etc/fifo' in container root is not a regular file"));
        assert_null(buf);
        unlink(p);
        nvh_kfeatures_force_fallbacks(false);
}

/* The walker's answer as a path (driver discovery names files by it). */
static void
test_resolve_path(void **state __attribute__((unused)))
{
        struct nvh_err err = {0};
        char *rel = NULL;

        assert_int_equal(nvh_rootfs_resolve_path(root_fd, "/abs_etc/passwd", &rel, &err), 0);
        assert_string_equal(rel, "etc/passwd");
        free(rel);
        assert_int_equal(nvh_rootfs_resolve_path(root_fd, "a/b/c/abs_b/../b/c/up", &rel, &err), 0);
        assert_string_equal(rel, "");
        free(rel);
        assert_int_equal(nvh_rootfs_resolve_path(root_fd, "etc/passwd_rel", &rel, &err), 0);
        assert_string_equal(rel, "etc/passwd");
        free(rel);
        rel = NULL;
        assert_int_equal(nvh_rootfs_resolve_path(root_fd, "n0", &rel, &err), -ELOOP);
        assert_int_equal(nvh_rootfs_resolve_path(root_fd, "escape_abs/secret", &rel, &err),
                         -ENOENT);
        assert_null(rel);
}

static void
test_read_file(void **state __attribute__((unused)))
{
        read_cases(false);
        read_cases(true);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_plain, setup, teardown),
            cmocka_unit_test_setup_teardown(test_absolute_and_dotdot, setup, teardown),
            cmocka_unit_test_setup_teardown(test_escapes_stay_inside, setup, teardown),
            cmocka_unit_test_setup_teardown(test_loops, setup, teardown),
            cmocka_unit_test_setup_teardown(test_types_and_nofollow, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_args, setup, teardown),
            cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
            cmocka_unit_test_setup_teardown(test_create_target, setup, teardown),
            cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
            cmocka_unit_test_setup_teardown(test_write_atomic, setup, teardown),
            cmocka_unit_test_setup_teardown(test_read_file, setup, teardown),
            cmocka_unit_test_setup_teardown(test_resolve_path, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
