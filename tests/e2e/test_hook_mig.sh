#!/bin/bash
# MIG devices through runc on a fake host with MIG instances (proc-mig, see
# tests/fixtures/mkprocfs.sh): GPU index 0 is minor 1 with GI 1 (CI 0), GI 2 (CIs 0..2) and
# GI 13 (CI 0); index 2 is minor 2, a whole GPU. NVIDIA_VISIBLE_DEVICES=0:1,0:2,2 must give the
# parent's node, the GI 2 access cap and the CI 0 and CI 1 access caps, their capability files
# in the masked /proc/driver/nvidia, and nothing of the other instances (a cap node made by
# hand stays denied by the cgroup). busybox, cgroup v1 hybrid.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup proc-mig

proc=$NVH_FIXTURES/proc-mig
caps=$(awk '$2=="nvidia-caps" {print $1; exit}' "$proc/devices")
[ -n "$caps" ] || rig_die "no nvidia-caps major in '$proc/devices'"
# rig_fake_gpu_host makes only nvidia-cap1/2: add the access caps of every MIG instance, in the
# private /dev, as the driver would.
find "$proc/driver/nvidia/capabilities" -path '*/mig/gi*' -name access | while IFS= read -r f; do
        minor=$(sed -n 's/^DeviceFileMinor:[[:space:]]*\([0-9]*\).*/\1/p' "$f")
        [ -e "/dev/nvidia-caps/nvidia-cap$minor" ] ||
                mknod -m 0444 "/dev/nvidia-caps/nvidia-cap$minor" c "$caps" "$minor"
done

# Minors from the fixture's capability files (the driver's static table: 3 + 135 M + 9 G [+1+C]).
cap_minor() {
        sed -n 's/^DeviceFileMinor:[[:space:]]*\([0-9]*\).*/\1/p' \
                "$proc/driver/nvidia/capabilities/$1/access"
}
gi2=$(cap_minor gpu1/mig/gi2)
ci0=$(cap_minor gpu1/mig/gi2/ci0)
ci1=$(cap_minor gpu1/mig/gi2/ci1)
ci2=$(cap_minor gpu1/mig/gi2/ci2) # not selected
gi1=$(cap_minor gpu1/mig/gi1)     # not selected
[ "$gi2:$ci0:$ci1:$ci2:$gi1" = 156:157:158:159:147 ] || rig_die "unexpected fixture minors"

checks() {
        cat <<X
set -e
fail() { echo "CHECK FAILED: \$*"; exit 1; }
want_node() { # path major minor
        [ -c "\$1" ] || fail "\$1 missing"
        [ "\$(stat -c %t:%T "\$1")" = "\$(printf '%x:%x' "\$2" "\$3")" ] ||
                fail "\$1 is \$(stat -c %t:%T "\$1"), not \$2:\$3"
        cat "\$1" 2>/tmp/err </dev/null && fail "\$1 opened?"
        grep -q "No such device or address" /tmp/err || fail "\$1: \$(cat /tmp/err)"
}
want_node /dev/nvidia1 195 1
want_node /dev/nvidia2 195 2
[ -e /dev/nvidia0 ] && fail "/dev/nvidia0 (not selected) present"
for m in $gi2 $ci0 $ci1; do
        want_node /dev/nvidia-caps/nvidia-cap\$m $caps \$m
        [ "\$(stat -c %a /dev/nvidia-caps/nvidia-cap\$m)" = 444 ] || fail "cap\$m mode"
done
for m in $ci2 $gi1; do
        [ -e /dev/nvidia-caps/nvidia-cap\$m ] && fail "cap\$m (not selected) present"
        mknod /dev/nvidia-caps/nvidia-cap\$m c $caps \$m
        cat /dev/nvidia-caps/nvidia-cap\$m 2>/tmp/err </dev/null && fail "cap\$m opened?"
        grep -q "Operation not permitted" /tmp/err || fail "cap\$m not denied: \$(cat /tmp/err)"
done
P=/proc/driver/nvidia
grep -q "^DeviceFileMinor: $gi2\$" \$P/capabilities/gpu1/mig/gi2/access || fail "gi2/access"
grep -q "^DeviceFileMinor: $ci0\$" \$P/capabilities/gpu1/mig/gi2/ci0/access || fail "ci0/access"
grep -q "^DeviceFileMinor: $ci1\$" \$P/capabilities/gpu1/mig/gi2/ci1/access || fail "ci1/access"
[ -e \$P/capabilities/gpu1/mig/gi2/ci2 ] && fail "ci2 (not selected) in procfs"
[ -e \$P/capabilities/gpu1/mig/gi1 ] && fail "gi1 (not selected) in procfs"
[ -e \$P/capabilities/mig/config ] && fail "mig/config without NVIDIA_MIG_CONFIG_DEVICES"
grep -q "^Device Minor:.*1\$" \$P/gpus/0000:19:00.0/information || fail "parent information"
[ -f \$P/gpus/0000:5d:00.0/information ] || fail "whole GPU information"
[ "\$(ls \$P/gpus | tr '\n' ' ')" = "0000:19:00.0 0000:5d:00.0 " ] || fail "gpus: \$(ls \$P/gpus)"
echo MIG-CHECKS-PASSED
X
}

b=$RIG_TMP/b-mig
rig_bundle "$b" busybox
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0:1,0:2,2
hook_allow_mknod "$b"
rig_args "$b" sh -c "$(checks)"
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" c-mig
rig_assert_rc 0
rig_assert_stdout_has MIG-CHECKS-PASSED

# The same devices by GI and CI ids ("<gpu>:<gi>:<ci>", as nvidia-smi shows them).
b=$RIG_TMP/b-mig-ids
rig_bundle "$b" busybox
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0:2:0,0:2:1,2
hook_allow_mknod "$b"
rig_args "$b" sh -c "$(checks)"
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" c-mig-ids
rig_assert_rc 0
rig_assert_stdout_has MIG-CHECKS-PASSED

# A MIG UUID: refused clearly (procfs has none; they need NVML).
b=$RIG_TMP/b-mig-uuid
rig_bundle "$b" busybox
rig_env "$b" NVIDIA_VISIBLE_DEVICES=MIG-5c89852c-d268-c3f3-1b07-005d5ae1dc3f
rig_args "$b" true
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" c-mig-uuid
[ "$RIG_RC" != 0 ] || { rig_show; rig_die "mig uuid accepted"; }
rig_assert_stderr_has "mig uuid 'MIG-5c89852c-d268-c3f3-1b07-005d5ae1dc3f'"

# A MIG device that does not exist: the start is refused, naming the token.
b=$RIG_TMP/b-mig-unknown
rig_bundle "$b" busybox
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0:7
rig_args "$b" true
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" c-mig-unknown
[ "$RIG_RC" != 0 ] || { rig_show; rig_die "unknown mig device accepted"; }
rig_assert_stderr_has "'0:7'"
rig_log "ok"
