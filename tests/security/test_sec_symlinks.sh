#!/bin/bash
# Hostile rootfs symlinks: the driver directory and its parent, /etc, firmware directory, /dev and
# /proc entries, and the files nvhook creates, redirect to host paths (absolute, with "..",
# through magic links), or loop. Each start either succeeds with everything in-root or is
# refused with one line; the host never changes (sentinel tree, mount table, /etc /usr /run).
set -eu
. "$(dirname "$0")/lib.sh"
rig_enter_private_ns "$@"
sec_setup

up=../../../../../../../..
n=0
# case EXPECT SETUP_SHELL: SETUP runs in the bundle's rootfs ($r) before the start.
evil() {
        local expect=$1 setup=$2 b
        n=$((n + 1))
        b=$RIG_TMP/sym-$n
        sec_bundle "$b"
        # shellcheck disable=SC2034  # S and up are used by the eval'ed setup
        (r=$b/rootfs S=$SEC_SENT up=$up && cd "$r" && eval "$setup") ||
                rig_die "case $n: setup failed"
        rig_args "$b" sh -c 'echo SYM-DONE'
        sec_start "$b" "sym-$n" "$expect"
        rig_log "case $n ($setup): hook rc $SEC_HOOK_RC"
}

# The driver directory's parent (/usr/lib) as a link to the host's sentinel.
evil ok 'rm -rf usr/lib && ln -s "$S/lib" usr/lib'
evil ok 'rm -rf usr/lib && ln -s "$up$S/lib" usr/lib'
[ -d "$RIG_TMP/sym-2/rootfs/$SEC_SENT/lib/nvhook" ] ||
        sec_fail "case 2: the driver directory did not land in-root at the link's target"
# The driver directory itself, and a directory under it, as links to the host.
evil any 'mkdir -p usr/lib && ln -s "$S/lib" usr/lib/nvhook'
evil any 'mkdir -p usr/lib && ln -s "$up$S" usr/lib/nvhook'
evil any 'mkdir -p usr/lib && ln -s /proc/self/root/usr/lib usr/lib/nvhook'
evil any 'mkdir -p usr/lib/nvhook && ln -s "$S/lib" usr/lib/nvhook/lib'
# A libc image (lib64 family) whose library directory, where the development links go, is a
# link to the host.
evil ok 'mkdir -p lib64 && touch lib64/libc.so.6 && rm -rf usr/lib64 && ln -s "$up$S/lib" usr/lib64'
[ -L "$RIG_TMP/sym-$n/rootfs/$SEC_SENT/lib/libcuda.so" ] ||
        sec_fail "case $n: the development link did not land in-root at the link's target"
# The files nvhook creates in the image as links to host files.
evil any 'mkdir -p lib64 usr/lib64 && touch lib64/libc.so.6 &&
        ln -s "$S/file" usr/lib64/libcuda.so && ln -s "$S/lib/x" usr/lib64/libnvidia-ml.so'

evil any 'mkdir -p usr/bin && ln -s "$S/file" usr/bin/nvidia-smi'
# /etc (where ld.so.cache is written) and the cache itself.
evil any 'rm -rf etc && ln -s "$S/etc" etc'
evil any 'rm -rf etc && ln -s "$up$S/etc" etc'
evil any 'mkdir -p etc && ln -sf "$S/etc/ld.so.cache" etc/ld.so.cache'
evil any 'mkdir -p etc && ln -sf /proc/1/root/etc/ld.so.cache etc/ld.so.cache'
# Firmware directory.
evil any 'mkdir -p lib && rm -rf lib/firmware && ln -s "$S/fw" lib/firmware'
evil any 'mkdir -p lib/firmware && ln -s "$up$S/fw/nvidia" lib/firmware/nvidia'
# /proc/driver (the hook masks /proc/driver/nvidia): the runtime mounts procfs on /proc, so the
# image's /proc is only seen without that mount.
b=$RIG_TMP/sym-proc
sec_bundle "$b"
rig_jq "$b" '.mounts |= map(select(.destination != "/proc"))'
mkdir -p "$b/rootfs/proc"
ln -s "$SEC_SENT" "$b/rootfs/proc/driver"
rig_args "$b" sh -c 'echo SYM-DONE'
sec_start "$b" sym-proc any
# /dev entries the hook creates, with the runtime's /dev tmpfs removed: the image's /dev is used.
b=$RIG_TMP/sym-dev
sec_bundle "$b"
rig_jq "$b" '.mounts |= map(select(.destination != "/dev"))'
mkdir -p "$b/rootfs/dev"
ln -s "$SEC_SENT/file" "$b/rootfs/dev/nvidia0"
ln -s "$SEC_SENT/dev" "$b/rootfs/dev/nvidia-caps"
ln -s "$up$SEC_SENT/file" "$b/rootfs/dev/nvidiactl"
rig_args "$b" sh -c 'echo SYM-DONE'
sec_start "$b" sym-dev any
# Magic links: the driver directory's parent through /proc/self/root and /proc/1/cwd.
evil any 'rm -rf usr/lib && ln -s "/proc/self/root$S/lib" usr/lib'
evil any 'rm -rf usr/lib && ln -s /proc/1/cwd usr/lib'
# Loops: self, two-cycle, and a chain longer than any resolver's budget.
evil any 'rm -rf usr/lib && ln -s lib usr/lib'
evil any 'rm -rf usr/lib && ln -s /usr/loop-b usr/lib && ln -s /usr/lib usr/loop-b'
evil any 'rm -rf usr/lib && for i in $(seq 1 60); do ln -s "/c$((i + 1))" "c$i"; done &&
        ln -s /c1 usr/lib'
evil any 'rm -rf etc && ln -s etc etc'
rig_log "ok: $((n + 2)) hostile layouts, host unchanged"
