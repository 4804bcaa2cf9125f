/* SPDX-License-Identifier: Apache-2.0 */
/* Runs inside test containers: dlopen each soname given and print "<soname> <real path>" of
 * the object the dynamic loader picked, or fail. Built at test time and copied into the
 * glibc rootfs. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>

int
main(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                struct link_map *lm = NULL;
                char real[PATH_MAX];
                void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);

                if (!h || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0 || !lm) {
                        fprintf(stderr, "dlopen '%s': %s\n", argv[i], dlerror());
                        return 1;
                }
                if (!realpath(lm->l_name, real)) {
                        perror(lm->l_name);
                        return 1;
                }
                printf("%s %s\n", argv[i], real);
        }
        return 0;
}
