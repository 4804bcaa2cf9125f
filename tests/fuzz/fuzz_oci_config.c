/* SPDX-License-Identifier: Apache-2.0 */
/* The bundle's config.json (lib/oci.c), and the request made from what parses
 * (lib/request.c: env, mounts, annotations), under the strict and the permissive policy. */
#include <stdint.h>

#include "caps.h"
#include "oci.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const struct nvh_request_policy policies[] = {
            {.accept_env_unprivileged = true,
             .accept_device_mounts = true,
             .allowed_caps = NVH_CAP_ALL},
            {.allowed_caps = NVH_CAP_ALL},
        };
        struct nvh_err err = {0};
        struct nvh_oci_spec *s = NULL;

        if (nvh_oci_spec_parse((const char *)data, size, "/bundle", &s, &err) < 0)
                return 0;
        for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
                struct nvh_request *req = NULL;

                if (nvh_request_parse(s, &policies[i], &req, &err) == 0)
                        nvh_request_free(req);
        }
        nvh_oci_spec_free(s);
        return 0;
}
