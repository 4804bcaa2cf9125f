/* SPDX-License-Identifier: Apache-2.0 */
/* Driver capabilities (NVIDIA_DRIVER_CAPABILITIES) as a bit set. */
#pragma once

#include "err.h"

enum nvh_cap {
        NVH_CAP_UTILITY = 1u << 0,
        NVH_CAP_COMPUTE = 1u << 1,
        NVH_CAP_VIDEO = 1u << 2,
        NVH_CAP_GRAPHICS = 1u << 3,
        NVH_CAP_DISPLAY = 1u << 4,
        NVH_CAP_COMPAT32 = 1u << 5,
        NVH_CAP_NGX = 1u << 6,
        NVH_CAP_ALL = (1u << 7) - 1,
};

#define NVH_CAP_DEFAULT (NVH_CAP_UTILITY | NVH_CAP_COMPUTE)

/* Parse a comma-separated list ("compute,utility", "all"). Empty tokens are ignored; an
 * unknown name is -EINVAL naming it. An empty list yields 0. */
int nvh_caps_parse(const char *list, unsigned *ret_caps, struct nvh_err *err);

/* Format as a comma list in canonical order into buf; returns buf. */
char *nvh_caps_format(unsigned caps, char *buf, unsigned size);
