/* SPDX-License-Identifier: Apache-2.0 */
/* What a hostile ld.so.cache may cost (issue 8.2): caches built byte by byte here, where many
 * entries share one long string, must parse in bounded memory; caches over the limits are
 * refused with a one-line error naming the file and the limit. Also: an x32 entry is never
 * taken for i386 (issue 8, lower items), checked on a cache written by our writer and read
 * back by the real `ldconfig -p -C`. */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "layout.h"
#include "ldcache.h"
#include "macros.h"

#define X8664 (NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_X8664_LIB64)
#define X32 (NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_X8664_LIBX32)
#define I386 (NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_I386)

#define HDR 48u
#define ENT 24u

static const char *T;

static void
put32(uint8_t *p, uint32_t v)
{
        memcpy(p, &v, sizeof(v));
}

/* A new-format cache of exactly size bytes (or, when size is 0, just big enough) with n
 * x86-64 entries whose keys all point at one key_len-byte soname and whose values all point at
 * one value_len-byte path. */
static uint8_t *
shared_string_cache(uint32_t n, size_t key_len, size_t value_len, size_t size, size_t *ret_len)
{
        size_t strings = key_len + 1 + value_len + 1, tab = HDR + (size_t)n * ENT;
        size_t len = size ? size : tab + strings;
        uint8_t *b;

        assert_true(len >= tab + strings);
        b = calloc(1, len);
        assert_non_null(b);
        memcpy(b, "glibc-ld.so.cache1.1", 20);
        put32(b + 20, n);
        put32(b + 24, (uint32_t)(len - tab));
        b[28] = 2; /* little endian, as on the hosts this runs on */
        memset(b + tab, 'k', key_len);
        memcpy(b + tab, "lib", 3);
        memset(b + tab + key_len + 1, 'v', value_len);
        b[tab + key_len + 1] = '/';
        for (uint32_t i = 0; i < n; i++) {
                uint8_t *e = b + HDR + (size_t)i * ENT;

                put32(e, X8664);
                put32(e + 4, (uint32_t)(tab - 0));
                put32(e + 8, (uint32_t)(tab + key_len + 1));
        }
        *ret_len = len;
        return b;
}

static long
maxrss_kib(void)
{
        struct rusage ru;

        assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
        return ru.ru_maxrss;
}

/* 2 MiB, ~87k entries, every key the longest soname and every value the longest path we
 * accept, all shared: copying strings per entry costs ~370 MB; slices cost the file and 32
 * bytes per entry. */
static void
test_many_entries_one_string(void **state)
{
        const size_t size = 2u << 20, key_len = NVH_LDCACHE_MAX_KEY,
                     value_len = NVH_LDCACHE_MAX_VALUE - 1;
        uint32_t n = (uint32_t)((size - HDR - key_len - value_len - 2) / ENT);
        struct nvh_err err = {0};
        struct nvh_ldcache *c = NULL;
        size_t len;
        _cleanup_free_ uint8_t *b = shared_string_cache(n, key_len, value_len, size, &len);
        long before, grown;

        assert_int_equal(len, size);
        before = maxrss_kib();
        assert_int_equal(nvh_ldcache_parse(b, len, "shared.cache", &c, &err), 0);
        grown = maxrss_kib() - before;
        assert_int_equal(c->n_entries, n);
        assert_int_equal(strlen(c->entries[n - 1].key), key_len);
        assert_int_equal(strlen(c->entries[n - 1].value), value_len);
        /* The copy (2 MiB) and the entries (32 bytes each, ~2.7 MiB), with room for the
         * sanitizer's allocator: well under 5% of what per-entry copies took. */
        fprintf(stderr, "parse of %u shared entries grew maxrss by %ld KiB\n", n, grown);
        assert_true(grown < 16 * 1024);
        nvh_ldcache_free(c);
}

/* One string longer than any path: refused at the first entry, not scanned per entry. */
static void
test_overlong_string(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = NULL;
        size_t len;
        _cleanup_free_ uint8_t *b = shared_string_cache(60000, 8, 1u << 20, 0, &len);

        assert_int_equal(nvh_ldcache_parse(b, len, "long.cache", &c, &err), -EBADMSG);
        assert_null(c);
        assert_non_null(strstr(err.msg, "'long.cache'"));
        assert_non_null(strstr(err.msg, "longer than 4096 bytes"));
        _cleanup_free_ uint8_t *k = shared_string_cache(10, 300, 8, 0, &len);
        assert_int_equal(nvh_ldcache_parse(k, len, "key.cache", &c, &err), -EBADMSG);
        assert_non_null(strstr(err.msg, "key of entry 0 is longer than 255 bytes"));
}

static void
test_over_entry_limit(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = NULL;
        size_t len;
        char want[128];
        _cleanup_free_ uint8_t *b =
            shared_string_cache(NVH_LDCACHE_MAX_ENTRIES + 1, 8, 16, 0, &len);

        assert_int_equal(nvh_ldcache_parse(b, len, "/etc/ld.so.cache", &c, &err), -E2BIG);
        assert_null(c);
        snprintf(want, sizeof(want),
                 "ld.so.cache '/etc/ld.so.cache': %u entries exceed the limit of %u",
                 NVH_LDCACHE_MAX_ENTRIES + 1, NVH_LDCACHE_MAX_ENTRIES);
        assert_string_equal(err.msg, want);
        assert_null(strchr(err.msg, '\n'));

        /* At the limit it parses. */
        _cleanup_free_ uint8_t *ok = shared_string_cache(NVH_LDCACHE_MAX_ENTRIES, 8, 16, 0, &len);
        assert_int_equal(nvh_ldcache_parse(ok, len, "/etc/ld.so.cache", &c, &err), 0);
        assert_int_equal(c->n_entries, NVH_LDCACHE_MAX_ENTRIES);
        nvh_ldcache_free(c);
}

static void
test_over_size_limit(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = NULL;
        size_t len;
        char path[PATH_MAX], want[160];
        _cleanup_free_ uint8_t *b = shared_string_cache(4, 8, 16, NVH_LDCACHE_MAX_SIZE + 1, &len);

        assert_int_equal(nvh_ldcache_parse(b, len, "big.cache", &c, &err), -E2BIG);
        snprintf(want, sizeof(want),
                 "ld.so.cache 'big.cache' of %u bytes exceeds the limit of %u bytes",
                 NVH_LDCACHE_MAX_SIZE + 1, NVH_LDCACHE_MAX_SIZE);
        assert_string_equal(err.msg, want);

        /* Read from a file: refused while reading, the message names file and limit. */
        snprintf(path, sizeof(path), "%s/big.cache", T);
        tu_write_file(path, b, len);
        assert_int_equal(nvh_ldcache_load(AT_FDCWD, path, &c, &err), -E2BIG);
        assert_non_null(strstr(err.msg, path));
        snprintf(want, sizeof(want), "%u bytes", NVH_LDCACHE_MAX_SIZE);
        assert_non_null(strstr(err.msg, want));
}

/* Upserts in ldconfig's order append; the cache refuses the one past the limit and stays
 * usable. */
static void
test_upsert_limit(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = nvh_ldcache_new();
        char key[64];

        assert_non_null(c);
        for (uint32_t i = NVH_LDCACHE_MAX_ENTRIES; i > 0; i--) {
                snprintf(key, sizeof(key), "libn%u.so", i);
                assert_int_equal(nvh_ldcache_upsert(c, key, "/usr/lib64/libn.so", X8664, &err), 0);
        }
        assert_int_equal(c->n_entries, NVH_LDCACHE_MAX_ENTRIES);
        assert_int_equal(nvh_ldcache_upsert(c, "libnew.so", "/usr/lib64/x.so", X8664, &err),
                         -E2BIG);
        assert_non_null(strstr(err.msg, "'libnew.so'"));
        /* Replacing one is still fine: the count does not grow. */
        assert_int_equal(nvh_ldcache_upsert(c, "libn7.so", "/opt/libn7.so", X8664, &err), 0);
        assert_int_equal(c->n_entries, NVH_LDCACHE_MAX_ENTRIES);
        for (size_t i = 1; i < c->n_entries; i++)
                assert_true(nvh_ldcache_libcmp(c->entries[i - 1].key, c->entries[i].key) > 0);
        nvh_ldcache_free(c);
}

/* A cache whose entries are out of order (a hostile or foreign writer): upsert still
 * replaces every variant of the key, and the result is in ldconfig's order. */
static void
test_upsert_unsorted(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = NULL;
        uint8_t b[HDR + 3 * ENT + 64] = {0};
        const char *strs = "liba.so\0/a\0libz.so\0/z\0";
        size_t tab = HDR + 3 * ENT, n = 0;

        memcpy(b, "glibc-ld.so.cache1.1", 20);
        put32(b + 20, 3);
        put32(b + 24, 22);
        b[28] = 2;
        memcpy(b + tab, strs, 22);
        /* liba, libz, liba: ascending, where ldconfig writes descending. */
        const uint32_t keys[3] = {0, 11, 0}, values[3] = {8, 19, 8};
        for (int i = 0; i < 3; i++) {
                put32(b + HDR + i * ENT, X8664);
                put32(b + HDR + i * ENT + 4, (uint32_t)tab + keys[i]);
                put32(b + HDR + i * ENT + 8, (uint32_t)tab + values[i]);
        }
        assert_int_equal(nvh_ldcache_parse(b, sizeof(b), "unsorted", &c, &err), 0);
        assert_int_equal(nvh_ldcache_upsert(c, "liba.so", "/new/liba.so", X8664, &err), 0);
        for (size_t i = 0; i < c->n_entries; i++)
                n += streq(c->entries[i].key, "liba.so");
        assert_int_equal(n, 1);
        assert_int_equal(c->n_entries, 2);
        assert_string_equal(c->entries[0].key, "libz.so");
        assert_string_equal(c->entries[1].value, "/new/liba.so");
        nvh_ldcache_free(c);
}

static void
test_abi_helper(void **state)
{
        assert_true(nvh_ldcache_flags_i386(I386));
        assert_false(nvh_ldcache_flags_i386(X32));
        assert_false(nvh_ldcache_flags_i386(X8664));
        assert_false(nvh_ldcache_flags_i386(0x0903)); /* armhf */
        assert_false(nvh_ldcache_flags_i386(0x0001)); /* plain ELF, not libc6 */
        assert_string_equal(nvh_ldcache_arch_name(X32), "x32");
}

/* An image whose cache lists libc.so.6 for x86-64, x32 and i386 (written by our writer,
 * checked by the real ldconfig): the 32-bit directory is i386's, never /usr/libx32, which
 * sorts first (larger flags). */
static void
test_x32_not_i386(void **state)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = nvh_ldcache_new();
        struct nvh_layout l;
        _cleanup_free_ char *buf = NULL;
        char root[PATH_MAX - 64], path[PATH_MAX];
        size_t len;
        int root_fd;

        snprintf(root, sizeof(root), "%s/x32root", T);
        assert_int_equal(tu_sh("mkdir -p '%s/etc' '%s/usr/libx32' '%s/usr/lib32' "
                               "'%s/lib/x86_64-linux-gnu'",
                               root, root, root, root),
                         0);
        assert_non_null(c);
        assert_int_equal(nvh_ldcache_upsert(c, "libc.so.6", "/usr/libx32/libc.so.6", X32, &err), 0);
        assert_int_equal(nvh_ldcache_upsert(c, "libc.so.6", "/usr/lib32/libc.so.6", I386, &err), 0);
        assert_int_equal(
            nvh_ldcache_upsert(c, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", X8664, &err), 0);
        assert_string_equal(c->entries[0].value, "/usr/libx32/libc.so.6");
        assert_int_equal(nvh_ldcache_serialize(c, &buf, &len, &err), 0);
        snprintf(path, sizeof(path), "%s/etc/ld.so.cache", root);
        tu_write_file(path, buf, len);
        nvh_ldcache_free(c);

        /* The real reader agrees on the entries and their order. */
        assert_int_equal(tu_sh("ldconfig -p -C '%s' > '%s/x32.txt'", path, T), 0);
        assert_int_equal(tu_sh("set -e; f='%s/x32.txt'; head -n1 \"$f\" | grep -q '^3 libs found'\n"
                               "sed -n 2p \"$f\" | grep -q 'libc.so.6 (libc6,x32) => "
                               "/usr/libx32/libc.so.6'\n"
                               "sed -n 3p \"$f\" | grep -q 'libc.so.6 (libc6,x86-64) => "
                               "/lib/x86_64-linux-gnu/libc.so.6'\n"
                               "sed -n 4p \"$f\" | grep -q 'libc.so.6 (libc6) => "
                               "/usr/lib32/libc.so.6'",
                               T),
                         0);

        root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(root_fd >= 0);
        assert_int_equal(nvh_layout_probe_fd(root_fd, &l, &err), 0);
        close(root_fd);
        assert_string_equal(l.libdir, "/lib/x86_64-linux-gnu");
        assert_string_equal(l.libdir32, "/usr/lib32");
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_many_entries_one_string),
            cmocka_unit_test(test_overlong_string),
            cmocka_unit_test(test_over_entry_limit),
            cmocka_unit_test(test_over_size_limit),
            cmocka_unit_test(test_upsert_limit),
            cmocka_unit_test(test_upsert_unsorted),
            cmocka_unit_test(test_abi_helper),
            cmocka_unit_test(test_x32_not_i386),
        };

        T = tu_tmpdir();
        return cmocka_run_group_tests(tests, NULL, NULL);
}
