#!/bin/bash
# Install dependencies, build with -Werror, run the whole suite (unit, component, e2e).
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD=${BUILD:-build} bash scripts/build.sh -DNVH_WERROR=ON
# ---- sanitizers and fuzzing (issue 8): ASan+UBSan unit/component tests, then every libFuzzer
# target for a bounded time (FUZZ_SECONDS). NVH_SKIP_SANITIZERS=1 skips both locally. ----
if [ "${NVH_SKIP_SANITIZERS:-0}" != 1 ]; then
        bash scripts/test-asan.sh
        bash tests/fuzz/run.sh
fi
# ---- end sanitizers and fuzzing ----
cd "${BUILD:-build}"
ctest --output-on-failure -j 2 "$@"
