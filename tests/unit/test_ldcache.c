/* SPDX-License-Identifier: Apache-2.0 */
/* ld.so.cache parser and writer against caches made by the real ldconfig at test time: tiny
 * .so files built with gcc into fake roots, `ldconfig -r ROOT -c old|compat|new`, and
 * `ldconfig -p -C FILE` as the reference reader for everything we write. */
#include "testutil.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "ldcache.h"
#include "macros.h"

#define X8664 (NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_X8664_LIB64)
#define I386 (NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_I386)
#define X32 (NVH_LDCACHE_FLAG_ELF_LIBC6 | 0x0800) /* glibc's FLAG_X8664_LIBX32 */
#define ML "/lib/x86_64-linux-gnu"

static const char *T; /* temp dir with roots and caches */

/* ---- helpers ---------------------------------------------------------------------------- */

static char *
slurp(const char *path, size_t *ret_len)
{
        struct nvh_err err = {0};
        char *buf = NULL;

        if (nvh_fileio_read_at(AT_FDCWD, path, 256u << 20, 0, &buf, ret_len, &err) < 0)
                fail_msg("%s", err.msg);
        return buf;
}

static struct nvh_ldcache *
parse_file(const char *path)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = NULL;
        size_t len;
        _cleanup_free_ char *buf = slurp(path, &len);

        if (nvh_ldcache_parse(buf, len, path, &c, &err) < 0)
                fail_msg("parse %s: %s", path, err.msg);
        return c;
}

static void
write_serialized(const struct nvh_ldcache *c, const char *path)
{
        struct nvh_err err = {0};
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;

        if (nvh_ldcache_serialize(c, &buf, &len, &err) < 0)
                fail_msg("serialize: %s", err.msg);
        tu_write_file(path, buf, len);
}

/* The glibc release of the host's ldconfig as 100 * major + minor (from ldconfig --version);
 * what ldconfig -p prints changed with releases. */
static int ldconfig_glibc = 999;

/* The label ldconfig -p prints after the type for the architecture bits of an entry's flags
 * (glibc elf/cache.c print_entry; the FLAG_* values of glibc's sysdeps/generic/ldconfig.h),
 * indexed by (flags & 0xff00) >> 8. A value without a label (or from a glibc release newer
 * than the host's ldconfig) prints as ",<flags & 0xff00 in decimal>". */
static const struct {
        const char *label;
        int since; /* the first glibc release that prints it */
} arch_label[] = {
    [0x00] = {"", 0},               /* none: i386, and every 32-bit or plain entry */
    [0x01] = {",64bit", 0},         /* FLAG_SPARC_LIB64 */
    [0x02] = {",IA-64", 0},         /* FLAG_IA64_LIB64 */
    [0x03] = {",x86-64", 0},        /* FLAG_X8664_LIB64 */
    [0x04] = {",64bit", 0},         /* FLAG_S390_LIB64 */
    [0x05] = {",64bit", 0},         /* FLAG_POWERPC_LIB64 */
    [0x06] = {",N32", 0},           /* FLAG_MIPS64_LIBN32 */
    [0x07] = {",64bit", 0},         /* FLAG_MIPS64_LIBN64 */
    [0x08] = {",x32", 0},           /* FLAG_X8664_LIBX32 */
    [0x09] = {",hard-float", 0},    /* FLAG_ARM_LIBHF */
    [0x0a] = {",AArch64", 0},       /* FLAG_AARCH64_LIB64 */
    [0x0b] = {",soft-float", 0},    /* FLAG_ARM_LIBSF */
    [0x0c] = {",nan2008", 0},       /* FLAG_MIPS_LIB32_NAN2008 */
    [0x0d] = {",N32,nan2008", 0},   /* FLAG_MIPS64_LIBN32_NAN2008 */
    [0x0e] = {",64bit,nan2008", 0}, /* FLAG_MIPS64_LIBN64_NAN2008 */
    [0x0f] = {",soft-float", 0},    /* FLAG_RISCV_FLOAT_ABI_SOFT */
    [0x10] = {",double-float", 0},  /* FLAG_RISCV_FLOAT_ABI_DOUBLE */
    /* LoongArch (glibc 2.36's ldconfig writes these flags but prints them as numbers; a
     * later release labels them, which one is not pinned down: test_labels leaves them out
     * above 2.36) */
    [0x11] = {",soft-float", 237},   /* FLAG_LARCH_FLOAT_ABI_SOFT */
    [0x12] = {",double-float", 237}, /* FLAG_LARCH_FLOAT_ABI_DOUBLE */
};

/* The library type (flags & 0xff): FLAG_LIBC4, FLAG_ELF, FLAG_ELF_LIBC5, FLAG_ELF_LIBC6. */
static const char *const type_label[] = {"libc4", "ELF", "libc5", "libc6"};

/* The OS of an ELF ABI note (osversion >> 24); higher values print as "Unknown OS". glibc
 * 2.36 dropped the kernel version check and no longer prints the note. */
static const char *const abi_os_label[] = {"Linux",   "Hurd",    "Solaris",
                                           "FreeBSD", "kNetBSD", "Syllable"};

/* One line as the host's ldconfig -p prints an entry. */
static void
append_entry(FILE *f, const struct nvh_ldcache *c, const struct nvh_ldcache_entry *e)
{
        unsigned t = (unsigned)e->flags & NVH_LDCACHE_FLAG_TYPE_MASK;
        unsigned a = ((unsigned)e->flags & NVH_LDCACHE_FLAG_ARCH_MASK) >> 8;
        unsigned os = e->osversion >> 24;
        const char *hw = nvh_ldcache_entry_hwcaps(c, e);

        fprintf(f, "\t%s (%s", e->key, t < ARRAY_SIZE(type_label) ? type_label[t] : "unknown");
        if (a < ARRAY_SIZE(arch_label) && arch_label[a].label &&
            arch_label[a].since <= ldconfig_glibc)
                fputs(arch_label[a].label, f);
        else
                fprintf(f, ",%u", a << 8);
        if (hw)
                fprintf(f, ", hwcap: \"%s\"", hw);
        else if (e->hwcap)
                fprintf(f, ", hwcap: %#.16" PRIx64, e->hwcap);
        if (e->osversion && ldconfig_glibc < 236)
                fprintf(f, ", OS ABI: %s %u.%u.%u",
                        os < ARRAY_SIZE(abi_os_label) ? abi_os_label[os] : "Unknown OS",
                        (e->osversion >> 16) & 0xff, (e->osversion >> 8) & 0xff,
                        e->osversion & 0xff);
        fprintf(f, ") => %s\n", e->value);
}

/* "ldconfig (Debian GLIBC 2.36-9+deb12u14) 2.36": the release at the end of the first line. */
static void
detect_ldconfig_glibc(void)
{
        char line[256] = "";
        unsigned major, minor;
        FILE *p = popen("ldconfig --version", "r");
        const char *v;

        if (!p)
                return;
        if (!fgets(line, sizeof(line), p))
                line[0] = '\0';
        pclose(p);
        line[strcspn(line, "\n")] = '\0';
        v = strrchr(line, ' ');
        if (v && sscanf(v + 1, "%u.%u", &major, &minor) == 2)
                ldconfig_glibc = (int)(major * 100 + minor);
        else
                fprintf(stderr, "note: cannot read the glibc release of ldconfig ('%s')\n", line);
}

/* Our parse printed the way ldconfig -p prints it, without the "N libs found" line. */
static char *
listing_ours(const struct nvh_ldcache *c)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);

        assert_non_null(f);
        for (size_t i = 0; i < c->n_entries; i++)
                append_entry(f, c, &c->entries[i]);
        fclose(f);
        return buf;
}

/* ldconfig -p -C path: the entry lines; the count line checked against n, the generator line
 * returned in *gen when asked. */
static char *
listing_ldconfig(const char *path, size_t n, char **gen)
{
        char out[512], first[512], want[512];
        _cleanup_free_ char *all = NULL;
        size_t len;

        snprintf(out, sizeof(out), "%s/listing.txt", T);
        assert_int_equal(tu_sh("ldconfig -p -C '%s' > '%s'", path, out), 0);
        all = slurp(out, &len);
        char *nl = strchr(all, '\n');
        assert_non_null(nl);
        snprintf(first, sizeof(first), "%.*s", (int)(nl - all), all);
        snprintf(want, sizeof(want), "%zu libs found in cache `%s'", n, path);
        assert_string_equal(first, want);
        char *body = strdup(nl + 1);
        char *g = strstr(body, "Cache generated by: ");
        if (gen)
                *gen = g ? strndup(g + 20, strcspn(g + 20, "\n")) : NULL;
        if (g)
                *g = '\0';
        return body;
}

/* Two listings equal, or the first line where they differ. */
static void
assert_same_listing(const char *ours, const char *theirs)
{
        size_t line = 1;

        for (;;) {
                size_t a = strcspn(ours, "\n"), b = strcspn(theirs, "\n");

                if (a != b || memcmp(ours, theirs, a) != 0)
                        fail_msg("listing line %zu: ours '%.*s', ldconfig -p '%.*s'", line, (int)a,
                                 ours, (int)b, theirs);
                if (!ours[a] || !theirs[b]) {
                        if (ours[a] != theirs[b])
                                fail_msg("listing line %zu: one listing ends there", line);
                        return;
                }
                ours += a + 1;
                theirs += b + 1;
                line++;
        }
}

static void
assert_matches_ldconfig(const char *path, const struct nvh_ldcache *c)
{
        _cleanup_free_ char *ours = listing_ours(c);
        _cleanup_free_ char *theirs = listing_ldconfig(path, c->n_entries, NULL);

        assert_same_listing(ours, theirs);
}

static void
assert_same_cache(const struct nvh_ldcache *a, const struct nvh_ldcache *b)
{
        assert_int_equal(a->n_entries, b->n_entries);
        for (size_t i = 0; i < a->n_entries; i++) {
                const struct nvh_ldcache_entry *x = &a->entries[i], *y = &b->entries[i];

                assert_string_equal(x->key, y->key);
                assert_string_equal(x->value, y->value);
                assert_int_equal(x->flags, y->flags);
                assert_int_equal(x->osversion, y->osversion);
                const char *hx = nvh_ldcache_entry_hwcaps(a, x),
                           *hy = nvh_ldcache_entry_hwcaps(b, y);
                if (hx || hy) {
                        assert_non_null(hx);
                        assert_non_null(hy);
                        assert_string_equal(hx, hy);
                } else {
                        assert_int_equal(x->hwcap, y->hwcap);
                }
        }
}

/* ld.so's search_cache (elf/dl-cache.c) reduced to what x86-64 does for a regular entry:
 * binary search with _dl_cache_libcmp, back up to the first equal key, take the first entry
 * with the default flags and no hwcap. Run on the file bytes, not on our parse. */
static const char *
ldso_lookup(const uint8_t *buf, size_t len, const char *name)
{
        uint32_t nlibs;
        int left = 0, right;

        memcpy(&nlibs, buf + 20, 4);
        right = (int)nlibs - 1;
        while (left <= right) {
                int mid = (left + right) / 2;
                uint32_t key;

                memcpy(&key, buf + 48 + (size_t)mid * 24 + 4, 4);
                assert_true(key < len);
                int cmp = nvh_ldcache_libcmp(name, (const char *)buf + key);
                if (cmp == 0) {
                        while (mid > 0) {
                                memcpy(&key, buf + 48 + (size_t)(mid - 1) * 24 + 4, 4);
                                if (nvh_ldcache_libcmp(name, (const char *)buf + key) != 0)
                                        break;
                                mid--;
                        }
                        for (; mid < (int)nlibs; mid++) {
                                const uint8_t *e = buf + 48 + (size_t)mid * 24;
                                uint32_t flags, value;
                                uint64_t hwcap;

                                memcpy(&key, e + 4, 4);
                                if (nvh_ldcache_libcmp(name, (const char *)buf + key) != 0)
                                        break;
                                memcpy(&flags, e, 4);
                                memcpy(&value, e + 8, 4);
                                memcpy(&hwcap, e + 16, 8);
                                if (flags == X8664 && hwcap == 0)
                                        return (const char *)buf + value;
                        }
                        return NULL;
                }
                if (cmp < 0)
                        left = mid + 1;
                else
                        right = mid - 1;
        }
        return NULL;
}

static const char *
path_in(const char *name)
{
        static char p[8][512];
        static int k;

        k = (k + 1) % 8;
        snprintf(p[k], sizeof(p[k]), "%s/%s", T, name);
        return p[k];
}

/* ---- fixtures ----------------------------------------------------------------------------- */

static const char *x32_made_by; /* "ldconfig" or "nvhook" (see setup_x32) */

/* x32.new: a cache with x32 entries (flags 0x0803, what ldconfig writes for /usr/libx32 when
 * gcc-multilib is installed) next to x86-64 ones. Made by ldconfig from x32 libraries when gcc
 * can build them (gcc -mx32 needs no x32 libc with -nostdlib); otherwise by our own writer. */
static void
setup_x32(void)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c;
        int r =
            tu_sh("set -e; cd '%s'; r=x32; mkdir -p $r/usr/libx32 $r/lib/x86_64-linux-gnu $r/etc\n"
                  "gcc -mx32 -shared -fPIC -nostdlib -Wl,-soname,libfoo.so.1 "
                  "  -o $r/usr/libx32/libfoo.so.1.0 f.c\n"
                  "gcc -mx32 -shared -fPIC -nostdlib -Wl,-soname,libx32only.so.2 "
                  "  -o $r/usr/libx32/libx32only.so.2.0 f.c\n"
                  "gcc -shared -fPIC -nostdlib -Wl,-soname,libfoo.so.1 "
                  "  -o $r/lib/x86_64-linux-gnu/libfoo.so.1.0 f.c\n"
                  "printf '/lib/x86_64-linux-gnu\\n/usr/libx32\\n' > $r/etc/ld.so.conf\n"
                  "ldconfig -r $r -C /etc/c.new -c new && cp $r/etc/c.new x32.new\n",
                  T);

        if (r == 0) {
                x32_made_by = "ldconfig";
                return;
        }
        fprintf(stderr, "note: gcc -mx32 cannot build x32 libraries here; x32.new is written by "
                        "nvhook's own cache writer instead of ldconfig\n");
        c = nvh_ldcache_new();
        assert_non_null(c);
        assert_int_equal(nvh_ldcache_upsert(c, "libfoo.so.1", "/usr/libx32/libfoo.so.1", X32, &err),
                         0);
        assert_int_equal(
            nvh_ldcache_upsert(c, "libx32only.so.2", "/usr/libx32/libx32only.so.2", X32, &err), 0);
        assert_int_equal(nvh_ldcache_upsert(c, "libfoo.so.1", ML "/libfoo.so.1", X8664, &err), 0);
        write_serialized(c, path_in("x32.new"));
        nvh_ldcache_free(c);
        x32_made_by = "nvhook";
}

/* Roots: plain (64-bit and 32-bit libraries in several dirs), hw (plus glibc-hwcaps
 * subdirectories), cuda (plain plus driver-like libraries, the reference for upsert), sort
 * (sonames that exercise _dl_cache_libcmp). 32-bit libraries link a stub libc.so.6 so that
 * ldconfig flags them libc6 (flags 0x0003) rather than plain ELF. */
static int
setup(void **state)
{
        T = tu_tmpdir();
        detect_ldconfig_glibc();
        int r = tu_sh(
            "set -e; cd '%s'; echo 'int f(void){return 0;}' > f.c\n"
            "mkso() { gcc -shared -fPIC -nostdlib -Wl,-soname,$2 -o $1 f.c; }\n"
            "mkso32() { gcc -m32 -shared -fPIC -nostdlib -Wl,-soname,$2 -o $1 f.c "
            "  -Wl,--no-as-needed -Lstub32 -l:libc.so.6; }\n"
            "mkdir -p stub32\n"
            /* a gcc without 32-bit support: the same library from as --32 and ld */
            "if ! gcc -m32 -shared -nostdlib -Wl,-soname,libc.so.6 -o stub32/libc.so.6 f.c; then"
            "  echo 'note: gcc -m32 fails, 32-bit libraries made with as --32 and ld' >&2;"
            "  printf '%%s\\n' .text '.globl f' 'f: xorl %%eax, %%eax' ret | as --32 -o f32.o;"
            "  mkso32() { ld -m elf_i386 -shared -soname $2 -o $1 f32.o "
            "    --no-as-needed -Lstub32 -l:libc.so.6; };"
            "  ld -m elf_i386 -shared -soname libc.so.6 -o stub32/libc.so.6 f32.o; fi\n"
            "r=plain; mkdir -p $r/lib/x86_64-linux-gnu $r/usr/lib32 $r/opt/odd/lib $r/etc\n"
            "for s in libfoo.so.1 libbar.so.2 libnum.so.9 libnum.so.10 libA.so.1 libz.so.1; do"
            "  mkso $r/lib/x86_64-linux-gnu/$s.0.1 $s; done\n"
            "mkso32 $r/usr/lib32/libfoo.so.1.0 libfoo.so.1\n"
            "mkso32 $r/usr/lib32/libnum.so.10.0 libnum.so.10\n"
            "mkso $r/opt/odd/lib/libodd.so.0.0 libodd.so.0\n"
            "printf '/lib/x86_64-linux-gnu\\n/usr/lib32\\n/opt/odd/lib\\n' > $r/etc/ld.so.conf\n"
            "cp -a plain hw; cp -a plain cuda\n"
            "d=hw/lib/x86_64-linux-gnu/glibc-hwcaps; mkdir -p $d/x86-64-v3 $d/x86-64-v2\n"
            "mkso $d/x86-64-v3/libfoo.so.1.0.1 libfoo.so.1\n"
            "mkso $d/x86-64-v2/libfoo.so.1.0.1 libfoo.so.1\n"
            "mkso $d/x86-64-v2/libbar.so.2.0.1 libbar.so.2\n"
            "mkso cuda/lib/x86_64-linux-gnu/libcuda.so.580.159.04 libcuda.so.1\n"
            "mkso cuda/lib/x86_64-linux-gnu/libnvidia-ml.so.580.159.04 libnvidia-ml.so.1\n"
            "mkso32 cuda/usr/lib32/libcuda.so.580.159.04 libcuda.so.1\n"
            "r=sort; mkdir -p $r/lib/x86_64-linux-gnu $r/usr/lib32 $r/etc\n"
            "for s in libnum.so.9 libnum.so.10 libnum.so.100 libnum2.so.1 libnum10.so.1 "
            "  libA.so.1 liba.so.1 lib_b.so.1 lib-b.so.1 libB.so.1 libx.so.1.2.3 libx.so.1.2 "
            "  libx.so.1 libxy.so.1 libx1y.so.1 libx2y.so.1 libx10y.so.1 lib9.so lib10.so "
            "  libnvidia-glcore.so.580.159.04 libnvidia-gl.so.1 libGL.so.1 libGLX.so.0 "
            "  libGLX_nvidia.so.0 libEGL_nvidia.so.0 libcuda.so.1 libcudadebugger.so.1 "
            "  libnvcuvid.so.1 libnvidia-opencl.so.1 libc.so.6 libc++.so.1 libz.so.1; do"
            "  mkso $r/lib/x86_64-linux-gnu/$s.0 $s; done\n"
            "for s in libcuda.so.1 libnum.so.10 libGL.so.1 libx.so.1; do"
            "  mkso32 $r/usr/lib32/$s.0 $s; done\n"
            "printf '/lib/x86_64-linux-gnu\\n/usr/lib32\\n' > $r/etc/ld.so.conf\n"
            "for f in old compat new; do ldconfig -r plain -C /etc/c.$f -c $f; "
            "  cp plain/etc/c.$f c.$f; done\n"
            "for f in compat new; do ldconfig -r hw -C /etc/c.$f -c $f; "
            "  cp hw/etc/c.$f hw.$f; done\n"
            "ldconfig -r cuda -C /etc/c.new -c new && cp cuda/etc/c.new cuda.new\n"
            "ldconfig -r sort -C /etc/c.new -c new && cp sort/etc/c.new sort.new\n",
            T);
        if (r != 0) {
                fprintf(stderr, "SKIP: cannot build ld.so.cache fixtures (gcc -m32, ldconfig)\n");
                exit(77);
        }
        setup_x32();
        return 0;
}

/* ---- parse ------------------------------------------------------------------------------- */

static void
test_parse_new(void **state)
{
        struct nvh_ldcache *c = parse_file(path_in("hw.new"));
        size_t hw_entries = 0;

        assert_int_equal(c->format, NVH_LDCACHE_FORMAT_NEW);
        assert_true(c->n_entries >= 11);
        assert_int_equal(c->n_hwcaps, 2);
        assert_string_equal(c->hwcaps[0], "x86-64-v2");
        assert_string_equal(c->hwcaps[1], "x86-64-v3");
        for (size_t i = 0; i < c->n_entries; i++)
                hw_entries += nvh_ldcache_entry_hwcaps(c, &c->entries[i]) != NULL;
        assert_int_equal(hw_entries, 3);
        assert_matches_ldconfig(path_in("hw.new"), c);
        nvh_ldcache_free(c);

        c = parse_file(path_in("c.new"));
        assert_int_equal(c->format, NVH_LDCACHE_FORMAT_NEW);
        assert_matches_ldconfig(path_in("c.new"), c);
        nvh_ldcache_free(c);
}

static void
test_parse_compat(void **state)
{
        struct nvh_ldcache *c = parse_file(path_in("c.compat"));

        assert_int_equal(c->format, NVH_LDCACHE_FORMAT_COMPAT);
        assert_matches_ldconfig(path_in("c.compat"), c);
        nvh_ldcache_free(c);

        /* glibc 2.36's ldconfig -p prints garbage for hwcaps names in compat files (it reads
         * the name offsets from the start of the file, its writer counts from the new
         * header); we read them as written. */
        c = parse_file(path_in("hw.compat"));
        assert_int_equal(c->format, NVH_LDCACHE_FORMAT_COMPAT);
        assert_int_equal(c->n_hwcaps, 2);
        assert_string_equal(c->hwcaps[1], "x86-64-v3");
        nvh_ldcache_free(c);
}

static void
test_parse_old(void **state)
{
        struct nvh_ldcache *c = parse_file(path_in("c.old"));
        struct nvh_ldcache *n = parse_file(path_in("c.new"));

        assert_int_equal(c->format, NVH_LDCACHE_FORMAT_OLD);
        assert_matches_ldconfig(path_in("c.old"), c);
        /* Same libraries as the new-format cache of the same root. */
        assert_same_cache(c, n);
        nvh_ldcache_free(c);
        nvh_ldcache_free(n);
}

static void
test_flags(void **state)
{
        struct nvh_ldcache *c = parse_file(path_in("c.new"));
        int seen64 = 0, seen32 = 0;

        for (size_t i = 0; i < c->n_entries; i++) {
                const struct nvh_ldcache_entry *e = &c->entries[i];

                if (!streq(e->key, "libfoo.so.1"))
                        continue;
                if (e->flags == X8664) {
                        assert_string_equal(e->value, ML "/libfoo.so.1");
                        assert_string_equal(nvh_ldcache_arch_name(e->flags), "x86-64");
                        assert_int_equal(nvh_ldcache_flags_class(e->flags), 64);
                        seen64++;
                } else {
                        assert_int_equal(e->flags, I386);
                        assert_string_equal(e->value, "/usr/lib32/libfoo.so.1");
                        assert_string_equal(nvh_ldcache_arch_name(e->flags), "i386");
                        assert_int_equal(nvh_ldcache_flags_class(e->flags), 32);
                        seen32++;
                }
        }
        assert_int_equal(seen64, 1);
        assert_int_equal(seen32, 1);
        assert_string_equal(nvh_ldcache_arch_name(0x0a03), "aarch64");
        assert_int_equal(nvh_ldcache_flags_class(0x0a03), 64);
        assert_string_equal(nvh_ldcache_arch_name(0x0001), "unknown");
        assert_int_equal(nvh_ldcache_flags_class(0x0001), 0);
        nvh_ldcache_free(c);
}

static void roundtrip(const char *src);

/* A cache with x32 entries (a host with gcc-multilib has them in /etc/ld.so.cache): parsed,
 * printed as ldconfig -p prints it (",x32"), written back unchanged. */
static void
test_x32(void **state)
{
        struct nvh_ldcache *c = parse_file(path_in("x32.new"));
        _cleanup_free_ char *theirs = listing_ldconfig(path_in("x32.new"), c->n_entries, NULL);
        size_t n32 = 0;

        fprintf(stderr, "x32.new made by %s\n", x32_made_by);
        for (size_t i = 0; i < c->n_entries; i++)
                n32 += c->entries[i].flags == X32;
        assert_int_equal(n32, 2);
        assert_non_null(strstr(theirs, "\tlibfoo.so.1 (libc6,x32) => /usr/libx32/libfoo.so.1\n"));
        assert_non_null(strstr(theirs, "\tlibfoo.so.1 (libc6,x86-64) => " ML "/libfoo.so.1\n"));
        assert_matches_ldconfig(path_in("x32.new"), c);
        nvh_ldcache_free(c);
        roundtrip("x32.new");
}

/* Every type and architecture value a flags word can hold, and every OS of an ABI note:
 * the imitation of ldconfig -p above prints each entry exactly as the host's ldconfig does. */
static void
test_labels(void **state)
{
        static const unsigned types[] = {0, 1, 2, 3, 4, 0x7f, 0xff};
        struct nvh_err err = {0};
        struct nvh_ldcache *c = nvh_ldcache_new(), *b;
        char key[64], value[128];

        assert_non_null(c);
        for (unsigned a = 0; a <= 0xff; a++) {
                /* every label glibc knows, then a sample of values it does not */
                if (a > 0x14 && a != 0x20 && a != 0x7f && a != 0x80 && a != 0xff)
                        continue;
                if ((a == 0x11 || a == 0x12) && ldconfig_glibc > 236)
                        continue;
                for (size_t t = 0; t < ARRAY_SIZE(types); t++) {
                        int32_t flags = (int32_t)(a << 8 | types[t]);

                        snprintf(key, sizeof(key), "libf%04x.so.1", (unsigned)flags);
                        snprintf(value, sizeof(value), "/usr/lib/flags/%s", key);
                        assert_int_equal(nvh_ldcache_upsert(c, key, value, flags, &err), 0);
                }
        }
        /* ABI notes: Linux 3.10.0 (as our fixtures carry), every OS number up to one past the
         * known ones, and an old-style legacy hwcap value. */
        for (unsigned os = 0; os <= 7; os++) {
                snprintf(key, sizeof(key), "libos%u.so.1", os);
                snprintf(value, sizeof(value), "/usr/lib/os/%s", key);
                assert_int_equal(nvh_ldcache_upsert(c, key, value, X8664, &err), 0);
        }
        for (size_t i = 0; i < c->n_entries; i++) {
                struct nvh_ldcache_entry *e = &c->entries[i];
                unsigned os;

                if (sscanf(e->key, "libos%u.so.1", &os) == 1)
                        e->osversion = os << 24 | 3u << 16 | 10u << 8 | os;
        }
        write_serialized(c, path_in("labels.new"));
        b = parse_file(path_in("labels.new"));
        assert_int_equal(b->n_entries, c->n_entries);
        assert_matches_ldconfig(path_in("labels.new"), b);
        if (ldconfig_glibc > 236)
                fprintf(stderr, "note: LoongArch flags not compared (ldconfig of glibc %d.%d)\n",
                        ldconfig_glibc / 100, ldconfig_glibc % 100);
        nvh_ldcache_free(c);
        nvh_ldcache_free(b);
}

static void
test_libcmp(void **state)
{
        assert_true(nvh_ldcache_libcmp("libnum.so.10", "libnum.so.9") > 0);
        assert_true(nvh_ldcache_libcmp("libx.so.1", "libx.so.1.2") < 0);
        assert_true(nvh_ldcache_libcmp("lib9.so", "libx.so") > 0); /* digits sort above letters */
        assert_int_equal(nvh_ldcache_libcmp("libfoo.so.1", "libfoo.so.1"), 0);
        assert_int_equal(nvh_ldcache_libcmp("libx01y.so", "libx1y.so"), 0);
}

/* ---- write ------------------------------------------------------------------------------- */

static void
roundtrip(const char *src)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *a = parse_file(path_in(src)), *b;
        _cleanup_free_ char *gen = NULL, *orig = NULL, *ours = NULL;
        _cleanup_free_ char *buf1 = NULL, *buf2 = NULL;
        size_t len1, len2;
        char dst[512];

        snprintf(dst, sizeof(dst), "%s.rt", path_in(src));
        write_serialized(a, dst);
        orig = listing_ldconfig(path_in(src), a->n_entries, NULL);
        ours = listing_ldconfig(dst, a->n_entries, &gen);
        assert_string_equal(ours, orig);
        assert_non_null(gen);
        assert_string_equal(gen, "nvhook");
        b = parse_file(dst);
        assert_int_equal(b->format, NVH_LDCACHE_FORMAT_NEW);
        assert_same_cache(a, b);
        /* Writing what we read back is byte-identical. */
        buf1 = slurp(dst, &len1);
        assert_int_equal(nvh_ldcache_serialize(b, &buf2, &len2, &err), 0);
        assert_int_equal(len1, len2);
        assert_memory_equal(buf1, buf2, len1);
        nvh_ldcache_free(a);
        nvh_ldcache_free(b);
}

static void
test_roundtrip(void **state)
{
        roundtrip("hw.new");
        roundtrip("c.new");
        roundtrip("c.compat");
        roundtrip("c.old");
        roundtrip("sort.new");
}

/* Adding the driver's libraries to the cache of a root must give exactly the cache that
 * ldconfig builds for that root with the libraries installed: same entries, same order. */
static void
test_upsert_matches_ldconfig(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = parse_file(path_in("c.new"));
        _cleanup_free_ char *want = NULL, *got = NULL;

        assert_int_equal(
            nvh_ldcache_upsert(c, "libnvidia-ml.so.1", ML "/libnvidia-ml.so.1", X8664, &err), 0);
        assert_int_equal(
            nvh_ldcache_upsert(c, "libcuda.so.1", "/usr/lib32/libcuda.so.1", I386, &err), 0);
        assert_int_equal(nvh_ldcache_upsert(c, "libcuda.so.1", ML "/libcuda.so.1", X8664, &err), 0);
        write_serialized(c, path_in("cuda.ours"));
        want = listing_ldconfig(path_in("cuda.new"), c->n_entries, NULL);
        got = listing_ldconfig(path_in("cuda.ours"), c->n_entries, NULL);
        assert_string_equal(got, want);
        nvh_ldcache_free(c);
}

/* Every soname of a tricky set, inserted in reverse into an empty cache, lands where
 * ldconfig puts it. */
static void
test_upsert_order(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *ref = parse_file(path_in("sort.new"));
        struct nvh_ldcache *c = nvh_ldcache_new();
        _cleanup_free_ char *want = NULL, *got = NULL;

        assert_non_null(c);
        for (size_t i = ref->n_entries; i-- > 0;)
                assert_int_equal(nvh_ldcache_upsert(c, ref->entries[i].key, ref->entries[i].value,
                                                    ref->entries[i].flags, &err),
                                 0);
        /* upsert keeps the array in order already, before serialize sorts it. */
        assert_same_cache(c, ref);
        write_serialized(c, path_in("sort.ours"));
        want = listing_ldconfig(path_in("sort.new"), ref->n_entries, NULL);
        got = listing_ldconfig(path_in("sort.ours"), ref->n_entries, NULL);
        assert_string_equal(got, want);
        nvh_ldcache_free(c);
        nvh_ldcache_free(ref);
}

static void
test_upsert_libcuda(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = parse_file(path_in("hw.new")), *b;
        const char *cuda = "/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04";
        _cleanup_free_ char *buf = NULL, *list = NULL;
        size_t n0 = c->n_entries, len, foo = 0;

        assert_int_equal(nvh_ldcache_upsert(c, "libcuda.so.1", cuda, X8664, &err), 0);
        assert_int_equal(c->n_entries, n0 + 1);
        /* Same key and flags again: replaced, not added. */
        assert_int_equal(nvh_ldcache_upsert(c, "libcuda.so.1", cuda, X8664, &err), 0);
        assert_int_equal(c->n_entries, n0 + 1);
        /* Replacing libfoo.so.1 (x86-64) also drops its two glibc-hwcaps variants, which ld.so
         * would prefer; the i386 entry stays. */
        assert_int_equal(nvh_ldcache_upsert(c, "libfoo.so.1", "/opt/new/libfoo.so.1", X8664, &err),
                         0);
        assert_int_equal(c->n_entries, n0 + 1 - 2);
        for (size_t i = 0; i < c->n_entries; i++)
                if (streq(c->entries[i].key, "libfoo.so.1"))
                        foo++;
        assert_int_equal(foo, 2);

        write_serialized(c, path_in("cuda.hw"));
        list = listing_ldconfig(path_in("cuda.hw"), c->n_entries, NULL);
        assert_non_null(strstr(list, "\tlibcuda.so.1 (libc6,x86-64) => "
                                     "/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04\n"));
        assert_non_null(strstr(list, "\tlibfoo.so.1 (libc6,x86-64) => /opt/new/libfoo.so.1\n"));
        assert_null(strstr(list, "x86-64-v3/libfoo"));
        b = parse_file(path_in("cuda.hw"));
        assert_same_cache(c, b);
        buf = slurp(path_in("cuda.hw"), &len);
        assert_string_equal(ldso_lookup((uint8_t *)buf, len, "libcuda.so.1"), cuda);
        assert_string_equal(ldso_lookup((uint8_t *)buf, len, "libfoo.so.1"),
                            "/opt/new/libfoo.so.1");
        assert_null(ldso_lookup((uint8_t *)buf, len, "libnothere.so.1"));
        for (size_t i = 0; i < c->n_entries; i++)
                if (c->entries[i].flags == X8664 && !c->entries[i].hwcap)
                        assert_non_null(ldso_lookup((uint8_t *)buf, len, c->entries[i].key));

        assert_int_equal(nvh_ldcache_upsert(c, "lib/x.so", cuda, X8664, &err), -EINVAL);
        assert_int_equal(nvh_ldcache_upsert(c, "", cuda, X8664, &err), -EINVAL);
        assert_int_equal(nvh_ldcache_upsert(c, "libx.so.1", "relative/x.so", X8664, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "'relative/x.so'"));
        nvh_ldcache_free(c);
        nvh_ldcache_free(b);
}

static void
test_10000_entries(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = nvh_ldcache_new(), *b;
        _cleanup_free_ char *buf = NULL, *buf2 = NULL, *ours = NULL, *theirs = NULL;
        size_t len, len2;
        char key[64], value[128];

        srand(42);
        for (unsigned i = 0; i < 10000; i++) {
                unsigned k = (unsigned)rand() % 7000; /* some keys twice, 32- and 64-bit */
                int32_t flags = i % 3 ? X8664 : I386;

                snprintf(key, sizeof(key), "libgen%u.so.%u", k, k % 13);
                snprintf(value, sizeof(value), "/usr/lib%s/gen/%s", flags == I386 ? "32" : "64",
                         key);
                assert_int_equal(nvh_ldcache_upsert(c, key, value, flags, &err), 0);
        }
        /* Fill up to exactly 10000 with fresh keys. */
        for (unsigned i = 0; c->n_entries < 10000; i++) {
                snprintf(key, sizeof(key), "libextra%u.so", i);
                snprintf(value, sizeof(value), "/usr/lib64/gen/%s", key);
                assert_int_equal(nvh_ldcache_upsert(c, key, value, X8664, &err), 0);
        }
        assert_int_equal(nvh_ldcache_serialize(c, &buf, &len, &err), 0);
        tu_write_file(path_in("big.new"), buf, len);
        assert_int_equal(nvh_ldcache_parse(buf, len, "big.new", &b, &err), 0);
        assert_int_equal(b->n_entries, 10000);
        assert_same_cache(c, b);
        for (size_t i = 1; i < b->n_entries; i++)
                assert_true(nvh_ldcache_libcmp(b->entries[i - 1].key, b->entries[i].key) >= 0);
        for (size_t i = 0; i < b->n_entries; i++)
                if (b->entries[i].flags == X8664)
                        assert_string_equal(ldso_lookup((uint8_t *)buf, len, b->entries[i].key),
                                            b->entries[i].value);
        ours = listing_ours(b);
        theirs = listing_ldconfig(path_in("big.new"), 10000, NULL);
        assert_string_equal(ours, theirs);
        assert_int_equal(nvh_ldcache_serialize(b, &buf2, &len2, &err), 0);
        assert_int_equal(len, len2);
        assert_memory_equal(buf, buf2, len);
        nvh_ldcache_free(c);
        nvh_ldcache_free(b);
}

/* ---- hostile input ----------------------------------------------------------------------- */

static int
try_parse(const void *buf, size_t len, struct nvh_err *err)
{
        struct nvh_ldcache *c = NULL;
        int r;

        nvh_err_clear(err);
        r = nvh_ldcache_parse(buf, len, "evil.cache", &c, err);
        if (r == 0) {
                /* Whatever parses must serialize and parse back. */
                _cleanup_free_ char *out = NULL;
                struct nvh_ldcache *d = NULL;
                size_t olen;

                assert_int_equal(nvh_ldcache_serialize(c, &out, &olen, err), 0);
                assert_int_equal(nvh_ldcache_parse(out, olen, "again", &d, err), 0);
                assert_int_equal(d->n_entries, c->n_entries);
                nvh_ldcache_free(d);
        } else {
                assert_int_equal(r, -EBADMSG);
                assert_non_null(strstr(err->msg, "'evil.cache'"));
        }
        nvh_ldcache_free(c);
        return r;
}

static void
test_truncated(void **state)
{
        static const char *const files[] = {"c.old", "c.compat", "c.new", "hw.new", "hw.compat"};
        struct nvh_err err = {0};

        for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
                size_t len;
                _cleanup_free_ char *buf = slurp(path_in(files[f]), &len);

                for (size_t cut = 0; cut < len; cut++) {
                        /* A copy of exactly cut bytes, so ASan sees any read past it. */
                        char *p = malloc(cut ? cut : 1);

                        memcpy(p, buf, cut);
                        if (try_parse(p, cut, &err) != -EBADMSG)
                                fail_msg("%s cut at %zu parsed", files[f], cut);
                        free(p);
                }
                assert_int_equal(try_parse(buf, len, &err), 0);
        }
}

static void
test_flipped(void **state)
{
        static const char *const files[] = {"c.old", "c.compat", "hw.new"};
        static const uint8_t flips[] = {0xff, 0x01, 0x80, 0x7f};
        struct nvh_err err = {0};
        size_t ok = 0, bad = 0;

        for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
                size_t len;
                _cleanup_free_ char *buf = slurp(path_in(files[f]), &len);
                _cleanup_free_ char *p = malloc(len);

                for (size_t i = 0; i < len; i++)
                        for (size_t k = 0; k < ARRAY_SIZE(flips); k++) {
                                memcpy(p, buf, len);
                                p[i] ^= (char)flips[k];
                                if (try_parse(p, len, &err) == 0)
                                        ok++;
                                else
                                        bad++;
                        }
        }
        /* Both outcomes occur: flipped string bytes stay valid, flipped offsets do not. */
        assert_true(ok > 0);
        assert_true(bad > 0);
}

/* A one-entry cache of our own, then named fields broken one at a time. */
static void
test_corrupt_fields(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = nvh_ldcache_new();
        _cleanup_free_ char *good = NULL;
        char *p;
        size_t len;
        uint32_t v;

        assert_int_equal(
            nvh_ldcache_upsert(c, "libnvhtest.so.1", "/x/libnvhtest.so.1", X8664, &err), 0);
        assert_int_equal(nvh_ldcache_serialize(c, &good, &len, &err), 0);
        nvh_ldcache_free(c);
        p = malloc(len);

#define BREAK(off, val, needle)                                                                    \
        do {                                                                                       \
                memcpy(p, good, len);                                                              \
                v = (val);                                                                         \
                memcpy(p + (off), &v, 4);                                                          \
                assert_int_equal(try_parse(p, len, &err), -EBADMSG);                               \
                assert_non_null(strstr(err.msg, needle));                                          \
        } while (0)

        BREAK(0, 0x12345678, "bad magic");
        BREAK(20, 0xffffffffu, "entries do not fit");           /* nlibs */
        BREAK(24, 0x7fffffffu, "string table");                 /* len_strings */
        BREAK(28, 3, "byte order");                             /* big endian on LE */
        BREAK(32, 2, "extension offset");                       /* misaligned */
        BREAK(32, 0xfffffff0u, "extension offset");             /* beyond the end */
        BREAK(48 + 4, 0xfffffff0u, "outside the string table"); /* key */
        BREAK(48 + 8, 0x10, "points into the header");          /* value */
        BREAK(48 + 16 + 4, 0x40000000u, "glibc-hwcaps");        /* hwcap ext. index 0 */
        uint32_t ext;
        memcpy(&ext, good + 32, 4);
        BREAK(ext, 0, "extension magic");
        BREAK(ext + 4, 0x10000000u, "extension sections");
        BREAK(ext + 16, 0xfffffff0u, "beyond the end"); /* generator offset */

        /* The last string loses its terminator: len_strings one short. */
        memcpy(p, good, len);
        memcpy(&v, p + 24, 4);
        v -= 1;
        memcpy(p + 24, &v, 4);
        assert_int_equal(try_parse(p, len, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "not NUL-terminated"));

        /* Old format with a huge count, and an old key offset out of range. */
        char old[16 + 12 + 8] = "ld.so-1.7.0";
        v = 0x20000000u;
        memcpy(old + 12, &v, 4);
        assert_int_equal(try_parse(old, sizeof(old), &err), -EBADMSG);
        v = 1;
        memcpy(old + 12, &v, 4);
        v = 3;
        memcpy(old + 16, &v, 4);
        v = 100;
        memcpy(old + 20, &v, 4);
        assert_int_equal(try_parse(old, sizeof(old), &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "outside the string table"));
        v = 0;
        memcpy(old + 20, &v, 4);
        memcpy(old + 24, &v, 4);
        memcpy(old + 28, "libx.so", 8);
        assert_int_equal(try_parse(old, sizeof(old), &err), 0);
        memcpy(old + 28, "libx.so.", 8); /* no NUL left */
        assert_int_equal(try_parse(old, sizeof(old), &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "not NUL-terminated"));
        free(p);
}

/* The machine's own cache, whatever ldconfig wrote there: parse, compare, round trip. */
static void
test_host_cache(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = NULL, *b = NULL;
        _cleanup_free_ char *buf = NULL, *ours = NULL, *theirs = NULL;
        size_t len;

        if (access("/etc/ld.so.cache", R_OK) != 0) {
                fprintf(stderr, "SKIP: test_host_cache: no readable /etc/ld.so.cache\n");
                skip();
        }
        assert_int_equal(nvh_ldcache_load(AT_FDCWD, "/etc/ld.so.cache", &c, &err), 0);
        assert_matches_ldconfig("/etc/ld.so.cache", c);
        assert_int_equal(nvh_ldcache_serialize(c, &buf, &len, &err), 0);
        assert_int_equal(nvh_ldcache_parse(buf, len, "host copy", &b, &err), 0);
        assert_same_cache(c, b);
        tu_write_file(path_in("host.ours"), buf, len);
        ours = listing_ldconfig(path_in("host.ours"), c->n_entries, NULL);
        theirs = listing_ldconfig("/etc/ld.so.cache", c->n_entries, NULL);
        assert_string_equal(ours, theirs);
        nvh_ldcache_free(c);
        nvh_ldcache_free(b);
}

static void
test_load(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = NULL;
        _cleanup_close_ int dir_fd = open(T, O_PATH | O_DIRECTORY | O_CLOEXEC);

        assert_true(dir_fd >= 0);
        assert_int_equal(nvh_ldcache_load(dir_fd, "hw.new", &c, &err), 0);
        assert_true(c->n_entries > 0);
        nvh_ldcache_free(c);
        assert_int_equal(nvh_ldcache_load(dir_fd, "missing.cache", &c, &err), -ENOENT);
        assert_int_equal(tu_sh("ln -sf hw.new '%s/link.cache'", T), 0);
        assert_int_equal(nvh_ldcache_load(dir_fd, "link.cache", &c, &err), -ELOOP);
        assert_int_equal(tu_sh("head -c 100 '%s/hw.new' > '%s/short.cache'", T, T), 0);
        assert_int_equal(nvh_ldcache_load(dir_fd, "short.cache", &c, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "'short.cache'"));
}

/* nvh_ldcache_upsert_many gives byte for byte the cache that one nvh_ldcache_upsert per entry
 * gives, on every fixture: replacements of glibc-hwcaps variants, the same key twice (the later
 * wins), libcmp-equal but different keys, both classes; and a bad entry changes nothing. */
static void
test_upsert_many(void **state)
{
        static const char *const files[] = {"hw.new", "c.new", "sort.new", "x32.new"};
        const char *cuda = "/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04";
        const struct nvh_ldcache_add adds[] = {
            {"libcuda.so.1", cuda, X8664},
            {"libfoo.so.1", "/opt/new/libfoo.so.1", X8664},
            {"libnvidia-ml.so.1", ML "/libnvidia-ml.so.1", X8664},
            {"libcuda.so.1", "/usr/lib32/libcuda.so.1", I386},
            {"libfoo.so.01", "/opt/new/libfoo.so.01", X8664},
            {"libcuda.so.1", ML "/libcuda.so.1.again", X8664},
            {"libc.so.6", "/opt/new/libc.so.6", X8664},
            {"libzzz.so.1", "/opt/new/libzzz.so.1", X32},
            {"liba.so.1", "/opt/new/liba.so.1", X8664},
        };
        struct nvh_err err = {0};

        for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
                struct nvh_ldcache *a = parse_file(path_in(files[f]));
                struct nvh_ldcache *b = parse_file(path_in(files[f]));
                _cleanup_free_ char *ba = NULL, *bb = NULL;
                size_t la = 0, lb = 0, n0 = b->n_entries;
                const struct nvh_ldcache_add bad[] = {{"libok.so.1", "/ok/libok.so.1", X8664},
                                                      {"lib/bad.so", "/x", X8664}};

                for (size_t i = 0; i < ARRAY_SIZE(adds); i++)
                        assert_int_equal(
                            nvh_ldcache_upsert(a, adds[i].key, adds[i].value, adds[i].flags, &err),
                            0);
                assert_int_equal(nvh_ldcache_upsert_many(b, bad, ARRAY_SIZE(bad), &err), -EINVAL);
                assert_int_equal(b->n_entries, n0);
                assert_int_equal(nvh_ldcache_upsert_many(b, adds, ARRAY_SIZE(adds), &err), 0);
                assert_int_equal(nvh_ldcache_upsert_many(b, adds, 0, &err), 0);
                assert_same_cache(b, a);
                assert_int_equal(nvh_ldcache_serialize(a, &ba, &la, &err), 0);
                assert_int_equal(nvh_ldcache_serialize(b, &bb, &lb, &err), 0);
                assert_int_equal(la, lb);
                assert_memory_equal(ba, bb, la);
                nvh_ldcache_free(a);
                nvh_ldcache_free(b);
        }
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_parse_new),
            cmocka_unit_test(test_parse_compat),
            cmocka_unit_test(test_parse_old),
            cmocka_unit_test(test_flags),
            cmocka_unit_test(test_x32),
            cmocka_unit_test(test_labels),
            cmocka_unit_test(test_libcmp),
            cmocka_unit_test(test_roundtrip),
            cmocka_unit_test(test_upsert_matches_ldconfig),
            cmocka_unit_test(test_upsert_order),
            cmocka_unit_test(test_upsert_libcuda),
            cmocka_unit_test(test_upsert_many),
            cmocka_unit_test(test_10000_entries),
            cmocka_unit_test(test_truncated),
            cmocka_unit_test(test_flipped),
            cmocka_unit_test(test_corrupt_fields),
            cmocka_unit_test(test_host_cache),
            cmocka_unit_test(test_load),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
