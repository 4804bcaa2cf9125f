#!/bin/bash
# Install dependencies, build, and show what nvhook finds: `nvhook info` and `nvhook list`.
# With an NVIDIA driver loaded this runs against the real driver; otherwise against a fake
# driver tree that the project generates (SIMULATED: real ELF files, a real ld.so.cache,
# a fake procfs and device nodes in a temporary folder).
set -eu
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh >/dev/null
nvhook=${BUILD:-build}/nvhook
if [ -r /proc/driver/nvidia/version ]; then
        echo "== real driver =="
        "$nvhook" info
        "$nvhook" list --capabilities all
        exit 0
fi
fake=$(mktemp -d /tmp/nvhook-demo.XXXXXX)
trap 'rm -rf "$fake"' EXIT
bash tests/fixtures/generate.sh "$fake" >/dev/null
echo "== SIMULATED: no NVIDIA driver here; fake driver 580.159.04 under $fake =="
# The discovery cache of this throw-away driver goes with it, not into the host's /run/nvhook.
printf '{"cache_dir": "%s/cache"}\n' "$fake" >"$fake/nvhook.json"
args=(--config "$fake/nvhook.json" --root "$fake/driver" --proc "$fake/proc-1gpu" --dev "$fake/dev-1gpu")
"$nvhook" "${args[@]}" info
echo
"$nvhook" "${args[@]}" list --capabilities all
