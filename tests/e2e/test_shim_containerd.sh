#!/bin/bash
# containerd 1.6 (no CDI of its own) with nvhook-runtime as the runc binary: a private
# containerd (own config, root, state, socket; shims under the namespace's own /run), then
# `ctr run --runc-binary nvhook-runtime`: NVIDIA_VISIBLE_DEVICES=0 gets GPU 0, the device
# plugin's volume-mount form gets its GPU, a container without a request is untouched. The
# CRI runtime-handler configuration (BinaryName) that Kubernetes uses is checked by
# containerd's own parser.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
. "$(dirname "$0")/shim_lib.sh"
rig_enter_private_ns "$@"
rig_need_cpu_controller "containerd's default spec sets cpu.weight"
rig_require_cmd containerd ctr containerd-shim-runc-v2
shim_setup
shim_conf '.runtime = $r' --arg r "$(rig_runtime_bin runc)"

C=$RIG_TMP/containerd
mkdir -p "$C"
rig_containerd_config "$C" >"$C/config.toml"
shim_daemon "$C/log" containerd --config "$C/config.toml"
shim_wait "$C/log" ctr --address "$C/containerd.sock" version
ROOTFS=$(rig_rootfs busybox)

# ctr_case ID CTR-OPTIONS...: one container through nvhook-runtime.
ctr_case() {
        local id=$1
        shift
        rig__capture "ctr-$id" ctr --address "$C/containerd.sock" run --rm \
                --runc-binary "$SHIM" --cgroup "/$RIG_CG/$id" --env PATH=/usr/bin:/bin "$@" \
                --rootfs "$ROOTFS" "$id" sh -c "$NODES"
}

ctr_case env --env NVIDIA_VISIBLE_DEVICES=0
rig_assert_rc 0
shim_assert_nodes 0
grep -q '"decision":"inject"' "$HOOK_LOG" || rig_die "the hook did not inject"

ctr_case mounts --mount "type=bind,src=/dev/null,dst=/var/run/nvidia-container-devices/1,options=rbind:ro"
rig_assert_rc 0
shim_assert_nodes 1

n=$(grep -c . "$HOOK_LOG")
ctr_case plain
rig_assert_rc 0
shim_assert_nodes none
[ "$(grep -c . "$HOOK_LOG")" = "$n" ] || rig_die "the hook ran for a container without a request"

# The Kubernetes runtime handler (README): containerd's parser reads BinaryName from it.
cat >"$C/cri.toml" <<EOT
version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
  runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]
    BinaryName = "$SHIM"
EOT
containerd --config "$C/cri.toml" config dump >"$C/dump" 2>&1 || { cat "$C/dump"; rig_die "config dump"; }
grep -A 20 'runtimes.nvidia.options\]' "$C/dump" | grep -q "BinaryName = \"$SHIM\"" ||
        { cat "$C/dump"; rig_die "containerd did not read BinaryName"; }
rig_log "ok"
