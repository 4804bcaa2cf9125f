#!/bin/bash
# Bad state/pid: the OCI state names a pid that is not the bundle's container -- the hook's
# own pid, pid 1 (of a pid namespace sharing the hook's mounts), a dead pid, a live process in
# another mount namespace (a reused pid), and another container's init. The hook refuses in
# one line and mounts nothing and makes no node anywhere: not in its own namespace, not in
# the other process's, not in the bundle's rootfs.
set -eu
. "$(dirname "$0")/lib.sh"
rig_enter_private_ns "$@"
sec_setup
b=$RIG_TMP/bundle
sec_bundle "$b"
hook="$NVHOOK --config $SEC_QUIET prestart"
nodes() { find "$b/rootfs" \( -type c -o -type b \) | sort; }
base_nodes=$(nodes)
check() {
        sec_check_host "$1"
        [ "$(nodes)" = "$base_nodes" ] || sec_fail "$1: device nodes made in the bundle's rootfs"
}

# The hook's own pid: the state is written by the process that becomes the hook.
SEC_LABEL=own-pid sec_hook_direct refuse "" bash -c 'jq -nc --arg b "$1" --argjson p $$ \
        "{ociVersion: \"1.0.2\", id: \"sec\", status: \"creating\", pid: \$p, bundle: \$b}" \
        >"$2"; exec $3 <"$2"' _ "$b" "$RIG_TMP/own.json" "$hook"
check own-pid
# The hook's parent (same namespaces as the hook).
# shellcheck disable=SC2086
SEC_LABEL=parent-pid sec_hook_direct refuse "" $hook < <(sec_state "$b" $$)
check parent-pid
# pid 1 of a new pid namespace whose mount namespace is a copy of ours: what the hook does
# there is seen by that namespace's own mount table, printed before and after.
# shellcheck disable=SC2016
out=$(unshare -p -f -m --propagation private --mount-proc bash -c '
        mount -n --bind "$3/driver" /proc/driver && mount -n --bind "$3/devices" /proc/devices
        before=$(awk "{ \$1 = \"\"; \$2 = \"\"; print }" /proc/self/mountinfo | sort | md5sum)
        jq -nc --arg b "$1" "{ociVersion: \"1.0.2\", id: \"sec\", status: \"creating\", pid: 1,
                bundle: \$b}" | timeout 30 $2 2>&1; echo "rc=$?"
        after=$(awk "{ \$1 = \"\"; \$2 = \"\"; print }" /proc/self/mountinfo | sort | md5sum)
        [ "$before" = "$after" ] && echo MOUNTS-SAME || echo MOUNTS-CHANGED' _ "$b" "$hook" "$NVH_FIXTURES/proc-1gpu")
rig_log "pid 1: $(echo "$out" | tr '\n' ' ')"
echo "$out" | grep -q '^rc=0$' && sec_fail "pid-1: the hook accepted pid 1"
echo "$out" | grep -q MOUNTS-SAME || sec_fail "pid-1: the hook changed pid 1's mounts: $out"
check pid-1
# A dead pid.
sh -c 'exit 0' &
dead=$!
wait "$dead" || true
# shellcheck disable=SC2086
SEC_LABEL=dead-pid sec_hook_direct refuse "" $hook < <(sec_state "$b" "$dead")
check dead-pid
# Another container's init, with our bundle.
o=$RIG_TMP/other
rig_bundle "$o" busybox
rig_args "$o" sleep 1000
rig_jq "$o" '.linux.cgroupsPath = $p' --arg p "/$RIG_CG/other"
runc_bin=$(rig_runtime_bin runc)
"$runc_bin" --root "$RIG_TMP/state/runc" run -d --bundle "$o" other </dev/null >/dev/null 2>&1 ||
        rig_die "cannot start the other container"
opid=$("$runc_bin" --root "$RIG_TMP/state/runc" state other | jq -r .pid)
om=$(awk '{ $1 = ""; $2 = ""; print }' "/proc/$opid/mountinfo" | sort)
# shellcheck disable=SC2086
SEC_LABEL=other-container sec_hook_direct refuse "" $hook < <(sec_state "$b" "$opid")
[ "$(awk '{ $1 = ""; $2 = ""; print }' "/proc/$opid/mountinfo" | sort)" = "$om" ] ||
        sec_fail "other-container: the hook mounted into another container"
check other-container
"$runc_bin" --root "$RIG_TMP/state/runc" delete -f other >/dev/null 2>&1 || true
# A reused pid: a live process in a copy of the host's mount namespace (as a service with
# PrivateTmp has), which sees the bundle's rootfs path but is no container.
unshare -m --propagation private sleep 1000 &
other=$!
trap 'kill "$other" 2>/dev/null || true; rig__inner_cleanup' EXIT
sleep 0.3
om=$(awk '{ $1 = ""; $2 = ""; print }' "/proc/$other/mountinfo" | sort)
# shellcheck disable=SC2086
SEC_LABEL=reused-pid sec_hook_direct refuse "" $hook < <(sec_state "$b" "$other")
[ "$(awk '{ $1 = ""; $2 = ""; print }' "/proc/$other/mountinfo" | sort)" = "$om" ] ||
        sec_fail "reused-pid: the hook mounted in a namespace that is not the container's" \
                "(a copy of the host's, where the bundle's rootfs is no mount of its own)"
check reused-pid
kill "$other"
rig_log "ok: 6 bad pids refused"
