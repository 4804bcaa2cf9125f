# shellcheck shell=bash
# tests/e2e/shim_lib.sh -- shared by test_shim_*.sh and test_cdi_*.sh: a fake host with 8 GPUs,
# the nvhook-runtime symlink, the script that lists the GPU nodes a container sees, and one
# private daemon stopped by pid. Sourced after tests/e2e/lib.sh and tests/e2e/hook_lib.sh.

# shim_setup: fake GPU host + hook config (hook_setup); sets MINORS and UUIDS (by GPU index),
# SHIM, NODES (a sh script printing "NODES: nvidia<minor> ..." in minor order).
shim_setup() {
        . "$NVH_FIXTURES/procfs.env"
        hook_setup proc-8gpu
        read -r -a MINORS <<<"$NVH_PROC_8GPU_MINORS"
        # shellcheck disable=SC2034 # used by the tests that source this file
        read -r -a UUIDS <<<"$NVH_PROC_8GPU_UUIDS"
        SHIM=$(dirname "$NVHOOK")/nvhook-runtime
        [ -L "$SHIM" ] || rig_die "'$SHIM' is not the nvhook-runtime symlink"
        # shellcheck disable=SC2016,SC2034 # expanded in the container; used by the tests
        NODES='echo "NODES: $(ls /dev | grep -E "^nvidia[0-9]+$" | sort -t a -k 2 -n | tr "\n" " ")"'
}

# shim_nodes INDEX...: the NODES line expected for those GPU indexes ("all": every GPU).
shim_nodes() {
        local i
        if [ "$1" = all ]; then
                set -- "${!MINORS[@]}"
        fi
        printf 'NODES: '
        [ "$*" != none ] || return 0
        for i in "$@"; do
                echo "${MINORS[$i]}"
        done | sort -n | sed 's/^/nvidia/' | tr '\n' ' '
}

# shim_conf JQ-FILTER [JQ-ARGS...]: edit the hook config in place.
shim_conf() {
        jq "$@" "$HOOK_CONF" >"$HOOK_CONF.new" || rig_die "jq on '$HOOK_CONF' failed"
        mv "$HOOK_CONF.new" "$HOOK_CONF"
}

# shim_daemon LOG CMD...: start one daemon (NVHOOK_CONFIG=$HOOK_CONF in its environment),
# stopped by its pid when the test exits.
SHIM_DAEMON_PID=
shim__stop() {
        if [ -n "$SHIM_DAEMON_PID" ]; then
                kill "$SHIM_DAEMON_PID" 2>/dev/null || true
                wait "$SHIM_DAEMON_PID" 2>/dev/null || true
        fi
        rig__inner_cleanup
}
shim_daemon() {
        local log=$1
        shift
        trap shim__stop EXIT
        NVHOOK_CONFIG=$HOOK_CONF "$@" >"$log" 2>&1 &
        SHIM_DAEMON_PID=$!
}

# shim_wait LOG CMD...: wait (up to 30 s) until CMD succeeds; the daemon must stay up.
shim_wait() {
        local log=$1 i
        shift
        for i in $(seq 300); do
                "$@" >/dev/null 2>&1 && return 0
                kill -0 "$SHIM_DAEMON_PID" 2>/dev/null || { tail -30 "$log"; rig_die "daemon exited"; }
                [ "$i" = 300 ] || sleep 0.1
        done
        tail -30 "$log"
        rig_die "daemon did not come up: $*"
}

# shim_assert_nodes INDEX...: the last container saw exactly those GPUs ("all": every one;
# none: no GPU).
shim_assert_nodes() {
        local want
        want=$(shim_nodes "$@")
        grep -qxF "$want" "$RIG_STDOUT" || { rig_show; rig_die "expected the line '$want'"; }
}
