#!/bin/bash
# Podman runs nvhook from a hooks.d directory (oci-hooks(5), --hooks-dir): with runc on this
# machine's hybrid cgroup layout, and with crun on pure cgroup v2. A container that asks for no
# GPU gets nothing.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
rig_require_cmd podman conmon

podman_case() {
        local rt=$1 kind=$2 r
        r=$RIG_TMP/podman-rootfs-$rt-$kind
        cp -a "$(rig_rootfs "$kind")" "$r"
        rig_podman "$rt" "$r" -e NVIDIA_VISIBLE_DEVICES=all --cap-add MKNOD -- \
                sh -c "$(hook_check_script /usr/lib64 0 1)"
        rig_assert_rc 0
        rig_assert_stdout_has ALL-CHECKS-PASSED
        # Not a GPU container: nothing injected, the hook exits 0 and logs the decision.
        r=$r-nogpu
        cp -a "$(rig_rootfs "$kind")" "$r"
        rig_podman "$rt" "$r" -- sh -c 'ls /dev; ls /usr/lib64 2>&1; true'
        rig_assert_rc 0
        if grep -q nvidia "$RIG_STDOUT"; then
                rig_show
                rig_die "a container without a GPU request got NVIDIA files"
        fi
        grep -q '"decision":"not a GPU container"' "$HOOK_LOG" ||
                rig_die "no 'not a GPU container' decision in the hook log"
}

hook_setup
rig_hooksd "$RIG_TMP/hooks.d" nvhook prestart "$NVHOOK" '{"always":true}' --config "$HOOK_CONF" \
        prestart
podman_case runc busybox
rig_cgroup_v2
podman_case crun busybox
rig_log "ok"
