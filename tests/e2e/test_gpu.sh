#!/bin/bash
# Real GPU: runs only where an NVIDIA driver is loaded (the GPU machine, through
# scripts/gpu-run.sh); skipped with a reason everywhere else. runc and crun start a container
# on a glibc rootfs (an overlay of the machine's own /, driver hidden, its ld.so.cache still
# naming the driver's directory) with nvhook and cgroup v2 device rules; inside, nvidia-smi -L
# lists the GPU, a CUDA program built with nvcc -cudart static runs a kernel and checks its
# result, ldconfig -p names the injected libcuda (in the driver directory), and still does, with
# CUDA and nvidia-smi working, after the container runs the image's own ldconfig; /dev/nvidia1
# made by hand is denied.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
hook_gpu_setup "$@"
conf=$RIG_TMP/nvhook.json
log=$RIG_TMP/nvhook.log
jq -n --arg log "$log" '{log_file: $log}' >"$conf"

gpu_case() {
        local rt=$1 stage=$2 b=$RIG_TMP/b-$1
        NVH_KEEP_CACHE=1 rig_bundle "$b" host
        cp "$RIG_TMP/vecadd" "$b/rootfs/usr/local/bin/vecadd"
        rig_env "$b" NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
        hook_allow_mknod "$b"
        rig_args "$b" sh -c '
set -e
nvidia-smi -L
/usr/local/bin/vecadd
ldconfig -p | grep "libcuda.so.1 " | grep -F "=> /usr/lib/nvhook/lib/libcuda.so.1"
ldconfig
ldconfig -p | grep "libcuda.so.1 " | grep -F "=> /usr/lib/nvhook/lib/libcuda.so.1"
/usr/local/bin/vecadd >/dev/null
nvidia-smi -L >/dev/null
mknod /dev/nvidia1 c 195 1
if cat /dev/nvidia1 2>/tmp/err </dev/null; then echo "nvidia1 opened"; exit 1; fi
cat /tmp/err
grep -q "Operation not permitted" /tmp/err
echo GPU-CHECKS-PASSED'
        rig_hook "$b" "$stage" "$NVHOOK" --config "$conf" "$stage"
        rig_run "$rt" "$b" "gpu-$rt"
        echo "--- $rt ($stage):"
        cat "$RIG_STDOUT" "$RIG_STDERR"
        rig_assert_rc 0
        rig_assert_stdout_has GPU-CHECKS-PASSED
        rig_assert_stdout_has "vecadd ok"
        rig_assert_stdout_has "GPU 0: NVIDIA"
}

gpu_case runc createRuntime
gpu_case crun prestart

# The hook's own wall time over 50 starts (its JSON log), and the cost of a CUDA requirement:
# the first start probes libcuda in a sandboxed child, later ones read the cache.
b=$RIG_TMP/b-runc
rig_args "$b" true
: >"$log"
for i in $(seq 1 50); do
        rig_run runc "$b" "t-$i"
        rig_assert_rc 0
done
echo "--- hook wall time, 50 starts (ms): $(jq -s '[.[].phases_ms.total] | sort |
        {median: .[25], p99: .[49], min: .[0], max: .[49]}' -c "$log")"
rig_env "$b" NVIDIA_REQUIRE_CUDA="cuda>=12.0"
: >"$log"
for i in 1 2 3; do
        rig_run runc "$b" "r-$i"
        rig_assert_rc 0
done
echo "--- requirement cuda>=12.0, require phase (ms) cold then cached: $(jq -s -c \
        '[.[].phases_ms.require]' "$log")"
rig_env "$b" NVIDIA_REQUIRE_CUDA="cuda>=99.0"
rig_run runc "$b" r-fail
[ "$RIG_RC" != 0 ] || rig_die "cuda>=99.0 did not refuse the start"
echo "--- unsatisfied: $(grep -o 'unsatisfied condition[^"]*' "$RIG_STDERR" | head -1)"
# Compute capability and brand, read per selected GPU (by bus id) from libcuda and NVML.
rig_env "$b" NVIDIA_REQUIRE_CUDA="cuda>=12.0" "NVIDIA_REQUIRE_ARCH=arch>=9.0 brand=nvidia"
: >"$log"
rig_run runc "$b" a-ok
rig_assert_rc 0
echo "--- arch>=9.0: started; require phase (ms) $(jq -c '.phases_ms.require' "$log")"
rig_env "$b" "NVIDIA_REQUIRE_ARCH=arch>=10.0"
rig_run runc "$b" a-fail
[ "$RIG_RC" != 0 ] || rig_die "arch>=10.0 did not refuse the start on a Hopper GPU"
echo "--- unsatisfied: $(grep -o 'unsatisfied condition[^"]*' "$RIG_STDERR" | head -1)"
rig_log "ok"
