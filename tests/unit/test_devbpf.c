/* SPDX-License-Identifier: Apache-2.0 */
/* Device-program builder, decoder and composer. Programs are checked three ways: instruction
 * by instruction against the documented encoding, by running them in a small interpreter of
 * the subset they use, and (as root) by the kernel verifier. */
#include "testutil.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devbpf.h"
#include "err.h"
#include "macros.h"

#define CHR NVH_DEVBPF_TYPE_CHAR
#define BLK NVH_DEVBPF_TYPE_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD
#define ANY NVH_DEVBPF_ANY

static struct bpf_insn
I(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
        return (struct bpf_insn){
            .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
}

/* A program shaped like runc's device filter (registers r2..r5 for the ctx fields, r1 reused
 * as scratch in access checks): allow c 1:3 rw, allow c 1:5 rwm, deny the rest. */
static size_t
runc_like(struct bpf_insn *p)
{
        size_t n = 0;

        p[n++] = I(BPF_LDX | BPF_W | BPF_MEM, 2, 1, 0, 0);
        p[n++] = I(BPF_ALU | BPF_AND | BPF_K, 2, 0, 0, 0xffff);
        p[n++] = I(BPF_LDX | BPF_W | BPF_MEM, 3, 1, 0, 0);
        p[n++] = I(BPF_ALU | BPF_RSH | BPF_K, 3, 0, 0, 16);
        p[n++] = I(BPF_LDX | BPF_W | BPF_MEM, 4, 1, 4, 0);
        p[n++] = I(BPF_LDX | BPF_W | BPF_MEM, 5, 1, 8, 0);
        /* c 1:3 rw */
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 7, 2);
        p[n++] = I(BPF_ALU | BPF_MOV | BPF_X, 1, 3, 0, 0);
        p[n++] = I(BPF_ALU | BPF_AND | BPF_K, 1, 0, 0, R | W);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_X, 1, 3, 4, 0);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 3, 1);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 2, 3);
        p[n++] = I(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 1);
        p[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        /* c 1:5 rwm */
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 2, 0, 4, 2);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 4, 0, 3, 1);
        p[n++] = I(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 2, 5);
        p[n++] = I(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 1);
        p[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        p[n++] = I(BPF_ALU | BPF_MOV | BPF_K, 0, 0, 0, 0);
        p[n++] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        return n;
}

/* Interpreter for the subset device programs use; fails the test on anything else. */
static int
run(const struct bpf_insn *p, size_t n, unsigned type, unsigned access, unsigned major,
    unsigned minor)
{
        uint32_t ctx[3] = {(access << 16) | type, major, minor};
        uint64_t r[11] = {0};
        size_t pc = 0, steps = 0;

        while (pc < n) {
                const struct bpf_insn *in = &p[pc++];
                uint8_t cls = BPF_CLASS(in->code), op = BPF_OP(in->code);
                uint64_t src =
                    BPF_SRC(in->code) == BPF_X ? r[in->src_reg] : (uint64_t)(int64_t)in->imm;
                uint64_t *d = &r[in->dst_reg];

                assert_true(++steps < 100000);
                assert_true(in->dst_reg <= 10 && in->src_reg <= 10);
                switch (cls) {
                case BPF_ALU:
                case BPF_ALU64:
                        switch (op) {
                        case BPF_MOV:
                                *d = src;
                                break;
                        case BPF_AND:
                                *d &= src;
                                break;
                        case BPF_OR:
                                *d |= src;
                                break;
                        case BPF_RSH:
                                *d = (cls == BPF_ALU ? (uint32_t)*d : *d) >> (src & 63);
                                break;
                        case BPF_LSH:
                                *d <<= (src & 63);
                                break;
                        case BPF_ADD:
                                *d += src;
                                break;
                        case BPF_XOR:
                                *d ^= src;
                                break;
                        default:
                                fail_msg("alu op %#x", op);
                        }
                        if (cls == BPF_ALU)
                                *d = (uint32_t)*d;
                        break;
                case BPF_LDX:
                        assert_int_equal(in->src_reg, 1);
                        assert_int_equal(BPF_SIZE(in->code), BPF_W);
                        assert_true(in->off >= 0 && in->off <= 8 && in->off % 4 == 0);
                        *d = ctx[in->off / 4];
                        break;
                case BPF_JMP:
                case BPF_JMP32: {
                        uint64_t a = *d, b = src;
                        bool t;
                        if (op == BPF_EXIT)
                                return (int)r[0];
                        if (cls == BPF_JMP32) {
                                a = (uint32_t)a;
                                b = (uint32_t)b;
                        }
                        switch (op) {
                        case BPF_JA:
                                t = true;
                                break;
                        case BPF_JEQ:
                                t = a == b;
                                break;
                        case BPF_JNE:
                                t = a != b;
                                break;
                        case BPF_JGT:
                                t = a > b;
                                break;
                        case BPF_JGE:
                                t = a >= b;
                                break;
                        case BPF_JLT:
                                t = a < b;
                                break;
                        case BPF_JLE:
                                t = a <= b;
                                break;
                        case BPF_JSET:
                                t = (a & b) != 0;
                                break;
                        default:
                                fail_msg("jmp op %#x", op);
                                return -1;
                        }
                        if (t)
                                pc += (size_t)(ptrdiff_t)in->off;
                        break;
                }
                default:
                        fail_msg("class %#x", cls);
                }
        }
        fail_msg("fell off the end");
        return -1;
}

static void
test_encoding(void **state)
{
        (void)state;
        struct nvh_devbpf_rule rules[] = {
            {CHR, 195, 0, R | W | M},
            {CHR, 195, ANY, R | W},
            {BLK, ANY, ANY, M},
        };
        struct bpf_insn *p = NULL;
        size_t n = 0, i;
        struct nvh_err err = {0};

        assert_int_equal(nvh_devbpf_build(rules, 3, 0, &p, &n, &err), 0);
        /* header */
        assert_int_equal(p[0].code, BPF_ALU64 | BPF_MOV | BPF_K);
        assert_int_equal(p[0].imm, NVH_DEVBPF_MAGIC);
        assert_int_equal(p[1].code, BPF_ALU64 | BPF_MOV | BPF_K);
        assert_int_equal(p[1].imm, (int)n - 2); /* prefix length: all but the default verdict */
        assert_int_equal(p[2].code, BPF_LDX | BPF_W | BPF_MEM);
        assert_int_equal(p[2].dst_reg, 2);
        assert_int_equal(p[2].src_reg, 1);
        assert_int_equal(p[2].off, 0);
        assert_int_equal(p[4].code, BPF_ALU | BPF_AND | BPF_K);
        assert_int_equal(p[4].imm, 0xffff);
        assert_int_equal(p[6].code, BPF_ALU | BPF_RSH | BPF_K);
        assert_int_equal(p[6].imm, 16);
        assert_int_equal(p[7].off, 4);
        assert_int_equal(p[8].off, 8);
        /* rule 1: type, major, minor, no access check (rwm), r0 = 1, exit */
        i = 9;
        assert_int_equal(p[i].code, BPF_JMP | BPF_JNE | BPF_K);
        assert_int_equal(p[i].dst_reg, 3);
        assert_int_equal(p[i].imm, BPF_DEVCG_DEV_CHAR);
        assert_int_equal(p[i].off, 4);
        assert_int_equal(p[i + 1].dst_reg, 5);
        assert_int_equal(p[i + 1].imm, 195);
        assert_int_equal(p[i + 1].off, 3);
        assert_int_equal(p[i + 2].dst_reg, 6);
        assert_int_equal(p[i + 2].imm, 0);
        assert_int_equal(p[i + 2].off, 2);
        assert_int_equal(p[i + 3].code, BPF_ALU64 | BPF_MOV | BPF_K);
        assert_int_equal(p[i + 3].imm, 1);
        assert_int_equal(p[i + 4].code, BPF_JMP | BPF_EXIT);
        /* rule 2: type, major, access (w7 = w4 & ~rw; if r7 != 0 skip) */
        i += 5;
        assert_int_equal(p[i].imm, BPF_DEVCG_DEV_CHAR);
        assert_int_equal(p[i].off, 6);
        assert_int_equal(p[i + 1].imm, 195);
        assert_int_equal(p[i + 2].code, BPF_ALU | BPF_MOV | BPF_X);
        assert_int_equal(p[i + 2].dst_reg, 7);
        assert_int_equal(p[i + 2].src_reg, 4);
        assert_int_equal(p[i + 3].code, BPF_ALU | BPF_AND | BPF_K);
        assert_int_equal(p[i + 3].imm, (int32_t) ~(uint32_t)(R | W));
        assert_int_equal(p[i + 4].code, BPF_JMP | BPF_JNE | BPF_K);
        assert_int_equal(p[i + 4].dst_reg, 7);
        assert_int_equal(p[i + 4].imm, 0);
        assert_int_equal(p[i + 4].off, 2);
        /* rule 3: type and access only */
        i += 7;
        assert_int_equal(p[i].imm, BPF_DEVCG_DEV_BLOCK);
        assert_int_equal(p[i + 1].code, BPF_ALU | BPF_MOV | BPF_X);
        assert_int_equal(p[i + 3].off, 2);
        i += 6;
        assert_int_equal((int)i, p[1].imm);
        assert_int_equal(p[i].imm, 0);
        assert_int_equal(p[i + 1].code, BPF_JMP | BPF_EXIT);
        assert_int_equal(n, i + 2);
        free(p);
}

static void
test_semantics(void **state)
{
        (void)state;
        struct nvh_devbpf_rule rules[] = {
            {CHR, 195, 0, R | W | M},
            {CHR, 195, ANY, R | W},
            {BLK, ANY, ANY, M},
            {CHR, 509, 7, R},
        };
        struct bpf_insn *p = NULL;
        size_t n = 0;

        assert_int_equal(nvh_devbpf_build(rules, 4, 0, &p, &n, NULL), 0);
        assert_int_equal(run(p, n, CHR, R | W, 195, 0), 1);
        assert_int_equal(run(p, n, CHR, M, 195, 0), 1);
        assert_int_equal(run(p, n, CHR, R | W, 195, 255), 1);
        assert_int_equal(run(p, n, CHR, M, 195, 255), 0);
        assert_int_equal(run(p, n, BLK, R, 195, 0), 0);
        assert_int_equal(run(p, n, BLK, M, 8, 0), 1);
        assert_int_equal(run(p, n, BLK, R, 8, 0), 0);
        assert_int_equal(run(p, n, CHR, R, 509, 7), 1);
        assert_int_equal(run(p, n, CHR, W, 509, 7), 0);
        assert_int_equal(run(p, n, CHR, R, 509, 8), 0);
        assert_int_equal(run(p, n, CHR, R, 1, 3), 0);
        free(p);
        /* An "a" rule allows everything; a default verdict of 1 too. */
        struct nvh_devbpf_rule all = {NVH_DEVBPF_TYPE_ANY, ANY, ANY, R | W | M};
        assert_int_equal(nvh_devbpf_build(&all, 1, 0, &p, &n, NULL), 0);
        assert_int_equal(run(p, n, BLK, R | W, 8, 1), 1);
        free(p);
        assert_int_equal(nvh_devbpf_build(NULL, 0, 1, &p, &n, NULL), 0);
        assert_int_equal(run(p, n, CHR, R, 1, 1), 1);
        free(p);
}

static void
test_decode_roundtrip(void **state)
{
        (void)state;
        struct nvh_devbpf_rule rules[] = {
            {CHR, 195, 0, R | W | M}, {CHR, 195, ANY, R | W},
            {BLK, ANY, ANY, M},       {NVH_DEVBPF_TYPE_ANY, 10, ANY, W},
            {CHR, ANY, 5, R | M},     {CHR, 4095, 1048575, R | W | M},
        };
        struct nvh_devbpf_rule *got = NULL;
        struct bpf_insn *p = NULL;
        size_t n = 0, ng = 0, tail = 0;

        assert_int_equal(nvh_devbpf_build(rules, ARRAY_SIZE(rules), 0, &p, &n, NULL), 0);
        assert_int_equal(nvh_devbpf_decode(p, n, &got, &ng, &tail, NULL), 1);
        assert_int_equal(ng, ARRAY_SIZE(rules));
        assert_int_equal(tail, n - 2);
        assert_memory_equal(got, rules, sizeof(rules));
        free(got);

        /* Any change to the prefix makes it foreign: no rules, tail at 0. */
        for (size_t i = 0; i < tail; i++) {
                struct bpf_insn saved = p[i];
                p[i].off ^= 1;
                int r = nvh_devbpf_decode(p, n, &got, &ng, &tail, NULL);
                if (r == 1) {
                        /* flipping the offset of a non-jump is visible too */
                        fail_msg("insn %zu: tampered prefix decoded", i);
                }
                assert_int_equal(r, 0);
                assert_int_equal(ng, 0);
                assert_null(got);
                p[i] = saved;
                tail = n - 2;
        }
        /* A truncated program and a lying length are foreign too. */
        assert_int_equal(nvh_devbpf_decode(p, 8, &got, &ng, &tail, NULL), 0);
        p[1].imm = (int32_t)n + 1;
        assert_int_equal(nvh_devbpf_decode(p, n, &got, &ng, &tail, NULL), 0);
        p[1].imm = 10;
        assert_int_equal(nvh_devbpf_decode(p, n, &got, &ng, &tail, NULL), 0);
        free(p);

        struct bpf_insn foreign[32];
        size_t fn = runc_like(foreign);
        assert_int_equal(nvh_devbpf_decode(foreign, fn, &got, &ng, &tail, NULL), 0);
}

static void
test_compose(void **state)
{
        (void)state;
        struct bpf_insn rt[32];
        size_t rn = runc_like(rt);
        struct nvh_devbpf_rule gpu0 = {CHR, 195, 0, R | W};
        struct nvh_devbpf_rule gpu1 = {CHR, 195, 1, R | W | M};
        struct nvh_devbpf_rule *got = NULL;
        struct bpf_insn *c1 = NULL, *c2 = NULL, *c3 = NULL;
        size_t n1 = 0, n2 = 0, n3 = 0, ng = 0, tail = 0;
        struct nvh_err err = {0};

        /* the runtime's program alone */
        assert_int_equal(run(rt, rn, CHR, R | W, 1, 3), 1);
        assert_int_equal(run(rt, rn, CHR, M, 1, 3), 0);
        assert_int_equal(run(rt, rn, CHR, M, 1, 5), 1);
        assert_int_equal(run(rt, rn, CHR, R, 195, 0), 0);

        assert_int_equal(nvh_devbpf_compose(&gpu0, 1, rt, rn, &c1, &n1, &err), 1);
        assert_int_equal(nvh_devbpf_decode(c1, n1, &got, &ng, &tail, NULL), 1);
        assert_int_equal(ng, 1);
        assert_memory_equal(&got[0], &gpu0, sizeof(gpu0));
        free(got);
        assert_int_equal(n1 - tail, rn);
        assert_memory_equal(c1 + tail, rt, rn * sizeof(*rt));
        assert_int_equal(run(c1, n1, CHR, R | W, 195, 0), 1);
        assert_int_equal(run(c1, n1, CHR, M, 195, 0), 0);
        assert_int_equal(run(c1, n1, CHR, R, 195, 1), 0);
        assert_int_equal(run(c1, n1, CHR, R | W, 1, 3), 1);
        assert_int_equal(run(c1, n1, CHR, M, 1, 3), 0);
        assert_int_equal(run(c1, n1, CHR, M, 1, 5), 1);
        assert_int_equal(run(c1, n1, BLK, R, 8, 0), 0);

        /* Idempotent: the same (or a narrower) rule changes nothing. */
        assert_int_equal(nvh_devbpf_compose(&gpu0, 1, c1, n1, &c2, &n2, &err), 0);
        struct nvh_devbpf_rule narrower = {CHR, 195, 0, R};
        assert_int_equal(nvh_devbpf_compose(&narrower, 1, c1, n1, &c2, &n2, &err), 0);
        assert_null(c2);

        /* A new rule is merged into the one prefix; the tail stays the runtime's. */
        assert_int_equal(nvh_devbpf_compose(&gpu1, 1, c1, n1, &c2, &n2, &err), 1);
        assert_int_equal(nvh_devbpf_decode(c2, n2, &got, &ng, &tail, NULL), 1);
        assert_int_equal(ng, 2);
        assert_memory_equal(&got[0], &gpu0, sizeof(gpu0));
        assert_memory_equal(&got[1], &gpu1, sizeof(gpu1));
        free(got);
        assert_memory_equal(c2 + tail, rt, rn * sizeof(*rt));
        assert_int_equal(run(c2, n2, CHR, M, 195, 1), 1);
        assert_int_equal(run(c2, n2, CHR, R | W, 195, 0), 1);
        assert_int_equal(run(c2, n2, CHR, R, 195, 2), 0);

        /* Many rounds keep the program bounded. */
        for (unsigned m = 0; m < 50; m++) {
                struct nvh_devbpf_rule r = {CHR, 195, m % 5, R | W};
                struct bpf_insn *c = NULL;
                size_t cn = 0;
                int rc = nvh_devbpf_compose(&r, 1, c2, n2, &c, &cn, &err);
                assert_true(rc >= 0);
                if (rc == 1) {
                        free(c2);
                        c2 = c;
                        n2 = cn;
                }
        }
        assert_true(n2 < rn + 9 + 7 * 6);
        assert_int_equal(nvh_devbpf_decode(c2, n2, &got, &ng, &tail, NULL), 1);
        assert_int_equal(ng, 5); /* 195:0 rw, 195:1 rwm (covers rw), 195:2..4 rw */
        free(got);

        /* No rules and a foreign program: nothing to do. */
        assert_int_equal(nvh_devbpf_compose(NULL, 0, rt, rn, &c3, &n3, &err), 0);
        free(c1);
        free(c2);
}

static void
test_rejects(void **state)
{
        (void)state;
        struct bpf_insn rt[40];
        size_t rn = runc_like(rt);
        struct bpf_insn *c = NULL;
        size_t cn = 0;
        struct nvh_devbpf_rule ok = {CHR, 195, 0, R | W};
        struct nvh_err err = {0};

        assert_int_equal(nvh_devbpf_check_tail(rt, rn, &err), 0);

        struct bpf_insn bad[40];
        memcpy(bad, rt, sizeof(rt));
        bad[rn - 2] = I(BPF_JMP | BPF_CALL, 0, 0, 0, 14);
        assert_int_equal(nvh_devbpf_compose(&ok, 1, bad, rn, &c, &cn, &err), -ENOTSUP);
        assert_non_null(strstr(err.msg, "insn 19"));

        memcpy(bad, rt, sizeof(rt));
        bad[rn - 2] = I(BPF_LD | BPF_IMM | BPF_DW, 2, BPF_PSEUDO_MAP_FD, 0, 7);
        bad[rn - 1] = I(0, 0, 0, 0, 0);
        bad[rn] = I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
        assert_int_equal(nvh_devbpf_check_tail(bad, rn + 1, &err), -ENOTSUP);
        assert_non_null(strstr(err.msg, "map"));

        memcpy(bad, rt, sizeof(rt));
        bad[6].off = 100;
        assert_int_equal(nvh_devbpf_check_tail(bad, rn, &err), -EINVAL);
        bad[6].off = -8;
        assert_int_equal(nvh_devbpf_check_tail(bad, rn, &err), -EINVAL);

        memcpy(bad, rt, sizeof(rt));
        bad[7].src_reg = 11; /* BPF_REG_AX after constant blinding */
        assert_int_equal(nvh_devbpf_check_tail(bad, rn, &err), -ENOTSUP);

        memcpy(bad, rt, sizeof(rt));
        bad[0] = I(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 0);
        assert_int_equal(nvh_devbpf_check_tail(bad, rn, &err), -ENOTSUP);
        bad[0] = I(BPF_ST | 0xc0 /* BPF_NOSPEC */, 0, 0, 0, 0);
        assert_int_equal(nvh_devbpf_check_tail(bad, rn, &err), -ENOTSUP);
        assert_int_equal(nvh_devbpf_check_tail(bad, 0, &err), -EINVAL);

        struct nvh_devbpf_rule r;
        r = (struct nvh_devbpf_rule){CHR, 4096, 0, R};
        assert_int_equal(nvh_devbpf_rule_check(&r, &err), -EINVAL);
        assert_non_null(strstr(err.msg, "'4096'"));
        r = (struct nvh_devbpf_rule){CHR, 1, 1048576, R};
        assert_int_equal(nvh_devbpf_rule_check(&r, &err), -EINVAL);
        r = (struct nvh_devbpf_rule){CHR, 1, 1, 0};
        assert_int_equal(nvh_devbpf_rule_check(&r, &err), -EINVAL);
        r = (struct nvh_devbpf_rule){CHR, 1, 1, 8};
        assert_int_equal(nvh_devbpf_rule_check(&r, &err), -EINVAL);
        r = (struct nvh_devbpf_rule){3, 1, 1, R};
        assert_int_equal(nvh_devbpf_rule_check(&r, &err), -EINVAL);
        assert_int_equal(nvh_devbpf_compose(&r, 1, rt, rn, &c, &cn, &err), -EINVAL);

        /* rule count limit */
        struct nvh_devbpf_rule *many = calloc(NVH_DEVBPF_MAX_RULES + 1, sizeof(*many));
        assert_non_null(many);
        /* every other minor: no two merge into a range */
        for (unsigned i = 0; i <= NVH_DEVBPF_MAX_RULES; i++)
                many[i] = (struct nvh_devbpf_rule){CHR, 195, 2 * i, R | W};
        assert_int_equal(nvh_devbpf_build(many, NVH_DEVBPF_MAX_RULES + 1, 0, &c, &cn, &err),
                         -E2BIG);
        assert_int_equal(nvh_devbpf_build(many, NVH_DEVBPF_MAX_RULES, 0, &c, &cn, &err), 0);
        assert_int_equal(cn, 9 + 8 * NVH_DEVBPF_MAX_RULES + 2); /* at most 8 insns a rule */
        free(c);
        free(many);
}

/* 64 GPUs in bus order (minors scrambled), the control nodes, duplicates: consecutive minors
 * of one type, major and access become one range check, allowing exactly the granted nodes;
 * decoding gives every granted node back, once, and composing again adds only what is new. */
static void
test_ranges(void **state)
{
        (void)state;
        struct nvh_devbpf_rule rules[64 + 6];
        struct nvh_devbpf_rule *got = NULL;
        struct bpf_insn *p = NULL, *p2 = NULL;
        size_t n = 0, n2 = 0, ng = 0, tail = 0, k = 0;
        bool seen[256] = {false};

        for (unsigned i = 0; i < 64; i++)
                rules[k++] = (struct nvh_devbpf_rule){CHR, 195, (i * 37) % 64, R | W};
        rules[k++] = (struct nvh_devbpf_rule){CHR, 195, 255, R | W};
        rules[k++] = (struct nvh_devbpf_rule){CHR, 195, 254, R | W};
        rules[k++] = (struct nvh_devbpf_rule){CHR, 510, 0, R | W};
        rules[k++] = (struct nvh_devbpf_rule){CHR, 510, 1, R | W};
        rules[k++] = (struct nvh_devbpf_rule){CHR, 195, 7, R | W}; /* again */
        rules[k++] = (struct nvh_devbpf_rule){CHR, 510, 1, R | W}; /* again */
        assert_int_equal(nvh_devbpf_build(rules, k, 0, &p, &n, NULL), 0);
        /* three ranges: 195:[0,63], 195:[254,255], 510:[0,1] */
        assert_true(n <= 9 + 3 * 9 + 2);
        for (unsigned m = 0; m < 300; m++) {
                bool want = m < 64 || m == 254 || m == 255;
                assert_int_equal(run(p, n, CHR, R | W, 195, m), want);
                assert_int_equal(run(p, n, CHR, R | W, 510, m), m < 2);
        }
        assert_int_equal(run(p, n, CHR, M, 195, 3), 0);
        assert_int_equal(run(p, n, BLK, R, 195, 3), 0);
        assert_int_equal(run(p, n, CHR, R, 196, 3), 0);
        assert_int_equal(run(p, n, CHR, R, 195, 1048575), 0);

        assert_int_equal(nvh_devbpf_decode(p, n, &got, &ng, &tail, NULL), 1);
        assert_int_equal(ng, 64 + 4);
        for (size_t i = 0; i < ng; i++) {
                assert_int_equal(got[i].type, CHR);
                assert_int_equal(got[i].access, R | W);
                if (got[i].major == 195) {
                        assert_false(seen[got[i].minor]);
                        seen[got[i].minor] = true;
                } else {
                        assert_int_equal(got[i].major, 510);
                }
        }
        free(got);

        /* Composing the same grants again changes nothing; one more GPU extends the range. */
        assert_int_equal(nvh_devbpf_compose(rules, k, p, n, &p2, &n2, NULL), 0);
        struct nvh_devbpf_rule more = {CHR, 195, 64, R | W};
        assert_int_equal(nvh_devbpf_compose(&more, 1, p, n, &p2, &n2, NULL), 1);
        assert_int_equal(run(p2, n2, CHR, R, 195, 64), 1);
        assert_int_equal(run(p2, n2, CHR, R, 195, 65), 0);
        assert_int_equal(nvh_devbpf_decode(p2, n2, &got, &ng, &tail, NULL), 1);
        assert_int_equal(ng, 64 + 5);
        free(got);
        free(p2);

        /* A range from minor 0 has no lower check; one from 1 has. Both decode. */
        struct nvh_devbpf_rule two[] = {{CHR, 195, 1, R}, {CHR, 195, 2, R}};
        free(p);
        assert_int_equal(nvh_devbpf_build(two, 2, 0, &p, &n, NULL), 0);
        assert_int_equal(run(p, n, CHR, R, 195, 0), 0);
        assert_int_equal(run(p, n, CHR, R, 195, 2), 1);
        assert_int_equal(run(p, n, CHR, R, 195, 3), 0);
        assert_int_equal(nvh_devbpf_decode(p, n, &got, &ng, &tail, NULL), 1);
        assert_int_equal(ng, 2);
        assert_memory_equal(got, two, sizeof(two));
        free(got);
        /* a range written backwards or past the largest minor is not ours */
        for (size_t i = 9; i < n; i++)
                if (p[i].code == (BPF_JMP | BPF_JGT | BPF_K))
                        p[i].imm = 1;
        assert_int_equal(nvh_devbpf_decode(p, n, &got, &ng, &tail, NULL), 0);
        assert_null(got);
        free(p);
}

/* The kernel verifier accepts what we build and compose (needs CAP_BPF/CAP_SYS_ADMIN). */
static void
test_kernel_accepts(void **state)
{
        (void)state;
        struct nvh_devbpf_rule rules[] = {
            {CHR, 195, 0, R | W}, {CHR, 195, ANY, R | W | M}, {NVH_DEVBPF_TYPE_ANY, ANY, ANY, M}};
        struct bpf_insn rt[32];
        size_t rn = runc_like(rt);
        struct bpf_insn *p = NULL;
        size_t n = 0;
        struct nvh_err err = {0};
        int fd;

        fd = nvh_devbpf_load(rt, rn, &err);
        if (fd == -EPERM) {
                fprintf(stderr, "loading bpf programs needs privileges, skipping the kernel "
                                "check\n");
                skip();
        }
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(nvh_devbpf_compose(rules, ARRAY_SIZE(rules), rt, rn, &p, &n, &err), 1);
        fd = nvh_devbpf_load(p, n, &err);
        if (fd < 0)
                fail_msg("%s", err.msg);
        /* The verifier leaves our prefix as we wrote it, so it can be found again. */
        struct bpf_insn *x = NULL;
        struct nvh_devbpf_rule *got = NULL;
        size_t xn = 0, ng = 0, tail = 0;
        unsigned type = 0;
        assert_int_equal(nvh_devbpf_prog_xlated(fd, &x, &xn, &type, &err), 0);
        assert_int_equal(type, BPF_PROG_TYPE_CGROUP_DEVICE);
        assert_int_equal(xn, n);
        assert_int_equal(nvh_devbpf_decode(x, xn, &got, &ng, &tail, &err), 1);
        assert_int_equal(ng, ARRAY_SIZE(rules));
        assert_memory_equal(got, rules, sizeof(rules));
        assert_int_equal(nvh_devbpf_check_tail(x + tail, xn - tail, &err), 0);
        free(got);
        free(x);
        close(fd);
        free(p);
        /* range checks too: 8 GPUs from minor 0, two control nodes from 254 */
        struct nvh_devbpf_rule gpus[10];
        for (unsigned i = 0; i < 10; i++)
                gpus[i] = (struct nvh_devbpf_rule){CHR, 195, i < 8 ? i : 246 + i, R | W};
        assert_int_equal(nvh_devbpf_compose(gpus, 10, rt, rn, &p, &n, &err), 1);
        fd = nvh_devbpf_load(p, n, &err);
        if (fd < 0)
                fail_msg("%s", err.msg);
        close(fd);
        free(p);
        /* and the verifier's message reaches the error */
        struct bpf_insn broken[] = {I(BPF_ALU64 | BPF_MOV | BPF_X, 0, 5, 0, 0),
                                    I(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)};
        assert_true(nvh_devbpf_load(broken, 2, &err) < 0);
        assert_non_null(strstr(err.msg, "R5"));
}

int
main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_encoding),         cmocka_unit_test(test_semantics),
            cmocka_unit_test(test_decode_roundtrip), cmocka_unit_test(test_compose),
            cmocka_unit_test(test_rejects),          cmocka_unit_test(test_ranges),
            cmocka_unit_test(test_kernel_accepts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
