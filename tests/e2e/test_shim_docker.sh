#!/bin/bash
# Docker with nvhook-runtime added as a runtime (dockerd --add-runtime nvhook=...): a private
# dockerd (data and exec roots in a temp dir, no iptables, no bridge, cgroupfs, its own
# containerd) runs `docker run --runtime=nvhook -e NVIDIA_VISIBLE_DEVICES=all` on an image
# imported from a tar of the busybox rootfs: the container sees every GPU; the device
# plugin's volume-mount form selects one; without a request it gets none.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
. "$(dirname "$0")/shim_lib.sh"
rig_enter_private_ns "$@"
rig_require_cmd dockerd docker containerd
shim_setup
shim_conf '.runtime = $r' --arg r "$(rig_runtime_bin runc)"

D=$RIG_TMP/docker
mkdir -p "$D/etc" "$D/data" "$D/exec"
echo '{}' >"$D/daemon.json"
# dockerd keeps its trust key in /etc/docker: give it a private one.
[ -d /etc/docker ] && mount -n --bind "$D/etc" /etc/docker
shim_daemon "$D/log" dockerd --config-file "$D/daemon.json" \
        --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/dockerd.pid" \
        -H "unix://$D/docker.sock" --iptables=false --bridge=none --ip-forward=false \
        --ip-masq=false --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
        --storage-driver vfs --add-runtime "nvhook=$SHIM"
export DOCKER_HOST=unix://$D/docker.sock DOCKER_CONFIG=$D/client
shim_wait "$D/log" docker version

tar -C "$(rig_rootfs busybox)" -cf "$D/busybox.tar" .
docker import "$D/busybox.tar" nvh-busybox:test >/dev/null
drun() {
        rig__capture "docker-$RANDOM" docker run --rm --network none --cgroup-parent "/$RIG_CG" \
                "$@" nvh-busybox:test sh -c "$NODES"
}

drun --runtime=nvhook -e NVIDIA_VISIBLE_DEVICES=all
rig_assert_rc 0
shim_assert_nodes all

drun --runtime=nvhook -v /dev/null:/var/run/nvidia-container-devices/1:ro
rig_assert_rc 0
shim_assert_nodes 1

n=$(grep -c . "$HOOK_LOG")
drun --runtime=nvhook
rig_assert_rc 0
shim_assert_nodes none
[ "$(grep -c . "$HOOK_LOG")" = "$n" ] || rig_die "the hook ran for a container without a request"
docker rmi nvh-busybox:test >/dev/null 2>&1 || true
rig_log "ok"
