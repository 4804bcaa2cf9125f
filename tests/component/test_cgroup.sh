#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Device grants against the cgroups and device programs real runtimes (runc, crun) make:
# a busybox container with c 195:0 and c 195:1 nodes in its /tmp, default-deny devices.
# cgroup v1 on the host as it is; cgroup v2 in a private mount namespace with cgroup2 mounted
# on /sys/fs/cgroup, where runtimes switch to their eBPF device programs. After the grant of
# c 195:0 rw the container's open of 195:0 fails with ENXIO (allowed, no driver), 195:1 still
# with EPERM, /dev/null still opens; a second grant changes nothing.
set -eu

skip() {
        echo "SKIP: $*" >&2
        exit 77
}

ct=${NVH_BINARY_DIR:-}/tests/ct_cgroup

run_case() { # runtime mode
        local rt=$1 mode=$2 dir id pid out
        dir=$(mktemp -d /tmp/nvh-ct-runtime-XXXXXX)
        id="nvh-ct-$rt-$mode-$$"
        mkdir -p "$dir/rootfs/bin" "$dir/rootfs/dev" "$dir/rootfs/proc" "$dir/rootfs/sys" \
                "$dir/rootfs/tmp"
        cp "$(command -v busybox)" "$dir/rootfs/bin/busybox"
        for c in sh sleep cat; do ln -s busybox "$dir/rootfs/bin/$c"; done
        mknod -m 666 "$dir/rootfs/tmp/nv0" c 195 0
        mknod -m 666 "$dir/rootfs/tmp/nv1" c 195 1
        (cd "$dir" && runc spec)
        jq --arg cg "/$id" '.process.args=["sleep","1000"] | .process.terminal=false
                | .linux.cgroupsPath=$cg | .root.readonly=false' "$dir/config.json" \
                >"$dir/config.json.new"
        mv "$dir/config.json.new" "$dir/config.json"

        local fail=0
        cleanup_case() {
                "$rt" --root "$dir/state" kill "$id" KILL >/dev/null 2>&1 || true
                sleep 0.3
                "$rt" --root "$dir/state" delete -f "$id" >/dev/null 2>&1 || true
                rm -rf "$dir"
                # a runtime that failed half-way may leave its cgroup behind
                for d in /sys/fs/cgroup/"$id" /sys/fs/cgroup/*/"$id"; do
                        [ ! -d "$d" ] || rmdir "$d" || echo "cannot remove '$d'" >&2
                done
        }
        if ! "$rt" --root "$dir/state" run -d --bundle "$dir" "$id" </dev/null >/dev/null \
                2>"$dir/err"; then
                # Not our failure: e.g. crun refuses hybrid hierarchies, or needs
                # CAP_SYS_RESOURCE for RLIMIT_MEMLOCK before it loads its program.
                echo "SKIP: $rt $mode: cannot start a container here ($(cat "$dir/err"))" >&2
                cleanup_case
                return 77
        fi
        pid=$("$rt" --root "$dir/state" state "$id" | jq .pid)
        ex() { "$rt" --root "$dir/state" exec "$id" sh -c "$1" 2>&1 || true; }
        expect() { # what command expected-substring
                local got
                got=$(ex "$2")
                case "$got" in
                *"$3"*) ;;
                *)
                        echo "FAIL $rt $mode $1: '$2' gave '$got', want '$3'" >&2
                        fail=1
                        ;;
                esac
        }
        expect before "cat /tmp/nv0" "Operation not permitted"

        out=$("$ct" grant "$pid" c 195 0 rw) || { echo "FAIL $rt $mode: grant: $out" >&2; fail=1; }
        case "$mode:$out" in
        v1:"v1 "*" 0" | v2:"v2 "*" 1") ;;
        *)
                echo "FAIL $rt $mode: grant said '$out'" >&2
                fail=1
                ;;
        esac
        expect granted "cat /tmp/nv0" "No such device or address"
        expect other "cat /tmp/nv1" "Operation not permitted"
        expect null "cat /dev/null && echo null-ok" "null-ok"

        out=$("$ct" grant "$pid" c 195 0 rw) || { echo "FAIL $rt $mode: grant 2: $out" >&2; fail=1; }
        case "$out" in
        *" 0") ;;
        *)
                echo "FAIL $rt $mode: second grant said '$out'" >&2
                fail=1
                ;;
        esac
        expect again "cat /tmp/nv0" "No such device or address"
        expect other-again "cat /tmp/nv1" "Operation not permitted"
        cleanup_case
        [ "$fail" = 0 ] && echo "ok $rt $mode" >&2
        return "$fail"
}

if [ "${1:-}" = --inner-v2 ]; then
        mount -n --make-rprivate /
        # A pure v2 host already has cgroup2 on /sys/fs/cgroup (mounting it again: EBUSY).
        if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; then
                mount -n -t cgroup2 none /sys/fs/cgroup ||
                        skip "cannot mount cgroup2 on /sys/fs/cgroup in a private namespace"
        fi
        st=0
        run_case "$2" v2 || st=$?
        exit "$st"
fi

[ "$(id -u)" = 0 ] || skip "needs root"
[ -x "$ct" ] || skip "no ct_cgroup at '$ct' (run through ctest)"
command -v busybox >/dev/null || skip "no busybox"
command -v jq >/dev/null || skip "no jq"
command -v runc >/dev/null || skip "no runc (used for 'runc spec')"

rc=0
ran=0
note() { # status
        case $1 in
        0) ran=1 ;;
        77) ;;
        *) rc=1 ;;
        esac
}
for rt in runc crun; do
        command -v "$rt" >/dev/null || { echo "SKIP: $rt cases: no $rt" >&2; continue; }
        if [ -e /sys/fs/cgroup/devices/devices.allow ]; then
                st=0
                run_case "$rt" v1 || st=$?
                note "$st"
        else
                echo "SKIP: $rt v1: no cgroup v1 devices hierarchy (a cgroup v2 only host)" >&2
        fi
        st=0
        unshare -m bash "$0" --inner-v2 "$rt" || st=$?
        note "$st"
done
[ "$rc" != 0 ] || [ "$ran" = 1 ] || skip "no runtime could start a container"
exit "$rc"
