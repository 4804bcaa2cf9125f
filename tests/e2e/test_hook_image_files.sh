#!/bin/bash
# Image files that are not regular files (issue 8.3): /etc/ld.so.cache as a FIFO (read, it would
# block the hook forever) and as a character device node (read as root, it would be the host's
# device). The hook never reads them: it says so and replaces them with its own cache, and the
# container starts.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup

# hostile_cache NAME CMD...: CMD makes $rootfs/etc/ld.so.cache; the start must succeed quickly.
hostile_cache() {
        local name=$1 b=$RIG_TMP/$1
        shift
        rig_bundle "$b" busybox
        rig_env "$b" NVIDIA_VISIBLE_DEVICES=all
        mkdir -p "$b/rootfs/etc"
        rm -f "$b/rootfs/etc/ld.so.cache"
        rootfs=$b/rootfs "$@"
        rig_args "$b" sh -c '[ -f /etc/ld.so.cache ] && [ -f /usr/lib/nvhook/lib/libcuda.so.1 ] && echo STARTED'
        # The hook's stderr (runc shows it only for a failing hook) goes to a file.
        : >"$RIG_TMP/hook.err"
        RIG_HOOK_TIMEOUT=30 rig_hook "$b" prestart /bin/sh -c \
                "exec '$NVHOOK' --config '$HOOK_CONF' prestart 2>>'$RIG_TMP/hook.err'"
        RIG_TIMEOUT=60 rig_run runc "$b" "$name"
        rig_assert_rc 0
        rig_assert_stdout_has STARTED
        grep -q "/etc/ld.so.cache' in container root is not a regular file" "$RIG_TMP/hook.err" ||
                { rig_show; cat "$RIG_TMP/hook.err" >&2; rig_die "$name: no warning about it"; }
}
hostile_cache fifo sh -c 'mkfifo "$rootfs/etc/ld.so.cache"'
hostile_cache chardev sh -c 'mknod "$rootfs/etc/ld.so.cache" c 1 5'
rig_log "ok"
