/* SPDX-License-Identifier: Apache-2.0 */
/* nvhook doctor (node checks an SRE would run) and the small helpers nvhook setup and
 * nvhook --version share with it. */
#pragma once

#include <stddef.h>

#include "nvhook.h"

/* One kernel feature nvhook uses, as this kernel answers a harmless call. */
struct nvh_doctor_feature {
        const char *name; /* "openat2", "mount-api", "mount_setattr", "bpf-replace", "pidfd" */
        int state;        /* 1 present, 0 absent (ENOSYS/EINVAL), -1 unknown (EPERM: filtered) */
        const char *use;  /* what nvhook does with it, or without it */
};

#define NVH_DOCTOR_N_FEATURES 5

/* Probe the kernel features into out[NVH_DOCTOR_N_FEATURES]. Changes nothing. */
void nvh_doctor_probe_features(struct nvh_doctor_feature *out);

/* "openat2 mount-api -mount_setattr ?bpf-replace": present, -absent, ?unknown. */
void nvh_doctor_format_features(const struct nvh_doctor_feature *f, char *buf, size_t size);

/* The directory of our own executable (/proc/self/exe), malloc'ed; NULL with errno set. */
char *nvh_doctor_self_dir(void);

/* The first executable name in the system's binary directories (nvhook clears its PATH):
 * /usr/local/sbin, /usr/local/bin, /usr/sbin, /usr/bin, /sbin, /bin. malloc'ed, or NULL. */
char *nvh_doctor_which(const char *name);

int nvh_cmd_doctor(struct nvh_cli *cli);
