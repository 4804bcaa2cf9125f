/* SPDX-License-Identifier: Apache-2.0 */
/* The device selector (lib/select.h): request tokens -> GPUs, MIG devices, IMEX channels. */
#include "select.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* The token's form and canonical spelling; -EINVAL naming it. */
static int
classify(const char *token, char canon[static NVH_REQUEST_TOKEN_MAX + 1], struct nvh_err *err)
{
        return nvh_request_parse_device_token(token, canon, NVH_REQUEST_TOKEN_MAX + 1, err);
}

static int
refuse_mig_uuid(const char *token, struct nvh_err *err)
{
        return nvh_err_set(err, -EOPNOTSUPP,
                           "mig uuid '%s': mig uuids are not in procfs (they need nvml)", token);
}

int
nvh_select_find_gpu(const struct nvh_system *sys, const char *token, const struct nvh_gpu **ret_gpu,
                    struct nvh_err *err)
{
        char canon[NVH_REQUEST_TOKEN_MAX + 1];
        int kind = classify(token, canon, err);

        switch (kind) {
        case NVH_DEVTOK_INDEX:
                return find_by_index(sys, token, canon, ret_gpu, err);
        case NVH_DEVTOK_GPU_UUID:
                for (size_t i = 0; i < sys->n_gpus; i++)
                        if (!sys->gpus[i].loaded)
                                return nvh_err_set(err, -ENODATA,
                                                   "gpu uuid '%s': gpu information not loaded",
                                                   token);
                for (size_t i = 0; i < sys->n_gpus; i++)
                        if (sys->gpus[i].uuid[0] && strcasecmp(sys->gpus[i].uuid, canon) == 0) {
                                *ret_gpu = &sys->gpus[i];
                                return 0;
                        }
                return nvh_err_set(err, -ENOENT, "no gpu with uuid '%s'", token);
        case NVH_DEVTOK_PCI:
                for (size_t i = 0; i < sys->n_gpus; i++)
                        if (streq(sys->gpus[i].bus_id, canon)) {
                                *ret_gpu = &sys->gpus[i];
                                return 0;
                        }
                return nvh_err_set(err, -ENOENT, "no gpu at pci bus id '%s'", token);
        case NVH_DEVTOK_MIG_UUID:
        case NVH_DEVTOK_MIG_LEGACY:
        case NVH_DEVTOK_MIG_INDEX:
        case NVH_DEVTOK_MIG_ID:
                return nvh_err_set(err, -EOPNOTSUPP, "'%s' is a mig device, not a gpu", token);
        }
        return nvh_err_set(err, -EINVAL, "bad gpu '%s': not an index, uuid or pci bus id", token);
}

/* The parent GPU of a "<gpu>:..." MIG token. */
static int
mig_parent(const struct nvh_system *sys, const char *token, const char *canon,
           const struct nvh_gpu **ret_gpu, struct nvh_err *err)
{
        char index[16];

        snprintf(index, sizeof(index), "%.*s", (int)strcspn(canon, ":"), canon);
        return find_by_index(sys, token, index, ret_gpu, err);
}

int
nvh_select_find_mig(const struct nvh_system *sys, const char *token, const struct nvh_gpu **ret_gpu,
                    const struct nvh_mig **ret_mig, struct nvh_err *err)
{
        char canon[NVH_REQUEST_TOKEN_MAX + 1];
        const struct nvh_gpu *gpu = NULL;
        unsigned long v[2] = {0, 0};
        const char *p;
        int kind = classify(token, canon, err), r;

        if (kind == NVH_DEVTOK_MIG_UUID || kind == NVH_DEVTOK_MIG_LEGACY)
                return refuse_mig_uuid(token, err);
        if (kind != NVH_DEVTOK_MIG_INDEX && kind != NVH_DEVTOK_MIG_ID)
                return nvh_err_set(err, -EINVAL, "bad mig device '%s'", token);
        r = mig_parent(sys, token, canon, &gpu, err);
        if (r < 0)
                return r;
        /* canon is "<gpu>:<a>" or "<gpu>:<gi>:<ci>", decimal without leading zeros */
        p = strchr(canon, ':') + 1;
        v[0] = strtoul(p, NULL, 10);
        if (kind == NVH_DEVTOK_MIG_ID)
                v[1] = strtoul(strchr(p, ':') + 1, NULL, 10);
        for (size_t i = 0; i < gpu->n_migs; i++) {
                const struct nvh_mig *m = &gpu->migs[i];

                if (kind == NVH_DEVTOK_MIG_INDEX ? m->index == v[0]
                                                 : (m->gi == v[0] && m->ci == v[1])) {
                        *ret_gpu = gpu;
                        *ret_mig = m;
                        return 0;
                }
        }
        return nvh_err_set(err, -ENOENT, "no mig device '%s' (gpu %u has %zu)", token, gpu->index,
                           gpu->n_migs);
}

void
nvh_select_free(struct nvh_selection *sel)
{
        if (!sel)
                return;
        free(sel->gpus);
        free(sel->migs);
        free(sel->imex);
        free(sel);
}

static void
add_gpu(struct nvh_selection *sel, const struct nvh_gpu *g)
{
        for (size_t j = 0; j < sel->n_gpus; j++)
                if (sel->gpus[j] == g)
                        return;
        sel->gpus[sel->n_gpus++] = g;
}

static void
add_mig(struct nvh_selection *sel, const struct nvh_gpu *g, const struct nvh_mig *m)
{
        for (size_t j = 0; j < sel->n_migs; j++)
                if (sel->migs[j].mig == m)
                        return;
        sel->migs[sel->n_migs++] = (struct nvh_select_mig){.gpu = g, .mig = m};
}

/* One token: a whole GPU, or a MIG device and its parent; what it names is loaded. */
static int
resolve_token(const char *token, struct nvh_system *sys, struct nvh_selection *sel,
              struct nvh_err *err)
{
        char canon[NVH_REQUEST_TOKEN_MAX + 1];
        const struct nvh_gpu *g = NULL;
        const struct nvh_mig *m = NULL;
        int kind = classify(token, canon, err), r;

        if (kind < 0)
                return kind;
        if (kind == NVH_DEVTOK_MIG_UUID || kind == NVH_DEVTOK_MIG_LEGACY)
                return refuse_mig_uuid(token, err);
        if (kind == NVH_DEVTOK_MIG_INDEX || kind == NVH_DEVTOK_MIG_ID) {
                /* the parent's MIG devices are read with its information */
                r = mig_parent(sys, token, canon, &g, err);
                if (r >= 0)
                        r = nvh_gpus_load(sys, (size_t)(g - sys->gpus), err);
                if (r >= 0)
                        r = nvh_select_find_mig(sys, token, &g, &m, err);
                if (r < 0)
                        return r;
                add_gpu(sel, g);
                add_mig(sel, g, m);
                return 0;
        }
        r = nvh_select_find_gpu(sys, token, &g, err);
        if (r >= 0)
                r = nvh_gpus_load(sys, (size_t)(g - sys->gpus), err);
        if (r < 0)
                return r;
        add_gpu(sel, g);
        return 0;
}

static int
cmp_unsigned(const void *a, const void *b)
{
        unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
        return x < y ? -1 : x > y;
}

/* NVIDIA_IMEX_CHANNELS: the channels listed, or for "all" every channel node of the host. */
static int
resolve_imex(const struct nvh_request *req, const struct nvh_host *host, struct nvh_selection *sel,
             struct nvh_err *err)
{
        static const char prefix[] = NVH_HOST_IMEX_DIR "/channel";
        size_t n = 0, cap = req->imex_all ? host->n_nodes : 0;

        for (char **c = req->imex_channels; c && *c; c++)
                cap++;
        sel->imex = calloc(cap + 1, sizeof(*sel->imex));
        if (!sel->imex)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        if (req->imex_all) {
                for (size_t i = 0; i < host->n_nodes; i++) {
                        const char *name = host->nodes[i].name;
                        unsigned long ch;

                        if (strncmp(name, prefix, sizeof(prefix) - 1) == 0 &&
                            nvh_gpus_parse_uint(name + sizeof(prefix) - 1, NVH_SELECT_IMEX_MAX - 1,
                                                &ch))
                                sel->imex[n++] = (unsigned)ch;
                }
                qsort(sel->imex, n, sizeof(*sel->imex), cmp_unsigned);
        }
        for (char **c = req->imex_channels; c && *c; c++) {
                unsigned long ch;

                if (!nvh_gpus_parse_uint(*c, NVH_SELECT_IMEX_MAX - 1, &ch))
                        return nvh_err_set(err, -EINVAL, "imex channel '%s' out of range", *c);
                sel->imex[n++] = (unsigned)ch;
        }
        sel->n_imex = n;
        return 0;
}

/* Trusts: req (syntax-checked tokens), sys and host (the driver's and root's). Guarantees:
 * every selected device exists in sys; nothing in the selection came from a partial match. */
int
nvh_select_resolve(const struct nvh_request *req, struct nvh_system *sys,
                   const struct nvh_host *host, struct nvh_selection **ret_sel, struct nvh_err *err)
{
        _cleanup_selection_ struct nvh_selection *sel = calloc(1, sizeof(*sel));
        bool all = req->sel == NVH_DEVSEL_ALL;
        size_t n_tokens = 0;
        int r;

        if (!sel)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        for (char **d = req->devices; req->sel == NVH_DEVSEL_LIST && d && *d; d++) {
                char canon[NVH_REQUEST_TOKEN_MAX + 1];

                n_tokens++;
                all |= classify(*d, canon, NULL) == NVH_DEVTOK_GPU_UUID;
        }
        /* "all" and UUIDs need every information file; loading them all first keeps the
         * pointers taken below stable. */
        if (all) {
                r = nvh_gpus_load_all(sys, err);
                if (r < 0)
                        return r;
        }
        sel->gpus = calloc(sys->n_gpus + 1, sizeof(*sel->gpus));
        sel->migs = calloc(n_tokens + 1, sizeof(*sel->migs));
        if (!sel->gpus || !sel->migs)
                return nvh_err_set(err, -ENOMEM, "out of memory");
        if (req->sel == NVH_DEVSEL_ALL)
                for (size_t i = 0; i < sys->n_gpus; i++)
                        sel->gpus[sel->n_gpus++] = &sys->gpus[i];
        for (char **d = req->devices; req->sel == NVH_DEVSEL_LIST && d && *d; d++) {
                r = resolve_token(*d, sys, sel, err);
                if (r < 0)
                        return r;
        }
        r = resolve_imex(req, host, sel, err);
        if (r < 0)
                return r;
        *ret_sel = TAKE_PTR(sel);
        return 0;
}
