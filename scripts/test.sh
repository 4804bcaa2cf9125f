#!/bin/bash
# Install dependencies, build with -Werror, run the whole suite (unit, component, e2e), then
# the component and e2e suites again with every kernel feature's fallback forced
# (NVH_FORCE_FALLBACKS=1: the e2e rig writes "force_fallbacks": true into the hook's config;
# the C component tests run every mode themselves), so the fallback paths are proven too.
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
BUILD=${BUILD:-build} bash scripts/build.sh -DNVH_WERROR=ON
cd "${BUILD:-build}"
ctest --output-on-failure -j 2 "$@"
NVH_FORCE_FALLBACKS=1 ctest --output-on-failure -j 2 -L 'component|e2e' "$@"
