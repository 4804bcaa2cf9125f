#!/bin/bash
# On the GPU machine (through the device tool, with .carry carried; prepare with
# scripts/gpu-carry.sh): the benchmark harness against the real driver. Prints the table.
set -u
cd "$(dirname "$0")/.." || exit 1
. .carry/runtimes/env.sh
export NVHOOK=$PWD/.carry/nvhook NVH_BENCH_BIN=$PWD/.carry/bench NVH_SOURCE_DIR=$PWD
export NVH_BENCH_OUT=${OUT:-/tmp}/bench.md
[ ! -x .carry/nvhook-baseline ] || export NVH_BENCH_BASELINE=$PWD/.carry/nvhook-baseline
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
bash bench/bench.sh "$@"
