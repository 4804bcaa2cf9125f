/* SPDX-License-Identifier: Apache-2.0 */
#include "kfeatures.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <unistd.h>

#include "macros.h"
#include "syscalls.h"

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

/* errno of a probe call that failed: EPERM hides the answer; ENOSYS (and, for flags older
 * kernels reject, EINVAL) means missing; anything else means the call exists. */
static int
probe_answer(int r, int e, bool einval_missing)
{
        if (r >= 0)
                return 1;
        if (e == EPERM)
                return -1;
        return e == ENOSYS || (einval_missing && e == EINVAL) ? 0 : 1;
}

static int
probe_call(enum nvh_kfeature f)
{
        struct nvh_open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
        union bpf_attr attr;
        int r, e;

        switch (f) {
        case NVH_KFEATURE_OPENAT2:
                r = nvh_sys_openat2(AT_FDCWD, "/", &how, sizeof(how));
                break;
        case NVH_KFEATURE_MOUNT_API:
                /* open_tree without OPEN_TREE_CLONE only opens a path: no privilege needed. */
                r = nvh_sys_open_tree(AT_FDCWD, "/", OPEN_TREE_CLOEXEC);
                break;
        case NVH_KFEATURE_MOUNT_SETATTR:
                /* A bad fd: EBADF where the call exists. */
                r = nvh_sys_mount_setattr(-1, "", 0, NULL, 0);
                break;
        case NVH_KFEATURE_PIDFD:
                r = nvh_sys_pidfd_open(getpid(), 0);
                break;
        case NVH_KFEATURE_BPF_REPLACE:
                /* Kernels before 5.6 reject the flag (EINVAL) before looking at the bad fds;
                 * newer ones fail on the fds (EBADF). */
                memset(&attr, 0, sizeof(attr));
                attr.target_fd = (__u32)-1;
                attr.attach_bpf_fd = (__u32)-1;
                attr.attach_type = BPF_CGROUP_DEVICE;
                attr.attach_flags = BPF_F_ALLOW_MULTI | BPF_F_REPLACE;
                r = nvh_sys_bpf(BPF_PROG_ATTACH, &attr, sizeof(attr));
                e = errno;
                return probe_answer(r, e, true);
        default:
                return -1;
        }
        e = errno;
        if (r >= 0)
                close(r);
        return probe_answer(r, e, false);
}

int
nvh_kfeatures_probe(enum nvh_kfeature f)
{
        int state = probe_call(f);

        if (state == 0)
                nvh_kfeatures_set_missing(f);
        return state;
}
