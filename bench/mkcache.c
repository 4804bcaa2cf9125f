/* SPDX-License-Identifier: Apache-2.0 */
/* mkcache OUT N: write a new-format ld.so.cache with N x86-64 entries (libbench<i>.so.1 in
 * /usr/lib/x86_64-linux-gnu) plus libc.so.6, through nvhook's own writer, for the "image with
 * a large linker cache" benchmark. Checked by `ldconfig -p -C OUT`. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"
#include "ldcache.h"

int
main(int argc, char **argv)
{
        struct nvh_err err = {0};
        struct nvh_ldcache *c;
        char key[64], value[128], *buf = NULL;
        size_t len = 0;
        int n, fd;
        const int32_t flags = NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_X8664_LIB64;

        if (argc != 3)
                return 2;
        n = atoi(argv[2]);
        c = nvh_ldcache_new();
        if (!c)
                return 1;
        if (nvh_ldcache_upsert(c, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", flags, &err) < 0)
                goto fail;
        for (int i = 0; i < n; i++) {
                snprintf(key, sizeof(key), "libbench%d.so.1", i);
                snprintf(value, sizeof(value), "/usr/lib/x86_64-linux-gnu/libbench%d.so.1", i);
                if (nvh_ldcache_upsert(c, key, value, flags, &err) < 0)
                        goto fail;
        }
        if (nvh_ldcache_serialize(c, &buf, &len, &err) < 0)
                goto fail;
        fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || nvh_fileio_write_all(fd, buf, len) < 0)
                return 1;
        close(fd);
        return 0;
fail:
        fprintf(stderr, "mkcache: %s\n", err.msg);
        return 1;
}
