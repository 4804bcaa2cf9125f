/* SPDX-License-Identifier: Apache-2.0 */
/* What a container asks for: GPUs, driver capabilities, requirements, MIG and IMEX access,
 * from its environment and device-list volume mounts (config.json is data, never trusted).
 * Follows nvidia-container-toolkit's rules so images and orchestrators behave the same. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "macros.h"
#include "oci.h"
#include "request_devices.h"

struct nvh_request {
        bool gpu_container;   /* false: inject nothing, the hook exits 0 */
        enum nvh_devsel sel;  /* NONE: driver files only */
        char **devices;       /* canonical tokens, deduplicated, in order; never NULL */
        unsigned caps;        /* enum nvh_cap bits, already limited to the policy's */
        char **requires;      /* expressions, ordered by the name of their variable; never NULL */
        char **require_names; /* the variable of each ("CUDA_VERSION" for the legacy rule) */
        bool disable_require; /* NVIDIA_DISABLE_REQUIRE is truthy */
        enum nvh_devsel mig_config_sel, mig_monitor_sel; /* NONE: not asked for */
        char **mig_config, **mig_monitor;                /* LIST tokens; never NULL */
        bool imex_all;
        char **imex_channels; /* canonical decimal channel numbers; never NULL */
        const char *source;   /* "env", "mounts", "legacy", or "none" (not a GPU container) */
        char note[256];       /* decisions worth a debug line ("; " separated), may be empty */
        char warning[256];    /* asks the policy dropped ("; " separated): logged as warnings */
};

struct nvh_request_policy {
        bool accept_env_unprivileged; /* honour NVIDIA_VISIBLE_DEVICES and NVIDIA_IMEX_CHANNELS
                                         when unprivileged */
        bool accept_device_mounts;    /* honour device-list volume mounts (they win) */
        unsigned allowed_caps;        /* requested capabilities outside it are dropped */
        char *const *cdi_devices;     /* tokens of nvhook's CDI hook entries in config.json
                                         (lib/cdi.h); they win over mounts and env. NULL: none */
        const char *cdi_self;         /* this hook run's first --cdi-device ("" when it has
                                         none); only the run whose token leads cdi_devices
                                         injects. NULL: not a hook run (explain): it leads */
};

/* Trusts nothing in spec (its env and mounts come from the image and the user). Verifies
 * the syntax of every value it uses; -EINVAL names the variable and the value.
 * Rules (nvidia-container-toolkit's):
 *  - legacy image = CUDA_VERSION set and NVIDIA_REQUIRE_CUDA unset or empty: it requires
 *    cuda>=<major.minor of CUDA_VERSION>, unset NVIDIA_VISIBLE_DEVICES means "all" and unset
 *    NVIDIA_DRIVER_CAPABILITIES means all capabilities.
 *  - device mounts, when accepted and present, win over NVIDIA_VISIBLE_DEVICES; otherwise
 *    NVIDIA_VISIBLE_DEVICES unset, empty or "void" is not a GPU container, and neither is an
 *    unprivileged container whose env is not accepted (noted in note).
 *  - "all", "none" and "void" stand alone in NVIDIA_VISIBLE_DEVICES (stricter than nvidia).
 *  - capabilities outside policy->allowed_caps: named ones are -EPERM naming them; those of
 *    "all" or a legacy image's implied set are dropped with a warning (images
 *    commonly ask for "all"); an unknown capability name is an error.
 *  - privileged means spec->privileged (CAP_SYS_ADMIN in the bounding set).
 *  - one policy gate decides every env-driven request: devices and IMEX channels from an
 *    unprivileged container only when accept_env_unprivileged is on (else ignored and
 *    noted), MIG config/monitor devices only from a privileged one (-EPERM), capabilities
 *    always, within allowed_caps.
 *  - requirements are syntax-checked unless NVIDIA_DISABLE_REQUIRE is truthy. */
int nvh_request_parse(const struct nvh_oci_spec *spec, const struct nvh_request_policy *policy,
                      struct nvh_request **ret, struct nvh_err *err);
void nvh_request_free(struct nvh_request *r);

static inline void
nvh_request_freep(struct nvh_request **r)
{
        nvh_request_free(*r);
}
#define _cleanup_request_ _cleanup_(nvh_request_freep)

/* "1", "true", "yes", case-insensitive. */
bool nvh_request_truthy(const char *value);
