/* SPDX-License-Identifier: Apache-2.0 */
/* ld.so.cache reader (the writer is lib/ldcache_write.c). The layouts follow glibc
 * (sysdeps/generic/dl-cache.h, elf/cache.c); the file is in host byte order, as ld.so reads it.
 *
 *   old:    "ld.so-1.7.0" u32 nlibs, nlibs x {i32 flags, u32 key, u32 value}, strings;
 *           string offsets count from the end of the entry array.
 *   new:    "glibc-ld.so.cache1.1" u32 nlibs, u32 len_strings, u8 flags (endianness), 3 pad,
 *           u32 extension_offset, 3 x u32 unused (48 bytes), nlibs x {i32 flags, u32 key,
 *           u32 value, u32 osversion, u64 hwcap} (24 bytes), strings, then (at a 4-aligned
 *           file offset) the extension directory; string offsets count from the new header,
 *           extension offsets from the start of the file.
 *   compat: old header and entries, the new header at the next 8-byte boundary. */
#include "ldcache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "ldcache_internal.h"
#include "macros.h"

static inline uint32_t
rd32(const uint8_t *p)
{
        uint32_t v;

        memcpy(&v, p, sizeof(v));
        return v;
}

static inline uint64_t
rd64(const uint8_t *p)
{
        uint64_t v;

        memcpy(&v, p, sizeof(v));
        return v;
}

struct nvh_ldcache *
nvh_ldcache_new(void)
{
        struct nvh_ldcache *c = calloc(1, sizeof(*c));

        if (c) {
                c->format = NVH_LDCACHE_FORMAT_NEW;
                c->sorted = true;
        }
        return c;
}

void
nvh_ldcache_free(struct nvh_ldcache *cache)
{
        if (!cache)
                return;
        free(cache->entries);
        free(cache->hwcaps);
        free(cache->buf);
        for (size_t i = 0; i < cache->n_added; i++)
                free(cache->added[i]);
        free(cache->added);
        free(cache);
}

static void
ldcache_freep(struct nvh_ldcache **c)
{
        nvh_ldcache_free(*c);
}
#define _cleanup_ldcache_ _cleanup_(ldcache_freep)

bool
nvh_ldcache_hwcap_is_extension(uint64_t hwcap)
{
        return ((hwcap >> 32) & ~(uint64_t)HWCAP_ISA_LEVEL_MASK) ==
               (NVH_LDCACHE_HWCAP_EXTENSION >> 32);
}

const char *
nvh_ldcache_entry_hwcaps(const struct nvh_ldcache *cache, const struct nvh_ldcache_entry *entry)
{
        uint32_t idx;

        if (!nvh_ldcache_hwcap_is_extension(entry->hwcap))
                return NULL;
        idx = (uint32_t)entry->hwcap;
        return idx < cache->n_hwcaps ? cache->hwcaps[idx] : NULL;
}

/* The string at off inside [tab, tab + tab_len): it must start there and end (NUL) within
 * max bytes, so that checking n entries costs at most n * max whatever the table holds. */
static int
get_string(const uint8_t *tab, size_t tab_len, uint32_t off, size_t max, const char *what,
           const char *field, size_t idx, const char **ret, struct nvh_err *err)
{
        size_t span;

        if (off >= tab_len)
                return nvh_err_set(err, -EBADMSG,
                                   "corrupt ld.so.cache '%s': %s offset %u of entry %zu outside "
                                   "the string table (%zu bytes)",
                                   what, field, off, idx, tab_len);
        span = tab_len - off < max + 1 ? tab_len - off : max + 1;
        if (!memchr(tab + off, '\0', span))
                return nvh_err_set(err, -EBADMSG,
                                   span > max ? "corrupt ld.so.cache '%s': %s of entry %zu is "
                                                "longer than %zu bytes"
                                              : "corrupt ld.so.cache '%s': %s of entry %zu is not "
                                                "NUL-terminated",
                                   what, field, idx, max);
        *ret = (const char *)tab + off;
        return 0;
}

static int
alloc_entries(struct nvh_ldcache *c, uint32_t n, const char *what, struct nvh_err *err)
{
        if (n > NVH_LDCACHE_MAX_ENTRIES)
                return nvh_err_set(err, -E2BIG,
                                   "ld.so.cache '%s': %u entries exceed the limit of %u", what, n,
                                   NVH_LDCACHE_MAX_ENTRIES);
        c->entries = calloc(n ? n : 1, sizeof(*c->entries));
        if (c->entries)
                nvh_fileio_prefault(c->entries, (n ? n : 1) * sizeof(*c->entries));
        if (!c->entries)
                return nvh_err_set(err, -ENOMEM, "parse '%s': out of memory", what);
        c->cap_entries = n ? n : 1;
        return 0;
}

static int
parse_old(const uint8_t *p, size_t len, uint32_t nlibs, const char *what, struct nvh_ldcache *c,
          struct nvh_err *err)
{
        size_t tab = OLD_HDR_SIZE + (size_t)nlibs * OLD_ENTRY_SIZE;
        int r;

        r = alloc_entries(c, nlibs, what, err);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < nlibs; i++) {
                const uint8_t *e = p + OLD_HDR_SIZE + (size_t)i * OLD_ENTRY_SIZE;
                struct nvh_ldcache_entry *ent = &c->entries[i];

                ent->flags = (int32_t)rd32(e);
                r = get_string(p + tab, len - tab, rd32(e + 4), NVH_LDCACHE_MAX_KEY, what, "key", i,
                               &ent->key, err);
                if (r < 0)
                        return r;
                r = get_string(p + tab, len - tab, rd32(e + 8), NVH_LDCACHE_MAX_VALUE, what,
                               "value", i, &ent->value, err);
                if (r < 0)
                        return r;
                c->n_entries++;
        }
        return 0;
}

/* Extension directory (glibc >= 2.33). Offsets are file offsets; every one is checked against
 * the file size the way glibc's cache_extension_load does. Only the glibc-hwcaps section is
 * kept; its entries are string offsets relative to the new header (glibc's writer; glibc's
 * own reader takes them from the start of the file, which only differs in compat files). */
static int
parse_extensions(const uint8_t *p, size_t len, size_t hdr, uint32_t ext_off, size_t tab,
                 size_t tab_len, const char *what, struct nvh_ldcache *c, struct nvh_err *err)
{
        uint32_t count, hw_off = 0, hw_size = 0;

        if (ext_off == 0)
                return 0;
        if (ext_off % 4 != 0 || (size_t)ext_off + EXT_HDR_SIZE > len)
                return nvh_err_set(err, -EBADMSG,
                                   "corrupt ld.so.cache '%s': extension offset %u is misaligned "
                                   "or beyond the end (%zu bytes)",
                                   what, ext_off, len);
        if (rd32(p + ext_off) != EXT_MAGIC)
                return nvh_err_set(err, -EBADMSG, "corrupt ld.so.cache '%s': bad extension magic",
                                   what);
        count = rd32(p + ext_off + 4);
        if ((len - ext_off - EXT_HDR_SIZE) / EXT_SECTION_SIZE < count)
                return nvh_err_set(err, -EBADMSG,
                                   "corrupt ld.so.cache '%s': %u extension sections do not fit",
                                   what, count);
        for (uint32_t i = 0; i < count; i++) {
                const uint8_t *s = p + ext_off + EXT_HDR_SIZE + (size_t)i * EXT_SECTION_SIZE;
                uint32_t tag = rd32(s), off = rd32(s + 8), size = rd32(s + 12);

                if ((uint64_t)off + size > len)
                        return nvh_err_set(err, -EBADMSG,
                                           "corrupt ld.so.cache '%s': extension section %u "
                                           "(offset %u, %u bytes) beyond the end",
                                           what, i, off, size);
                if (tag == EXT_TAG_HWCAPS) {
                        hw_off = off;
                        hw_size = size;
                }
        }
        /* glibc ignores a malformed hwcaps section rather than failing. */
        if (hw_size == 0 || hw_off % 4 != 0 || hw_size % 4 != 0)
                return 0;
        if (hw_size / 4 > NVH_LDCACHE_MAX_HWCAPS)
                return nvh_err_set(err, -E2BIG,
                                   "ld.so.cache '%s': %u glibc-hwcaps names exceed the limit of %u",
                                   what, hw_size / 4, NVH_LDCACHE_MAX_HWCAPS);
        c->hwcaps = calloc(hw_size / 4, sizeof(*c->hwcaps));
        if (!c->hwcaps)
                return nvh_err_set(err, -ENOMEM, "parse '%s': out of memory", what);
        for (uint32_t i = 0; i < hw_size / 4; i++) {
                uint32_t so = rd32(p + hw_off + (size_t)i * 4);
                int r;

                if (so < tab - hdr)
                        return nvh_err_set(err, -EBADMSG,
                                           "corrupt ld.so.cache '%s': glibc-hwcaps name %u "
                                           "outside the string table",
                                           what, i);
                r = get_string(p + tab, tab_len, so - (uint32_t)(tab - hdr), NVH_LDCACHE_MAX_KEY,
                               what, "hwcaps name", i, &c->hwcaps[i], err);
                if (r < 0)
                        return r;
                c->n_hwcaps++;
        }
        return 0;
}

static int
parse_new(const uint8_t *p, size_t len, size_t hdr, const char *what, struct nvh_ldcache *c,
          struct nvh_err *err)
{
        size_t avail = len - hdr, tab, tab_len;
        uint32_t nlibs, len_strings, ext_off;
        uint8_t endian;
        int r;

        if (avail < NEW_HDR_SIZE)
                return nvh_err_set(err, -EBADMSG, "corrupt ld.so.cache '%s': truncated header",
                                   what);
        nlibs = rd32(p + hdr + 20);
        len_strings = rd32(p + hdr + 24);
        endian = p[hdr + 28] & ENDIAN_MASK;
        ext_off = rd32(p + hdr + 32);
        if (endian != 0 && endian != ENDIAN_CURRENT)
                return nvh_err_set(err, -EBADMSG,
                                   "corrupt ld.so.cache '%s': wrong byte order (flags %u)", what,
                                   endian);
        if ((avail - NEW_HDR_SIZE) / NEW_ENTRY_SIZE < nlibs)
                return nvh_err_set(err, -EBADMSG,
                                   "corrupt ld.so.cache '%s': %u entries do not fit in %zu bytes",
                                   what, nlibs, len);
        tab = hdr + NEW_HDR_SIZE + (size_t)nlibs * NEW_ENTRY_SIZE;
        if (len_strings > len - tab)
                return nvh_err_set(err, -EBADMSG,
                                   "corrupt ld.so.cache '%s': string table of %u bytes beyond the "
                                   "end",
                                   what, len_strings);
        tab_len = len_strings;
        r = alloc_entries(c, nlibs, what, err);
        if (r < 0)
                return r;
        r = parse_extensions(p, len, hdr, ext_off, tab, tab_len, what, c, err);
        if (r < 0)
                return r;
        for (uint32_t i = 0; i < nlibs; i++) {
                const uint8_t *e = p + hdr + NEW_HDR_SIZE + (size_t)i * NEW_ENTRY_SIZE;
                struct nvh_ldcache_entry *ent = &c->entries[i];
                uint32_t key = rd32(e + 4), value = rd32(e + 8);

                ent->flags = (int32_t)rd32(e);
                ent->osversion = rd32(e + 12);
                ent->hwcap = rd64(e + 16);
                if (key < tab - hdr || value < tab - hdr)
                        return nvh_err_set(err, -EBADMSG,
                                           "corrupt ld.so.cache '%s': entry %u points into the "
                                           "header",
                                           what, i);
                r = get_string(p + tab, tab_len, key - (uint32_t)(tab - hdr), NVH_LDCACHE_MAX_KEY,
                               what, "key", i, &ent->key, err);
                if (r < 0)
                        return r;
                r = get_string(p + tab, tab_len, value - (uint32_t)(tab - hdr),
                               NVH_LDCACHE_MAX_VALUE, what, "value", i, &ent->value, err);
                if (r < 0)
                        return r;
                c->n_entries++;
                if (nvh_ldcache_hwcap_is_extension(ent->hwcap) &&
                    (uint32_t)ent->hwcap >= c->n_hwcaps)
                        return nvh_err_set(err, -EBADMSG,
                                           "corrupt ld.so.cache '%s': entry %u names glibc-hwcaps "
                                           "subdirectory %u of %zu",
                                           what, i, (uint32_t)ent->hwcap, c->n_hwcaps);
        }
        return 0;
}

static int
parse_formats(const uint8_t *p, size_t len, const char *what, struct nvh_ldcache *c,
              struct nvh_err *err)
{
        if (len >= OLD_MAGIC_LEN && memcmp(p, OLD_MAGIC, OLD_MAGIC_LEN) == 0) {
                uint32_t nlibs;
                size_t hdr;

                if (len < OLD_HDR_SIZE)
                        return nvh_err_set(err, -EBADMSG,
                                           "corrupt ld.so.cache '%s': truncated header", what);
                nlibs = rd32(p + 12);
                if ((len - OLD_HDR_SIZE) / OLD_ENTRY_SIZE < nlibs)
                        return nvh_err_set(err, -EBADMSG,
                                           "corrupt ld.so.cache '%s': %u entries do not fit in "
                                           "%zu bytes",
                                           what, nlibs, len);
                hdr = OLD_HDR_SIZE + (size_t)nlibs * OLD_ENTRY_SIZE;
                hdr = (hdr + NEW_ALIGN - 1) & ~(size_t)(NEW_ALIGN - 1);
                /* Anything that starts like the new magic there is a (maybe truncated) new
                 * part: parse it as such rather than misreading it as old strings. */
                if (hdr < len &&
                    memcmp(p + hdr, NEW_MAGIC,
                           len - hdr < NEW_MAGIC_LEN ? len - hdr : NEW_MAGIC_LEN) == 0) {
                        c->format = NVH_LDCACHE_FORMAT_COMPAT;
                        if (len - hdr < NEW_MAGIC_LEN)
                                return nvh_err_set(err, -EBADMSG,
                                                   "corrupt ld.so.cache '%s': truncated header",
                                                   what);
                        return parse_new(p, len, hdr, what, c, err);
                }
                c->format = NVH_LDCACHE_FORMAT_OLD;
                return parse_old(p, len, nlibs, what, c, err);
        }
        if (len >= NEW_MAGIC_LEN && memcmp(p, NEW_MAGIC, NEW_MAGIC_LEN) == 0) {
                c->format = NVH_LDCACHE_FORMAT_NEW;
                return parse_new(p, len, 0, what, c, err);
        }
        return nvh_err_set(err, -EBADMSG, "corrupt ld.so.cache '%s': bad magic", what);
}

/* Trusts nothing in buf: every count, offset and string terminator is checked against len
 * before use, and the counts against the limits before anything is allocated for them. Takes
 * buf (malloc'ed, len bytes) in every case. On success every entry's key and value are
 * NUL-terminated slices of buf and every extension entry has a valid glibc-hwcaps index. */
static int
parse_owned(char *buf, size_t len, const char *what, struct nvh_ldcache **ret, struct nvh_err *err)
{
        _cleanup_free_ char *owned = buf;
        _cleanup_ldcache_ struct nvh_ldcache *c = NULL;
        int r;

        if (!what)
                what = "ld.so.cache";
        if (len > NVH_LDCACHE_MAX_SIZE)
                return nvh_err_set(err, -E2BIG,
                                   "ld.so.cache '%s' of %zu bytes exceeds the limit of %u bytes",
                                   what, len, NVH_LDCACHE_MAX_SIZE);
        c = nvh_ldcache_new();
        if (!c)
                return nvh_err_set(err, -ENOMEM, "parse '%s': out of memory", what);
        c->buf = TAKE_PTR(owned);
        r = parse_formats((const uint8_t *)c->buf, len, what, c, err);
        if (r < 0)
                return r;
        /* Whether the file is in ldconfig's order is checked when it matters (an insert or
         * serializing), once: a cache only read for a lookup never pays for it. */
        c->sorted = false;
        *ret = TAKE_PTR(c);
        return 0;
}

int
nvh_ldcache_parse_take(char *buf, size_t len, const char *what, struct nvh_ldcache **ret,
                       struct nvh_err *err)
{
        return parse_owned(buf, len, what, ret, err);
}

int
nvh_ldcache_parse(const void *buf, size_t len, const char *what, struct nvh_ldcache **ret,
                  struct nvh_err *err)
{
        char *copy;

        if (len > NVH_LDCACHE_MAX_SIZE)
                return nvh_err_set(err, -E2BIG,
                                   "ld.so.cache '%s' of %zu bytes exceeds the limit of %u bytes",
                                   what ? what : "ld.so.cache", len, NVH_LDCACHE_MAX_SIZE);
        copy = malloc(len ? len : 1);
        if (!copy)
                return nvh_err_set(err, -ENOMEM, "parse '%s': out of memory",
                                   what ? what : "ld.so.cache");
        if (len)
                memcpy(copy, buf, len);
        return parse_owned(copy, len, what, ret, err);
}

int
nvh_ldcache_load(int dir_fd, const char *rel_path, struct nvh_ldcache **ret, struct nvh_err *err)
{
        char *buf = NULL;
        size_t len = 0;
        int r;

        /* A symlinked cache is refused: callers resolve the path in-root first. */
        r = nvh_fileio_read_at(dir_fd, rel_path, NVH_LDCACHE_MAX_SIZE, 1, &buf, &len, err);
        if (r < 0)
                return r;
        return parse_owned(buf, len, rel_path, ret, err);
}

/* Same arithmetic as glibc's _dl_cache_libcmp, including plain-char byte comparison and
 * wrapping digit runs, so that the order matches what ld.so searches on this architecture. */
int
nvh_ldcache_libcmp(const char *a, const char *b)
{
        while (*a != '\0') {
                if (*a >= '0' && *a <= '9') {
                        unsigned va, vb;

                        if (!(*b >= '0' && *b <= '9'))
                                return 1;
                        va = (unsigned)(*a++ - '0');
                        vb = (unsigned)(*b++ - '0');
                        while (*a >= '0' && *a <= '9')
                                va = va * 10u + (unsigned)(*a++ - '0');
                        while (*b >= '0' && *b <= '9')
                                vb = vb * 10u + (unsigned)(*b++ - '0');
                        if (va != vb)
                                return (int)(va - vb);
                } else if (*b >= '0' && *b <= '9') {
                        return -1;
                } else if (*a != *b) {
                        return *a - *b;
                } else {
                        a++;
                        b++;
                }
        }
        return *a - *b;
}

const char *
nvh_ldcache_arch_name(int32_t flags)
{
        static const struct {
                int32_t flags;
                const char *name;
        } table[] = {
            {NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_X8664_LIB64, "x86-64"},
            {NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_I386, "i386"},
            {NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_AARCH64_LIB64, "aarch64"},
            {NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_X8664_LIBX32, "x32"},
            {NVH_LDCACHE_FLAG_ELF_LIBC6 | 0x0900, "armhf"},
            {NVH_LDCACHE_FLAG_ELF_LIBC6 | 0x0b00, "armel"},
            {NVH_LDCACHE_FLAG_ELF_LIBC6 | 0x0500, "ppc64"},
            {NVH_LDCACHE_FLAG_ELF_LIBC6 | 0x0400, "s390x"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(table); i++)
                if (table[i].flags == flags)
                        return table[i].name;
        return "unknown";
}

int
nvh_ldcache_flags_class(int32_t flags)
{
        const char *a = nvh_ldcache_arch_name(flags);

        if (streq(a, "x86-64") || streq(a, "aarch64") || streq(a, "ppc64") || streq(a, "s390x"))
                return 64;
        if (streq(a, "i386") || streq(a, "x32") || streq(a, "armhf") || streq(a, "armel"))
                return 32;
        return 0;
}

bool
nvh_ldcache_flags_i386(int32_t flags)
{
        return flags == (NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_I386);
}
