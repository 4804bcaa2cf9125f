#!/bin/bash
# Host sources from shared host directories: /tmp/nvidia-mps (the MPS pipe directory) made by
# a local user (mode 0777, not root's), made by root while no MPS daemon runs, as a symlink to
# a host directory, and swapped between a directory and that symlink while containers start.
# None of them is bound into a container, and nothing a container writes there reaches the
# host's sentinel tree. This namespace gets its own /tmp (with the rig's scratch dir inside).
set -eu
. "$(dirname "$0")/lib.sh"
rig_enter_private_ns "$@"
rig_private_tmp
sec_setup

probe='if grep -q " /tmp/nvidia-mps " /proc/self/mountinfo; then
        echo MPS-MOUNTED; touch /tmp/nvidia-mps/from-container 2>/dev/null || true
fi
echo MPS-DONE'

n=0
mps() {
        local setup=$1 b
        n=$((n + 1))
        rm -rf /tmp/nvidia-mps
        eval "$setup"
        b=$RIG_TMP/mps-$n
        sec_bundle "$b"
        rig_args "$b" sh -c "$probe"
        sec_start "$b" "mps-$n" any
        rig_log "case $n ($setup): hook rc $SEC_HOOK_RC $(cat "$SEC_HOOK_ERR")"
        if grep -q MPS-MOUNTED "$RIG_STDOUT"; then
                sec_fail "mps-$n ($setup): /tmp/nvidia-mps bound into the container" \
                        "although no MPS daemon owns it"
        fi
        rm -rf --one-file-system "$b"
}

mps 'mkdir -m 0777 /tmp/nvidia-mps && chown 65534:65534 /tmp/nvidia-mps'
mps 'mkdir -m 0755 /tmp/nvidia-mps'
mps 'ln -s "$SEC_SENT" /tmp/nvidia-mps'

# The swap: a root-owned directory and a symlink to the sentinel, exchanged while starting.
swap=$(sec_swapper)
for i in $(seq 1 "${SEC_RACE_N:-6}"); do
        rm -rf /tmp/nvidia-mps /tmp/nvidia-mps.evil
        mkdir -m 0755 /tmp/nvidia-mps
        ln -s "$SEC_SENT" /tmp/nvidia-mps.evil
        "$swap" /tmp/nvidia-mps /tmp/nvidia-mps.evil >"$RIG_TMP/swaps" &
        swapper=$!
        b=$RIG_TMP/mps-race-$i
        sec_bundle "$b"
        rig_args "$b" sh -c "$probe"
        rig_run runc "$b" "mps-race-$i"
        kill -TERM "$swapper"
        wait "$swapper" || true
        sec__last_hook
        sec__judge "mps-race-$i" any "$SEC_HOOK_RC" "$SEC_HOOK_ERR"
        sec_check_host "mps-race-$i"
        rig_log "race start $i: hook rc $SEC_HOOK_RC, $(cat "$RIG_TMP/swaps") swaps," \
                "$(grep -c MPS-MOUNTED "$RIG_STDOUT" || true) mounted"
        grep -q MPS-MOUNTED "$RIG_STDOUT" &&
                sec_fail "mps-race-$i: /tmp/nvidia-mps bound although no MPS daemon owns it"
        rm -rf --one-file-system "$b"
done
rm -rf /tmp/nvidia-mps /tmp/nvidia-mps.evil
rig_log "ok"
