#!/bin/bash
# The hook's environment configures nothing and loads nothing (CVE-2025-23266): a hook entry
# whose env carries LD_PRELOAD and LD_AUDIT of a library that leaves a mark when loaded, plus
# variables that would steer a naive hook (NVIDIA_VISIBLE_DEVICES=void, a driver root). nvhook
# is a static PIE, so no dynamic loader runs in it; it clears its environment at start.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup

mark=$RIG_TMP/loaded
cat >"$RIG_TMP/evil.c" <<EOF
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void)
{
        int fd = open("$mark", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
                (void)!write(fd, "x", 1);
                close(fd);
        }
}
unsigned la_version(unsigned v) { return v; }
EOF
gcc -shared -fPIC -o "$RIG_TMP/evil.so" "$RIG_TMP/evil.c"
# Control: the library does leave its mark in a dynamically linked program.
LD_PRELOAD=$RIG_TMP/evil.so /bin/true
[ -s "$mark" ] || rig_die "control failed: LD_PRELOAD did not load the test library"
rm -f "$mark"

b=$RIG_TMP/env
rig_bundle "$b" busybox
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0
rig_args "$b" sh -c '[ -f /usr/lib/nvhook/lib/libcuda.so.580.159.04 ] && echo ENV-CHECKS-PASSED'
RIG_HOOK_ENV="PATH=/usr/bin:/bin
LD_PRELOAD=$RIG_TMP/evil.so
LD_AUDIT=$RIG_TMP/evil.so
LD_LIBRARY_PATH=$RIG_TMP
NVIDIA_VISIBLE_DEVICES=void
NVIDIA_DRIVER_ROOT=/nonexistent" rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" env
rig_assert_rc 0
rig_assert_stdout_has ENV-CHECKS-PASSED
[ ! -e "$mark" ] || rig_die "the hook loaded a library named in its environment"
rig_log "ok"
