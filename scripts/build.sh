#!/bin/bash
# Configure and build nvhook into ${BUILD:-build}. Extra arguments go to cmake.
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
