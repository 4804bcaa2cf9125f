#!/bin/bash
# Host volumes and shared propagation: the image's cache says libc.so.6 lives in /vol/lib,
# where the spec bind-mounts a host directory (holding a host libcuda.so.1 link). First as an
# rshared mount of a shared host directory: no mount the hook makes may propagate to the host.
# Then as a plain bind: nvhook must not create, link or mount anything in the host volume.
set -eu
. "$(dirname "$0")/lib.sh"
rig_enter_private_ns "$@"
sec_setup
rig_require_cmd gcc ldconfig

vol=$RIG_TMP/hostvol
mkdir -p "$vol/lib"
ln -s libcuda.so.host "$vol/lib/libcuda.so.1"
echo host >"$vol/lib/libcuda.so.host"
volsnap() { (cd "$vol" && find . -printf '%p %y %l %s\n' | sort) | md5sum; }

# image BUNDLE: busybox image whose ld.so.cache (made by ldconfig) puts libc.so.6 in /vol/lib.
image() {
        local b=$1 r=$1/rootfs
        mkdir -p "$r/vol/lib" "$r/etc"
        echo 'int x;' >"$RIG_TMP/libc.c"
        gcc -shared -fPIC -Wl,-soname,libc.so.6 -nostdlib -o "$r/vol/lib/libc.so.6" \
                "$RIG_TMP/libc.c"
        echo /vol/lib >"$r/etc/ld.so.conf"
        ldconfig -r "$r" -X
        ldconfig -p -C "$r/etc/ld.so.cache" | grep -q '/vol/lib/libc.so.6' ||
                rig_die "the image cache does not list /vol/lib/libc.so.6"
}

# 1. The volume as an rshared mount of a shared host directory, in a container whose root
# propagation is rshared too (what Kubernetes sets for a Bidirectional volume).
mount -n --bind "$vol" "$vol"
mount -n --make-shared "$vol"
sec_rebase
b=$RIG_TMP/vol-shared
sec_bundle "$b"
image "$b"
rig_jq "$b" '.mounts += [{destination: "/vol", type: "bind", source: $s,
        options: ["rbind", "rw", "rshared"]}] | .linux.rootfsPropagation = "rshared"' \
        --arg s "$vol"
rig_args "$b" sh -c 'echo VOL-DONE'
before=$(volsnap)
n_before=$(grep -c . /proc/self/mountinfo)
sec_start "$b" vol-shared any
rig_log "vol-shared: hook rc $SEC_HOOK_RC, mounts $n_before -> $(grep -c . /proc/self/mountinfo)"
[ "$(volsnap)" = "$before" ] || sec_fail "vol-shared: nvhook wrote into the host volume"
umount -n "$vol"
sec_rebase

# 2. A plain bind from the host (private propagation).
b=$RIG_TMP/vol-bind
sec_bundle "$b"
image "$b"
rig_jq "$b" '.mounts += [{destination: "/vol", type: "bind", source: $s,
        options: ["rbind", "rw"]}]' --arg s "$vol"
rig_args "$b" sh -c 'ls /vol/lib; echo VOL-DONE'
before=$(volsnap)
sec_start "$b" vol-bind any
rig_log "vol-bind: hook rc $SEC_HOOK_RC $(cat "$SEC_HOOK_ERR")"
[ "$(volsnap)" = "$before" ] ||
        sec_fail "vol-bind: nvhook wrote into the host volume: $(ls -la "$vol/lib" | tr '\n' ' ')"
[ "$(readlink "$vol/lib/libcuda.so.1")" = libcuda.so.host ] ||
        sec_fail "vol-bind: the host's libcuda.so.1 link was repointed"

rig_log "ok"
