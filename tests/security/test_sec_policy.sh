#!/bin/bash
# Policy bypasses: with accept_env_unprivileged=false, an unprivileged container (runc's
# default spec has no CAP_SYS_ADMIN) gets no device its env asks for: GPUs
# (NVIDIA_VISIBLE_DEVICES, legacy CUDA_VERSION), IMEX channels, MIG config/monitor -- also when
# its GPU comes from an allowed device mount; and its NVIDIA_DRIVER_CAPABILITIES cannot go
# beyond allowed_capabilities. Each start either ignores the env request or refuses it in one
# line; the host never changes.
set -eu
. "$(dirname "$0")/lib.sh"
rig_enter_private_ns "$@"
sec_setup proc-8gpu
imex=$(awk '$2 == "nvidia-caps-imex-channels" { print $1; exit }' "$NVH_FIXTURES/proc-8gpu/devices")
[ -n "$imex" ] || rig_die "no IMEX major in the fixture"
mkdir -p /dev/nvidia-caps-imex-channels
mknod -m 666 /dev/nvidia-caps-imex-channels/channel0 c "$imex" 0
mknod -m 666 /dev/nvidia-caps-imex-channels/channel1 c "$imex" 1
SEC_CONF=$RIG_TMP/strict.json
jq '.accept_env_unprivileged = false | .accept_device_mounts = true
        | .allowed_capabilities = "utility,compute"' "$SEC_QUIET" >"$SEC_CONF"
export SEC_CONF
sec_rebase

inventory='
echo "nodes: $(ls /dev | grep "^nvidia[0-9]" | tr "\n" " ")"
echo "imex: $(ls /dev/nvidia-caps-imex-channels 2>/dev/null | tr "\n" " ")"
echo "encode: $(ls /usr/lib/nvhook/lib/libnvidia-encode.so.1 2>/dev/null)"
echo "glx: $(ls /usr/lib/nvhook/lib/libGLX_nvidia.so.0 2>/dev/null)"
echo "migcfg: $(ls /proc/driver/nvidia/capabilities/mig/config 2>/dev/null)"
echo "migmon: $(ls /proc/driver/nvidia/capabilities/mig/monitor 2>/dev/null)"
echo INVENTORY-DONE'

n=0
# pcase MOUNT(0|1) FORBIDDEN_LINE... -- ENV...: the stdout line that must not appear.
pcase() {
        local mnt=$1 b forbidden=()
        shift
        while [ "$1" != -- ]; do
                forbidden+=("$1")
                shift
        done
        shift
        n=$((n + 1))
        b=$RIG_TMP/pol-$n
        sec_bundle "$b" "$@"
        if [ "$mnt" = 1 ]; then
                rig_jq "$b" '.mounts += [{destination: "/var/run/nvidia-container-devices/0",
                        type: "bind", source: "/dev/null", options: ["bind", "ro"]}]'
        fi
        rig_args "$b" sh -c "$inventory"
        sec_start "$b" "pol-$n" any
        rig_log "case $n (mount $mnt, $*): hook rc $SEC_HOOK_RC $(cat "$SEC_HOOK_ERR")"
        [ "$SEC_HOOK_RC" = 0 ] || return 0
        rig_assert_stdout_has INVENTORY-DONE
        local f
        for f in "${forbidden[@]}"; do
                if grep -Eq -- "$f" "$RIG_STDOUT"; then
                        rig_show
                        sec_fail "pol-$n ($*): unprivileged env request honoured: '$f'"
                fi
        done
}

# Control: the device mount alone gives one GPU (the policy lets mounts through).
b=$RIG_TMP/pol-control
sec_bundle "$b" PATH=/bin
rig_jq "$b" '.mounts += [{destination: "/var/run/nvidia-container-devices/0", type: "bind",
        source: "/dev/null", options: ["bind", "ro"]}]'
rig_args "$b" sh -c "$inventory"
sec_start "$b" pol-control ok
rig_assert_stdout_has "nodes: nvidia3 "

pcase 0 '^nodes: nvidia' -- NVIDIA_VISIBLE_DEVICES=all
pcase 0 '^nodes: nvidia' -- CUDA_VERSION=12.0
pcase 0 '^nodes: nvidia' '^imex: channel' -- NVIDIA_VISIBLE_DEVICES=all NVIDIA_IMEX_CHANNELS=all
pcase 1 '^imex: channel' -- NVIDIA_IMEX_CHANNELS=all
pcase 1 '^imex: channel' -- NVIDIA_IMEX_CHANNELS=0,1
pcase 1 '^encode: /' '^glx: /' -- NVIDIA_DRIVER_CAPABILITIES=all
pcase 1 '^migcfg: /' -- NVIDIA_MIG_CONFIG_DEVICES=all
pcase 1 '^migmon: /' -- NVIDIA_MIG_MONITOR_DEVICES=all
pcase 1 '^nodes: .*nvidia[0-24-7]' -- NVIDIA_VISIBLE_DEVICES=all
rig_log "ok: $n unprivileged env requests"
