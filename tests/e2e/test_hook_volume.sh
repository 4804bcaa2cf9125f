#!/bin/bash
# The image chooses the library directory (issue 8.4): its ld.so.cache says libc.so.6 is in
# /vol, and /vol is a bind mount of a host directory (rshared) from the spec's mounts. The hook
# refuses to write there, naming the path and the volume: no file appears in the host
# directory and no mount propagates back to the host's namespace.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup

hostvol=$RIG_TMP/hostvol
mkdir -p "$hostvol"
echo untouched >"$hostvol/file"
# A shared mount here: whatever is mounted below /vol in the container would show up here.
mount -n --bind "$hostvol" "$hostvol"
mount -n --make-shared "$hostvol"

b=$RIG_TMP/vol
rig_bundle "$b" busybox
libc=$(ldd /bin/sh | awk '/libc\.so\.6/ {print $3}')
[ -f "$libc" ] || rig_skip "no host libc.so.6 to build the image's cache with"
mkdir -p "$b/rootfs/vol" "$b/rootfs/etc"
cp "$libc" "$b/rootfs/vol/libc.so.6"
echo /vol >"$b/rootfs/etc/ld.so.conf"
ldconfig -r "$b/rootfs"
rig_jq "$b" '.mounts += [{destination: "/vol", type: "bind", source: $s,
        options: ["rbind", "rshared", "rw"]}]' --arg s "$hostvol"
rig_env "$b" NVIDIA_VISIBLE_DEVICES=all
rig_args "$b" sh -c 'echo STARTED'
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" vol
[ "$RIG_RC" != 0 ] || { rig_show; rig_die "the start was not refused"; }
grep -q "'/vol/lib[^']*' is in the host volume mounted on '/vol', refusing" "$RIG_STDERR" ||
        { rig_show; rig_die "no error naming the path and the volume"; }
[ "$(ls -A "$hostvol")" = file ] || rig_die "files appeared in the host volume: $(ls -A "$hostvol")"
[ "$(cat "$hostvol/file")" = untouched ] || rig_die "host volume file changed"
n=$(grep -c " $hostvol" /proc/self/mountinfo || true)
[ "$n" = 1 ] || { grep " $hostvol" /proc/self/mountinfo >&2; rig_die "mounts propagated to the host"; }
rig_log "ok"
