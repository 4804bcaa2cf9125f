/* SPDX-License-Identifier: Apache-2.0 */
/* Private to lib/ldcache.c (reader) and lib/ldcache_write.c (writer); not installed, included
 * by nothing else: the on-disk layout constants both halves share. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

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

/* Whether an entry's hwcap names a glibc-hwcaps subdirectory (its low 32 bits an index into
 * the cache's hwcaps names) rather than legacy hwcap bits. */
bool nvh_ldcache_hwcap_is_extension(uint64_t hwcap);
