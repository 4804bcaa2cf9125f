#!/bin/bash
# CI step: the unit and component tests on an ASan+UBSan build (-DNVH_SANITIZE=ON) in its own
# build directory. Any leak, memory error or undefined behaviour fails the test it happens in.
# Env: BUILD_ASAN (build-asan). Extra arguments go to ctest.
set -eu
cd "$(dirname "$0")/.."
build=${BUILD_ASAN:-build-asan}
BUILD=$build bash scripts/build.sh -DNVH_WERROR=ON -DNVH_SANITIZE=ON >/dev/null
cd "$build"
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# style is not a build product: the plain build's run checks it.
ctest --output-on-failure -j "$(nproc)" -L 'unit|component' -E '^style$' "$@"
