/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel features with a fallback, in one place.
 *
 * Each feature is found out lazily, once, from the answer of its first real use: ENOSYS
 * (the kernel lacks it), or EPERM/E2BIG/EINVAL where a seccomp filter or an older kernel
 * refuses it (each caller says which answers mean "missing" for its call). Never from the
 * kernel version. After that, the module that uses the feature takes its fallback for the
 * rest of the process.
 *
 * nvh_kfeatures_force_fallbacks(true) makes every feature look missing, so every fallback
 * runs: the hook sets it from the config key "force_fallbacks" (a test knob, documented in
 * nvhook.conf(5)); C tests call it directly. It must be set before the first use. */
#pragma once

#include <stdbool.h>

enum nvh_kfeature {
        NVH_KFEATURE_OPENAT2,       /* openat2(2) RESOLVE_IN_ROOT / RESOLVE_BENEATH (5.6) */
        NVH_KFEATURE_MOUNT_API,     /* open_tree, move_mount, fsopen/fsconfig/fsmount (5.2) */
        NVH_KFEATURE_MOUNT_SETATTR, /* mount_setattr(2) (5.12) */
        NVH_KFEATURE_PIDFD,         /* pidfd_open(2) (5.3) */
        NVH_KFEATURE_BPF_REPLACE,   /* BPF_F_REPLACE on BPF_PROG_ATTACH (5.6) */
        NVH_KFEATURE_MAX,
};

/* Whether to use the feature: not forced off, and not found missing so far. */
bool nvh_kfeatures_have(enum nvh_kfeature f);

/* Record that the feature is missing (its first use answered so). */
void nvh_kfeatures_set_missing(enum nvh_kfeature f);

/* Every feature missing (true), or back to what the kernel answers (false: tests). */
void nvh_kfeatures_force_fallbacks(bool force);

/* Whether fallbacks are forced. */
bool nvh_kfeatures_forced(void);

/* Ask the kernel now, with one harmless call, whether it has the feature (doctor, --version):
 * 1 present, 0 missing (also recorded, as nvh_kfeatures_set_missing), -1 unknown (a seccomp
 * filter or policy answers EPERM). Independent of forcing. */
int nvh_kfeatures_probe(enum nvh_kfeature f);

/* The feature's name ("openat2", ...), for logs. */
const char *nvh_kfeatures_name(enum nvh_kfeature f);
