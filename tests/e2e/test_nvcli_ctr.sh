#!/bin/bash
# containerd's own client: `ctr run --gpus 0` and `--gpus 1` (Debian's containerd 1.6, its
# contrib/nvidia package) with nvhook installed as nvidia-container-cli on ctr's PATH. ctr
# adds a prestart hook `containerd oci-hook -- <path>/nvidia-container-cli --load-kmods
# configure --device=N --compute --compat32 --graphics --utility --video --display
# --pid={{pid}} {{rootfs}}`; containerd fills in the pid and rootfs from the state on stdin.
# The checks: the GPU asked for is there and opens past the cgroup (the fake node answers
# ENXIO), the other GPU is neither injected nor allowed, libraries, binaries and the masked
# /proc/driver/nvidia are there. The daemon runs in this test's private
# mount namespace with its own root, state, config and socket under $RIG_TMP.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_require_cmd containerd ctr containerd-shim-runc-v2 runc
rig_enter_private_ns "$@"
rig_need_cpu_controller "containerd's default spec sets cpu.weight"
hook_setup proc-8gpu

T=$RIG_TMP/ctrd
mkdir -p "$T/bin" "$T/root" "$T/state" "$T/opt"
# nvhook as nvidia-container-cli; the wrapper gives it the test's config (the driver root of
# the fake host) and records the command line containerd ran.
cat >"$T/bin/nvidia-container-cli" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$T/argv.log"
exec "$NVHOOK" --config "$HOOK_CONF" cli "\$@"
EOF
chmod 0755 "$T/bin/nvidia-container-cli"

# A one-layer OCI image of the busybox rootfs, imported from an OCI archive (no registry).
img() {
        local r d=$T/img cfg man layer_sha cfg_sha man_sha
        r=$(rig_rootfs busybox)
        mkdir -p "$d/blobs/sha256"
        tar -C "$r" -cf "$d/layer.tar" .
        layer_sha=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
        mv "$d/layer.tar" "$d/blobs/sha256/$layer_sha"
        cfg=$(jq -cn --arg l "sha256:$layer_sha" '{architecture: "amd64", os: "linux",
                config: {Env: ["PATH=/usr/bin:/bin"], Cmd: ["sh"]},
                rootfs: {type: "layers", diff_ids: [$l]}}')
        printf '%s' "$cfg" >"$d/cfg"
        cfg_sha=$(sha256sum "$d/cfg" | cut -d' ' -f1)
        mv "$d/cfg" "$d/blobs/sha256/$cfg_sha"
        man=$(jq -cn --arg c "sha256:$cfg_sha" --argjson cs "${#cfg}" \
                --arg l "sha256:$layer_sha" \
                --argjson ls "$(stat -c %s "$d/blobs/sha256/$layer_sha")" '{schemaVersion: 2,
                mediaType: "application/vnd.oci.image.manifest.v1+json",
                config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c,
                         size: $cs},
                layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l,
                          size: $ls}]}')
        printf '%s' "$man" >"$d/man"
        man_sha=$(sha256sum "$d/man" | cut -d' ' -f1)
        mv "$d/man" "$d/blobs/sha256/$man_sha"
        jq -cn --arg m "sha256:$man_sha" --argjson ms "${#man}" '{schemaVersion: 2,
                manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
                             digest: $m, size: $ms, platform: {architecture: "amd64",
                             os: "linux"}, annotations: {
                             "io.containerd.image.name": "docker.io/nvhook/busybox:test",
                             "org.opencontainers.image.ref.name": "test"}}]}' >"$d/index.json"
        echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
        tar -C "$d" -cf "$T/image.tar" oci-layout index.json blobs
}
img

rig_containerd_config "$T" >"$T/config.toml"
containerd --config "$T/config.toml" >"$T/containerd.log" 2>&1 &
CTRD_PID=$!
stop_containerd() {
        kill "$CTRD_PID" 2>/dev/null || true
        wait "$CTRD_PID" 2>/dev/null || true
}
trap stop_containerd EXIT
for _ in $(seq 100); do
        [ -S "$T/containerd.sock" ] && break
        sleep 0.1
done
[ -S "$T/containerd.sock" ] || rig_die "containerd did not start: $(tail "$T/containerd.log")"
c() { ctr -a "$T/containerd.sock" "$@"; }
c images import --snapshotter native "$T/image.tar" >/dev/null ||
        rig_die "image import failed"

gpu_minor() { # the device minor of GPU index $1 (NVML order is not minor order)
        local m
        m=$("$NVHOOK" --config "$HOOK_CONF" cli list --device="$1" |
                sed -n 's#^/dev/nvidia\([0-9][0-9]*\)$#\1#p')
        [ -n "$m" ] || rig_die "no minor for GPU $1"
        echo "$m"
}

# run_gpu N OTHER: ctr run --gpus N, the checks inside; GPU index N is /dev/nvidia<minor of N>.
run_gpu() {
        local n=$1 minor other
        minor=$(gpu_minor "$n")
        other=$(gpu_minor "$2")
        RIG_TIMEOUT=120 rig__capture "ctr-gpus-$n" env PATH="$T/bin:$PATH" \
                ctr -a "$T/containerd.sock" run --rm --snapshotter native --gpus "$n" \
                --cgroup "/$RIG_CG/ctr-$n" docker.io/nvhook/busybox:test "nvh-ctr-$n" \
                sh -c "[ -c /dev/nvidia$other ] && echo 'GPU $other was injected'
$(hook_check_script /usr/lib64 "$minor" "$other")"
        rig_show
        rig_assert_rc 0
        rig_assert_stdout_has ALL-CHECKS-PASSED
        ! grep -q "was injected" "$RIG_STDOUT" || rig_die "--gpus $n injected GPU $other"
        grep -q -- "--device=$n " "$T/argv.log" || rig_die "ctr did not pass --device=$n"
}
run_gpu 0 1
run_gpu 1 0
grep -q -- '--load-kmods configure' "$T/argv.log" || rig_die "argv: $(cat "$T/argv.log")"
grep -q -- '--pid=[0-9]' "$T/argv.log" || rig_die "argv without --pid: $(cat "$T/argv.log")"
rig_log "containerd ran: nvidia-container-cli $(grep -m1 configure "$T/argv.log")"
stop_containerd
trap - EXIT
rig_log "ok"
