/* SPDX-License-Identifier: Apache-2.0 */
/* The configuration file (lib/conf.c). */
#include <stdint.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct nvh_err err = {0};
        struct nvh_conf *c = NULL;

        if (nvh_conf_parse((const char *)data, size, "/etc/nvhook/config.json", &c, &err) == 0)
                nvh_conf_free(c);
        return 0;
}
