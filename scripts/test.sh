#!/bin/bash
# Install dependencies, build with -Werror, run the whole suite (unit, component, e2e).
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD=${BUILD:-build} bash scripts/build.sh -DNVH_WERROR=ON
cd "${BUILD:-build}"
ctest --output-on-failure -j 2 "$@"
