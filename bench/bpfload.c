/* SPDX-License-Identifier: Apache-2.0 */
/* bpfload GPUS SAMPLES: the verifier's cost against program size. Composes nvhook's device
 * rules for GPUS GPUs (nvidiactl, nvidia-modeset, nvidia-uvm, nvidia-uvm-tools and one node per
 * GPU, as a plan of `all` grants) in front of a runtime-like foreign program (12 default
 * rules, deny otherwise), loads it SAMPLES times (BPF_PROG_LOAD, CGROUP_DEVICE) and prints
 * one "<load ns> 0 0" line per sample (bench/stats.py format) on stdout, and the number of
 * rules and instructions on stderr. Needs CAP_BPF (root). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "devbpf.h"
#include "err.h"

static long long
now_ns(void)
{
        struct timespec t;

        clock_gettime(CLOCK_MONOTONIC, &t);
        return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int
main(int argc, char **argv)
{
        static const struct nvh_devbpf_rule runtime[] = {
            {NVH_DEVBPF_TYPE_CHAR, 1, 3, 7},
            {NVH_DEVBPF_TYPE_CHAR, 1, 5, 7},
            {NVH_DEVBPF_TYPE_CHAR, 1, 7, 7},
            {NVH_DEVBPF_TYPE_CHAR, 1, 8, 7},
            {NVH_DEVBPF_TYPE_CHAR, 1, 9, 7},
            {NVH_DEVBPF_TYPE_CHAR, 5, 0, 7},
            {NVH_DEVBPF_TYPE_CHAR, 5, 1, 7},
            {NVH_DEVBPF_TYPE_CHAR, 5, 2, 7},
            {NVH_DEVBPF_TYPE_CHAR, 136, NVH_DEVBPF_ANY, 7},
            {NVH_DEVBPF_TYPE_CHAR, 10, 200, 7},
            {NVH_DEVBPF_TYPE_CHAR, NVH_DEVBPF_ANY, NVH_DEVBPF_ANY, 1},
            {NVH_DEVBPF_TYPE_BLOCK, NVH_DEVBPF_ANY, NVH_DEVBPF_ANY, 1},
        };
        struct nvh_err err = {0};
        struct nvh_devbpf_rule *rules;
        struct bpf_insn *tail = NULL, *prog = NULL;
        size_t tail_len = 0, prog_len = 0, n = 0;
        int gpus, samples;

        if (argc != 3)
                return 2;
        gpus = atoi(argv[1]);
        samples = atoi(argv[2]);
        rules = calloc((size_t)gpus + 4, sizeof(*rules));
        if (!rules)
                return 1;
        rules[n++] = (struct nvh_devbpf_rule){NVH_DEVBPF_TYPE_CHAR, 195, 255, 6};
        rules[n++] = (struct nvh_devbpf_rule){NVH_DEVBPF_TYPE_CHAR, 195, 254, 6};
        rules[n++] = (struct nvh_devbpf_rule){NVH_DEVBPF_TYPE_CHAR, 510, 0, 6};
        rules[n++] = (struct nvh_devbpf_rule){NVH_DEVBPF_TYPE_CHAR, 510, 1, 6};
        for (int i = 0; i < gpus; i++)
                rules[n++] = (struct nvh_devbpf_rule){NVH_DEVBPF_TYPE_CHAR, 195, (unsigned)i, 6};
        if (nvh_devbpf_build(runtime, sizeof(runtime) / sizeof(runtime[0]), 0, &tail, &tail_len,
                             &err) < 0)
                goto fail;
        tail[0].imm = 0; /* no longer our marker: a foreign program, kept whole as the tail */
        if (nvh_devbpf_compose(rules, n, tail, tail_len, &prog, &prog_len, &err) < 0)
                goto fail;
        fprintf(stderr, "%d GPUs: %zu rules, %zu insns (prefix %zu, tail %zu)\n", gpus, n, prog_len,
                prog_len - tail_len, tail_len);
        for (int s = 0; s < samples; s++) {
                long long t0 = now_ns();
                int fd = nvh_devbpf_load(prog, prog_len, &err);

                if (fd < 0)
                        goto fail;
                printf("%lld 0 0\n", now_ns() - t0);
                close(fd);
        }
        free(rules);
        free(tail);
        free(prog);
        return 0;
fail:
        fprintf(stderr, "bpfload: %s\n", err.msg);
        return 1;
}
