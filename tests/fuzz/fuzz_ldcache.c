/* SPDX-License-Identifier: Apache-2.0 */
/* ld.so.cache from the image (lib/ldcache.c): parse; whatever parses must serialize, parse
 * back with the same entries, and take an upsert. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c = NULL, *d = NULL;
        char *out = NULL;
        size_t len = 0;

        if (nvh_ldcache_parse(data, size, "fuzz", &c, &err) < 0)
                return 0;
        if (nvh_ldcache_serialize(c, &out, &len, &err) == 0) {
                if (nvh_ldcache_parse(out, len, "again", &d, &err) < 0 ||
                    d->n_entries != c->n_entries)
                        abort();
                nvh_ldcache_free(d);
                free(out);
        }
        (void)nvh_ldcache_upsert(c, "libcuda.so.1", "/usr/lib64/libcuda.so.1",
                                 NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_X8664_LIB64, &err);
        for (size_t i = 0; i < c->n_entries; i++)
                (void)nvh_ldcache_entry_hwcaps(c, &c->entries[i]);
        if (nvh_ldcache_serialize(c, &out, &len, &err) == 0)
                free(out);
        nvh_ldcache_free(c);
        return 0;
}
