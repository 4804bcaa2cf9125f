#!/bin/bash
# A container with a user namespace (runc, busybox, host layout): mknod'ed nodes would sit on
# a nodev filesystem there, so nvhook binds the host's nodes; the granted GPU opens past the
# cgroup (ENXIO from the fake node) and the libraries are there.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup
b=$RIG_TMP/userns
rig_bundle "$b" busybox
rig_userns "$b"
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0
rig_args "$b" sh -c '
set -e
[ -f /usr/lib/nvhook/lib/libcuda.so.580.159.04 ]
[ "$(readlink /usr/lib/nvhook/lib/libcuda.so.1)" = libcuda.so.580.159.04 ]
[ ! -e /usr/lib64/libcuda.so.1 ] # no libc in the image: no link in its directory
grep -q "^ModifyDeviceFiles: 0" /proc/driver/nvidia/params
[ "$(stat -c %t:%T /dev/nvidia0)" = c3:0 ]
cat /dev/nvidia0 2>/tmp/err </dev/null && exit 1
grep -q "No such device or address" /tmp/err || { cat /tmp/err; exit 1; }
echo USERNS-CHECKS-PASSED'
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" userns
rig_assert_rc 0
rig_assert_stdout_has USERNS-CHECKS-PASSED
rig_log "ok"
