#!/bin/bash
# Prepare .carry/ (git-ignored) for the GPU machine: the nvhook binary built here and the
# runtimes with their libraries (scripts/carry-runtimes.sh), and the benchmark helpers.
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build}
BUILD=$build bash scripts/build.sh >/dev/null
mkdir -p .carry
install -m 0755 "$build/nvhook" "$build/nvhook-probe" .carry/
mkdir -p .carry/bench
install -m 0755 "$build/bench/timeexec" "$build/bench/bench_floor" "$build/bench/bench_empty" \
        "$build/bench/bench_mkcache" "$build/bench/bench_bpfload" "$build/bench/bench_mountcost" \
        .carry/bench/
# The incumbent's output on the GPU machine, for tests/e2e/test_gpu_modes.sh to set beside ours.
[ ! -r ../shared/reference/incumbent-h200.txt ] || cp ../shared/reference/incumbent-h200.txt .carry/
# NVH_CARRY_BASELINE=PATH: an older nvhook, timed beside this one by scripts/gpu-bench.sh.
rm -f .carry/nvhook-baseline
[ -z "${NVH_CARRY_BASELINE:-}" ] || install -m 0755 "$NVH_CARRY_BASELINE" .carry/nvhook-baseline
[ -x .carry/runtimes/bin/runc ] || sh scripts/carry-runtimes.sh .carry/runtimes
du -sh .carry
