/* SPDX-License-Identifier: Apache-2.0 */
/* The NVIDIA_REQUIRE_* language (lib/require.c): validate and evaluate against fixed facts;
 * the version comparison on the two halves of the input. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "require.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
fact(void *userdata, const char *key, char *ret_value, size_t size, struct nvh_err *err)
{
        static const char *const facts[][2] = {
            {"cuda", "12.8"}, {"driver", "580.159.04"}, {"arch", "9.0"}, {"brand", "tesla"}};

        for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]); i++)
                if (strcmp(facts[i][0], key) == 0) {
                        snprintf(ret_value, size, "%s", facts[i][1]);
                        return 0;
                }
        return nvh_err_set(err, -EINVAL, "unknown fact '%s'", key);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct nvh_err err = {0};
        char *expr = malloc(size + 1), *half;
        int cmp;

        if (!expr)
                abort();
        memcpy(expr, data, size);
        expr[size] = '\0';
        (void)nvh_require_validate(expr, &err);
        (void)nvh_require_eval(expr, fact, NULL, &err);
        half = strdup(expr + strlen(expr) / 2);
        if (!half)
                abort();
        expr[strlen(expr) / 2] = '\0';
        (void)nvh_require_version_cmp(expr, half, &cmp);
        free(half);
        free(expr);
        return 0;
}
