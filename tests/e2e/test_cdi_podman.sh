#!/bin/bash
# Podman's own CDI support runs nvhook: `nvhook cdi generate` into /var/run/cdi (the private
# namespace's /run), then --device nvidia.com/gpu=0, =all, two devices (both GPUs, one
# injection) and a UUID. Then the driver is replaced by another version: the same spec still
# works, and `nvhook cdi check` flags an incumbent-style static spec of the old version as
# stale while passing ours.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
. "$(dirname "$0")/shim_lib.sh"
rig_enter_private_ns "$@"
rig_require_cmd podman conmon
shim_setup
SPEC=/var/run/cdi/nvhook.json
mkdir -p /var/run/cdi
"$NVHOOK" --config "$HOOK_CONF" cdi generate --output "$SPEC"
[ "$(jq -r .cdiVersion "$SPEC")" = 0.5.0 ] || rig_die "cdiVersion: $(jq -r .cdiVersion "$SPEC")"
# Nothing in the spec names the driver version, a library or a device minor.
if grep -E "$NVH_PROC_DRIVER_VERSION|/dev/|\.so" "$SPEC"; then
        rig_die "the spec names something that changes with the driver"
fi
"$NVHOOK" --config "$HOOK_CONF" cdi list >"$RIG_TMP/list"
for n in 0 1 7 "${UUIDS[1]}" all; do
        grep -qx "nvidia.com/gpu=$n" "$RIG_TMP/list" || rig_die "cdi list lacks '$n'"
done
"$NVHOOK" --config "$HOOK_CONF" cdi check "$SPEC" || rig_die "cdi check fails on our own spec"

# The GPU nodes the container sees and the library version.
check() {
        echo "$NODES"
        echo "ls /usr/lib/nvhook/lib/libcuda.so.* | sed 's/^/LIB: /'"
}

# cdi_case "GPU-INDEXES" DEVICE... [-e ...]: one container with those --device flags sees
# exactly those GPUs, after exactly one injection.
cdi_case() {
        local want=$1 r=$RIG_TMP/rootfs-$RANDOM before after defer0 defer1 ndev=0
        shift
        local -a opts=()
        while [ $# -gt 0 ] && [ "$1" != -e ]; do
                opts+=(--device "nvidia.com/gpu=$1")
                ndev=$((ndev + 1))
                shift
        done
        [ $# -eq 0 ] || opts+=("$@")
        cp -a "$(rig_rootfs busybox)" "$r"
        before=$(grep -c '"decision":"inject"' "$HOOK_LOG" || true)
        defer0=$(grep -c '"decision":"not a GPU container"' "$HOOK_LOG" || true)
        rig_podman runc "$r" "${opts[@]}" -- sh -c "$(check)"
        rig_assert_rc 0
        # shellcheck disable=SC2086 # a list of indexes
        shim_assert_nodes $want
        after=$(grep -c '"decision":"inject"' "$HOOK_LOG" || true)
        [ "$((after - before))" = 1 ] ||
                rig_die "${opts[*]}: $((after - before)) injections, expected exactly 1"
        # Every other device's hook run exits 0 without injecting.
        defer1=$(grep -c '"decision":"not a GPU container"' "$HOOK_LOG" || true)
        [ "$((defer1 - defer0))" = "$((ndev - 1 + ${EXTRA_RUNS:-0}))" ] ||
                rig_die "${opts[*]}: $((defer1 - defer0)) deferring hook runs"
}

cdi_case 0 0
rig_assert_stdout_has "LIB: /usr/lib/nvhook/lib/libcuda.so.$NVH_PROC_DRIVER_VERSION"
# A glibc image: its own ldconfig lists the injected libraries, dlopen picks them.
if [ -f "${NVH_CACHE:-/var/cache/nvhook-test}/glibc-rootfs.tar" ]; then
        mkdir "$RIG_TMP/g"
        mv "$(rig_rootfs glibc)" "$RIG_TMP/g/rootfs"
        hook_glibc_image "$RIG_TMP/g"
        rig_podman runc "$RIG_TMP/g/rootfs" --device nvidia.com/gpu=0 -- sh -c "$(hook_glibc_checks)"
        rig_assert_rc 0
        rig_assert_stdout_has GLIBC-CHECKS-PASSED
else
        rig_log "note: no cached glibc rootfs, ldconfig -p not checked (scripts/mkrootfs.sh)"
fi
cdi_case all all
cdi_case "0 1" 0 1
cdi_case 1 "${UUIDS[1]}"
# A container without a CDI device gets nothing.
r=$RIG_TMP/rootfs-nogpu
cp -a "$(rig_rootfs busybox)" "$r"
rig_podman runc "$r" -- sh -c "$(check)"
rig_assert_rc 0
shim_assert_nodes none
# nvhook also in hooks.d (prestart, no --cdi-device): that run defers to the CDI one, even for
# an image whose env asks for every GPU.
rig_hooksd "$RIG_TMP/hooks.d" nvhook prestart "$NVHOOK" '{"always":true}' --config "$HOOK_CONF" \
        prestart
EXTRA_RUNS=1 cdi_case 1 1 -e NVIDIA_VISIBLE_DEVICES=all
rm "$RIG_TMP/hooks.d/nvhook.json"

# An incumbent-style static spec (nvidia-ctk cdi generate): device nodes with minors, the
# driver's libraries by versioned name, a create-symlinks hook naming the version.
incumbent_spec() {
        local ver=$2 lib=$1/usr/lib/x86_64-linux-gnu
        jq -n --arg lib "$lib" --arg ver "$ver" --argjson m0 "${MINORS[0]}" '{
          cdiVersion: "0.5.0", kind: "nvidia.com/gpu",
          devices: [{name: "0", containerEdits: {deviceNodes: [
                {path: ("/dev/nvidia" + ($m0 | tostring)), type: "c", major: 195, minor: $m0}]}}],
          containerEdits: {
            deviceNodes: [{path: "/dev/nvidiactl", type: "c", major: 195, minor: 255}],
            mounts: [{hostPath: ($lib + "/libcuda.so." + $ver),
                      containerPath: ("/usr/lib/x86_64-linux-gnu/libcuda.so." + $ver),
                      options: ["ro", "nosuid", "nodev", "bind"]},
                     {hostPath: ($lib + "/libnvidia-ml.so." + $ver),
                      containerPath: ("/usr/lib/x86_64-linux-gnu/libnvidia-ml.so." + $ver),
                      options: ["ro", "nosuid", "nodev", "bind"]}],
            hooks: [{hookName: "createContainer", path: "/bin/true",
                     args: ["nvidia-ctk", "hook", "create-symlinks", "--link",
                            ("libcuda.so." + $ver + "::/usr/lib/x86_64-linux-gnu/libcuda.so.1")]}]}}'
}
OLD=$RIG_TMP/incumbent.json
incumbent_spec "$NVH_FIXTURES/driver" "$NVH_PROC_DRIVER_VERSION" >"$OLD"
"$NVHOOK" --config "$HOOK_CONF" cdi check "$OLD" >"$RIG_TMP/check.out" ||
        { cat "$RIG_TMP/check.out"; rig_die "the incumbent-style spec of this driver is stale?"; }

# Replace the driver by another version (same fixture, every versioned name renamed).
NEW=580.200.07
D2=$RIG_TMP/driver-$NEW
P2=$RIG_TMP/proc-$NEW
cp -a "$NVH_FIXTURES/driver" "$D2"
cp -a "$NVH_FIXTURES/proc-8gpu" "$P2"
find "$D2" -depth -name "*$NVH_PROC_DRIVER_VERSION*" | while read -r f; do
        mv "$f" "$(dirname "$f")/$(basename "$f" | sed "s/$NVH_PROC_DRIVER_VERSION/$NEW/g")"
done
find "$D2" -type l | while read -r l; do
        t=$(readlink "$l")
        case $t in *"$NVH_PROC_DRIVER_VERSION"*) ln -sfn "${t//$NVH_PROC_DRIVER_VERSION/$NEW}" "$l" ;; esac
done
ldconfig -r "$D2" 2>/dev/null || true
grep -rl "$NVH_PROC_DRIVER_VERSION" "$P2" | xargs sed -i "s/$NVH_PROC_DRIVER_VERSION/$NEW/g"
umount -n /proc/driver
mount -n --bind "$P2/driver" /proc/driver
shim_conf '.driver_root = $d' --arg d "$D2"

cdi_case 0 0
rig_assert_stdout_has "LIB: /usr/lib/nvhook/lib/libcuda.so.$NEW"
cdi_case "0 1" 1 0
"$NVHOOK" --config "$HOOK_CONF" cdi check "$SPEC" || rig_die "our spec went stale"
rc=0
"$NVHOOK" --config "$HOOK_CONF" cdi check "$OLD" >"$RIG_TMP/check.out" 2>"$RIG_TMP/check.err" || rc=$?
cat "$RIG_TMP/check.out" "$RIG_TMP/check.err"
[ "$rc" = 1 ] || rig_die "cdi check of the old incumbent spec exited $rc, expected 1"
for f in libcuda.so libnvidia-ml.so; do
        grep -q "^stale: nvidia.com/gpu: mount '.*/$f.$NVH_PROC_DRIVER_VERSION':" \
                "$RIG_TMP/check.out" || rig_die "cdi check did not flag $f"
done
grep -q "^stale: nvidia.com/gpu: hook argument 'libcuda.so.$NVH_PROC_DRIVER_VERSION::" \
        "$RIG_TMP/check.out" || rig_die "cdi check did not flag the create-symlinks hook"
# The new driver's incumbent spec passes; a wrong minor is flagged.
incumbent_spec "$D2" "$NEW" >"$RIG_TMP/new.json"
"$NVHOOK" --config "$HOOK_CONF" cdi check "$RIG_TMP/new.json" || rig_die "fresh spec flagged"
jq '.devices[0].containerEdits.deviceNodes[0].minor = 200' "$RIG_TMP/new.json" >"$RIG_TMP/bad.json"
rc=0
"$NVHOOK" --config "$HOOK_CONF" cdi check "$RIG_TMP/bad.json" >"$RIG_TMP/check.out" || rc=$?
[ "$rc" = 1 ] && grep -q "^stale: nvidia.com/gpu=0: device node '/dev/nvidia${MINORS[0]}': is 195:${MINORS[0]}, the spec says 195:200" \
        "$RIG_TMP/check.out" || { cat "$RIG_TMP/check.out"; rig_die "wrong minor not flagged"; }
rig_log "ok"
