#!/bin/bash
# Bad inputs: each gives one line on stderr naming the offending value, a non-zero exit, and
# no change on the host (the rig checks mounts and cgroups; this test also checks a host
# sentinel directory). Hostile rootfs layouts are resolved in-root.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup

sentinel=$RIG_TMP/host-sentinel
mkdir -p "$sentinel"
echo untouched >"$sentinel/file"
snapshot() { (cd "$sentinel" && find . -printf '%p %s %y\n' | sort | md5sum); }
before=$(snapshot)

# expect_fail NEEDLE CMD...: exit non-zero, one stderr line, containing NEEDLE.
expect_fail() {
        local needle=$1 rc=0
        shift
        "$@" >"$RIG_TMP/bad.out" 2>"$RIG_TMP/bad.err" || rc=$?
        if [ "$rc" = 0 ] || ! grep -qF -- "$needle" "$RIG_TMP/bad.err" ||
                [ "$(wc -l <"$RIG_TMP/bad.err")" != 1 ]; then
                echo "--- rc $rc, stderr:" >&2
                cat "$RIG_TMP/bad.err" >&2
                rig_die "expected one error line with '$needle' from: $*"
        fi
}
jq '.log_level = "warning"' "$HOOK_CONF" >"$RIG_TMP/quiet.json"
hook() { "$NVHOOK" --config "$RIG_TMP/quiet.json" prestart; }

b=$RIG_TMP/bundle
rig_bundle "$b" busybox
rig_env "$b" NVIDIA_VISIBLE_DEVICES=all
# A live process stands for the container's; it must not outlive the test.
sleep 1000 >/dev/null 2>&1 &
live=$!
trap 'kill "$live" 2>/dev/null || true; rig__inner_cleanup' EXIT
sh -c 'exit 0' &
dead=$!
wait "$dead" || true

state() { jq -nc --arg b "$1" --argjson p "$2" '{ociVersion: "1.0.2", id: "bad", status: "creating", pid: $p, bundle: $b}'; }

expect_fail "is not running" hook < <(state "$b" "$dead")
expect_fail "$RIG_TMP/nope" hook < <(state "$RIG_TMP/nope" "$live")
expect_fail "container state" hook < <(echo 'this is not json')
expect_fail "container state" hook < <(head -c 2000000 /dev/zero | tr '\0' ' ')
expect_fail "pid" hook < <(jq -nc --arg b "$b" '{ociVersion: "1.0.2", id: "x", status: "creating", pid: "12", bundle: $b}')
cp "$b/config.json" "$RIG_TMP/config.good"
echo '{"root": ' >"$b/config.json"
expect_fail "config.json" hook < <(state "$b" "$live")
jq 'del(.root)' "$RIG_TMP/config.good" >"$b/config.json"
expect_fail "root" hook < <(state "$b" "$live")
cp "$RIG_TMP/config.good" "$b/config.json"
echo '{"driver_root": "/", "log_levle": "debug"}' >"$RIG_TMP/typo.json"
expect_fail "log_levle" "$NVHOOK" --config "$RIG_TMP/typo.json" prestart < <(state "$b" "$live")
expect_fail "$RIG_TMP/missing-driver" "$NVHOOK" --root "$RIG_TMP/missing-driver" list
expect_fail "createContainer" "$NVHOOK" --config "$RIG_TMP/quiet.json" createContainer \
        < <(state "$b" "$live")
# A state whose pid is not the container's: the hook's own (exec keeps the shell's pid) or init.
# Nothing is mounted or created through it, in any namespace.
expect_fail "hook's own mount namespace" bash -c \
        'exec "$1" --config "$2" prestart < <(jq -nc --arg b "$3" --argjson p $$ \
                "{ociVersion: \"1.0.2\", id: \"own\", status: \"creating\", pid: \$p, bundle: \$b}")' \
        _ "$NVHOOK" "$RIG_TMP/quiet.json" "$b"
# Where init cannot be inspected (a sandbox), the open of its namespace is what fails.
init_needle="process 1 is in the host's initial mount namespace"
readlink /proc/1/ns/mnt >/dev/null 2>&1 || init_needle="process 1: open '/proc/1/ns/mnt'"
expect_fail "$init_needle" hook < <(state "$b" 1)
grep -q " $b/" /proc/self/mountinfo && rig_die "a bad pid left mounts under '$b'"
[ ! -e "$b/rootfs/usr/lib/nvhook" ] && [ ! -e "$b/rootfs/dev/nvidia0" ] ||
        rig_die "a bad pid created files in '$b/rootfs'"
kill "$live"

# A read-only rootfs: the start is refused with the path that could not be created.
b=$RIG_TMP/ro
rig_bundle "$b" busybox
rig_env "$b" NVIDIA_VISIBLE_DEVICES=all
mount -n --bind "$b/rootfs" "$b/rootfs"
mount -n -o remount,bind,ro "$b/rootfs"
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" ro
[ "$RIG_RC" != 0 ] || { rig_show; rig_die "read-only rootfs: the start was not refused"; }
grep -q "Read-only file system" "$RIG_STDERR" || { rig_show; rig_die "no EROFS message"; }
umount -n "$b/rootfs"

# The driver directory's parent is a symlink to a host path (absolute and with ..): it is
# followed inside the root, never on the host.
b=$RIG_TMP/evil
rig_bundle "$b" busybox
rm -rf "$b/rootfs/usr/lib"
ln -s "../../../../../../..$sentinel" "$b/rootfs/usr/lib"
mkdir -p "$b/rootfs/etc"
ln -sf "$sentinel/file" "$b/rootfs/etc/ld.so.cache"
rig_env "$b" NVIDIA_VISIBLE_DEVICES=all
rig_args "$b" sh -c 'ls /usr/lib/nvhook/lib/libcuda.so.1 && readlink /etc/ld.so.cache; echo EVIL-DONE'
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" evil
rig_assert_rc 0
rig_assert_stdout_has EVIL-DONE
[ -d "$b/rootfs/$sentinel/nvhook" ] ||
        rig_die "the driver directory did not land inside the root at the symlink's in-root target"
[ "$(snapshot)" = "$before" ] || rig_die "host sentinel '$sentinel' changed"
[ "$(cat "$sentinel/file")" = untouched ] || rig_die "host file written through a symlink"
rig_log "ok"
