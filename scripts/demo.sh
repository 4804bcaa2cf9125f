#!/bin/bash
# Install dependencies, build, and show what nvhook finds: `nvhook info`, `nvhook list` and
# `nvhook doctor`. With an NVIDIA driver loaded this runs against the real driver; otherwise
# against a fake driver tree that the project generates (SIMULATED: real ELF files, a real
# ld.so.cache, a fake procfs and device nodes in a temporary folder).
#
# The fake driver lives as long as the demo: on a terminal the demo waits for Enter before it
# removes it, so the paths it printed can be looked at; without a terminal it replaces the
# temporary folder's name with <fake> in what it prints. NVH_DEMO_KEEP=1 keeps the folder.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
        echo "demo.sh needs root: it installs packages with apt-get and creates device nodes" >&2
        echo "(mknod) for the fake driver. Run: sudo bash scripts/demo.sh" >&2
        exit 1
fi
step() { printf '\n== %s\n' "$*"; }

step "[1/4] installing build and test dependencies (apt-get; on a fresh machine about 200" \
        "packages, a minute or two; nothing to do when they are installed)"
bash scripts/deps.sh
step "[2/4] building nvhook and nvhook-probe (cmake, into ${BUILD:-build}/)"
mkdir -p "${BUILD:-build}"
if ! bash scripts/build.sh >"${BUILD:-build}/demo-build.log" 2>&1; then
        tail -n 30 "${BUILD:-build}/demo-build.log" >&2
        echo "build failed; full log: ${BUILD:-build}/demo-build.log" >&2
        exit 1
fi
nvhook=${BUILD:-build}/nvhook
"$nvhook" --version

if [ -r /proc/driver/nvidia/version ]; then
        step "[3/4] real driver: nvhook info"
        "$nvhook" info
        step "[4/4] every file and device a container would get: nvhook list --capabilities all"
        "$nvhook" list --capabilities all
        step "node check: nvhook doctor"
        "$nvhook" doctor || true
        exit 0
fi

step "[3/4] no NVIDIA driver here: generating a fake driver 580.159.04 (SIMULATED)"
fake=$(mktemp -d /tmp/nvhook-demo.XXXXXX)
show() { cat; }
if [ "${NVH_DEMO_KEEP:-}" = 1 ]; then
        trap 'echo; echo "the fake driver stays in $fake (rm -rf $fake when done)"' EXIT
elif [ -t 0 ]; then
        trap 'rm -rf "$fake"' EXIT
else
        trap 'rm -rf "$fake"' EXIT
        # The folder goes when the demo ends: print only what stays true.
        show() { sed "s|$fake|<fake>|g"; }
fi
bash tests/fixtures/generate.sh "$fake" >/dev/null
echo "fake driver root, procfs and /dev under $fake" | show
# The discovery cache of this throw-away driver goes with it, not into the host's /run/nvhook.
printf '{"cache_dir": "%s/cache"}\n' "$fake" >"$fake/nvhook.json"
args=(--config "$fake/nvhook.json" --root "$fake/driver" --proc "$fake/proc-1gpu" --dev "$fake/dev-1gpu")
"$nvhook" "${args[@]}" info | show
step "[4/4] every file and device a container would get: nvhook list --capabilities all"
"$nvhook" "${args[@]}" list --capabilities all | show
step "node check: nvhook doctor (the fake driver's nodes; this host's engines and kernel)"
"$nvhook" "${args[@]}" doctor | show || true
if [ -t 0 ] && [ "${NVH_DEMO_KEEP:-}" != 1 ]; then
        echo
        echo "The fake driver is in $fake; try: $nvhook ${args[*]} list --json"
        read -r -p "Press Enter to remove it and end the demo. " _ || true
fi
