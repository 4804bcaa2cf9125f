/* SPDX-License-Identifier: Apache-2.0 */
/* Device-access eBPF programs (BPF_PROG_TYPE_CGROUP_DEVICE): build our allow rules, decode
 * them back, compose them in front of another program's translated instructions, and the few
 * bpf(2) commands cgroup v2 device grants need (load, query, fetch, attach).
 *
 * A program we build starts with a recognisable prefix:
 *
 *     r0 = NVH_DEVBPF_MAGIC            marker
 *     r0 = <prefix length in insns>    so the prefix can be found and replaced again
 *     r2 = ctx->access_type
 *     w3 = w2 & 0xffff                 device type (BPF_DEVCG_DEV_*)
 *     w4 = w2 >> 16                    access (BPF_DEVCG_ACC_*)
 *     r5 = ctx->major
 *     r6 = ctx->minor
 *     per rule: if r3 != type goto next; if r5 != major goto next; if r6 != minor goto next;
 *               w7 = w4 & ~access; if r7 != 0 goto next; r0 = 1; exit
 *     (consecutive minors lo..hi of one type, major and access are one rule whose minor check
 *      is "if r6 < lo goto next; if r6 > hi goto next", the first left out for lo 0: the
 *      verifier's cost grows with the number of rules, not of minors; decoding gives one rule
 *      per minor back)
 *     <tail: the program we compose with, unchanged; r1 still holds ctx>
 *
 * Wildcard fields (type any, major or minor any, access "rwm") emit no check. The tail needs
 * only r1 (ctx) and r10 (stack frame), which the prefix leaves untouched, and its jumps are
 * relative, so it runs exactly as it did when it was the whole program. */
#pragma once

#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define NVH_DEVBPF_ANY (~0u)        /* major or minor wildcard */
#define NVH_DEVBPF_MAX_RULES 1024u  /* rules in one prefix */
#define NVH_DEVBPF_MAX_INSNS 65536u /* whole composed program */
#define NVH_DEVBPF_MAGIC 0x4e564831 /* "NVH1" */
#define NVH_DEVBPF_MAJOR_MAX 0xfffu /* the kernel's dev_t: 12-bit major, 20-bit minor */
#define NVH_DEVBPF_MINOR_MAX 0xfffffu

enum nvh_devbpf_type {
        NVH_DEVBPF_TYPE_ANY = 0,
        NVH_DEVBPF_TYPE_BLOCK = BPF_DEVCG_DEV_BLOCK,
        NVH_DEVBPF_TYPE_CHAR = BPF_DEVCG_DEV_CHAR,
};

/* One allow rule in kernel encoding. access is a mask of BPF_DEVCG_ACC_* (1..7). */
struct nvh_devbpf_rule {
        unsigned type; /* enum nvh_devbpf_type */
        unsigned major, minor;
        unsigned access;
};

/* Check one rule's fields; -EINVAL with a message naming the value. */
int nvh_devbpf_rule_check(const struct nvh_devbpf_rule *rule, struct nvh_err *err);

/* Does rule a allow everything rule b allows? */
bool nvh_devbpf_rule_covers(const struct nvh_devbpf_rule *a, const struct nvh_devbpf_rule *b);

/* Build our prefix for rules into a new array: exact duplicates dropped, the concrete minors of
 * one type, major and access gathered where the first of them was and merged into ranges
 * where consecutive (nothing allowed that rules do not allow). With
 * default_verdict >= 0, finish the program with "r0 = default_verdict; exit" so it stands
 * alone; with -1 emit only the prefix (a tail must follow). */
int nvh_devbpf_build(const struct nvh_devbpf_rule *rules, size_t n, int default_verdict,
                     struct bpf_insn **ret_insns, size_t *ret_len, struct nvh_err *err);

/* Decode our prefix at the start of insns. Returns 1 and the rules and the index where the
 * tail starts when the program begins with a prefix exactly as nvh_devbpf_build writes it,
 * 0 (no rules, tail 0) when it does not, < 0 on ENOMEM. */
int nvh_devbpf_decode(const struct bpf_insn *insns, size_t n, struct nvh_devbpf_rule **ret_rules,
                      size_t *ret_nrules, size_t *ret_tail, struct nvh_err *err);

/* Verify that insns (another program's translated instructions) can be loaded again as a
 * tail: only ALU, jumps inside the program, exit, ctx/stack loads and stack stores; no calls,
 * map or BTF references, legacy packet loads, or verifier-internal instructions. */
int nvh_devbpf_check_tail(const struct bpf_insn *insns, size_t n, struct nvh_err *err);

/* Compose: our rules (the union of those already in existing's prefix, if any, and rules)
 * followed by existing's tail. When every rule is already covered by existing's prefix,
 * returns 0 and leaves the outputs untouched (nothing to change); otherwise returns 1 with a
 * new program. */
int nvh_devbpf_compose(const struct nvh_devbpf_rule *rules, size_t n,
                       const struct bpf_insn *existing, size_t existing_len,
                       struct bpf_insn **ret_insns, size_t *ret_len, struct nvh_err *err);

/* Load a BPF_PROG_TYPE_CGROUP_DEVICE program; returns its fd (O_CLOEXEC). The verifier log
 * is attached to the message on failure. */
int nvh_devbpf_load(const struct bpf_insn *insns, size_t n, struct nvh_err *err);

/* Programs attached directly at the cgroup (not inherited) for BPF_CGROUP_DEVICE: their ids
 * (up to max) and the cgroup's attach flags. Returns the count (which may exceed max: -E2BIG
 * is returned then). With effective, the inherited effective set instead (no flags). */
int nvh_devbpf_query(int cgroup_fd, bool effective, unsigned *ids, size_t max, unsigned *ret_flags,
                     struct nvh_err *err);

/* Open a program by id (O_CLOEXEC fd). */
int nvh_devbpf_prog_fd(unsigned id, struct nvh_err *err);

/* The translated instructions and type of a loaded program. */
int nvh_devbpf_prog_xlated(int prog_fd, struct bpf_insn **ret_insns, size_t *ret_len,
                           unsigned *ret_type, struct nvh_err *err);

/* BPF_PROG_ATTACH at cgroup_fd for BPF_CGROUP_DEVICE; replace_fd >= 0 adds BPF_F_REPLACE. */
int nvh_devbpf_attach(int cgroup_fd, int prog_fd, unsigned flags, int replace_fd,
                      struct nvh_err *err);

/* BPF_PROG_DETACH: the second half of a replace where BPF_F_REPLACE is missing (cgroup.c). */
int nvh_devbpf_detach(int cgroup_fd, int prog_fd, struct nvh_err *err);
