#!/bin/bash
# What the container sees for each form of request, on a fake 8-GPU host whose minors are not
# in PCI order (index i = i-th bus id): NVIDIA_VISIBLE_DEVICES forms, capability subsets,
# requirements, and the policy for unprivileged containers. runc, busybox, cgroup v1 hybrid.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup proc-8gpu
# IMEX channel nodes on the fake host (rig_fake_gpu_host makes none).
imex=$(awk '$2 == "nvidia-caps-imex-channels" { print $1; exit }' "$NVH_FIXTURES/proc-8gpu/devices")
mkdir -p /dev/nvidia-caps-imex-channels
mknod -m 666 /dev/nvidia-caps-imex-channels/channel0 c "$imex" 0
mknod -m 666 /dev/nvidia-caps-imex-channels/channel1 c "$imex" 1

inventory='
echo "nodes: $(ls /dev | grep "^nvidia[0-9]" | sort | tr "\n" " ")"
echo "ctl: $(ls /dev/nvidiactl 2>/dev/null)"
echo "gpus: $(ls /proc/driver/nvidia/gpus 2>/dev/null | tr "\n" " ")"
echo "libcuda: $(ls /usr/lib/nvhook/lib/libcuda.so.1 2>/dev/null)"
echo "libml: $(ls /usr/lib/nvhook/lib/libnvidia-ml.so.1 2>/dev/null)"
echo "smi: $(ls /usr/bin/nvidia-smi 2>/dev/null)"
echo "imex: $(ls /dev/nvidia-caps-imex-channels 2>/dev/null | tr "\n" " ")"
for n in /dev/nvidia-caps-imex-channels/*; do
        [ -e "$n" ] || continue
        cat "$n" 2>&1 </dev/null | grep -q "No such device or address" || echo "DENIED: $n"
done
for n in /dev/nvidia[0-9]*; do
        [ -e "$n" ] || continue
        cat "$n" 2>&1 </dev/null | grep -q "No such device or address" || echo "DENIED: $n"
done
echo INVENTORY-DONE'

n=0
# case CONFIG_JSON_OR_EMPTY EXPECTED_RC ENV... -- then expected stdout lines on stdin
inv_case() {
        local conf=$1 rc=$2 b
        shift 2
        n=$((n + 1))
        b=$RIG_TMP/req-$n
        rig_bundle "$b" busybox
        [ $# -eq 0 ] || rig_env "$b" "$@"
        # INV_DEVICE_MOUNT=<device>: select it with a device-list volume mount.
        if [ -n "${INV_DEVICE_MOUNT:-}" ]; then
                rig_jq "$b" '.mounts += [{"destination": $d, "type": "bind",
                        "source": "/dev/null", "options": ["ro", "rbind"]}]' \
                        --arg d "/var/run/nvidia-container-devices/$INV_DEVICE_MOUNT"
        fi
        rig_args "$b" sh -c "$inventory"
        if [ -n "$conf" ]; then
                jq -s '.[0] * .[1]' "$HOOK_CONF" - <<<"$conf" >"$RIG_TMP/conf-$n.json"
                rig_hook "$b" prestart "$NVHOOK" --config "$RIG_TMP/conf-$n.json" prestart
        else
                rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
        fi
        rig_run runc "$b" "req-$n"
        rig_assert_rc "$rc"
        while IFS= read -r line; do
                [ -n "$line" ] || continue
                if [ "$rc" = 0 ]; then
                        grep -qxF -- "$line" "$RIG_STDOUT" ||
                                { rig_show; rig_die "case $n ($*): expected line '$line'"; }
                else
                        grep -qF -- "$line" "$RIG_STDERR" ||
                                { rig_show; rig_die "case $n ($*): expected error '$line'"; }
                fi
        done
        if [ "$rc" = 0 ] && grep -q DENIED "$RIG_STDOUT"; then
                rig_show
                rig_die "case $n ($*): a selected GPU's node is denied by the cgroup"
        fi
}

uuid2=GPU-4802b63b-2798-853c-8069-80567ed3ee64
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=all <<'X'
nodes: nvidia0 nvidia1 nvidia2 nvidia3 nvidia4 nvidia5 nvidia6 nvidia7 
gpus: 0000:19:00.0 0000:3b:00.0 0000:4c:00.0 0000:5d:00.0 0000:9b:00.0 0000:bb:00.0 0000:cb:00.0 0000:db:00.0 
libcuda: /usr/lib/nvhook/lib/libcuda.so.1
X
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=1 <<'X'
nodes: nvidia1 
gpus: 0000:3b:00.0 
X
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=$uuid2 <<'X'
nodes: nvidia0 
gpus: 0000:4c:00.0 
X
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=5d:00.0,0 <<'X'
nodes: nvidia2 nvidia3 
gpus: 0000:19:00.0 0000:5d:00.0 
X
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=none <<'X'
nodes: 
ctl: /dev/nvidiactl
gpus: 
libcuda: /usr/lib/nvhook/lib/libcuda.so.1
X
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=void <<'X'
nodes: 
ctl: 
libcuda: 
smi: 
X
inv_case "" 0 <<'X'
nodes: 
ctl: 
libcuda: 
X
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=2 NVIDIA_DRIVER_CAPABILITIES=utility <<'X'
nodes: nvidia0 
libcuda: 
libml: /usr/lib/nvhook/lib/libnvidia-ml.so.1
smi: /usr/bin/nvidia-smi
X
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=2 NVIDIA_DRIVER_CAPABILITIES=compute <<'X'
libcuda: /usr/lib/nvhook/lib/libcuda.so.1
libml: 
smi: 
X
# Requirements: the fake libcuda reports CUDA 13.0 (a mock: no real driver here).
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=0 "NVIDIA_REQUIRE_CUDA=cuda>=12.0 brand=tesla" <<'X'
nodes: nvidia3 
X
inv_case "" 1 NVIDIA_VISIBLE_DEVICES=0 "NVIDIA_REQUIRE_CUDA=cuda>=13.1" <<'X'
unsatisfied condition: cuda>=13.1
580.159.04
X
inv_case "" 1 NVIDIA_VISIBLE_DEVICES=0 "NVIDIA_REQUIRE_DRIVER=driver>=581" <<'X'
unsatisfied condition: driver>=581
X
# arch is checked on every selected GPU: the mock gives index 1 (bus 3b:00.0) arch 8.0.
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=0,2 "NVIDIA_REQUIRE_ARCH=arch>=9.0" <<'X'
nodes: nvidia0 nvidia3 
X
inv_case "" 1 NVIDIA_VISIBLE_DEVICES=0,1 "NVIDIA_REQUIRE_ARCH=arch>=9.0" <<'X'
unsatisfied condition: arch>=9.0
0000:3b:00.0
X
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=0 "NVIDIA_REQUIRE_CUDA=cuda>=99" NVIDIA_DISABLE_REQUIRE=1 <<'X'
nodes: nvidia3 
X
# Legacy CUDA image: CUDA_VERSION without NVIDIA_VISIBLE_DEVICES means all GPUs, and implies
# cuda>=13.2, which this driver does not meet.
inv_case "" 1 CUDA_VERSION=13.2.1 <<'X'
unsatisfied condition: cuda>=13.2
X
# Policy: env requests from unprivileged containers refused (runc's default spec has no
# CAP_SYS_ADMIN): the container sees nothing.
inv_case '{"accept_env_unprivileged": false}' 0 NVIDIA_VISIBLE_DEVICES=all <<'X'
nodes: 
ctl: 
libcuda: 
X
# allowed_capabilities: a named capability outside it fails naming it (as the incumbent
# does); "all" gets what the policy allows.
inv_case '{"allowed_capabilities": "utility"}' 1 NVIDIA_VISIBLE_DEVICES=0 \
        NVIDIA_DRIVER_CAPABILITIES=compute,utility <<'X'
capability 'compute' is not allowed (allowed_capabilities: utility)
X
inv_case '{"allowed_capabilities": "utility"}' 0 NVIDIA_VISIBLE_DEVICES=0 \
        NVIDIA_DRIVER_CAPABILITIES=all <<'X'
libcuda: 
libml: /usr/lib/nvhook/lib/libnvidia-ml.so.1
X
# IMEX channels: only the ones asked for, granted in the cgroup.
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=0 NVIDIA_IMEX_CHANNELS=1 <<'X'
imex: channel1 
X
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=0 NVIDIA_IMEX_CHANNELS=all <<'X'
imex: channel0 channel1 
X
inv_case "" 0 NVIDIA_VISIBLE_DEVICES=0 <<'X'
imex: 
X
# One policy gate for every env request: an unprivileged container given GPU 0 by a device
# mount does not get IMEX channels through its env when the env is not accepted.
INV_DEVICE_MOUNT=0 inv_case '{"accept_env_unprivileged": false}' 0 NVIDIA_IMEX_CHANNELS=all <<'X'
nodes: nvidia3 
imex: 
X
INV_DEVICE_MOUNT=0 inv_case "" 0 NVIDIA_IMEX_CHANNELS=all <<'X'
nodes: nvidia3 
imex: channel0 channel1 
X
# Bad requests: one line naming the value, the start refused.
inv_case "" 1 NVIDIA_VISIBLE_DEVICES=9 <<'X'
'9'
X
inv_case "" 1 NVIDIA_VISIBLE_DEVICES=GPU-nope <<'X'
'GPU-nope'
X
inv_case "" 1 NVIDIA_VISIBLE_DEVICES=0 NVIDIA_DRIVER_CAPABILITIES=compute,warp <<'X'
'warp'
X
inv_case "" 1 NVIDIA_VISIBLE_DEVICES=0 "NVIDIA_REQUIRE_CUDA=cuda>>12" <<'X'
cuda>>12
X
inv_case "" 1 NVIDIA_VISIBLE_DEVICES=0 NVIDIA_IMEX_CHANNELS=7 <<'X'
channel7
X
rig_log "ok: $n cases"
