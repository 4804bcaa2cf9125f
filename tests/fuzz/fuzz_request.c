/* SPDX-License-Identifier: Apache-2.0 */
/* Env requests (lib/request.c) without the JSON layer: the input is the environment, one
 * variable a line, then (after a line "--") /dev/null mount destinations, one a line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "oci.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const struct nvh_request_policy policy = {.accept_env_unprivileged = true,
                                                         .accept_device_mounts = true,
                                                         .allowed_caps = NVH_CAP_ALL};
        char *text = malloc(size + 1), *p, *line, *save = NULL;
        char **env = calloc(size + 2, sizeof(char *));
        struct nvh_oci_mount *mounts = calloc(size + 1, sizeof(*mounts));
        char *no_options[] = {NULL};
        char *no_annotations[] = {NULL};
        struct nvh_oci_spec spec = {.env = env, .mounts = mounts, .annotations = no_annotations};
        struct nvh_request *req = NULL;
        struct nvh_err err = {0};
        size_t n_env = 0;
        int in_mounts = 0;

        if (!text || !env || !mounts)
                abort();
        memcpy(text, data, size);
        text[size] = '\0';
        for (p = text; (line = strtok_r(p, "\n", &save)); p = NULL) {
                if (!in_mounts && strcmp(line, "--") == 0) {
                        in_mounts = 1;
                } else if (in_mounts) {
                        mounts[spec.n_mounts++] = (struct nvh_oci_mount){
                            .destination = line, .source = "/dev/null", .options = no_options};
                } else {
                        env[n_env++] = line;
                }
        }
        spec.privileged = size > 0 && (data[0] & 1);
        if (nvh_request_parse(&spec, &policy, &req, &err) == 0)
                nvh_request_free(req);
        free(mounts);
        free(env);
        free(text);
        return 0;
}
