/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime's state on stdin (lib/oci.c). */
#include <stdint.h>

#include "oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct nvh_err err = {0};
        struct nvh_oci_state *s = NULL;

        if (nvh_oci_state_parse((const char *)data, size, &s, &err) == 0)
                nvh_oci_state_free(s);
        return 0;
}
