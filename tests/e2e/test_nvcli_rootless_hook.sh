#!/bin/bash
# The hook when the runtime itself runs in a user namespace (rootless runtimes): the same mode
# as `nvidia-container-cli --user`. Here the "runtime" is a shell in a new user namespace that
# starts the container process in its own mount namespace (its root bound onto itself and
# /proc mounted, as runc and crun do before prestart hooks) and runs `nvhook prestart` with the
# state on stdin, as a runtime does. mknod and cgroup writes are impossible there: nvhook binds
# the host's nodes and writes no cgroup, and the container's mount namespace gets the GPU and
# the libraries.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_require_cmd nsenter
rig_enter_private_ns "$@"
hook_setup
b=$RIG_TMP/rootless
rig_bundle "$b" busybox
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0

# shellcheck disable=SC2016 # expanded by the inner shell
runtime='set -eu
unshare --mount --propagation private sh -c "mount --rbind $B/rootfs $B/rootfs &&
        mount --rbind /proc $B/rootfs/proc; exec sleep 60" &
pid=$!
sleep 0.3
printf "{\"ociVersion\":\"1.0.2\",\"id\":\"rootless\",\"status\":\"creating\",\"pid\":%d,\"bundle\":\"%s\"}" \
        "$pid" "$B" | "$NVHOOK" --config "$HOOK_CONF" prestart
nsenter -t "$pid" -m sh -c "
        [ \"\$(stat -c %t:%T $B/rootfs/dev/nvidia0)\" = c3:0 ] &&
        [ -f $B/rootfs/usr/lib/nvhook/lib/libcuda.so.580.159.04 ] && echo ROOTLESS-HOOK-OK"
kill "$pid"'
rig__capture rootless env B="$b" NVHOOK="$NVHOOK" HOOK_CONF="$HOOK_CONF" \
        unshare --user --map-root-user --mount --propagation private -- sh -c "$runtime"
rig_show
rig_assert_rc 0
rig_assert_stdout_has ROOTLESS-HOOK-OK
rig_log "ok"
