/* SPDX-License-Identifier: Apache-2.0 */
/* ld.so.cache writer: upserts that keep ldconfig's order, and serialization in the new format
 * with its extension directory (layouts in lib/ldcache.c and lib/ldcache_internal.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ldcache.h"

#include "fileio.h"
#include "ldcache_internal.h"
#include "macros.h"

#define GENERATOR "nvhook" /* the extension directory's generator string */

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

static bool
entries_sorted(const struct nvh_ldcache *c)
{
        for (size_t i = 1; i < c->n_entries; i++)
                if (entry_cmp(c, &c->entries[i - 1], &c->entries[i]) > 0)
                        return false;
        return true;
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
        nvh_fileio_prefault(out, cap * sizeof(*out));
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
                if (nvh_ldcache_hwcap_is_extension(e->hwcap) && (uint32_t)e->hwcap >= nh)
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
        nvh_fileio_prefault(out, total);
        *ret_len = write_extensions(cache, n, out, write_entries(order, n, out));
        *ret_buf = (char *)TAKE_PTR(out);
        return 0;
}
