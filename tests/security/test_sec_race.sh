#!/bin/bash
# Races with a swapper: while N starts happen (SEC_RACE_N, default 12), a process swaps, as
# fast as it can (renameat2 RENAME_EXCHANGE), the image's library directory, its /etc and its
# /dev/nvidia-caps between a real directory and a symlink to the host's sentinel tree. Every
# start succeeds in-root or is refused in one line; nothing outside the rootfs is created,
# modified or mounted.
set -eu
. "$(dirname "$0")/lib.sh"
rig_enter_private_ns "$@"
sec_setup
swap=$(sec_swapper)

N=${SEC_RACE_N:-12}
ok=0 refused=0
for i in $(seq 1 "$N"); do
        b=$RIG_TMP/race-$i
        sec_bundle "$b"
        r=$b/rootfs
        mkdir -p "$r/usr/lib64" "$r/dev"
        ln -s "$SEC_SENT/lib" "$r/usr/lib64.evil"
        cp -a "$r/etc" "$r/etc.real"
        ln -s "$SEC_SENT/etc" "$r/etc.evil"
        rig_jq "$b" '.mounts |= map(select(.destination != "/dev"))'
        mkdir -p "$r/dev/nvidia-caps"
        ln -s "$SEC_SENT/dev" "$r/dev/nvidia-caps.evil"
        rig_args "$b" sh -c 'echo RACE-DONE'
        "$swap" "$r/usr/lib64" "$r/usr/lib64.evil" "$r/etc" "$r/etc.evil" \
                "$r/dev/nvidia-caps" "$r/dev/nvidia-caps.evil" >"$RIG_TMP/swaps.$i" &
        swapper=$!
        rig_run runc "$b" "race-$i"
        kill -TERM "$swapper"
        wait "$swapper" || true
        sec__last_hook
        sec__judge "race-$i" any "$SEC_HOOK_RC" "$SEC_HOOK_ERR"
        sec_check_host "race-$i"
        if [ "$SEC_HOOK_RC" = 0 ]; then ok=$((ok + 1)); else refused=$((refused + 1)); fi
        rig_log "start $i: hook rc $SEC_HOOK_RC, $(cat "$RIG_TMP/swaps.$i") swaps"
        rm -rf --one-file-system "$b"
done
rig_log "ok: $N starts under the swapper ($ok succeeded in-root, $refused refused)"
