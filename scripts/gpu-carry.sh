#!/bin/bash
# Prepare .carry/ (git-ignored) for the GPU machine: the nvhook binary built here and the
# runtimes with their libraries (scripts/carry-runtimes.sh).
set -eu
cd "$(dirname "$0")/.."
bash scripts/build.sh >/dev/null
mkdir -p .carry
install -m 0755 build/nvhook .carry/nvhook
[ -x .carry/runtimes/bin/runc ] || sh scripts/carry-runtimes.sh .carry/runtimes
du -sh .carry
