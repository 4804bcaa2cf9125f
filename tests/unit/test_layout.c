/* SPDX-License-Identifier: Apache-2.0 */
/* lib/layout.c on small image trees built at test time: real gcc-built libc.so.6 stubs (soname
 * libc.so.6), caches written by `ldconfig -r`, the symlink layouts of Debian/Ubuntu (merged
 * /usr), RHEL, Alpine, Arch and busybox images, and hostile trees whose symlinks point at the
 * host. Where an image has a cache, the expected directory is read back with the real
 * `ldconfig -p -C` rather than assumed. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inject.h"
#include "layout.h"
#include "ldcache.h"
#include "macros.h"
#include "plan.h"

static const char *T; /* the temporary directory */

/* T/name; a small ring of static buffers. */
static const char *
in_t(const char *name)
{
        static char p[8][PATH_MAX];
        static int k;

        k = (k + 1) % 8;
        snprintf(p[k], sizeof(p[k]), "%s/%s", T, name);
        return p[k];
}

static int
setup(void **state)
{
        (void)state;
        T = tu_tmpdir();
        /* stubs: libc.so.6 of each class, like test_ldcache.c builds its libraries. The
         * 32-bit one needs a libm.so.6 stub: ldconfig tags a 32-bit library "libc6" (flags
         * 0x0003, as the real i386 libc is) rather than plain "ELF" only when it needs libc
         * or libm (or has ld-linux.so.2 as interpreter, as the real one does). */
        int r = tu_sh("set -e; cd '%s'; echo 'int nvh_libc_stub(void){return 0;}' > f.c\n"
                      "gcc -shared -fPIC -nostdlib -Wl,-soname,libc.so.6 -o libc64.so f.c\n"
                      "mkdir -p m32\n"
                      "if gcc -m32 -shared -fPIC -nostdlib "
                      "  -Wl,-soname,libm.so.6 -o m32/libm.so.6 f.c; then\n"
                      "gcc -m32 -shared -fPIC -nostdlib -Wl,-soname,libc.so.6 -o libc32.so f.c "
                      "  -Wl,--no-as-needed -Lm32 -l:libm.so.6\n"
                      /* a gcc without 32-bit support: the same stubs from as --32 and ld */
                      "else printf '%%s\\n' .text '.globl nvh_libc_stub' "
                      "  'nvh_libc_stub: xorl %%eax, %%eax' ret | as --32 -o f32.o\n"
                      "ld -m elf_i386 -shared -soname libm.so.6 -o m32/libm.so.6 f32.o\n"
                      "ld -m elf_i386 -shared -soname libc.so.6 -o libc32.so f32.o "
                      "  --no-as-needed -Lm32 -l:libm.so.6; fi\n",
                      T);
        if (r != 0) {
                fprintf(stderr, "cannot build libc stubs (gcc, gcc -m32), skipping\n");
                exit(77);
        }
        return 0;
}

/* Make image tree T/name from a shell snippet run inside it: $S64 and $S32 are the stubs,
 * `ldc -r .` is ldconfig for the tree (chroot needs root: in a user namespace otherwise, as
 * tests/fixtures/mkdriver.sh does). Returns the tree's path. */
static const char *
mktree(const char *name, const char *script)
{
        const char *root = in_t(name);
        int r = tu_sh("set -e; rm -rf '%s'; mkdir -p '%s'; cd '%s'; S64='%s/libc64.so'; "
                      "S32='%s/libc32.so'\n"
                      "ldc() { if [ \"$(id -u)\" = 0 ]; then ldconfig \"$@\"; "
                      "else unshare -r ldconfig \"$@\"; fi; }\n%s",
                      root, root, root, T, T, script);
        assert_int_equal(r, 0);
        return root;
}

/* The directory of the libc.so.6 entry of a class ("x86-64" or not) as the real ldconfig
 * reads the tree's cache back; "" when there is none. */
static void
ldconfig_libc_dir(const char *root, bool x8664, char *buf, size_t size)
{
        char out[PATH_MAX], line[1024];
        FILE *f;

        buf[0] = '\0';
        snprintf(out, sizeof(out), "%s.ldconfig-p", root);
        assert_int_equal(tu_sh("ldconfig -p -C '%s/etc/ld.so.cache' > '%s'", root, out), 0);
        f = fopen(out, "re");
        assert_non_null(f);
        while (fgets(line, sizeof(line), f)) {
                char *arrow = strstr(line, " => ");
                if (strncmp(line, "\tlibc.so.6 (", 12) != 0 || !arrow)
                        continue;
                if ((strstr(line, "x86-64") != NULL) != x8664)
                        continue;
                char *path = arrow + 4;
                path[strcspn(path, "\n")] = '\0';
                *strrchr(path, '/') = '\0';
                snprintf(buf, size, "%s", path);
                break;
        }
        fclose(f);
}

static struct nvh_layout
probe(const char *root)
{
        struct nvh_layout l, l2;
        struct nvh_err err = {0};
        int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

        assert_true(root_fd >= 0);
        memset(&l, 0xa5, sizeof(l));
        assert_int_equal(nvh_layout_probe_fd(root_fd, &l, &err), 0);
        close(root_fd);
        /* the path form gives the same answer */
        memset(&l2, 0x5a, sizeof(l2));
        assert_int_equal(nvh_layout_probe(root, 0, &l2, &err), 0);
        assert_string_equal(l.libdir, l2.libdir);
        assert_string_equal(l.libdir32, l2.libdir32);
        assert_int_equal(l.has_ldcache, l2.has_ldcache);
        assert_int_equal(l.musl, l2.musl);
        assert_true(l.why[0] != '\0');
        assert_non_null(memchr(l.why, '\0', sizeof(l.why)));
        assert_non_null(memchr(l.libdir, '\0', sizeof(l.libdir)));
        assert_non_null(memchr(l.libdir32, '\0', sizeof(l.libdir32)));
        assert_true(l.libdir[0] == '/');
        return l;
}

/* Whether container paths a and b are the same directory of the tree. stat() through the
 * host path follows the tree's symlinks as the image's loader would, because the trees that
 * use this have relative links only. */
static void
same_dir_check(const char *root, const char *a, const char *b, bool want_same)
{
        char pa[PATH_MAX], pb[PATH_MAX];
        struct stat sa, sb;
        bool same;

        snprintf(pa, sizeof(pa), "%s%s", root, a);
        snprintf(pb, sizeof(pb), "%s%s", root, b);
        same = stat(pa, &sa) == 0 && stat(pb, &sb) == 0 && sa.st_dev == sb.st_dev &&
               sa.st_ino == sb.st_ino;
        if (same != want_same)
                fail_msg("'%s' and '%s' are %s directory in '%s'", a, b,
                         same ? "the same" : "not the same", root);
}

/* ---- distributions -------------------------------------------------------------------- */

/* Debian/Ubuntu, merged /usr, with the cache ldconfig makes: the libc directory of the cache
 * (64-bit and 32-bit, wherever they are), whatever the family table says. */
static void
test_debian_cache(void **state)
{
        char want64[PATH_MAX], want32[PATH_MAX];
        (void)state;

        const char *root =
            mktree("debian", "mkdir -p usr/lib/x86_64-linux-gnu usr/lib32 usr/bin etc\n"
                             "ln -s usr/lib lib; ln -s usr/lib32 lib32; ln -s usr/bin bin\n"
                             "cp $S64 usr/lib/x86_64-linux-gnu/libc.so.6\n"
                             "cp $S32 usr/lib32/libc.so.6\n"
                             "printf '/usr/lib/x86_64-linux-gnu\\n/usr/lib32\\n' > etc/ld.so.conf\n"
                             "ldc -r .");
        ldconfig_libc_dir(root, true, want64, sizeof(want64));
        ldconfig_libc_dir(root, false, want32, sizeof(want32));
        assert_string_equal(want64, "/usr/lib/x86_64-linux-gnu");
        assert_string_equal(want32, "/usr/lib32"); /* Debian's libc6-i386 location */
        assert_int_equal(tu_sh("ldconfig -p -C '%s/etc/ld.so.cache' | grep -q '(libc6) => "
                               "/usr/lib32/libc.so.6'",
                               root),
                         0);

        struct nvh_layout l = probe(root);
        assert_string_equal(l.libdir, want64);
        assert_string_equal(l.libdir32, want32); /* the cache wins over the table */
        assert_true(l.has_ldcache);
        assert_false(l.musl);
        assert_true(l.glibc);
        assert_false(l.ldconf_d); /* no /etc/ld.so.conf.d in this image */
        assert_non_null(strstr(l.why, "ld.so.cache"));
}

/* Debian without a cache (some slim images delete it): the multiarch family. */
static void
test_debian_nocache(void **state)
{
        (void)state;
        const char *root =
            mktree("debian-nocache", "mkdir -p usr/lib/x86_64-linux-gnu; ln -s usr/lib lib\n"
                                     "cp $S64 usr/lib/x86_64-linux-gnu/libc.so.6");
        struct nvh_layout l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib/x86_64-linux-gnu");
        assert_string_equal(l.libdir32, "/usr/lib/i386-linux-gnu");
        assert_false(l.has_ldcache);
        assert_false(l.musl);
        assert_true(l.glibc); /* its loader reads the cache nvhook writes */
        assert_non_null(strstr(l.why, "x86_64-linux-gnu/libc.so.6"));

        /* with /etc/ld.so.conf.d (its ldconfig reads the files there); a file of that name
         * is not one */
        root = mktree("debian-confd", "mkdir -p usr/lib/x86_64-linux-gnu etc/ld.so.conf.d\n"
                                      "cp $S64 usr/lib/x86_64-linux-gnu/libc.so.6");
        assert_true(probe(root).ldconf_d);
        root = mktree("debian-confd-file", "mkdir -p usr/lib/x86_64-linux-gnu etc\n"
                                           "touch etc/ld.so.conf.d\n"
                                           "cp $S64 usr/lib/x86_64-linux-gnu/libc.so.6");
        assert_false(probe(root).ldconf_d);

        /* not merged: libc under /lib only */
        root = mktree("debian-unmerged", "mkdir -p lib/x86_64-linux-gnu usr/lib\n"
                                         "cp $S64 lib/x86_64-linux-gnu/libc.so.6");
        l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib/x86_64-linux-gnu");
        assert_false(l.has_ldcache);

        /* not merged, with a cache: where ldconfig put libc */
        char want[PATH_MAX];
        root = mktree("debian-unmerged-cache",
                      "mkdir -p lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu etc\n"
                      "cp $S64 lib/x86_64-linux-gnu/libc.so.6\n"
                      "printf '/lib/x86_64-linux-gnu\\n/usr/lib/x86_64-linux-gnu\\n' > "
                      "etc/ld.so.conf\n"
                      "ldc -r .");
        ldconfig_libc_dir(root, true, want, sizeof(want));
        assert_string_equal(want, "/lib/x86_64-linux-gnu");
        l = probe(root);
        assert_string_equal(l.libdir, want);
        assert_true(l.has_ldcache);
}

/* RHEL/Fedora/SUSE: lib64. */
static void
test_rhel(void **state)
{
        char want[PATH_MAX];
        (void)state;

        const char *root = mktree("rhel", "mkdir -p usr/lib64 usr/lib; ln -s usr/lib64 lib64; "
                                          "ln -s usr/lib lib\n"
                                          "cp $S64 usr/lib64/libc.so.6");
        struct nvh_layout l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib64");
        assert_string_equal(l.libdir32, "/usr/lib");
        assert_false(l.has_ldcache);
        assert_false(l.musl);

        /* with a cache (RHEL's ldconfig searches /usr/lib64 by default; Debian's, which
         * runs here, is told so in ld.so.conf) */
        root = mktree("rhel-cache",
                      "mkdir -p usr/lib64 usr/lib etc; ln -s usr/lib64 lib64; ln -s usr/lib lib\n"
                      "cp $S64 usr/lib64/libc.so.6; printf '/usr/lib64\\n' > etc/ld.so.conf\n"
                      "ldc -r .");
        ldconfig_libc_dir(root, true, want, sizeof(want));
        assert_string_equal(want, "/usr/lib64");
        l = probe(root);
        assert_string_equal(l.libdir, want);
        assert_string_equal(l.libdir32, "/usr/lib"); /* no 32-bit libc: the family's */
        assert_true(l.has_ldcache);
        same_dir_check(root, l.libdir, "/usr/lib64", true);
}

/* Alpine: the musl loader, no glibc cache. */
static void
test_alpine(void **state)
{
        (void)state;
        const char *root = mktree("alpine", "mkdir -p lib usr/lib etc/apk\n"
                                            "cp $S64 lib/ld-musl-x86_64.so.1\n"
                                            "ln -s ld-musl-x86_64.so.1 lib/libc.musl-x86_64.so.1");
        struct nvh_layout l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib");
        assert_string_equal(l.libdir32, "");
        assert_false(l.has_ldcache);
        assert_true(l.musl);
        assert_false(l.glibc);
        assert_false(l.ldconf_d);
        assert_string_equal(l.musl_arch, "x86_64");
        assert_non_null(strstr(l.why, "ld-musl-x86_64.so.1"));

        /* aarch64 */
        root = mktree("alpine-arm", "mkdir -p lib usr/lib; cp $S64 lib/ld-musl-aarch64.so.1");
        l = probe(root);
        assert_true(l.musl);
        assert_string_equal(l.musl_arch, "aarch64");
        assert_string_equal(l.libdir, "/usr/lib");
}

/* Arch: plain /usr/lib, 32-bit in /usr/lib32. */
static void
test_arch(void **state)
{
        (void)state;
        const char *root = mktree("arch", "mkdir -p usr/lib usr/lib32; ln -s usr/lib lib\n"
                                          "cp $S64 usr/lib/libc.so.6");
        struct nvh_layout l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib");
        assert_string_equal(l.libdir32, "/usr/lib32");
        assert_false(l.has_ldcache);
        assert_false(l.musl);
}

/* Arch as it really is: lib64 and usr/lib64 are links to usr/lib, and the image has a cache.
 * Whatever directories are chosen, 32-bit libraries must not land in the directory of the
 * 64-bit ones (same names: one bind would cover the other). */
static void
test_arch_real(void **state)
{
        char want[PATH_MAX];
        (void)state;

        const char *root = mktree("arch-real", "mkdir -p usr/lib usr/lib32 etc; ln -s usr/lib lib; "
                                               "ln -s usr/lib lib64; ln -s lib usr/lib64\n"
                                               "cp $S64 usr/lib/libc.so.6\n"
                                               "printf '/usr/lib\\n' > etc/ld.so.conf; ldc -r .");
        ldconfig_libc_dir(root, true, want, sizeof(want));
        assert_true(want[0] == '/');
        struct nvh_layout l = probe(root);
        assert_string_equal(l.libdir, want);
        assert_true(l.has_ldcache);
        if (l.libdir32[0])
                same_dir_check(root, l.libdir, l.libdir32, false);

        /* the same without a cache */
        assert_int_equal(tu_sh("rm '%s/etc/ld.so.cache'", root), 0);
        l = probe(root);
        assert_false(l.has_ldcache);
        same_dir_check(root, l.libdir, "/usr/lib", true);
        if (l.libdir32[0])
                same_dir_check(root, l.libdir, l.libdir32, false);
}

/* busybox (static, no libc): the neutral default. */
static void
test_busybox(void **state)
{
        (void)state;
        const char *root =
            mktree("busybox", "mkdir -p bin etc; cp $S64 bin/busybox; ln -s busybox bin/sh");
        struct nvh_layout l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib64");
        assert_string_equal(l.libdir32, "/usr/lib");
        assert_false(l.has_ldcache);
        assert_false(l.musl);
        assert_false(l.glibc); /* nothing here reads a cache: links in /usr/lib64 too */
        assert_non_null(strstr(l.why, "no libc"));

        /* an empty directory */
        root = mktree("empty", "true");
        l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib64");
}

/* A cache that is garbage, or lists no libc: the family table decides, has_ldcache stays
 * true (the cache writer must know the image has one). */
static void
test_bad_cache(void **state)
{
        (void)state;
        const char *root =
            mktree("bad-cache", "mkdir -p usr/lib64 etc; cp $S64 usr/lib64/libc.so.6\n"
                                "printf 'glibc-ld.so.cache1.1 garbage' > etc/ld.so.cache");
        struct nvh_layout l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib64");
        assert_true(l.has_ldcache);

        /* a valid cache without libc (a library of its own only), libc where the cache does
         * not look */
        const char *other =
            mktree("nolibc-src", "mkdir -p opt/lib etc\n"
                                 "gcc -shared -fPIC -nostdlib -Wl,-soname,libfoo.so.1 "
                                 "  -o opt/lib/libfoo.so.1 ../f.c\n"
                                 "printf '/opt/lib\\n' > etc/ld.so.conf; ldc -r .\n"
                                 "ldconfig -p -C etc/ld.so.cache | grep -q libfoo.so.1\n"
                                 "! ldconfig -p -C etc/ld.so.cache | grep -q 'libc.so.6 '");
        char script[8192];
        snprintf(script, sizeof(script),
                 "mkdir -p usr/lib/x86_64-linux-gnu etc\n"
                 "cp $S64 usr/lib/x86_64-linux-gnu/libc.so.6\n"
                 "cp '%s/etc/ld.so.cache' etc/",
                 other);
        root = mktree("nolibc-cache", script);
        l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib/x86_64-linux-gnu");
        assert_true(l.has_ldcache);
        assert_non_null(strstr(l.why, "multiarch"));
}

/* ---- hostile trees -------------------------------------------------------------------- */

/* The image's library directory is an absolute link to a host directory that holds a libc
 * (and the image's cache a link to a host cache): resolution stays in the image, so the
 * host's files are never what decides. */
static void
test_hostile_links(void **state)
{
        (void)state;
        /* the "host": a directory outside the tree, with a libc and a real cache of its own */
        const char *host = mktree("host", "mkdir -p usr/lib/x86_64-linux-gnu etc\n"
                                          "cp $S64 usr/lib/x86_64-linux-gnu/libc.so.6\n"
                                          "printf '/usr/lib/x86_64-linux-gnu\\n' > etc/ld.so.conf\n"
                                          "ldc -r .");
        char script[8192];

        snprintf(script, sizeof(script),
                 "mkdir -p usr/lib etc\n"
                 "ln -s '%s/usr/lib/x86_64-linux-gnu' usr/lib/x86_64-linux-gnu\n"
                 "ln -s '%s/etc/ld.so.cache' etc/ld.so.cache\n"
                 "ln -s '%s/usr/lib/x86_64-linux-gnu' lib64\n",
                 host, host, host);
        const char *root = mktree("hostile-abs", script);
        /* the links do work from the host's point of view */
        assert_int_equal(tu_sh("test -e '%s/usr/lib/x86_64-linux-gnu/libc.so.6'", root), 0);
        assert_int_equal(tu_sh("test -e '%s/etc/ld.so.cache'", root), 0);

        struct nvh_layout l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib64");
        assert_non_null(strstr(l.why, "no libc"));
        assert_false(l.has_ldcache); /* a symlinked cache is not read */

        /* relative links climbing out: ".." stops at the image's root */
        snprintf(script, sizeof(script),
                 "mkdir -p usr/lib etc\n"
                 "ln -s ../../../../../../../../../../../..%s/usr/lib/x86_64-linux-gnu "
                 "usr/lib/x86_64-linux-gnu\n"
                 "ln -s ../../../../../../../../../../..%s/etc etc2\n",
                 host, host);
        root = mktree("hostile-rel", script);
        assert_int_equal(tu_sh("test -e '%s/usr/lib/x86_64-linux-gnu/libc.so.6'", root), 0);
        l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib64");
        assert_false(l.has_ldcache);

        /* an etc directory linked to the host's: no cache is read through it */
        snprintf(script, sizeof(script), "ln -s '%s/etc' etc", host);
        root = mktree("hostile-etc", script);
        l = probe(root);
        assert_false(l.has_ldcache);
        assert_string_equal(l.libdir, "/usr/lib64");

        /* positive control: the same absolute link with the target present inside the image
         * resolves there (in-root), so the family is found from the image's own file */
        snprintf(script, sizeof(script),
                 "mkdir -p usr/lib '.%s/usr/lib/x86_64-linux-gnu'\n"
                 "ln -s '%s/usr/lib/x86_64-linux-gnu' usr/lib/x86_64-linux-gnu\n"
                 "cp $S64 '.%s/usr/lib/x86_64-linux-gnu/libc.so.6'\n",
                 host, host, host);
        root = mktree("inroot-abs", script);
        l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib/x86_64-linux-gnu");
        assert_non_null(strstr(l.why, "multiarch"));
}

/* A symlink loop where the probe looks, and a libc.so.6 that is a directory. */
static void
test_hostile_loops(void **state)
{
        (void)state;
        const char *root = mktree("loops", "mkdir -p usr/lib etc\n"
                                           "ln -s x86_64-linux-gnu usr/lib/x86_64-linux-gnu\n"
                                           "ln -s ld.so.cache etc/ld.so.cache\n"
                                           "ln -s usr/lib64 lib64; ln -s ../lib64 usr/lib64");
        struct nvh_layout l = probe(root);
        assert_string_equal(l.libdir, "/usr/lib64");
        assert_false(l.has_ldcache);
}

/* ---- the path form -------------------------------------------------------------------- */

static void
test_probe_path(void **state)
{
        struct nvh_layout l = {0};
        struct nvh_err err = {0};
        char pidroot[PATH_MAX];
        (void)state;

        const char *root = mktree("bypid", "mkdir -p usr/lib64; cp $S64 usr/lib64/libc.so.6");
        assert_int_equal(nvh_layout_probe(root, 0, &l, &err), 0);
        assert_string_equal(l.libdir, "/usr/lib64");
        /* through /proc/<pid>/root only for a container's process: our own is refused (the
         * e2e tests cover the container's view) */
        assert_int_equal(nvh_layout_probe(root, (int)getpid(), &l, &err), -EPERM);
        assert_non_null(strstr(err.msg, "hook's own mount namespace"));
        snprintf(pidroot, sizeof(pidroot), "%s/nothing-here", root);
        assert_true(nvh_layout_probe(pidroot, 0, &l, &err) == -ENOENT);
        assert_non_null(strstr(err.msg, "nothing-here"));
        /* a process that is gone */
        assert_true(nvh_layout_probe(pidroot, INT_MAX - 1, &l, &err) < 0);
        /* a file, not a directory */
        snprintf(pidroot, sizeof(pidroot), "%s/usr/lib64/libc.so.6", root);
        assert_true(nvh_layout_probe(pidroot, 0, &l, &err) == -ENOTDIR);
}

/* ---- the probe's parse, reused by the injection ------------------------------------------ */

/* Inject libcuda.so.1 into root's cache with layout (may be NULL); returns whether the
 * probe's parse was reused and whether the result still has the image's libc.so.6. */
static bool
inject_cuda(const char *root, struct nvh_layout *layout, bool *has_old)
{
        struct nvh_err err = {0};
        struct nvh_plan *plan = calloc(1, sizeof(*plan));
        struct nvh_ldcache *c = NULL;
        int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        bool reused = false;

        assert_non_null(plan);
        assert_true(root_fd >= 0);
        assert_int_equal(nvh_plan_add_ldcache(plan, "libcuda.so.1",
                                              "/usr/lib/x86_64-linux-gnu/libcuda.so.1", 64, "test",
                                              &err),
                         0);
        assert_int_equal(nvh_inject_ldcache_reuse(plan, root_fd, layout, &reused, &err), 0);
        assert_int_equal(nvh_ldcache_load(root_fd, "etc/ld.so.cache", &c, &err), 0);
        *has_old = false;
        for (size_t i = 0; i < c->n_entries; i++)
                *has_old |= streq(c->entries[i].key, "libc.so.6");
        nvh_ldcache_free(c);
        nvh_plan_free(plan);
        close(root_fd);
        return reused;
}

/* The injection reuses the probe's parse only for the same file, unchanged: a cache replaced
 * (another inode) or modified in place (mtime, ctime) after the probe is read again. */
static void
test_keep_reuse(void **state)
{
        struct nvh_layout l = {0};
        struct nvh_err err = {0};
        bool has_old;
        (void)state;

        const char *root = mktree("keep", "mkdir -p usr/lib/x86_64-linux-gnu etc\n"
                                          "cp $S64 usr/lib/x86_64-linux-gnu/libc.so.6\n"
                                          "printf '/usr/lib/x86_64-linux-gnu\\n' > etc/ld.so.conf\n"
                                          "ldc -r . && cp etc/ld.so.cache etc/orig.cache");
        /* the plain probe keeps nothing */
        assert_int_equal(nvh_layout_probe(root, 0, &l, &err), 0);
        assert_null(l.ldcache);
        assert_int_equal(nvh_layout_probe_keep(root, 0, &l, &err), 0);
        assert_non_null(l.ldcache);
        assert_string_equal(l.libdir, "/usr/lib/x86_64-linux-gnu");
        assert_true(inject_cuda(root, &l, &has_old));
        assert_true(has_old);
        assert_null(l.ldcache); /* taken by the injection */
        nvh_layout_done(&l);

        /* replaced after the probe: the new file is read (an empty cache, no libc.so.6) */
        assert_int_equal(nvh_layout_probe_keep(root, 0, &l, &err), 0);
        assert_non_null(l.ldcache);
        {
                struct nvh_ldcache *empty = nvh_ldcache_new();
                _cleanup_free_ char *buf = NULL;
                size_t len = 0;
                FILE *f = fopen(in_t("empty.cache"), "w");

                assert_non_null(empty);
                assert_non_null(f);
                assert_int_equal(nvh_ldcache_serialize(empty, &buf, &len, &err), 0);
                assert_int_equal(fwrite(buf, 1, len, f), len);
                assert_int_equal(fclose(f), 0);
                nvh_ldcache_free(empty);
                assert_int_equal(tu_sh("mv '%s' '%s/etc/ld.so.cache'", in_t("empty.cache"), root),
                                 0);
        }
        assert_false(inject_cuda(root, &l, &has_old));
        assert_false(has_old);
        nvh_layout_done(&l);
        assert_null(l.ldcache);

        /* modified in place (same inode and size, new times): read again */
        assert_int_equal(tu_sh("cp '%s/etc/orig.cache' '%s/etc/ld.so.cache'", root, root), 0);
        assert_int_equal(nvh_layout_probe_keep(root, 0, &l, &err), 0);
        assert_non_null(l.ldcache);
        assert_int_equal(tu_sh("cd '%s/etc' && touch -d '2001-01-01' ld.so.cache", root), 0);
        assert_false(inject_cuda(root, &l, &has_old));
        assert_true(has_old);
        nvh_layout_done(&l);
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_debian_cache),  cmocka_unit_test(test_debian_nocache),
            cmocka_unit_test(test_rhel),          cmocka_unit_test(test_alpine),
            cmocka_unit_test(test_arch),          cmocka_unit_test(test_arch_real),
            cmocka_unit_test(test_busybox),       cmocka_unit_test(test_bad_cache),
            cmocka_unit_test(test_hostile_links), cmocka_unit_test(test_hostile_loops),
            cmocka_unit_test(test_probe_path),    cmocka_unit_test(test_keep_reuse),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
