/* SPDX-License-Identifier: Apache-2.0 */
/* mkhostile OUT MODE [N]: write a hostile new-format ld.so.cache (glibc-ld.so.cache1.1) for
 * tests/security/test_sec_caches.sh, built with gcc at test time:
 *   valid N   N distinct x86-64 entries plus libc.so.6 in /usr/lib64
 *   bomb N    N bytes in all: every entry's key and value point at the same two strings, the
 *             value 4000 bytes long (copied per entry, N bytes cost 170 times N)
 *   x32       libc.so.6 for x86-64 in /usr/lib64 and for x32 in /usr/libx32 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hdr {
        char magic[17];
        char version[3];
        uint32_t nlibs, len_strings;
        uint8_t flags, pad[3];
        uint32_t ext_off, unused[3];
};
struct ent {
        int32_t flags;
        uint32_t key, value, osversion;
        uint64_t hwcap;
};

#define LIBC6_X8664 0x0303
#define LIBC6_X32 0x0803

static void
put(FILE *f, uint32_t n, const struct ent *e, const char *str, uint32_t len_str)
{
        struct hdr h = {.nlibs = n, .len_strings = len_str, .flags = 2};

        memcpy(h.magic, "glibc-ld.so.cache", 17);
        memcpy(h.version, "1.1", 3);
        if (fwrite(&h, sizeof(h), 1, f) != 1 || fwrite(e, sizeof(*e), n, f) != n ||
            fwrite(str, 1, len_str, f) != len_str)
                exit(1);
}

int
main(int argc, char **argv)
{
        FILE *f;
        long n = argc > 3 ? atol(argv[3]) : 0;
        struct ent *e;
        char *str;
        uint32_t base, len = 0;

        if (argc < 3 || !(f = fopen(argv[1], "wb")))
                return 2;
        if (!strcmp(argv[2], "valid")) {
                e = calloc(n + 1, sizeof(*e));
                str = malloc((n + 1) * 64);
                base = sizeof(struct hdr) + (n + 1) * sizeof(*e);
                for (long i = 0; i <= n; i++) {
                        uint32_t k = len;
                        if (i == n) {
                                len += sprintf(str + len, "libc.so.6") + 1;
                                e[i].value = base + len;
                                len += sprintf(str + len, "/usr/lib64/libc.so.6") + 1;
                        } else {
                                len += sprintf(str + len, "libh%07ld.so.1", i) + 1;
                                e[i].value = base + len;
                                len += sprintf(str + len, "/usr/lib64/libh%07ld.so.1", i) + 1;
                        }
                        e[i].key = base + k;
                        e[i].flags = LIBC6_X8664;
                }
                put(f, n + 1, e, str, len);
        } else if (!strcmp(argv[2], "bomb")) {
                /* One short key and one 4000-byte path (within any sane per-string cap), shared
                 * by every entry: the rest of the N bytes are entries. */
                long ls = 13 + 4001, ne = (n - (long)sizeof(struct hdr) - ls) / (long)sizeof(*e);
                e = calloc(ne, sizeof(*e));
                str = calloc(1, ls);
                base = sizeof(struct hdr) + ne * sizeof(*e);
                memcpy(str, "libbomb.so.1", 13);
                str[13] = '/';
                memset(str + 14, 'a', ls - 15);
                for (long i = 0; i < ne; i++)
                        e[i] = (struct ent){.flags = LIBC6_X8664, .key = base, .value = base + 13};
                put(f, ne, e, str, ls);
        } else if (!strcmp(argv[2], "x32")) {
                static const char s[] = "libc.so.6\0/usr/lib64/libc.so.6\0/usr/libx32/libc.so.6";
                e = calloc(2, sizeof(*e));
                base = sizeof(struct hdr) + 2 * sizeof(*e);
                e[0] = (struct ent){.flags = LIBC6_X32, .key = base, .value = base + 31};
                e[1] = (struct ent){.flags = LIBC6_X8664, .key = base, .value = base + 10};
                put(f, 2, e, s, sizeof(s));
        } else {
                return 2;
        }
        return fclose(f) ? 1 : 0;
}
