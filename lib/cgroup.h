/* SPDX-License-Identifier: Apache-2.0 */
/* Device access in a container's cgroup: find the cgroup of a pid, then grant device rules.
 *
 * v1: the devices controller; one write of "c 195:0 rwm" per rule to devices.allow.
 * v2: eBPF device programs. Every program attached at the container's cgroup must allow an
 *     access (the kernel ANDs them), so each attached program is replaced by one program =
 *     our allow rules followed by that program's own translated instructions (lib/devbpf.h),
 *     attached atomically in its place: BPF_F_ALLOW_MULTI|BPF_F_REPLACE with the old program
 *     when the cgroup uses multi-attach, otherwise a plain attach with the same flags (which
 *     the kernel treats as a replacement). No program attached means no device restriction:
 *     nothing is added. Granting again is idempotent: the rules already in our prefix are kept,
 *     new ones are added, and nothing is reattached when nothing is new. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define NVH_CGROUP_ANY (~0u) /* major or minor wildcard ('*') */

struct nvh_cgroup_rule {
        char type; /* 'c', 'b', or 'a' (all; major and minor must be NVH_CGROUP_ANY) */
        unsigned major, minor;
        const char *access; /* non-empty subset of "rwm" */
};

enum nvh_cgroup_mode {
        NVH_CGROUP_AUTO,
        NVH_CGROUP_V1,
        NVH_CGROUP_V2,
        NVH_CGROUP_NONE,
};

struct nvh_cgroup {
        enum nvh_cgroup_mode mode; /* V1, V2 or NONE after nvh_cgroup_find */
        char *host_path;           /* absolute dir of the container's cgroup; NULL for NONE */
        int dir_fd;                /* that directory, opened by nvh_cgroup_find; -1 for NONE */
};

/* Find the cgroup of pid from /proc/<pid>/cgroup and the hook's own /proc/self/mountinfo.
 * want AUTO picks v1 when pid has a devices controller line and that hierarchy is mounted
 * (and visible), else v2; NONE returns a cgroup that nvh_cgroup_grant ignores. The directory
 * is opened here, so nvh_cgroup_grant works after the caller changed mount namespace. */
int nvh_cgroup_find(pid_t pid, enum nvh_cgroup_mode want, struct nvh_cgroup **ret,
                    struct nvh_err *err);

/* The pure part of nvh_cgroup_find (mode V1 or V2): the host directory of the cgroup named
 * in proc_cgroup (the text of /proc/<pid>/cgroup) under the mounts in mountinfo (the text of
 * /proc/self/mountinfo). Picks the last mount of the hierarchy whose root contains the path.
 * -ENOENT when there is no such line or mount, -EXDEV when the path lies outside the reader's
 * cgroup namespace or every mount's root. */
int nvh_cgroup_resolve(const char *proc_cgroup, const char *mountinfo, enum nvh_cgroup_mode mode,
                       char **ret_host_path, struct nvh_err *err);

/* Grant rules (at most NVH_DEVBPF_MAX_RULES) in cg. Returns 0, or the number of v2
 * programs replaced. */
int nvh_cgroup_grant(const struct nvh_cgroup *cg, const struct nvh_cgroup_rule *rules, size_t n,
                     struct nvh_err *err);

void nvh_cgroup_free(struct nvh_cgroup *cg);
