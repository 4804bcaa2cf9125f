/* SPDX-License-Identifier: Apache-2.0 */
/* ld.so.cache reader and writer. The layouts follow glibc (sysdeps/generic/dl-cache.h,
 * elf/cache.c); the file is in host byte order, as ld.so reads it.
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
#include "macros.h"

#define OLD_MAGIC "ld.so-1.7.0"
#define OLD_MAGIC_LEN (sizeof(OLD_MAGIC) - 1)
#define OLD_HDR_SIZE 16u
#define OLD_ENTRY_SIZE 12u
#define NEW_MAGIC "glibc-ld.so.cache1.1"
#define NEW_MAGIC_LEN (sizeof(NEW_MAGIC) - 1)
#define NEW_HDR_SIZE 48u
#define NEW_ENTRY_SIZE 24u
#define NEW_ALIGN 8u /* alignment of struct cache_file_new (it holds a u64) */

#define ENDIAN_MASK 3u
#define ENDIAN_CURRENT (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? 2u : 3u)

#define EXT_MAGIC 0xeaa42174u /* (uint32_t)-358342284 in glibc */
#define EXT_HDR_SIZE 8u
#define EXT_SECTION_SIZE 16u
#define EXT_TAG_GENERATOR 0u
#define EXT_TAG_HWCAPS 1u
#define HWCAP_ISA_LEVEL_MASK 0x3ffu

#define GENERATOR "nvhook"

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

static inline void
wr32(uint8_t *p, uint32_t v)
{
        memcpy(p, &v, sizeof(v));
}

static inline void
wr64(uint8_t *p, uint64_t v)
{
        memcpy(p, &v, sizeof(v));
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

static bool
hwcap_is_extension(uint64_t hwcap)
{
        return ((hwcap >> 32) & ~(uint64_t)HWCAP_ISA_LEVEL_MASK) ==
               (NVH_LDCACHE_HWCAP_EXTENSION >> 32);
}

const char *
nvh_ldcache_entry_hwcaps(const struct nvh_ldcache *cache, const struct nvh_ldcache_entry *entry)
{
        uint32_t idx;

        if (!hwcap_is_extension(entry->hwcap))
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
                if (hwcap_is_extension(ent->hwcap) && (uint32_t)ent->hwcap >= c->n_hwcaps)
                        return nvh_err_set(err, -EBADMSG,
                                           "corrupt ld.so.cache '%s': entry %u names glibc-hwcaps "
                                           "subdirectory %u of %zu",
                                           what, i, (uint32_t)ent->hwcap, c->n_hwcaps);
        }
        return 0;
}

static int entry_cmp(const struct nvh_ldcache *c, const struct nvh_ldcache_entry *a,
                     const struct nvh_ldcache_entry *b);

static bool
entries_sorted(const struct nvh_ldcache *c)
{
        for (size_t i = 1; i < c->n_entries; i++)
                if (entry_cmp(c, &c->entries[i - 1], &c->entries[i]) > 0)
                        return false;
        return true;
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

static int
popcount64(uint64_t v)
{
        return __builtin_popcountll(v);
}

/* ldconfig's compare() on key and flags alone: keys descending by libcmp, then flags
 * descending. Entries equal here are contiguous in a sorted cache. */
static int
key_cmp(const struct nvh_ldcache_entry *a, const char *b_key, int32_t b_flags)
{
        int r = nvh_ldcache_libcmp(b_key, a->key);

        if (r != 0)
                return r;
        if (a->flags != b_flags)
                return a->flags > b_flags ? -1 : 1;
        return 0;
}

/* ldconfig's compare(): key_cmp, then glibc-hwcaps entries first (by subdirectory name), then
 * more hwcap bits, larger hwcap, larger osversion first. */
static int
entry_cmp(const struct nvh_ldcache *c, const struct nvh_ldcache_entry *a,
          const struct nvh_ldcache_entry *b)
{
        const char *ha, *hb;
        uint64_t wa, wb;
        int r;

        r = key_cmp(a, b->key, b->flags);
        if (r != 0)
                return r;
        ha = nvh_ldcache_entry_hwcaps(c, a);
        hb = nvh_ldcache_entry_hwcaps(c, b);
        if (ha && !hb)
                return -1;
        if (!ha && hb)
                return 1;
        if (ha && hb) {
                r = strcmp(ha, hb);
                if (r != 0)
                        return r;
        }
        wa = ha ? 0 : a->hwcap;
        wb = hb ? 0 : b->hwcap;
        if (popcount64(wa) != popcount64(wb))
                return popcount64(wb) > popcount64(wa) ? 1 : -1;
        if (wa != wb)
                return wb > wa ? 1 : -1;
        if (a->osversion != b->osversion)
                return b->osversion > a->osversion ? 1 : -1;
        return 0;
}

static int
order_cmp(const void *x, const void *y, void *arg)
{
        const struct nvh_ldcache_entry *const *a = x, *const *b = y;
        int r = entry_cmp(arg, *a, *b);

        if (r != 0)
                return r;
        /* Stable: ties keep file order, as ldconfig's insertion keeps scan order. */
        return *a < *b ? -1 : *a > *b;
}

/* The entries in ldconfig's order, as pointers into cache->entries: one linear check, and
 * n log n only for a cache that was not written in that order. NULL on ENOMEM. */
static const struct nvh_ldcache_entry **
sorted_order(const struct nvh_ldcache *cache)
{
        size_t n = cache->n_entries;
        const struct nvh_ldcache_entry **order = calloc(n ? n : 1, sizeof(*order));

        if (!order)
                return NULL;
        for (size_t i = 0; i < n; i++)
                order[i] = &cache->entries[i];
        if (!cache->sorted && !entries_sorted(cache))
                qsort_r(order, n, sizeof(*order), order_cmp, (void *)cache);
        return order;
}

/* Put the entries of a cache that was not in ldconfig's order into it, once, so that
 * nvh_ldcache_upsert can binary-search. */
static int
ensure_sorted(struct nvh_ldcache *cache, struct nvh_err *err)
{
        _cleanup_free_ const struct nvh_ldcache_entry **order = NULL;
        struct nvh_ldcache_entry *sorted;

        if (cache->sorted)
                return 0;
        if (entries_sorted(cache)) {
                cache->sorted = true;
                return 0;
        }
        order = sorted_order(cache);
        sorted = calloc(cache->cap_entries, sizeof(*sorted));
        if (!order || !sorted) {
                free(sorted);
                return nvh_err_set(err, -ENOMEM, "sort ld.so.cache: out of memory");
        }
        for (size_t i = 0; i < cache->n_entries; i++)
                sorted[i] = *order[i];
        free(cache->entries);
        cache->entries = sorted;
        cache->sorted = true;
        return 0;
}

static int
check_input(const char *key, const char *value, struct nvh_err *err)
{
        if (!key || !*key || strchr(key, '/') || strlen(key) > NVH_LDCACHE_MAX_KEY)
                return nvh_err_set(err, -EINVAL, "bad soname '%s' for ld.so.cache",
                                   key ? key : "(null)");
        if (!value || value[0] != '/' || strlen(value) > NVH_LDCACHE_MAX_VALUE)
                return nvh_err_set(err, -EINVAL, "bad library path '%s' for ld.so.cache",
                                   value ? value : "(null)");
        return 0;
}

/* Room for one more string allocation, grown geometrically. */
static int
reserve_added(struct nvh_ldcache *cache, const char *key, struct nvh_err *err)
{
        if (cache->n_added >= cache->cap_added) {
                size_t cap = cache->cap_added ? cache->cap_added * 2 : 16;
                char **n = reallocarray(cache->added, cap, sizeof(*n));

                if (!n)
                        return nvh_err_set(err, -ENOMEM, "add '%s' to ld.so.cache: out of memory",
                                           key);
                cache->added = n;
                cache->cap_added = cap;
        }
        return 0;
}

/* Room for one more entry and one more string allocation, grown geometrically, so that a
 * failure later leaves the cache as it was. */
static int
reserve(struct nvh_ldcache *cache, const char *key, struct nvh_err *err)
{
        if (cache->n_entries >= cache->cap_entries) {
                size_t cap = cache->cap_entries ? cache->cap_entries * 2 : 16;
                struct nvh_ldcache_entry *n = reallocarray(cache->entries, cap, sizeof(*n));

                if (!n)
                        return nvh_err_set(err, -ENOMEM, "add '%s' to ld.so.cache: out of memory",
                                           key);
                cache->entries = n;
                cache->cap_entries = cap;
        }
        return reserve_added(cache, key, err);
}

int
nvh_ldcache_upsert(struct nvh_ldcache *cache, const char *key, const char *value, int32_t flags,
                   struct nvh_err *err)
{
        struct nvh_ldcache_entry ent = {.flags = flags};
        size_t lo = 0, hi = cache->n_entries, end, kept, removed;
        size_t lk, lv;
        char *s;
        int r;

        r = check_input(key, value, err);
        if (r < 0)
                return r;
        r = ensure_sorted(cache, err);
        if (r < 0)
                return r;
        /* [lo, end): the entries with a libcmp-equal key and the same flags. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (key_cmp(&cache->entries[mid], key, flags) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        for (end = lo; end < cache->n_entries && key_cmp(&cache->entries[end], key, flags) == 0;)
                end++;
        kept = 0;
        for (size_t i = lo; i < end; i++)
                if (!streq(cache->entries[i].key, key))
                        kept++;
        removed = end - lo - kept;
        if (removed == 0 && cache->n_entries >= NVH_LDCACHE_MAX_ENTRIES)
                return nvh_err_set(err, -E2BIG, "add '%s' to ld.so.cache: more than %u entries",
                                   key, NVH_LDCACHE_MAX_ENTRIES);
        r = reserve(cache, key, err);
        if (r < 0)
                return r;
        lk = strlen(key) + 1;
        lv = strlen(value) + 1;
        s = malloc(lk + lv);
        if (!s)
                return nvh_err_set(err, -ENOMEM, "add '%s' to ld.so.cache: out of memory", key);
        memcpy(s, key, lk);
        memcpy(s + lk, value, lv);
        cache->added[cache->n_added++] = s;
        ent.key = s;
        ent.value = s + lk;

        /* Drop every variant ld.so could pick instead of ours (same key and flags: the
         * glibc-hwcaps and hwcap ones included); ours goes last among the rest of the run,
         * after the entries that sort before or equal to it, like ldconfig's insertion. */
        for (size_t i = lo, j = lo; i < end; i++)
                if (!streq(cache->entries[i].key, key))
                        cache->entries[j++] = cache->entries[i];
        if (removed == 0)
                memmove(&cache->entries[end + 1], &cache->entries[end],
                        (cache->n_entries - end) * sizeof(*cache->entries));
        else if (removed > 1)
                memmove(&cache->entries[lo + kept + 1], &cache->entries[end],
                        (cache->n_entries - end) * sizeof(*cache->entries));
        cache->entries[lo + kept] = ent;
        cache->n_entries = cache->n_entries + 1 - removed;
        return 0;
}

struct pending {
        struct nvh_ldcache_entry ent;
        size_t idx; /* position in the caller's array: later wins, ties keep call order */
};

static int
pending_cmp(const void *x, const void *y)
{
        const struct pending *a = x, *b = y;
        int r = key_cmp(&a->ent, b->ent.key, b->ent.flags);

        if (r != 0)
                return r;
        return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Is key the key of one of the pending entries [p, q)? */
static bool
pending_has_key(const struct pending *pend, size_t p, size_t q, const char *key)
{
        for (size_t k = p; k < q; k++)
                if (streq(pend[k].ent.key, key))
                        return true;
        return false;
}

int
nvh_ldcache_upsert_many(struct nvh_ldcache *cache, const struct nvh_ldcache_add *adds, size_t n,
                        struct nvh_err *err)
{
        _cleanup_free_ struct pending *pend = NULL;
        _cleanup_free_ char *blob = NULL;
        struct nvh_ldcache_entry *out;
        size_t bytes = 0, m = 0, i = 0, o = 0, cap, pos = 0;
        int r;

        if (n == 0)
                return 0;
        for (size_t k = 0; k < n; k++) {
                r = check_input(adds[k].key, adds[k].value, err);
                if (r < 0)
                        return r;
                bytes += strlen(adds[k].key) + 1 + strlen(adds[k].value) + 1;
        }
        r = ensure_sorted(cache, err);
        if (r >= 0)
                r = reserve_added(cache, adds[0].key, err);
        if (r < 0)
                return r;
        /* One allocation for every new string, one array of the entries to merge. */
        blob = malloc(bytes);
        pend = calloc(n, sizeof(*pend));
        if (!blob || !pend)
                return nvh_err_set(err, -ENOMEM, "add to ld.so.cache: out of memory");
        for (size_t k = 0; k < n; k++) {
                size_t lk = strlen(adds[k].key) + 1, lv = strlen(adds[k].value) + 1;

                memcpy(blob + pos, adds[k].key, lk);
                memcpy(blob + pos + lk, adds[k].value, lv);
                pend[k] = (struct pending){
                    {.flags = adds[k].flags, .key = blob + pos, .value = blob + pos + lk}, k};
                pos += lk + lv;
        }
        qsort(pend, n, sizeof(*pend), pending_cmp);
        /* The same key and flags twice: the later one replaces the earlier, as it would one
         * upsert after the other. Equal keys sort next to each other, by call order. */
        for (size_t k = 0; k < n; k++) {
                bool replaced = false;

                for (size_t l = k + 1;
                     l < n && key_cmp(&pend[l].ent, pend[k].ent.key, pend[k].ent.flags) == 0; l++)
                        replaced |= streq(pend[l].ent.key, pend[k].ent.key);
                if (!replaced)
                        pend[m++] = pend[k];
        }
        /* At most every new entry is added; the limit is checked on the merged count. */
        cap = cache->n_entries + m;
        out = malloc(cap * sizeof(*out));
        if (!out)
                return nvh_err_set(err, -ENOMEM, "add to ld.so.cache: out of memory");
        /* One merge pass: the entries before each group of new keys are copied as they are;
         * in the group's run (libcmp-equal key, same flags) the variants of a new key are
         * dropped (glibc-hwcaps and hwcap ones included, which ld.so would otherwise prefer)
         * and the new entries go last, like ldconfig's insertion. */
        for (size_t p = 0, q; p < m; p = q) {
                const char *key = pend[p].ent.key;
                int32_t flags = pend[p].ent.flags;

                for (q = p + 1; q < m && key_cmp(&pend[q].ent, key, flags) == 0;)
                        q++;
                while (i < cache->n_entries && key_cmp(&cache->entries[i], key, flags) < 0)
                        out[o++] = cache->entries[i++];
                for (; i < cache->n_entries && key_cmp(&cache->entries[i], key, flags) == 0; i++)
                        if (!pending_has_key(pend, p, q, cache->entries[i].key))
                                out[o++] = cache->entries[i];
                for (size_t k = p; k < q; k++)
                        out[o++] = pend[k].ent;
        }
        while (i < cache->n_entries)
                out[o++] = cache->entries[i++];
        if (o > NVH_LDCACHE_MAX_ENTRIES) {
                free(out);
                return nvh_err_set(err, -E2BIG, "add to ld.so.cache: more than %u entries",
                                   NVH_LDCACHE_MAX_ENTRIES);
        }
        free(cache->entries);
        cache->entries = out;
        cache->n_entries = o;
        cache->cap_entries = cap;
        cache->added[cache->n_added++] = TAKE_PTR(blob);
        return 0;
}

/* Strings are written back to back; a key repeated by the previous entry is shared. */
static uint32_t
strtab_add(uint8_t *out, size_t *pos, const char *s)
{
        size_t l = strlen(s) + 1;
        size_t at = *pos;

        memcpy(out + at, s, l);
        *pos += l;
        return (uint32_t)at;
}

/* Check what serializing needs and return the size of the string table (upper bound). */
static int
measure_strings(const struct nvh_ldcache *cache, size_t *ret_strings, struct nvh_err *err)
{
        size_t strings = 0, nh = cache->n_hwcaps;

        if (cache->n_entries > NVH_LDCACHE_MAX_ENTRIES || nh > NVH_LDCACHE_MAX_HWCAPS)
                return nvh_err_set(err, -E2BIG,
                                   "ld.so.cache with %zu entries and %zu glibc-hwcaps names "
                                   "exceeds the limit of %u and %u",
                                   cache->n_entries, nh, NVH_LDCACHE_MAX_ENTRIES,
                                   NVH_LDCACHE_MAX_HWCAPS);
        for (size_t i = 0; i < cache->n_entries; i++) {
                const struct nvh_ldcache_entry *e = &cache->entries[i];

                if (!e->key || !e->value)
                        return nvh_err_set(err, -EINVAL, "ld.so.cache entry %zu has no %s", i,
                                           e->key ? "value" : "key");
                if (hwcap_is_extension(e->hwcap) && (uint32_t)e->hwcap >= nh)
                        return nvh_err_set(err, -EINVAL,
                                           "ld.so.cache entry '%s' names glibc-hwcaps "
                                           "subdirectory %u of %zu",
                                           e->key, (uint32_t)e->hwcap, nh);
                strings += strlen(e->key) + 1 + strlen(e->value) + 1;
        }
        for (size_t i = 0; i < nh; i++)
                strings += strlen(cache->hwcaps[i]) + 1;
        *ret_strings = strings;
        return 0;
}

/* Header, entries in order and their strings; returns the end of the string table. */
static size_t
write_entries(const struct nvh_ldcache_entry *const *order, size_t n, uint8_t *out)
{
        size_t pos = NEW_HDR_SIZE + n * NEW_ENTRY_SIZE;
        const char *prev = NULL;
        uint32_t key_off = 0;

        memcpy(out, NEW_MAGIC, NEW_MAGIC_LEN);
        wr32(out + 20, (uint32_t)n);
        out[28] = ENDIAN_CURRENT;
        for (size_t i = 0; i < n; i++) {
                const struct nvh_ldcache_entry *e = order[i];
                uint8_t *o = out + NEW_HDR_SIZE + i * NEW_ENTRY_SIZE;

                if (!prev || !streq(prev, e->key))
                        key_off = strtab_add(out, &pos, e->key);
                prev = e->key;
                wr32(o, (uint32_t)e->flags);
                wr32(o + 4, key_off);
                wr32(o + 8, strtab_add(out, &pos, e->value));
                wr32(o + 12, e->osversion);
                wr64(o + 16, e->hwcap);
        }
        return pos;
}

/* The glibc-hwcaps names at pos, then (4-aligned) the extension directory: generator string
 * and the glibc-hwcaps index array. Returns the file size. */
static size_t
write_extensions(const struct nvh_ldcache *cache, size_t n, uint8_t *out, size_t pos)
{
        size_t nh = cache->n_hwcaps, nsec = nh ? 2 : 1, hw_names = pos, ext;
        uint8_t *x, *hw;

        for (size_t i = 0; i < nh; i++)
                strtab_add(out, &pos, cache->hwcaps[i]);
        wr32(out + 24, (uint32_t)(pos - (NEW_HDR_SIZE + n * NEW_ENTRY_SIZE)));
        ext = (pos + 3) & ~(size_t)3;
        x = out + ext;
        hw = x + EXT_HDR_SIZE + nsec * EXT_SECTION_SIZE;
        wr32(out + 32, (uint32_t)ext);
        for (size_t i = 0; i < nh; i++) {
                wr32(hw + i * 4, (uint32_t)hw_names);
                hw_names += strlen(cache->hwcaps[i]) + 1;
        }
        wr32(x, EXT_MAGIC);
        wr32(x + 4, (uint32_t)nsec);
        wr32(x + 8, EXT_TAG_GENERATOR);
        wr32(x + 16, (uint32_t)(hw + nh * 4 - out));
        wr32(x + 20, (uint32_t)strlen(GENERATOR));
        if (nh) {
                wr32(x + 24, EXT_TAG_HWCAPS);
                wr32(x + 32, (uint32_t)(hw - out));
                wr32(x + 36, (uint32_t)(nh * 4));
        }
        memcpy(hw + nh * 4, GENERATOR, strlen(GENERATOR));
        return (size_t)(hw + nh * 4 + strlen(GENERATOR) - out);
}

int
nvh_ldcache_serialize(const struct nvh_ldcache *cache, char **ret_buf, size_t *ret_len,
                      struct nvh_err *err)
{
        _cleanup_free_ const struct nvh_ldcache_entry **order = NULL;
        _cleanup_free_ uint8_t *out = NULL;
        size_t n = cache->n_entries, nh = cache->n_hwcaps, strings = 0, total;
        int r;

        r = measure_strings(cache, &strings, err);
        if (r < 0)
                return r;
        /* Upper bound; the extension directory goes right after the strings actually used. */
        total = NEW_HDR_SIZE + n * NEW_ENTRY_SIZE + strings + 3 + EXT_HDR_SIZE +
                2 * EXT_SECTION_SIZE + nh * 4 + strlen(GENERATOR);
        if (total > NVH_LDCACHE_MAX_SIZE)
                return nvh_err_set(err, -E2BIG,
                                   "ld.so.cache of %zu bytes exceeds the limit of %u bytes", total,
                                   NVH_LDCACHE_MAX_SIZE);
        order = sorted_order(cache);
        out = calloc(1, total);
        if (!order || !out)
                return nvh_err_set(err, -ENOMEM, "serialize ld.so.cache: out of memory");
        *ret_len = write_extensions(cache, n, out, write_entries(order, n, out));
        *ret_buf = (char *)TAKE_PTR(out);
        return 0;
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
