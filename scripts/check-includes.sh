#!/bin/bash
# The import graph of hook/ and lib/, checked in CI: every #include "..." is an edge from the
# including file's module (its name without .c/.h) to the included one. Fails on an include
# that runs up a layer, on a cycle between modules, and on a module the table does not place
# (a new module gets one row below). Rows for modules not written yet are harmless.
set -eu
cd "$(dirname "$0")/.."

# Layers, lowest first. A module may include its own layer and those below; a cycle inside a
# layer is still refused.
declare -A layer
place() {
        local n=$1 m
        shift
        for m in "$@"; do layer[$m]=$n; done
}
layer_names=(base fd parsers discovery select plan executors cli commands main)
# base: the toolbox every module may use.
place 0 err macros log fileio json syscalls kfeatures pci nvh_commit
# fd: low-level in-root fd modules (beside base), usable by discovery and the executors.
place 1 rootfs mount nsenter devnode
# parsers: untrusted or host input into data.
place 2 ldcache ldcache_write ldcache_internal elf oci conf request request_devices require caps components
# discovery: what this host has (GPUs, driver files, the container's layout).
place 3 gpus gpus_mig gpus_internal host driver driver_resolve drvcache facts layout
# select: a request's device tokens resolved against the host.
place 4 select
# plan: the pure list of operations, and CDI specs built from the same data.
place 5 plan cdi compat
# executors: what touches the container and its cgroup.
place 6 inject cgroup devbpf
# hook/: what every command shares, the commands, and main with its command table.
place 7 cli
place 8 nvhook hook commands cdi_cmd runtime nvcli nvcli_args doctor setup
place 9 main nvhook-probe

# Known edges waiting for their fix; each names the change that removes it.
declare -A allowed=()

fail=0
edges=$(mktemp)
trap 'rm -f "$edges"' EXIT
mapfile -t files < <(find hook lib -name '*.[ch]' | sort)
for f in "${files[@]}"; do
        from=$(basename "$f")
        from=${from%.*}
        if [ -z "${layer[$from]+x}" ]; then
                echo "check-includes: '$f': module '$from' has no layer in scripts/check-includes.sh" >&2
                fail=1
                continue
        fi
        while read -r inc; do
                to=${inc%.h}
                to=${to##*/}
                [ "$to" != "$from" ] || continue
                if [ -z "${layer[$to]+x}" ]; then
                        echo "check-includes: '$f' includes '$inc': module '$to' has no layer" >&2
                        fail=1
                        continue
                fi
                echo "$from $to" >>"$edges"
                if [ "${layer[$to]}" -gt "${layer[$from]}" ]; then
                        if [ -n "${allowed["$from $to"]+x}" ]; then
                                continue
                        fi
                        echo "check-includes: '$f' includes '$inc': ${layer_names[${layer[$from]}]} module '$from' reaches up to ${layer_names[${layer[$to]}]} module '$to'" >&2
                        fail=1
                fi
        done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
for e in "${!allowed[@]}"; do
        grep -qxF "$e" "$edges" ||
                echo "check-includes: note: allowed edge '$e' is gone: remove it from the table" >&2
done
if ! sort -u "$edges" | tsort >/dev/null 2>"$edges.loop"; then
        echo "check-includes: the modules below form a cycle:" >&2
        grep -v '^tsort: .*loop' "$edges.loop" | sed 's/^tsort: /  /' >&2
        fail=1
fi
rm -f "$edges.loop"
[ "$fail" = 0 ] && echo "includes: ok ($(sort -u "$edges" | wc -l) module edges, no cycle, no upward edge)"
exit "$fail"
