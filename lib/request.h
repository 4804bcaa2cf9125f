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

/* Mounts of /dev/null on <root>/<device> select devices (accept-nvidia-visible-devices-as-
 * volume-mounts); the Kubernetes device plugin uses this to keep unprivileged pods from
 * choosing GPUs through the environment. */
#define NVH_REQUEST_DEVICE_MOUNT_ROOT "/var/run/nvidia-container-devices"

/* Longest device token accepted. */
#define NVH_REQUEST_TOKEN_MAX 96

enum nvh_devsel {
        NVH_DEVSEL_NONE, /* visible devices: "none" = driver files, no GPU; MIG: not asked */
        NVH_DEVSEL_ALL,
        NVH_DEVSEL_LIST,
};

/* Syntax of one device token. The existence of the device is checked later, against the
 * GPUs discovered on the host. */
enum nvh_devtok {
        NVH_DEVTOK_INDEX,      /* "0": PCI address order, as nvidia-smi shows it */
        NVH_DEVTOK_GPU_UUID,   /* "GPU-<uuid>", the whole UUID (8-4-4-4-12 hex), any case */
        NVH_DEVTOK_MIG_UUID,   /* "MIG-<uuid>", whole */
        NVH_DEVTOK_MIG_LEGACY, /* "MIG-GPU-<uuid>/<gi>/<ci>" (drivers before R470) */
        NVH_DEVTOK_PCI,        /* "[domain:]bus:device.function" (lib/pci.h) */
        NVH_DEVTOK_MIG_INDEX,  /* "<gpu>:<mig>" */
        NVH_DEVTOK_MIG_ID,     /* "<gpu>:<gi>:<ci>", no leading zeros */
};

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
        char note[256];       /* decisions worth logging ("; " separated), may be empty */
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
 *  - capabilities outside policy->allowed_caps are dropped and noted, not an error (images
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

/* Syntax check of one device token (no surrounding spaces). Returns its enum nvh_devtok kind
 * (>= 0) or -EINVAL "unknown device '<tok>'". When ret_canon is not NULL it receives the
 * canonical form (decimal without leading zeros, "GPU-"/"MIG-" with lower-case hex, PCI as
 * the kernel prints it: "%04x:%02x:%02x.%x"); size must be at least NVH_REQUEST_TOKEN_MAX+1. */
int nvh_request_parse_device_token(const char *tok, char *ret_canon, size_t size,
                                   struct nvh_err *err);

/* A device list as NVIDIA_VISIBLE_DEVICES holds it ("all", "none", or a comma list of
 * tokens; "void" counts as "none"), e.g. from a command line. *ret_devices is a canonical,
 * deduplicated vector (empty unless LIST). A blank list is -EINVAL. */
int nvh_request_parse_devices(const char *list, enum nvh_devsel *ret_sel, char ***ret_devices,
                              struct nvh_err *err);

/* "1", "true", "yes", case-insensitive. */
bool nvh_request_truthy(const char *value);
