/* SPDX-License-Identifier: Apache-2.0 */
/* Finding GPUs and MIG devices by the tokens users write (index, UUID, PCI bus id,
 * <gpu>:<mig>). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gpus.h"
#include "gpus_internal.h"
#include "macros.h"

static bool
is_decimal(const char *s)
{
        return *s && strspn(s, "0123456789") == strlen(s);
}

/* "<gpu>:<mig>" or "<gpu>:<gi>:<ci>": decimal parts only. */
static bool
is_mig_index(const char *s)
{
        size_t colons = 0;

        if (strspn(s, "0123456789:") != strlen(s) || s[0] == ':' || s[strlen(s) - 1] == ':' ||
            strstr(s, "::"))
                return false;
        for (; *s; s++)
                colons += *s == ':';
        return colons == 1 || colons == 2;
}

static int
find_by_index(const struct nvh_system *sys, const char *token, const char *s,
              const struct nvh_gpu **ret_gpu, struct nvh_err *err)
{
        unsigned long idx;

        if (!nvh_gpus_parse_uint(s, NVH_GPUS_MAX, &idx) || idx >= sys->n_gpus)
                return nvh_err_set(err, -ENOENT, "no gpu with index '%s' (%zu gpus)", token,
                                   sys->n_gpus);
        *ret_gpu = &sys->gpus[idx];
        return 0;
}

int
nvh_gpus_find(const struct nvh_system *sys, const char *token, const struct nvh_gpu **ret_gpu,
              struct nvh_err *err)
{
        uint64_t key;

        if (is_decimal(token))
                return find_by_index(sys, token, token, ret_gpu, err);
        if (strncasecmp(token, "GPU-", 4) == 0) {
                for (size_t i = 0; i < sys->n_gpus; i++)
                        if (!sys->gpus[i].loaded)
                                return nvh_err_set(err, -ENODATA,
                                                   "gpu uuid '%s': gpu information not loaded",
                                                   token);
                for (size_t i = 0; i < sys->n_gpus; i++)
                        if (sys->gpus[i].uuid[0] && strcasecmp(sys->gpus[i].uuid, token) == 0) {
                                *ret_gpu = &sys->gpus[i];
                                return 0;
                        }
                return nvh_err_set(err, -ENOENT, "no gpu with uuid '%s'", token);
        }
        if (strncasecmp(token, "MIG-", 4) == 0 || is_mig_index(token))
                return nvh_err_set(err, -EOPNOTSUPP, "'%s' is a mig device, not a gpu", token);
        if (nvh_gpus_bus_id_key(token, &key) == 0) {
                char bus_id[32];
                nvh_gpus_key_to_bus_id(key, bus_id, sizeof(bus_id));
                for (size_t i = 0; i < sys->n_gpus; i++)
                        if (streq(sys->gpus[i].bus_id, bus_id)) {
                                *ret_gpu = &sys->gpus[i];
                                return 0;
                        }
                return nvh_err_set(err, -ENOENT, "no gpu at pci bus id '%s'", token);
        }
        return nvh_err_set(err, -EINVAL, "bad gpu '%s': not an index, uuid or pci bus id", token);
}

int
nvh_gpus_find_mig(const struct nvh_system *sys, const char *token, const struct nvh_gpu **ret_gpu,
                  const struct nvh_mig **ret_mig, struct nvh_err *err)
{
        char part[3][16];
        const struct nvh_gpu *gpu = NULL;
        unsigned long v[2] = {0, 0};
        size_t n = 0;
        const char *p = token;
        int r;

        if (strncasecmp(token, "MIG-", 4) == 0)
                return nvh_err_set(err, -EOPNOTSUPP,
                                   "mig uuid '%s': mig uuids are not in procfs (they need nvml)",
                                   token);
        for (;;) {
                const char *colon = strchr(p, ':');
                size_t len = colon ? (size_t)(colon - p) : strlen(p);
                if (n == 3 || len == 0 || len >= sizeof(part[0]))
                        return nvh_err_set(err, -EINVAL, "bad mig device '%s'", token);
                memcpy(part[n], p, len);
                part[n++][len] = '\0';
                if (!colon)
                        break;
                p = colon + 1;
        }
        if (n < 2 || !is_decimal(part[0]) || !is_decimal(part[1]) ||
            (n == 3 && !is_decimal(part[2])))
                return nvh_err_set(err, -EINVAL, "bad mig device '%s'", token);
        r = find_by_index(sys, token, part[0], &gpu, err);
        if (r < 0)
                return r;
        if (!nvh_gpus_parse_uint(part[1], NVH_GPUS_MAX_ID, &v[0]) ||
            (n == 3 && !nvh_gpus_parse_uint(part[2], NVH_GPUS_MAX_ID, &v[1])))
                return nvh_err_set(err, -ENOENT, "no mig device '%s'", token);
        for (size_t i = 0; i < gpu->n_migs; i++) {
                const struct nvh_mig *m = &gpu->migs[i];
                if (n == 2 ? m->index == v[0] : (m->gi == v[0] && m->ci == v[1])) {
                        *ret_gpu = gpu;
                        *ret_mig = m;
                        return 0;
                }
        }
        return nvh_err_set(err, -ENOENT, "no mig device '%s' (gpu %s has %zu)", token, part[0],
                           gpu->n_migs);
}
