#!/bin/bash
# A container that asks for no GPU is never harmed, however large its spec: runtimes put
# annotations in config.json and copy them into the state on the hook's stdin, so a 5 MiB
# annotation makes both inputs larger than the limits nvhook once had (config.json 4 MiB,
# state 1 MiB). The container starts (exit 0), the hook decides "not a GPU container" and
# nothing NVIDIA appears inside.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup

b=$RIG_TMP/big
rig_bundle "$b" busybox
head -c $((5 << 20)) /dev/zero | tr '\0' a >"$RIG_TMP/big.txt"
rig_jq "$b" '.annotations["org.example.big"] = $big' --rawfile big "$RIG_TMP/big.txt"
size=$(stat -c %s "$b/config.json")
[ "$size" -gt $((5 << 20)) ] || rig_die "config.json is only $size bytes"
rig_args "$b" sh -c 'ls /dev/nvidia* /usr/lib/nvhook/lib/libcuda* 2>/dev/null && exit 1; echo UNTOUCHED'
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" bigspec
rig_assert_rc 0
rig_assert_stdout_has UNTOUCHED
grep -q '"decision": *"not a GPU container"' "$HOOK_LOG" || {
        cat "$HOOK_LOG" >&2
        rig_die "the hook log has no 'not a GPU container' decision"
}

# The same spec read directly, with a state that carries the annotation too (over 5 MiB).
jq -c --arg b "$b" '{ociVersion: "1.0.2", id: "big", status: "creating", pid: 1, bundle: $b,
        annotations: .annotations}' "$b/config.json" >"$RIG_TMP/state.json"
"$NVHOOK" --config "$HOOK_CONF" prestart <"$RIG_TMP/state.json" ||
        rig_die "the hook failed on a 5 MiB state and config.json"

# The limits still bound memory: a state over 16 MiB and a config.json over 64 MiB are refused
# with one line naming the limit, before any JSON is parsed.
rc=0
{ head -c $((16 << 20)) /dev/zero | tr '\0' ' '; cat "$RIG_TMP/state.json"; } |
        "$NVHOOK" --config "$HOOK_CONF" prestart 2>"$RIG_TMP/err" || rc=$?
[ "$rc" = 1 ] && grep -q "container state on stdin': larger than 16777216 bytes" "$RIG_TMP/err" ||
        { cat "$RIG_TMP/err" >&2; rig_die "a 16 MiB + state was not refused (rc $rc)"; }
head -c $((64 << 20)) /dev/zero | tr '\0' ' ' >>"$b/config.json"
rc=0
"$NVHOOK" --config "$HOOK_CONF" prestart <"$RIG_TMP/state.json" 2>"$RIG_TMP/err" || rc=$?
[ "$rc" = 1 ] && grep -q "larger than 67108864 bytes" "$RIG_TMP/err" &&
        [ "$(wc -l <"$RIG_TMP/err")" = 1 ] ||
        { cat "$RIG_TMP/err" >&2; rig_die "a 64 MiB + config.json was not refused (rc $rc)"; }
rig_log "ok"
