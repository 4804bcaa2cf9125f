/* SPDX-License-Identifier: Apache-2.0 */
#include "kfeatures.h"

#include "macros.h"

static bool forced;
static bool missing[NVH_KFEATURE_MAX];

static const char *const names[NVH_KFEATURE_MAX] = {
    [NVH_KFEATURE_OPENAT2] = "openat2",
    [NVH_KFEATURE_MOUNT_API] = "new mount API",
    [NVH_KFEATURE_MOUNT_SETATTR] = "mount_setattr",
    [NVH_KFEATURE_PIDFD] = "pidfd_open",
    [NVH_KFEATURE_BPF_REPLACE] = "BPF_F_REPLACE",
};

bool
nvh_kfeatures_have(enum nvh_kfeature f)
{
        return !forced && (unsigned)f < NVH_KFEATURE_MAX && !missing[f];
}

void
nvh_kfeatures_set_missing(enum nvh_kfeature f)
{
        if ((unsigned)f < NVH_KFEATURE_MAX)
                missing[f] = true;
}

void
nvh_kfeatures_force_fallbacks(bool force)
{
        forced = force;
        if (!force)
                for (size_t i = 0; i < ARRAY_SIZE(missing); i++)
                        missing[i] = false;
}

bool
nvh_kfeatures_forced(void)
{
        return forced;
}

const char *
nvh_kfeatures_name(enum nvh_kfeature f)
{
        return (unsigned)f < NVH_KFEATURE_MAX ? names[f] : "?";
}
