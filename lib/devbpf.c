/* SPDX-License-Identifier: Apache-2.0 */
#include "devbpf.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "macros.h"

#ifndef BPF_MEMSX
#define BPF_MEMSX 0x80
#endif

#define HEADER_LEN 9u
#define LOG_BUF_SIZE (1u << 20)

/* Registers the prefix uses; the tail sees only r1 (ctx) and r10 as the verifier requires. */
enum {
        R_ACCTYPE = BPF_REG_2,
        R_TYPE = BPF_REG_3,
        R_ACCESS = BPF_REG_4,
        R_MAJOR = BPF_REG_5,
        R_MINOR = BPF_REG_6,
        R_TMP = BPF_REG_7,
};

/* Raw bpf(2); lib/syscalls.c will own this wrapper. */
static int
sys_bpf(int cmd, union bpf_attr *attr, unsigned size)
{
        return (int)syscall(__NR_bpf, cmd, attr, size);
}

static struct bpf_insn
mk(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
        return (struct bpf_insn){
            .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

static bool
insn_eq(const struct bpf_insn *a, const struct bpf_insn *b)
{
        return a->code == b->code && a->dst_reg == b->dst_reg && a->src_reg == b->src_reg &&
               a->off == b->off && a->imm == b->imm;
}

#define MOV64_IMM(dst, imm) mk(BPF_ALU64 | BPF_MOV | BPF_K, (dst), 0, 0, (imm))
#define MOV32_REG(dst, src) mk(BPF_ALU | BPF_MOV | BPF_X, (dst), (src), 0, 0)
#define ALU32_IMM(op, dst, imm) mk(BPF_ALU | (op) | BPF_K, (dst), 0, 0, (imm))
#define LDX_W(dst, src, off) mk(BPF_LDX | BPF_W | BPF_MEM, (dst), (src), (off), 0)
#define JNE_IMM(dst, imm, off) mk(BPF_JMP | BPF_JNE | BPF_K, (dst), 0, (off), (imm))
#define JLT_IMM(dst, imm, off) mk(BPF_JMP | BPF_JLT | BPF_K, (dst), 0, (off), (imm))
#define JGT_IMM(dst, imm, off) mk(BPF_JMP | BPF_JGT | BPF_K, (dst), 0, (off), (imm))
#define EXIT_INSN() mk(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static void
header(struct bpf_insn h[HEADER_LEN], int32_t prefix_len)
{
        h[0] = MOV64_IMM(BPF_REG_0, NVH_DEVBPF_MAGIC);
        h[1] = MOV64_IMM(BPF_REG_0, prefix_len);
        h[2] = LDX_W(R_ACCTYPE, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, access_type));
        h[3] = MOV32_REG(R_TYPE, R_ACCTYPE);
        h[4] = ALU32_IMM(BPF_AND, R_TYPE, 0xffff);
        h[5] = MOV32_REG(R_ACCESS, R_ACCTYPE);
        h[6] = ALU32_IMM(BPF_RSH, R_ACCESS, 16);
        h[7] = LDX_W(R_MAJOR, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, major));
        h[8] = LDX_W(R_MINOR, BPF_REG_1, offsetof(struct bpf_cgroup_dev_ctx, minor));
}

int
nvh_devbpf_rule_check(const struct nvh_devbpf_rule *rule, struct nvh_err *err)
{
        if (rule->type != NVH_DEVBPF_TYPE_ANY && rule->type != NVH_DEVBPF_TYPE_BLOCK &&
            rule->type != NVH_DEVBPF_TYPE_CHAR)
                return nvh_err_set(err, -EINVAL, "bad device type '%u'", rule->type);
        if (rule->major != NVH_DEVBPF_ANY && rule->major > NVH_DEVBPF_MAJOR_MAX)
                return nvh_err_set(err, -EINVAL, "bad device major '%u'", rule->major);
        if (rule->minor != NVH_DEVBPF_ANY && rule->minor > NVH_DEVBPF_MINOR_MAX)
                return nvh_err_set(err, -EINVAL, "bad device minor '%u'", rule->minor);
        if (rule->access == 0 || (rule->access & ~7u))
                return nvh_err_set(err, -EINVAL, "bad device access mask '%#x'", rule->access);
        return 0;
}

bool
nvh_devbpf_rule_covers(const struct nvh_devbpf_rule *a, const struct nvh_devbpf_rule *b)
{
        return (a->type == NVH_DEVBPF_TYPE_ANY || a->type == b->type) &&
               (a->major == NVH_DEVBPF_ANY || a->major == b->major) &&
               (a->minor == NVH_DEVBPF_ANY || a->minor == b->minor) &&
               (b->access & ~a->access) == 0;
}

struct builder {
        struct bpf_insn *v;
        size_t len, cap;
        bool oom;
};

static void
emit(struct builder *b, struct bpf_insn insn)
{
        if (b->oom)
                return;
        if (b->len == b->cap) {
                size_t ncap = b->cap ? b->cap * 2 : 64;
                struct bpf_insn *nv = reallocarray(b->v, ncap, sizeof(*nv));
                if (!nv) {
                        b->oom = true;
                        return;
                }
                b->v = nv;
                b->cap = ncap;
        }
        b->v[b->len++] = insn;
}

/* One rule over the minors [r->minor, last] (last == r->minor: the one minor). */
static void
emit_rule(struct builder *b, const struct nvh_devbpf_rule *r, unsigned last)
{
        size_t jumps[5], nj = 0;

        if (r->type != NVH_DEVBPF_TYPE_ANY) {
                jumps[nj++] = b->len;
                emit(b, JNE_IMM(R_TYPE, (int32_t)r->type, 0));
        }
        if (r->major != NVH_DEVBPF_ANY) {
                jumps[nj++] = b->len;
                emit(b, JNE_IMM(R_MAJOR, (int32_t)r->major, 0));
        }
        if (r->minor != NVH_DEVBPF_ANY && last == r->minor) {
                jumps[nj++] = b->len;
                emit(b, JNE_IMM(R_MINOR, (int32_t)r->minor, 0));
        } else if (r->minor != NVH_DEVBPF_ANY) {
                /* A run of consecutive minors, unsigned: [minor, last], nothing outside. */
                if (r->minor > 0) {
                        jumps[nj++] = b->len;
                        emit(b, JLT_IMM(R_MINOR, (int32_t)r->minor, 0));
                }
                jumps[nj++] = b->len;
                emit(b, JGT_IMM(R_MINOR, (int32_t)last, 0));
        }
        if ((r->access & 7u) != 7u) {
                emit(b, MOV32_REG(R_TMP, R_ACCESS));
                emit(b, ALU32_IMM(BPF_AND, R_TMP, (int32_t)~r->access));
                jumps[nj++] = b->len;
                emit(b, JNE_IMM(R_TMP, 0, 0));
        }
        emit(b, MOV64_IMM(BPF_REG_0, 1));
        emit(b, EXIT_INSN());
        if (b->oom)
                return;
        /* Every failed check skips to the next rule; a rule is at most 9 insns. */
        for (size_t i = 0; i < nj; i++)
                b->v[jumps[i]].off = (int16_t)(b->len - jumps[i] - 1);
}

static int
minor_order(const void *x, const void *y)
{
        const struct nvh_devbpf_rule *a = x, *b = y;

        return a->minor < b->minor ? -1 : a->minor > b->minor;
}

static bool
same_group(const struct nvh_devbpf_rule *a, const struct nvh_devbpf_rule *b)
{
        return a->type == b->type && a->major == b->major && a->access == b->access;
}

/* The rules to emit, allowing exactly what rules allow: exact duplicates dropped, and the
 * rules of one type, major and access with a concrete minor gathered at the first one's place,
 * sorted by minor, so that consecutive minors become one range check when emitted. Every
 * other rule keeps its place. Allow rules only, so order does not change the verdict. Returns
 * the count written to out. */
static size_t
minimize(const struct nvh_devbpf_rule *rules, size_t n, struct nvh_devbpf_rule *out)
{
        _cleanup_free_ bool *used = calloc(n ? n : 1, sizeof(*used));
        size_t m = 0;

        if (!used)
                return SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
                size_t start = m;

                if (used[i])
                        continue;
                if (rules[i].minor == NVH_DEVBPF_ANY) {
                        out[m++] = rules[i];
                        for (size_t j = i; j < n; j++)
                                used[j] |= same_group(&rules[j], &rules[i]) &&
                                           rules[j].minor == NVH_DEVBPF_ANY;
                        continue;
                }
                for (size_t j = i; j < n; j++) {
                        if (used[j] || !same_group(&rules[j], &rules[i]) ||
                            rules[j].minor == NVH_DEVBPF_ANY)
                                continue;
                        used[j] = true;
                        out[m++] = rules[j];
                }
                if (m - start > 1) {
                        size_t k = start + 1;

                        qsort(out + start, m - start, sizeof(*out), minor_order);
                        for (size_t l = start + 1; l < m; l++)
                                if (out[l].minor != out[k - 1].minor)
                                        out[k++] = out[l];
                        m = k;
                }
        }
        return m;
}

int
nvh_devbpf_build(const struct nvh_devbpf_rule *rules, size_t n, int default_verdict,
                 struct bpf_insn **ret_insns, size_t *ret_len, struct nvh_err *err)
{
        _cleanup_free_ struct nvh_devbpf_rule *min = NULL;
        struct builder b = {};
        struct bpf_insn h[HEADER_LEN];
        size_t m;
        int r;

        if (n > NVH_DEVBPF_MAX_RULES)
                return nvh_err_set(err, -E2BIG, "too many device rules '%zu' (limit %u)", n,
                                   NVH_DEVBPF_MAX_RULES);
        for (size_t i = 0; i < n; i++) {
                r = nvh_devbpf_rule_check(&rules[i], err);
                if (r < 0)
                        return r;
        }
        min = calloc(n ? n : 1, sizeof(*min));
        if (!min)
                return nvh_err_set(err, -ENOMEM, "build device program: out of memory");
        m = minimize(rules, n, min);
        if (m == SIZE_MAX)
                return nvh_err_set(err, -ENOMEM, "build device program: out of memory");
        header(h, 0);
        for (size_t i = 0; i < HEADER_LEN; i++)
                emit(&b, h[i]);
        for (size_t i = 0, j; i < m; i = j) {
                unsigned last = min[i].minor;

                for (j = i + 1; j < m && min[i].minor != NVH_DEVBPF_ANY && last < UINT32_MAX &&
                                min[j].type == min[i].type && min[j].major == min[i].major &&
                                min[j].access == min[i].access && min[j].minor == last + 1;
                     j++)
                        last++;
                emit_rule(&b, &min[i], last);
        }
        if (!b.oom)
                b.v[1].imm = (int32_t)b.len;
        if (default_verdict >= 0) {
                emit(&b, MOV64_IMM(BPF_REG_0, default_verdict ? 1 : 0));
                emit(&b, EXIT_INSN());
        }
        if (b.oom) {
                free(b.v);
                return nvh_err_set(err, -ENOMEM, "build device program: out of memory");
        }
        *ret_insns = b.v;
        *ret_len = b.len;
        return 0;
}

/* Parse one rule at *pos, as emit_rule writes it; *ret_last is the range's last minor (set
 * only for a range). Returns false on any difference. */
static bool
decode_rule(const struct bpf_insn *v, size_t end, size_t *pos, struct nvh_devbpf_rule *ret,
            unsigned *ret_last)
{
        struct nvh_devbpf_rule r = {NVH_DEVBPF_TYPE_ANY, NVH_DEVBPF_ANY, NVH_DEVBPF_ANY, 7u};
        size_t jumps[5], nj = 0, p = *pos;
        const uint8_t jne = BPF_JMP | BPF_JNE | BPF_K, jlt = BPF_JMP | BPF_JLT | BPF_K,
                      jgt = BPF_JMP | BPF_JGT | BPF_K;
        unsigned last;

        if (p < end && v[p].code == jne && v[p].dst_reg == R_TYPE && v[p].src_reg == 0) {
                r.type = (unsigned)v[p].imm;
                if (r.type == NVH_DEVBPF_TYPE_ANY)
                        return false;
                jumps[nj++] = p++;
        }
        if (p < end && v[p].code == jne && v[p].dst_reg == R_MAJOR && v[p].src_reg == 0) {
                r.major = (unsigned)v[p].imm;
                if (r.major == NVH_DEVBPF_ANY)
                        return false;
                jumps[nj++] = p++;
        }
        if (p < end && v[p].code == jne && v[p].dst_reg == R_MINOR && v[p].src_reg == 0) {
                r.minor = (unsigned)v[p].imm;
                if (r.minor == NVH_DEVBPF_ANY)
                        return false;
                jumps[nj++] = p++;
        } else {
                /* A range [lo, hi], lo < hi: "if r6 < lo" (absent for lo 0), "if r6 > hi". */
                if (p < end && v[p].code == jlt && v[p].dst_reg == R_MINOR && v[p].src_reg == 0) {
                        r.minor = (unsigned)v[p].imm;
                        if (r.minor == 0 || r.minor > NVH_DEVBPF_MINOR_MAX)
                                return false;
                        jumps[nj++] = p++;
                }
                if (p < end && v[p].code == jgt && v[p].dst_reg == R_MINOR && v[p].src_reg == 0) {
                        if (r.minor == NVH_DEVBPF_ANY)
                                r.minor = 0;
                        last = (unsigned)v[p].imm;
                        if (last <= r.minor || last > NVH_DEVBPF_MINOR_MAX)
                                return false;
                        *ret_last = last;
                        jumps[nj++] = p++;
                } else if (r.minor != NVH_DEVBPF_ANY) {
                        return false;
                }
        }
        if (p + 3 <= end) {
                struct bpf_insn mov = MOV32_REG(R_TMP, R_ACCESS);
                if (insn_eq(&v[p], &mov)) {
                        struct bpf_insn and = ALU32_IMM(BPF_AND, R_TMP, v[p + 1].imm);
                        struct bpf_insn jz = JNE_IMM(R_TMP, 0, v[p + 2].off);
                        if (!insn_eq(&v[p + 1], &and) || !insn_eq(&v[p + 2], &jz))
                                return false;
                        r.access = ~(unsigned)v[p + 1].imm & 7u;
                        if ((int32_t)~r.access != v[p + 1].imm || r.access == 7u)
                                return false;
                        jumps[nj++] = p + 2;
                        p += 3;
                }
        }
        {
                struct bpf_insn ok = MOV64_IMM(BPF_REG_0, 1), ex = EXIT_INSN();
                if (p + 2 > end || !insn_eq(&v[p], &ok) || !insn_eq(&v[p + 1], &ex))
                        return false;
                p += 2;
        }
        for (size_t i = 0; i < nj; i++) {
                if (v[jumps[i]].off < 0 || jumps[i] + 1 + (size_t)v[jumps[i]].off != p)
                        return false;
        }
        if (nvh_devbpf_rule_check(&r, NULL) < 0)
                return false;
        *pos = p;
        *ret = r;
        return true;
}

int
nvh_devbpf_decode(const struct bpf_insn *insns, size_t n, struct nvh_devbpf_rule **ret_rules,
                  size_t *ret_nrules, size_t *ret_tail, struct nvh_err *err)
{
        _cleanup_free_ struct nvh_devbpf_rule *rules = NULL;
        struct bpf_insn h[HEADER_LEN];
        size_t nrules = 0, pos, prefix_len;

        *ret_rules = NULL;
        *ret_nrules = 0;
        *ret_tail = 0;
        if (n < HEADER_LEN || insns[1].imm < (int32_t)HEADER_LEN || (size_t)insns[1].imm > n)
                return 0;
        prefix_len = (size_t)insns[1].imm;
        header(h, (int32_t)prefix_len);
        for (size_t i = 0; i < HEADER_LEN; i++)
                if (!insn_eq(&insns[i], &h[i]))
                        return 0;
        /* At most NVH_DEVBPF_MAX_RULES rules, a range counting one per minor: a prefix
         * holding more is not one we wrote. */
        rules = calloc(NVH_DEVBPF_MAX_RULES, sizeof(*rules));
        if (!rules)
                return nvh_err_set(err, -ENOMEM, "decode device program: out of memory");
        for (pos = HEADER_LEN; pos < prefix_len;) {
                struct nvh_devbpf_rule one;
                unsigned last = 0;

                if (!decode_rule(insns, prefix_len, &pos, &one, &last))
                        return 0;
                if (last < one.minor || one.minor == NVH_DEVBPF_ANY)
                        last = one.minor;
                for (unsigned m = one.minor;; m++) {
                        if (nrules >= NVH_DEVBPF_MAX_RULES)
                                return 0;
                        rules[nrules] = one;
                        rules[nrules++].minor = m;
                        if (m == last)
                                break;
                }
        }
        *ret_rules = TAKE_PTR(rules);
        *ret_nrules = nrules;
        *ret_tail = prefix_len;
        return 1;
}

int
nvh_devbpf_check_tail(const struct bpf_insn *insns, size_t n, struct nvh_err *err)
{
        if (n == 0)
                return nvh_err_set(err, -EINVAL, "device program is empty");
        if (n > NVH_DEVBPF_MAX_INSNS)
                return nvh_err_set(err, -E2BIG, "device program too long '%zu' insns", n);
        for (size_t i = 0; i < n; i++) {
                const struct bpf_insn *in = &insns[i];
                uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
                long off;

                /* r11 (BPF_REG_AX) appears only after constant blinding. */
                if (in->dst_reg > BPF_REG_10 || in->src_reg > BPF_REG_10)
                        return nvh_err_set(err, -ENOTSUP,
                                           "device program insn %zu uses register r%u (constant "
                                           "blinding? kernel.bpf_jit_harden)",
                                           i, in->dst_reg > BPF_REG_10 ? in->dst_reg : in->src_reg);
                switch (cls) {
                case BPF_ALU:
                case BPF_ALU64:
                        if (op > BPF_END)
                                goto bad;
                        break;
                case BPF_JMP:
                case BPF_JMP32:
                        if (op == BPF_CALL)
                                return nvh_err_set(err, -ENOTSUP,
                                                   "device program insn %zu calls a helper or "
                                                   "function, cannot relocate it",
                                                   i);
                        if (op == BPF_EXIT) {
                                if (cls != BPF_JMP)
                                        goto bad;
                                break;
                        }
                        if (op > BPF_JSLE)
                                goto bad;
                        off = (cls == BPF_JMP32 && op == BPF_JA) ? (long)in->imm : (long)in->off;
                        if ((long)i + 1 + off < 0 || (long)i + 1 + off >= (long)n)
                                return nvh_err_set(err, -EINVAL,
                                                   "device program insn %zu jumps outside the "
                                                   "program (offset %ld)",
                                                   i, off);
                        break;
                case BPF_LDX:
                        if (BPF_MODE(in->code) != BPF_MEM && BPF_MODE(in->code) != BPF_MEMSX)
                                goto bad;
                        break;
                case BPF_ST:
                case BPF_STX:
                        if (BPF_MODE(in->code) != BPF_MEM)
                                goto bad;
                        break;
                case BPF_LD:
                        if (in->code != (BPF_LD | BPF_IMM | BPF_DW))
                                goto bad;
                        if (in->src_reg != 0)
                                return nvh_err_set(err, -ENOTSUP,
                                                   "device program insn %zu references a map or "
                                                   "object (pseudo %u), cannot relocate it",
                                                   i, in->src_reg);
                        if (i + 1 >= n || insns[i + 1].code != 0)
                                goto bad;
                        i++;
                        break;
                default:
                        goto bad;
                }
                continue;
        bad:
                return nvh_err_set(err, -ENOTSUP,
                                   "device program insn %zu has unsupported opcode '%#x'", i,
                                   in->code);
        }
        return 0;
}

int
nvh_devbpf_compose(const struct nvh_devbpf_rule *rules, size_t n, const struct bpf_insn *existing,
                   size_t existing_len, struct bpf_insn **ret_insns, size_t *ret_len,
                   struct nvh_err *err)
{
        _cleanup_free_ struct nvh_devbpf_rule *old = NULL;
        _cleanup_free_ struct nvh_devbpf_rule *merged = NULL;
        _cleanup_free_ struct bpf_insn *prefix = NULL;
        size_t nold = 0, tail = 0, nmerged = 0, prefix_len = 0;
        struct bpf_insn *out;
        bool all_covered = true;
        int r;

        for (size_t i = 0; i < n; i++) {
                r = nvh_devbpf_rule_check(&rules[i], err);
                if (r < 0)
                        return r;
        }
        r = nvh_devbpf_decode(existing, existing_len, &old, &nold, &tail, err);
        if (r < 0)
                return r;
        r = nvh_devbpf_check_tail(existing + tail, existing_len - tail, err);
        if (r < 0)
                return r;

        merged = calloc(nold + n + 1, sizeof(*merged));
        if (!merged)
                return nvh_err_set(err, -ENOMEM, "compose device program: out of memory");
        if (nold)
                memcpy(merged, old, nold * sizeof(*old));
        nmerged = nold;
        for (size_t i = 0; i < n; i++) {
                bool covered = false;
                for (size_t j = 0; j < nmerged && !covered; j++)
                        covered = nvh_devbpf_rule_covers(&merged[j], &rules[i]);
                if (covered)
                        continue;
                all_covered = false;
                merged[nmerged++] = rules[i];
        }
        /* A foreign program always changes; ours only when a rule is new. */
        if (nold > 0 && all_covered)
                return 0;
        if (nold == 0 && nmerged == 0)
                return 0;
        r = nvh_devbpf_build(merged, nmerged, -1, &prefix, &prefix_len, err);
        if (r < 0)
                return r;
        if (prefix_len + existing_len - tail > NVH_DEVBPF_MAX_INSNS)
                return nvh_err_set(err, -E2BIG, "composed device program too long '%zu' insns",
                                   prefix_len + existing_len - tail);
        out = calloc(prefix_len + existing_len - tail, sizeof(*out));
        if (!out)
                return nvh_err_set(err, -ENOMEM, "compose device program: out of memory");
        memcpy(out, prefix, prefix_len * sizeof(*out));
        memcpy(out + prefix_len, existing + tail, (existing_len - tail) * sizeof(*out));
        *ret_insns = out;
        *ret_len = prefix_len + existing_len - tail;
        return 1;
}

/* The verifier's complaint: the last line of its log before the statistics it ends with. */
static const char *
log_tail(char *log)
{
        size_t len = strnlen(log, LOG_BUF_SIZE - 1);

        for (;;) {
                char *p;

                while (len > 0 && (log[len - 1] == '\n' || log[len - 1] == ' '))
                        log[--len] = '\0';
                p = memrchr(log, '\n', len);
                p = p ? p + 1 : log;
                if (p == log || (strncmp(p, "processed ", 10) != 0 &&
                                 strncmp(p, "verification time", 17) != 0 &&
                                 strncmp(p, "stack depth", 11) != 0))
                        return p;
                len = (size_t)(p - log);
        }
}

int
nvh_devbpf_load(const struct bpf_insn *insns, size_t n, struct nvh_err *err)
{
        static const char license[] = "Apache-2.0";
        _cleanup_free_ char *log = NULL;
        union bpf_attr attr;
        int fd, e;

        if (n == 0 || n > NVH_DEVBPF_MAX_INSNS)
                return nvh_err_set(err, -E2BIG, "device program length '%zu' out of range", n);
        memset(&attr, 0, sizeof(attr));
        attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        attr.insns = (uint64_t)(uintptr_t)insns;
        attr.insn_cnt = (uint32_t)n;
        attr.license = (uint64_t)(uintptr_t)license;
        strncpy(attr.prog_name, "nvhook_devices", sizeof(attr.prog_name) - 1);
        fd = sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
        if (fd >= 0)
                return fd;
        if (errno != EINVAL && errno != EACCES)
                return nvh_err_errno(err, "load device program (%zu insns)", n);
        e = -errno; /* the second load below may change errno */
        /* Load again with a log only to explain the failure. */
        log = calloc(1, LOG_BUF_SIZE);
        if (!log)
                return nvh_err_sys(err, e, "load device program (%zu insns)", n);
        attr.log_buf = (uint64_t)(uintptr_t)log;
        attr.log_size = LOG_BUF_SIZE;
        attr.log_level = 1;
        fd = sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
        if (fd >= 0)
                return fd;
        return nvh_err_sys(err, e, "load device program (%zu insns), verifier log '%s'", n,
                           log_tail(log));
}

int
nvh_devbpf_query(int cgroup_fd, bool effective, unsigned *ids, size_t max, unsigned *ret_flags,
                 struct nvh_err *err)
{
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.query.target_fd = (uint32_t)cgroup_fd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.query_flags = effective ? BPF_F_QUERY_EFFECTIVE : 0;
        attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
        attr.query.prog_cnt = (uint32_t)max;
        if (sys_bpf(BPF_PROG_QUERY, &attr, sizeof(attr)) < 0) {
                if (errno == ENOSPC)
                        return nvh_err_set(err, -E2BIG,
                                           "query device programs: more than %zu attached", max);
                return nvh_err_errno(err, "query device programs");
        }
        if (ret_flags)
                *ret_flags = attr.query.attach_flags;
        return (int)attr.query.prog_cnt;
}

int
nvh_devbpf_prog_fd(unsigned id, struct nvh_err *err)
{
        union bpf_attr attr;
        int fd;

        memset(&attr, 0, sizeof(attr));
        attr.prog_id = id;
        fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr));
        if (fd < 0)
                return nvh_err_errno(err, "open bpf program id '%u'", id);
        return fd;
}

static int
prog_info(int prog_fd, struct bpf_prog_info *info)
{
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.info.bpf_fd = (uint32_t)prog_fd;
        attr.info.info_len = sizeof(*info);
        attr.info.info = (uint64_t)(uintptr_t)info;
        return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &attr, sizeof(attr)) < 0 ? -errno : 0;
}

int
nvh_devbpf_prog_xlated(int prog_fd, struct bpf_insn **ret_insns, size_t *ret_len,
                       unsigned *ret_type, struct nvh_err *err)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        struct bpf_prog_info info;
        uint32_t len;
        int r;

        memset(&info, 0, sizeof(info));
        r = prog_info(prog_fd, &info);
        if (r < 0)
                return nvh_err_sys(err, r, "get bpf program info");
        len = info.xlated_prog_len;
        if (len == 0)
                return nvh_err_set(err, -EPERM,
                                   "translated instructions of bpf program id '%u' are hidden",
                                   info.id);
        if (len % sizeof(struct bpf_insn) || len / sizeof(struct bpf_insn) > NVH_DEVBPF_MAX_INSNS)
                return nvh_err_set(err, -E2BIG, "bpf program id '%u' has bad length '%u'", info.id,
                                   len);
        insns = calloc(len / sizeof(struct bpf_insn), sizeof(struct bpf_insn));
        if (!insns)
                return nvh_err_set(err, -ENOMEM, "get bpf program: out of memory");
        memset(&info, 0, sizeof(info));
        info.xlated_prog_len = len;
        info.xlated_prog_insns = (uint64_t)(uintptr_t)insns;
        r = prog_info(prog_fd, &info);
        if (r < 0)
                return nvh_err_sys(err, r, "get bpf program instructions");
        /* The kernel reports the full length even when it copied less. */
        if (info.xlated_prog_len != len)
                return nvh_err_set(err, -EAGAIN, "bpf program id '%u' changed length", info.id);
        if (ret_type)
                *ret_type = info.type;
        *ret_insns = TAKE_PTR(insns);
        *ret_len = len / sizeof(struct bpf_insn);
        return 0;
}

/* BPF_PROG_ATTACH or BPF_PROG_DETACH of a device program on a cgroup. */
static int
prog_cmd(int cmd, int cgroup_fd, int prog_fd, unsigned flags, int replace_fd, const char *what,
         struct nvh_err *err)
{
        union bpf_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.target_fd = (uint32_t)cgroup_fd;
        attr.attach_bpf_fd = (uint32_t)prog_fd;
        attr.attach_type = BPF_CGROUP_DEVICE;
        attr.attach_flags = flags | (replace_fd >= 0 ? BPF_F_REPLACE : 0);
        if (replace_fd >= 0)
                attr.replace_bpf_fd = (uint32_t)replace_fd;
        if (sys_bpf(cmd, &attr, sizeof(attr)) < 0)
                return nvh_err_errno(err, "%s device program (flags %#x)", what, attr.attach_flags);
        return 0;
}

int
nvh_devbpf_attach(int cgroup_fd, int prog_fd, unsigned flags, int replace_fd, struct nvh_err *err)
{
        return prog_cmd(BPF_PROG_ATTACH, cgroup_fd, prog_fd, flags, replace_fd, "attach", err);
}

int
nvh_devbpf_detach(int cgroup_fd, int prog_fd, struct nvh_err *err)
{
        return prog_cmd(BPF_PROG_DETACH, cgroup_fd, prog_fd, 0, -1, "detach", err);
}
