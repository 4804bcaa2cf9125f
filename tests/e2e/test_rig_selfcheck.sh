#!/bin/bash
# test_rig_selfcheck.sh -- proves the e2e rig (tests/e2e/lib.sh) with a trivial shell hook.
#
# The hook writes /marker into the container rootfs (path from the state's bundle + config
# root.path) and records the state JSON, its env, the container's /proc/PID/cgroup and the
# device programs attached to its cgroup v2 directory. Each case asserts, from inside the
# container, that /marker is there and that a device node outside the allow list (c 195:0, no
# driver behind it) gives EPERM, i.e. the runtime's device cgroup (v1 list or v2 eBPF program)
# is in force; and that the container ran under the rig's cgroup parent. Matrix:
#   host layout (hybrid): runc prestart/createRuntime, busybox/glibc, user namespace; podman
#                         (runc) with hooks.d "always" and an annotation match (and no match)
#   pure v1:              crun prestart/createRuntime, runc, podman (crun)
#   pure v2:              runc prestart/createRuntime, crun prestart and createRuntime (glibc),
#                         runc on the host overlay rootfs (gpu-rootfs.sh), podman (runc, crun)
# All of it runs after rig_fake_gpu_host, so runtimes are proven to work with the private /dev.
# rig_enter_private_ns checks from outside the namespace that no mount or cgroup is left.
# Exit 77 (after running every case it can) when the glibc rootfs cannot be built here (the
# glibc cases then use the machine's own / as an overlay, scripts/gpu-rootfs.sh) or podman is
# missing (the GPU machine): the message lists what did not run.
set -eu
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
rig_enter_private_ns "$@"
rig_require_cmd runc crun jq gcc

helpers=$(rig_helpers)
hook=$RIG_TMP/selfhook.sh
cat >"$hook" <<'EOF'
#!/bin/sh
# selfhook.sh REC LABEL CGBASE DEVPROGS: record what the runtime gave us, drop /marker.
set -eu
rec=$1 label=$2 cgbase=$3 devprogs=$4
mkdir -p "$rec"
cat >"$rec/state.json"
bundle=$(jq -r .bundle "$rec/state.json")
id=$(jq -r .id "$rec/state.json")
pid=$(jq -r .pid "$rec/state.json")
root=$(jq -r .root.path "$bundle/config.json")
case $root in /*) ;; *) root=$bundle/$root ;; esac
echo "marker $label $id" >"$root/marker"
env >"$rec/env"
cat "/proc/$pid/cgroup" >"$rec/cgroup"
if [ "$cgbase" != none ]; then
        rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
        "$devprogs" "$cgbase$rel" >"$rec/devprogs" 2>&1 || true
fi
EOF
chmod 0755 "$hook"

skipped=()
glibc=glibc
if ! (rig_rootfs glibc >/dev/null 2>"$RIG_TMP/glibc.err"); then
        # The GPU machine has no debootstrap: its own / (overlay) is the glibc image there.
        glibc=host
        skipped+=("no glibc rootfs ($(head -n 1 "$RIG_TMP/glibc.err")), used the host overlay;")
fi
podman_reason=
if ! command -v podman >/dev/null || ! command -v conmon >/dev/null; then
        podman_reason="podman or conmon not installed"
        skipped+=("podman cases: $podman_reason")
fi
passed=()

cgbase() {
        case $(rig_cgroup_mode) in
        hybrid) echo /sys/fs/cgroup/unified ;;
        v2) echo /sys/fs/cgroup ;;
        *) echo none ;;
        esac
}

# check LABEL REC ID: assertions shared by every case.
check() {
        local label=$1 rec=$2 id=$3 mode
        mode=$(rig_cgroup_mode)
        rig_assert_rc 0
        rig_assert_stdout_has "marker $label $id"
        rig_assert_stdout_has "Operation not permitted"
        [ -f "$rec/state.json" ] || rig_die "$label: hook recorded no state"
        # runc 1.1 reports "creating" to prestart/createRuntime hooks, crun "created".
        case $(jq -r .status "$rec/state.json") in
        creating | created) ;;
        *) rig_die "$label: unexpected state status: $(cat "$rec/state.json")" ;;
        esac
        if grep -q '^LD_PRELOAD=' "$rec/env"; then
                rig_die "$label: hook inherited LD_PRELOAD"
        fi
        case $mode in
        v2) grep -q "^0::/$RIG_CG/" "$rec/cgroup" ;;
        *) grep -q ":devices:/$RIG_CG/" "$rec/cgroup" ;;
        esac || rig_die "$label: container not under /$RIG_CG: $(cat "$rec/cgroup")"
        local progs=-
        [ ! -f "$rec/devprogs" ] || progs=$(cat "$rec/devprogs")
        rig_log "ok $label ($mode; device programs at hook time: $progs)"
        passed+=("$label")
}

# oci_case RUNTIME STAGE KIND LABEL [userns]
oci_case() {
        local rt=$1 stage=$2 kind=$3 label=$4 extra=${5:-}
        local b=$RIG_TMP/b-$label rec=$RIG_TMP/rec-$label
        [ "$kind" != glibc ] || kind=$glibc
        rig_bundle "$b" "$kind"
        mknod -m 0666 "$b/rootfs/denied" c 195 0
        [ "$extra" != userns ] || rig_userns "$b"
        rig_args "$b" sh -c 'cat /marker; head -c1 /denied 2>&1; echo "denied rc=$?"'
        rig_hook "$b" "$stage" "$hook" "$rec" "$label" "$(cgbase)" "$helpers/rig-devprogs"
        rig_run "$rt" "$b" "$label"
        check "$label" "$rec" "$label"
}

# podman_case RUNTIME KIND LABEL [annotation]
podman_case() {
        local rt=$1 kind=$2 label=$3 extra=${4:-} when='{"always":true}'
        local r=$RIG_TMP/pr-$label rec=$RIG_TMP/rec-$label id
        if [ -n "$podman_reason" ]; then
                rig_log "skip $label: $podman_reason"
                return 0
        fi
        if [ "$kind" = glibc ] && [ "$glibc" = host ]; then
                rig_log "skip $label: no glibc rootfs to copy for podman"
                return 0
        fi
        cp -a "$(rig_rootfs "$kind")" "$r"
        mknod -m 0666 "$r/tmp/denied" c 195 0
        [ "$extra" != annotation ] || when='{"annotations":{"^org\\.nvhook\\.test$":"^yes$"}}'
        export RIG_HOOKS_DIR=$RIG_TMP/hooks-$label
        rig_hooksd "$RIG_HOOKS_DIR" selfhook prestart "$hook" "$when" \
                "$rec" "$label" "$(cgbase)" "$helpers/rig-devprogs"
        if [ "$extra" = annotation ]; then
                # No annotation: the hook must not run.
                rig_podman "$rt" "$r" -- sh -c 'cat /marker 2>&1; true'
                rig_assert_rc 0
                rig_assert_stdout_has "No such file"
                [ ! -e "$rec" ] || rig_die "$label: hook ran without the annotation"
                rig_podman "$rt" "$r" --annotation org.nvhook.test=yes -- \
                        sh -c 'cat /marker; head -c1 /tmp/denied 2>&1; echo "denied rc=$?"'
        else
                rig_podman "$rt" "$r" -- \
                        sh -c 'cat /marker; head -c1 /tmp/denied 2>&1; echo "denied rc=$?"'
        fi
        unset RIG_HOOKS_DIR
        [ -f "$rec/state.json" ] || { rig_show; rig_die "$label: podman did not run the hook"; }
        id=$(jq -r .id "$rec/state.json")
        check "$label" "$rec" "$id"
}

# --- fake GPU host: every case below runs with it ------------------------------------------
fake=$RIG_TMP/fakeproc
mkdir -p "$fake/driver/nvidia/gpus/0000:01:00.0"
printf 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.04  (rig selfcheck)\n' \
        >"$fake/driver/nvidia/version"
printf 'Model: \t\t Rig Fake GPU\nDevice Minor: \t 0\nBus Location: \t 0000:01:00.0\n' \
        >"$fake/driver/nvidia/gpus/0000:01:00.0/information"
# The machine's own majors minus any real NVIDIA ones (the GPU machine has them), plus ours.
awk '/^Block devices:/ { print "195 nvidia-frontend"; print "508 nvidia-caps";
                         print "509 nvidia-uvm"; print "" } $2 !~ /^nvidia/ { print }' /proc/devices \
        >"$fake/devices"
rig_fake_gpu_host "$fake"
[ "$(stat -c '%F %t:%T' /dev/nvidia0)" = "character special file c3:0" ] ||
        rig_die "/dev/nvidia0 wrong: $(stat -c '%F %t:%T' /dev/nvidia0)"
[ "$(stat -c '%t:%T' /dev/nvidiactl)" = "c3:ff" ] || rig_die "/dev/nvidiactl wrong"
[ "$(stat -c '%t:%T' /dev/nvidia-uvm-tools)" = "1fd:1" ] || rig_die "/dev/nvidia-uvm-tools wrong"
[ "$(stat -c '%t:%T' /dev/nvidia-caps/nvidia-cap2)" = "1fc:2" ] || rig_die "nvidia-cap2 wrong"
grep -q 'Kernel Module  580.159.04' /proc/driver/nvidia/version || rig_die "fake version not seen"
grep -q '^509 nvidia-uvm$' /proc/devices || rig_die "fake /proc/devices not seen"
if ! echo test >/dev/null || ! head -c1 /dev/zero >/dev/null; then
        rig_die "private /dev broken"
fi
rig_log "ok fake GPU host"

# --- host layout ------------------------------------------------------------------------------
if [ "$(rig_cgroup_mode)" = hybrid ]; then
        oci_case runc prestart busybox hy-runc-prestart-bb
        oci_case runc createRuntime busybox hy-runc-create-bb
        oci_case runc prestart glibc hy-runc-prestart-glibc
        oci_case runc prestart busybox hy-runc-userns-bb userns
        podman_case runc busybox hy-podman-runc-bb
        podman_case runc busybox hy-podman-runc-annot-bb annotation
else
        rig_log "host layout is $(rig_cgroup_mode), not hybrid: hybrid cases not run"
fi

# --- pure cgroup v1 ---------------------------------------------------------------------------
if [ -d /sys/fs/cgroup/devices ]; then
        rig_cgroup_v1
        oci_case crun prestart busybox v1-crun-prestart-bb
        oci_case crun createRuntime busybox v1-crun-create-bb
        oci_case runc prestart busybox v1-runc-prestart-bb
        podman_case crun busybox v1-podman-crun-bb
else
        rig_log "no cgroup v1 devices hierarchy: v1 cases not run"
fi

# --- pure cgroup v2 ---------------------------------------------------------------------------
rig_cgroup_v2
oci_case runc prestart busybox v2-runc-prestart-bb
oci_case runc createRuntime busybox v2-runc-create-bb
oci_case crun prestart busybox v2-crun-prestart-bb
oci_case crun createRuntime glibc v2-crun-create-glibc
oci_case runc prestart host v2-runc-prestart-host
podman_case runc busybox v2-podman-runc-bb
podman_case crun glibc v2-podman-crun-glibc

rig_log "passed ${#passed[@]} cases: ${passed[*]}"
if [ ${#skipped[@]} -gt 0 ]; then
        rig_skip "not everything could run here: ${skipped[*]} (the ${#passed[@]} cases run passed)"
fi
