#!/bin/bash
# nvhook doctor against the generated fake driver (procfs tree, driver root, mknod'ed nodes):
# a healthy tree passes the driver and node checks; a missing /dev/nvidia-uvm fails with the
# "CUDA works on the host, not in the container" explanation and the commands that fix it; a
# node with the wrong major and a host without a driver fail naming what is wrong. Also checks
# what nvhook --version prints. doctor only reads: no namespace needed.
set -eu
. "$(dirname "$0")/lib.sh"
rig_require_root
rig_require_cmd jq
[ -n "${NVHOOK:-}" ] && [ -x "$NVHOOK" ] || rig_skip "NVHOOK is not set (run under ctest)"
[ -d "${NVH_FIXTURES:-}/driver" ] || rig_skip "no generated fixtures (run under ctest)"
[ -c "$NVH_FIXTURES/dev-1gpu/nvidia-uvm" ] || rig_skip "no fake device nodes (mkdev.sh needs root)"

tmp=$(mktemp -d /tmp/nvh-doctor.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
printf '{"cache_dir": "%s/cache"}\n' "$tmp" >"$tmp/conf.json"
cp -a "$NVH_FIXTURES/dev-1gpu" "$tmp/dev"
doctor() {
        rc=0
        "$NVHOOK" --config "$tmp/conf.json" doctor --root "$NVH_FIXTURES/driver" \
                --proc "$NVH_FIXTURES/proc-1gpu" --dev "$tmp/dev" "$@" >"$tmp/out" 2>"$tmp/err" ||
                rc=$?
}
status_of() {
        jq -r --arg c "$1" '[.checks[] | select(.check == $c) | .status] | join(",")' "$tmp/out"
}
expect() { # CHECK STATUS
        local got
        got=$(status_of "$1")
        [ "$got" = "$2" ] || { cat "$tmp/out" "$tmp/err" >&2; rig_die "check '$1': '$got', expected '$2'"; }
}

# Healthy: every driver-side check passes; the exit status follows the failure count.
doctor --json
for c in driver gpus nodes uvm caps driver-files probe; do expect "$c" ok; done
failed=$(jq .failed "$tmp/out")
if [ "$failed" = 0 ]; then [ "$rc" = 0 ] || rig_die "no failure but exit $rc"; else
        [ "$rc" = 1 ] || rig_die "$failed failures but exit $rc"
fi

# The classic: no uvm node.
rm "$tmp/dev/nvidia-uvm"
doctor --json
[ "$rc" = 1 ] || rig_die "missing uvm node: exit $rc, expected 1"
expect uvm fail
jq -e '.ok == false' "$tmp/out" >/dev/null || rig_die "ok is not false"
uvm=$(jq -r '.checks[] | select(.check == "uvm")' "$tmp/out")
echo "$uvm" | jq -e '.why | contains("CUDA works on the host, not in the container")' >/dev/null ||
        rig_die "uvm failure lacks the explanation: $uvm"
echo "$uvm" | jq -e --arg p "mknod -m 666 $tmp/dev/nvidia-uvm c 238 0" \
        '(.fix | contains("nvidia-modprobe -u -c 0")) and (.fix | contains($p))' >/dev/null ||
        rig_die "uvm failure lacks the fix: $uvm"
echo "$uvm" | jq -e --arg p "'$tmp/dev/nvidia-uvm' is missing" '.detail == $p' >/dev/null ||
        rig_die "uvm failure does not name the node: $uvm"
# The same in words.
doctor
[ "$rc" = 1 ] || rig_die "text mode: exit $rc"
grep -q "^FAIL  uvm .*nvidia-uvm' is missing" "$tmp/out" || rig_die "text: no FAIL line: $(cat "$tmp/out")"
grep -q "why: CUDA works on the host, not in the container" "$tmp/out" || rig_die "text: no why"
grep -q "fix: create the nodes at boot: nvidia-modprobe -u -c 0" "$tmp/out" || rig_die "text: no fix"

# A GPU node with another device's numbers.
rm "$tmp/dev/nvidia0"
mknod "$tmp/dev/nvidia0" c 1 3
doctor --json
expect nodes fail
jq -e '.checks[] | select(.check == "nodes") | .detail | contains("is 1:3, the driver'"'"'s is 195:0")' \
        "$tmp/out" >/dev/null || rig_die "wrong major not named: $(cat "$tmp/out")"

# No driver at all.
mkdir "$tmp/noproc"
rc=0
"$NVHOOK" --config "$tmp/conf.json" doctor --json --proc "$tmp/noproc" >"$tmp/out" || rc=$?
[ "$rc" = 1 ] || rig_die "no driver: exit $rc"
expect driver fail
jq -e '.checks[] | select(.check == "driver") | .fix | contains("modprobe nvidia")' "$tmp/out" \
        >/dev/null || rig_die "no driver: no fix"

# --version: version, the commit, the kernel features.
"$NVHOOK" --version >"$tmp/v"
grep -q '^nvhook [0-9]' "$tmp/v" || rig_die "--version: $(cat "$tmp/v")"
grep -Eq '^commit: ([0-9a-f]{7,}|v?[0-9].*|unknown)' "$tmp/v" || rig_die "--version: no commit"
grep -Eq '^kernel features: .*openat2 .*mount-api .*mount_setattr .*bpf-replace' "$tmp/v" ||
        rig_die "--version: no kernel features: $(cat "$tmp/v")"
rig_log "ok"
