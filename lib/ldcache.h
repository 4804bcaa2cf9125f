/* SPDX-License-Identifier: Apache-2.0 */
/* ld.so.cache: parse (old "ld.so-1.7.0", combined old+new, new-only "glibc-ld.so.cache1.1")
 * and write (new format, glibc ordering). Pure: every byte is hostile. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* What an image's cache may cost. A real cache holds a few thousand entries in well under
 * 1 MiB; parsing copies the file once and keeps 32 bytes per entry, so a cache at both limits
 * costs about 20 MiB and a linear pass. Beyond either limit it is refused (-E2BIG). */
#define NVH_LDCACHE_MAX_SIZE (16u << 20)
#define NVH_LDCACHE_MAX_ENTRIES 131072u
#define NVH_LDCACHE_MAX_HWCAPS 256u /* glibc-hwcaps subdirectory names */
#define NVH_LDCACHE_MAX_KEY 255u    /* a soname is a file name */
#define NVH_LDCACHE_MAX_VALUE 4096u /* a path */

/* Entry flags (glibc elf/cache.h). */
#define NVH_LDCACHE_FLAG_TYPE_MASK 0x00ff
#define NVH_LDCACHE_FLAG_ELF_LIBC6 0x0003
#define NVH_LDCACHE_FLAG_ARCH_MASK 0xff00
#define NVH_LDCACHE_FLAG_I386 0x0000 /* with ELF_LIBC6 and no arch bits: 32-bit x86 */
#define NVH_LDCACHE_FLAG_X8664_LIB64 0x0300
#define NVH_LDCACHE_FLAG_X8664_LIBX32 0x0800
#define NVH_LDCACHE_FLAG_AARCH64_LIB64 0x0a00

/* hwcap value of an entry found in a glibc-hwcaps subdirectory (glibc >= 2.33): bit 62 set,
 * bits 32..41 the ISA level, the low 32 bits an index into nvh_ldcache.hwcaps. */
#define NVH_LDCACHE_HWCAP_EXTENSION (1ULL << 62)

enum nvh_ldcache_format {
        NVH_LDCACHE_FORMAT_OLD,    /* ld.so-1.7.0 only */
        NVH_LDCACHE_FORMAT_COMPAT, /* ld.so-1.7.0 followed by glibc-ld.so.cache1.1 */
        NVH_LDCACHE_FORMAT_NEW,    /* glibc-ld.so.cache1.1 only (glibc >= 2.32 default) */
};

struct nvh_ldcache_entry {
        int32_t flags;
        uint32_t osversion;
        uint64_t hwcap;
        /* Both point into storage the cache owns (the one copy of the parsed file, or the
         * strings nvh_ldcache_upsert copied): valid until nvh_ldcache_free. */
        const char *key;   /* soname, e.g. "libcuda.so.1" */
        const char *value; /* path, e.g. "/usr/lib/x86_64-linux-gnu/libcuda.so.1" */
};

struct nvh_ldcache {
        enum nvh_ldcache_format format;
        /* In file order (glibc's sorted order); kept in that order by nvh_ldcache_upsert. */
        struct nvh_ldcache_entry *entries;
        size_t n_entries;
        /* glibc-hwcaps subdirectory names ("x86-64-v3") from the extension section, indexed
         * by the low 32 bits of an extension entry's hwcap; kept when serializing. */
        const char **hwcaps;
        size_t n_hwcaps;

        /* Private to lib/ldcache.c. */
        size_t cap_entries;
        bool sorted;  /* entries are known to be in ldconfig's order (false: not checked yet) */
        char *buf;    /* the parsed file, which entries and hwcaps point into */
        char **added; /* one "key\0value\0" allocation per upsert */
        size_t n_added, cap_added;
};

/* Parse a cache image (copied once; entries point into the copy). `what` names the file in
 * error messages. Corrupt input is -EBADMSG naming the file and what was wrong, never a crash;
 * a cache over NVH_LDCACHE_MAX_SIZE or NVH_LDCACHE_MAX_ENTRIES is -E2BIG naming the limit. */
int nvh_ldcache_parse(const void *buf, size_t len, const char *what, struct nvh_ldcache **ret,
                      struct nvh_err *err);

/* nvh_ldcache_parse without the copy: takes buf (malloc'ed, len bytes) in every case, success
 * or not; entries point into it. */
int nvh_ldcache_parse_take(char *buf, size_t len, const char *what, struct nvh_ldcache **ret,
                           struct nvh_err *err);

/* Read (bounded by NVH_LDCACHE_MAX_SIZE) and parse rel_path relative to dir_fd. */
int nvh_ldcache_load(int dir_fd, const char *rel_path, struct nvh_ldcache **ret,
                     struct nvh_err *err);

/* An empty cache (for an image without /etc/ld.so.cache). NULL on ENOMEM. */
struct nvh_ldcache *nvh_ldcache_new(void);

void nvh_ldcache_free(struct nvh_ldcache *cache);

/* The glibc-hwcaps subdirectory name of an entry, NULL for a regular entry. */
const char *nvh_ldcache_entry_hwcaps(const struct nvh_ldcache *cache,
                                     const struct nvh_ldcache_entry *entry);

/* glibc's _dl_cache_libcmp: the soname order ld.so's binary search relies on (runs of digits
 * compare numerically). */
int nvh_ldcache_libcmp(const char *a, const char *b);

/* "x86-64", "i386", "aarch64", ... for an entry's flags; "unknown" otherwise. */
const char *nvh_ldcache_arch_name(int32_t flags);

/* ELF class (32 or 64) implied by an entry's flags, 0 when unknown. */
int nvh_ldcache_flags_class(int32_t flags);

/* True for an i386 library (libc6, no arch bits): the 32-bit x86 ABI whose libraries go into
 * the image's 32-bit library directory. x32 (ELF class 32 as well, FLAG_X8664_LIBX32) is not. */
bool nvh_ldcache_flags_i386(int32_t flags);

/* Insert or replace: entries with the same key and the same flags are replaced by
 * (key, value, flags); otherwise a new entry is added at glibc's sort position. Replacing also
 * drops glibc-hwcaps and legacy-hwcap variants of that key and flags, which ld.so would
 * otherwise prefer over the injected library. key is a soname (no '/'), value an absolute
 * path; both are copied. Costs a binary search and one move of the entries after the
 * position (no per-call reallocation, no scan of the cache). */
int nvh_ldcache_upsert(struct nvh_ldcache *cache, const char *key, const char *value, int32_t flags,
                       struct nvh_err *err);

/* One entry for nvh_ldcache_upsert_many. */
struct nvh_ldcache_add {
        const char *key;   /* soname, no '/' */
        const char *value; /* absolute path */
        int32_t flags;
};

/* The same result as nvh_ldcache_upsert of each of adds in order, in one merge pass over the
 * cache: O(entries + n log n), one allocation for all the new strings and one for the merged
 * entries. On error the cache is unchanged. */
int nvh_ldcache_upsert_many(struct nvh_ldcache *cache, const struct nvh_ldcache_add *adds, size_t n,
                            struct nvh_err *err);

/* Serialize in the new format only (glibc-ld.so.cache1.1, glibc >= 2.32's default), entries
 * stably sorted in ldconfig's order, so that ld.so's binary search finds every key. Writes an
 * extension directory with a generator string ("nvhook") and the glibc-hwcaps section when
 * entries use it. The old-format part of a compat input is not kept (glibc >= 2.2 reads the
 * new part only). *ret_buf is malloc'ed. */
int nvh_ldcache_serialize(const struct nvh_ldcache *cache, char **ret_buf, size_t *ret_len,
                          struct nvh_err *err);
