#!/bin/bash
# Docker with nvhook-runtime added as a runtime (dockerd --add-runtime nvhook=...): a private
# dockerd (data and exec roots in a temp dir, no iptables, no bridge, cgroupfs, its own
# containerd) runs `docker run --runtime=nvhook -e NVIDIA_VISIBLE_DEVICES=all` on an image
# imported from a tar of the busybox rootfs: the container sees every GPU; the device
# plugin's volume-mount form selects one; without a request it gets none.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
rig_require_cmd dockerd docker containerd
. "$NVH_FIXTURES/procfs.env"

hook_setup proc-8gpu
read -r -a MINORS <<<"$NVH_PROC_8GPU_MINORS"
SHIM=$(dirname "$NVHOOK")/nvhook-runtime
jq --arg r "$(rig_runtime_bin runc)" '.runtime = $r' "$HOOK_CONF" >"$HOOK_CONF.new"
mv "$HOOK_CONF.new" "$HOOK_CONF"

D=$RIG_TMP/docker
mkdir -p "$D/etc" "$D/data" "$D/exec"
echo '{}' >"$D/daemon.json"
# dockerd keeps its trust key in /etc/docker: give it a private one.
[ -d /etc/docker ] && mount -n --bind "$D/etc" /etc/docker
DOCKERD_PID=
stop_dockerd() {
        if [ -n "$DOCKERD_PID" ]; then
                kill "$DOCKERD_PID" 2>/dev/null || true
                wait "$DOCKERD_PID" 2>/dev/null || true
        fi
        rig__inner_cleanup
}
trap stop_dockerd EXIT
NVHOOK_CONFIG=$HOOK_CONF dockerd --config-file "$D/daemon.json" \
        --data-root "$D/data" --exec-root "$D/exec" --pidfile "$D/dockerd.pid" \
        -H "unix://$D/docker.sock" --iptables=false --bridge=none --ip-forward=false \
        --ip-masq=false --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
        --storage-driver vfs --add-runtime "nvhook=$SHIM" >"$D/log" 2>&1 &
DOCKERD_PID=$!
export DOCKER_HOST=unix://$D/docker.sock DOCKER_CONFIG=$D/client
for _ in $(seq 300); do
        docker version >/dev/null 2>&1 && break
        kill -0 "$DOCKERD_PID" 2>/dev/null || { cat "$D/log"; rig_die "dockerd exited"; }
        sleep 0.1
done
docker version >/dev/null || { tail -30 "$D/log"; rig_die "dockerd did not come up"; }

tar -C "$(rig_rootfs busybox)" -cf "$D/busybox.tar" .
docker import "$D/busybox.tar" nvh-busybox:test >/dev/null
nodes='echo "NODES: $(ls /dev | grep -E "^nvidia[0-9]+$" | sort -t a -k 2 -n | tr "\n" " ")"'
drun() {
        rig__capture "docker-$RANDOM" docker run --rm --network none --cgroup-parent "/$RIG_CG" \
                "$@" nvh-busybox:test sh -c "$nodes"
}

drun --runtime=nvhook -e NVIDIA_VISIBLE_DEVICES=all
rig_assert_rc 0
all=$(printf '%s\n' "${MINORS[@]}" | sort -n | sed 's/^/nvidia/' | tr '\n' ' ')
rig_assert_stdout_has "NODES: $all"

drun --runtime=nvhook -v /dev/null:/var/run/nvidia-container-devices/1:ro
rig_assert_rc 0
rig_assert_stdout_has "NODES: nvidia${MINORS[1]} "

n=$(grep -c . "$HOOK_LOG")
drun --runtime=nvhook
rig_assert_rc 0
grep -q "NODES: nvidia" "$RIG_STDOUT" && rig_die "a container without a GPU request got GPUs"
[ "$(grep -c . "$HOOK_LOG")" = "$n" ] || rig_die "the hook ran for a container without a request"
docker rmi nvh-busybox:test >/dev/null 2>&1 || true
rig_log "ok"
