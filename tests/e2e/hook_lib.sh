# shellcheck shell=bash
# tests/e2e/hook_lib.sh -- the nvhook end-to-end scenario shared by the test_hook_*.sh files:
# a fake GPU host (generated driver tree, fake procfs, mknod'ed nodes) in a private mount
# namespace, a real runtime running nvhook from config.json or hooks.d, and a script inside
# the container that checks what it sees. Sourced after tests/e2e/lib.sh.

# hook_setup [PROC_TREE]: fake GPU host + hook config; exports HOOK_CONF, HOOK_LOG. With
# NVH_FORCE_FALLBACKS=1 the config forces every kernel fallback ("force_fallbacks").
hook_setup() {
        local tree=${1:-proc-1gpu}
        [ -n "${NVHOOK:-}" ] && [ -x "$NVHOOK" ] || rig_skip "NVHOOK is not set (run under ctest)"
        [ -d "${NVH_FIXTURES:-}/driver" ] || rig_skip "no generated fixtures (run under ctest)"
        rig_fake_gpu_host "$NVH_FIXTURES/$tree"
        HOOK_CONF=$RIG_TMP/nvhook.json
        HOOK_LOG=$RIG_TMP/nvhook.log
        # NVH_FORCE_FALLBACKS=1 (scripts/test.sh's second pass): every kernel feature's
        # fallback, through the config (the hook ignores its environment).
        jq -n --arg root "$NVH_FIXTURES/driver" --arg log "$HOOK_LOG" \
                --argjson fb "$([ "${NVH_FORCE_FALLBACKS:-0}" = 1 ] && echo true || echo false)" \
                '{driver_root: $root, log_file: $log, log_level: "debug"}
                + if $fb then {force_fallbacks: true} else {} end' >"$HOOK_CONF"
        export HOOK_CONF HOOK_LOG
}

# The checks run inside the container (busybox or glibc sh). $1 = the image's library
# directory (/usr/lib64: the image has no libc), $2 = GPU minors expected present (space
# separated), $3 = a minor that must stay denied. The libraries are mounted in the driver
# directory's tmpfs (/usr/lib/nvhook/lib); the image's directory gets only the development
# links, and only when it has a libc.
hook_check_script() {
        cat <<EOF
set -e
L=$1
D=/usr/lib/nvhook/lib
fail() { echo "CHECK FAILED: \$*"; exit 1; }
grep -q " /usr/lib/nvhook ro,nosuid,nodev,noexec" /proc/self/mountinfo ||
        fail "driver directory not a ro,nosuid,nodev,noexec mount: \$(grep nvhook /proc/self/mountinfo)"
for f in libcuda.so.580.159.04 libnvidia-ml.so.580.159.04 libnvidia-ptxjitcompiler.so.580.159.04; do
        [ -f "\$D/\$f" ] || fail "missing \$D/\$f"
        grep " \$D/\$f " /proc/self/mountinfo | grep -q " ro,nosuid,nodev" ||
                fail "\$D/\$f not mounted ro,nosuid,nodev: \$(grep " \$D/\$f " /proc/self/mountinfo)"
        [ ! -e "\$L/\$f" ] || fail "\$L/\$f created in the image's directory"
done
[ "\$(readlink "\$D/libcuda.so.1")" = libcuda.so.580.159.04 ] || fail "soname link libcuda.so.1"
[ ! -e "\$L/libcuda.so.1" ] || fail "soname link in the image's directory"
if [ "\$L" = /usr/lib64 ]; then
        # no libc: no loader and no linker to serve, nothing in the image's directory
        [ ! -e "\$L/libcuda.so" ] || fail "development link in a libc-less image"
else
        [ "\$(readlink "\$L/libcuda.so")" = \$D/libcuda.so.1 ] || fail "development link libcuda.so"
        grep -qx "\$D" /etc/ld.so.conf.d/00-nvhook.conf || fail "no ldconfig conf file"
fi
[ -f /usr/bin/nvidia-smi ] || fail "nvidia-smi not injected"
grep -q '^ModifyDeviceFiles: 0' /proc/driver/nvidia/params || fail "params not masked"
[ "\$(stat -c %t:%T /dev/nvidiactl)" = c3:ff ] || fail "nvidiactl is not 195:255"
for m in $2; do
        [ "\$(stat -c %t /dev/nvidia\$m)" = c3 ] || fail "/dev/nvidia\$m is not major 195"
        cat /dev/nvidia\$m 2>/tmp/err </dev/null && fail "/dev/nvidia\$m opened?"
        grep -q "No such device or address" /tmp/err || fail "/dev/nvidia\$m: \$(cat /tmp/err)"
        ls /proc/driver/nvidia/gpus/ | grep -q . || fail "no GPU in masked procfs"
done
if [ -n "$3" ]; then
        mknod /dev/nvidia$3 c 195 $3 2>/dev/null || true
        cat /dev/nvidia$3 2>/tmp/err </dev/null && fail "/dev/nvidia$3 opened?"
        grep -q "Operation not permitted" /tmp/err || fail "/dev/nvidia$3 not denied: \$(cat /tmp/err)"
fi
echo ALL-CHECKS-PASSED
EOF
}

# The container may mknod (runtimes allow "c *:* m" by default), so the test can make a node the
# hook did not grant and show that the cgroup still denies opening it.
hook_allow_mknod() {
        rig_jq "$1" '.process.capabilities |= with_entries(.value += ["CAP_MKNOD"])'
}

# hook_run_bundle RUNTIME STAGE ROOTFS_KIND LIBDIR: one container with NVIDIA_VISIBLE_DEVICES=all.
hook_run_bundle() {
        local rt=$1 stage=$2 kind=$3 libdir=$4 b=$RIG_TMP/b-$1-$2-$3
        rig_bundle "$b" "$kind"
        rig_env "$b" NVIDIA_VISIBLE_DEVICES=all
        hook_allow_mknod "$b"
        if [ "$kind" = glibc ]; then
                hook_glibc_image "$b"
                rig_args "$b" sh -c "$(hook_glibc_checks)
$(hook_check_script "$libdir" 0 1)"
        else
                rig_args "$b" sh -c "$(hook_check_script "$libdir" 0 1)"
        fi
        rig_hook "$b" "$stage" "$NVHOOK" --config "$HOOK_CONF" "$stage"
        rig_run "$rt" "$b" "c-$rt-$stage-$kind"
        rig_assert_rc 0
        rig_assert_stdout_has ALL-CHECKS-PASSED
        [ "$kind" != glibc ] || rig_assert_stdout_has GLIBC-CHECKS-PASSED
}

# hook_glibc_image DIR: make the bundle's glibc rootfs look like a CUDA image: a stub
# libcuda.so.1 in a directory its own ld.so.cache lists (made by the image's ldconfig, here, on
# the image's tree), and the dlopen checker.
hook_glibc_image() {
        local r=$1/rootfs
        mkdir -p "$r/usr/local/cuda/lib64/stubs" "$r/usr/local/bin"
        echo 'int cuda_stub(void) { return 0; }' >"$RIG_TMP/stub.c"
        gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$r/usr/local/cuda/lib64/stubs/libcuda.so.1" \
                "$RIG_TMP/stub.c"
        echo /usr/local/cuda/lib64/stubs >"$r/etc/ld.so.conf.d/cuda-stubs.conf"
        ldconfig -r "$r"
        gcc -O2 -o "$r/usr/local/bin/dlopen_check" "$RIG_SRC/tests/e2e/dlopen_check.c"
}

# Extra checks for glibc images: the image's own ldconfig lists the injected libraries, the
# loader picks the injected libcuda over the image's stub, and still does after the container
# runs the image's ldconfig itself (the conf file names the driver directory).
hook_glibc_checks() {
        cat <<EOF
check_cache() {
        ldconfig -p | grep -q 'libcuda.so.1 (libc6,x86-64) => /usr/lib/nvhook/lib/libcuda.so.1\$' ||
                { echo "CHECK FAILED: ldconfig -p (\$1): \$(ldconfig -p | grep libcuda)"; exit 1; }
        ldconfig -p | grep -q 'libnvidia-ml.so.1 (libc6,x86-64)' ||
                { echo "CHECK FAILED: ldconfig -p (\$1) lacks libnvidia-ml.so.1"; exit 1; }
        out=\$(/usr/local/bin/dlopen_check libcuda.so.1 libnvidia-ml.so.1) ||
                { echo "CHECK FAILED: dlopen (\$1)"; exit 1; }
        echo "\$out" | grep -q '^libcuda.so.1 /usr/lib/nvhook/lib/libcuda.so.580.159.04\$' ||
                { echo "CHECK FAILED: dlopen (\$1) picked: \$out"; exit 1; }
}
check_cache "nvhook's cache"
ldconfig
check_cache "after the image's ldconfig"
echo GLIBC-CHECKS-PASSED
EOF
}

# hook_gpu_setup "$@": the start of every real-GPU test: skipped with a reason where no NVIDIA
# driver (or nvcc) is here, then the private namespace, and the CUDA program built for this
# machine in $RIG_TMP/vecadd (nvcc -cudart static: its only CUDA library in the container is
# the injected libcuda).
hook_gpu_setup() {
        local nvcc
        [ -r /proc/driver/nvidia/version ] ||
                rig_skip "no NVIDIA driver loaded here: this test runs on the GPU machine (scripts/gpu-run.sh)"
        command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || rig_skip "no nvcc"
        rig_enter_private_ns "$@"
        [ -n "${NVHOOK:-}" ] || rig_skip "NVHOOK is not set"
        nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
        "$nvcc" -cudart static -o "$RIG_TMP/vecadd" "$RIG_SRC/tests/gpu/vecadd.cu"
}
