#!/bin/bash
# bench/bench.sh [--quick]: nvhook's benchmarks, one command, a table at the end.
#
# Runs as root in a private mount namespace (tests/e2e/lib.sh), on pure cgroup v2. Against the
# real driver where one is loaded, else against the generated fake driver (SIMULATED). Every
# ratio compares numbers measured in this same run: absolute times drift on a shared machine,
# ratios hold. Not a test: it asserts nothing about speed.
#
#   1 hook latency: nvhook run as a runtime runs it (state on stdin, a live container made by
#     `runc create`: own mount namespace, cgroup, device program), utility+compute, 1 GPU,
#     a fresh container (fresh overlay rootfs) each time
#   2 the floor: exec of an empty static binary; a minimal static C program doing the same
#     number of read-only bind mounts into the same kind of container
#   3 phase breakdown from the hook's own JSON log
#   1b the same on a bare rootfs (a fresh directory, no overlay); the incumbent
#     (nvidia-container-cli configure) where installed
#   4 scaling: 1, 8, 64 GPUs (fake trees), all capabilities, a 10,000-entry image ld.so.cache
#     (paired with the same image without it); 4b the BPF verifier's cost for the 1- and 64-GPU
#     grants (bench/bpfload.c); 4c one injected file's cost by part (bench/mountcost.c)
#   5 container start overhead: runc run / crun run of a trivial container with and without
#   6 syscalls per injected file (strace -f -c) and per extra GPU (all, 1 vs 64 GPUs), peak
#     RSS (wait4 rusage)
#   7 concurrency: 100 starts with the hook, 16 at a time: failures, p50, p99
#
# Knobs (environment): NVH_BENCH_N, NVH_BENCH_S, NVH_BENCH_M override the sample counts of
# sections 1-2, 4 and 5; NVH_BENCH_SKIP is a list of sections to leave out (any of "start",
# "strace", "concurrency"), for a quick look at the latency and scaling cases alone.
# NVH_BENCH_BASELINE=PATH: another nvhook binary (an older build) timed in the same loops as
# this one (section 1 and all capabilities), sample by sample: before/after in one run.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
export NVH_SOURCE_DIR=$src
. "$src/tests/e2e/lib.sh"
quick=0
[ "${1:-}" != --quick ] || quick=1
export NVH_BENCH_QUICK=$quick
rig_enter_private_ns "$@"

build=${BUILD:-$src/build}
NVHOOK=${NVHOOK:-$build/nvhook}
bdir=${NVH_BENCH_BIN:-$build/bench}
T=$bdir/timeexec
BASE=${NVH_BENCH_BASELINE:-}
[ -z "$BASE" ] || [ -x "$BASE" ] || rig_die "NVH_BENCH_BASELINE '$BASE' is not executable"
for b in "$NVHOOK" "$T" "$bdir/bench_floor" "$bdir/bench_empty" "$bdir/bench_mkcache" \
        "$bdir/bench_bpfload" "$bdir/bench_mountcost"; do
        [ -x "$b" ] || rig_die "'$b' missing: build first (bash scripts/build.sh)"
done
if [ "$NVH_BENCH_QUICK" = 1 ]; then
        N=5 M=3 S=4 C=8 P=4
else
        N=200 M=50 S=50 C=100 P=16
fi
N=${NVH_BENCH_N:-$N} S=${NVH_BENCH_S:-$S} M=${NVH_BENCH_M:-$M}
skip=" ${NVH_BENCH_SKIP:-} "
skipped() { case "$skip" in *" $1 "*) return 0 ;; esac; return 1; }
# The incumbent, where installed (GPU machine): same request, same loop.
nvcli=$(command -v nvidia-container-cli 2>/dev/null || true)
out=$RIG_TMP/bench
mkdir -p "$out"
rig_cgroup_v2
runc=$(rig_runtime_bin runc)
crun=$(rig_runtime_bin crun 2>/dev/null || true)

if [ -r /proc/driver/nvidia/version ]; then
        mode="real driver $(awk '{for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+(\.[0-9]+)?$/) { print $i; exit } }' /proc/driver/nvidia/version)"
        conf_base='{}'
        fx=
else
        fx=${NVH_FIXTURES:-$RIG_TMP/fixtures}
        [ -d "$fx/driver" ] || bash "$src/tests/fixtures/generate.sh" "$fx" >/dev/null
        rig_fake_gpu_host "$fx/proc-1gpu"
        mode="SIMULATED: fake driver 580.159.04"
        conf_base=$(jq -nc --arg r "$fx/driver" '{driver_root: $r}')
fi
log=$out/hook.log
conf=$out/conf.json
jq -n --argjson b "$conf_base" --arg log "$log" '$b + {log_file: $log}' >"$conf"
conf_bare=$out/conf-bare.json
jq -n --argjson b "$conf_base" --arg log "$out/bare.log" '$b + {log_file: $log}' >"$conf_bare"

lower=$(rig_rootfs busybox)
template=$out/template
rig_bundle "$template" busybox
rig_env "$template" NVIDIA_VISIBLE_DEVICES=0 NVIDIA_DRIVER_CAPABILITIES=compute,utility
rig_args "$template" true
state_dir=$RIG_TMP/state/bench
mkdir -p "$state_dir"

# fresh_bundle DIR [LOWER] [ENV...]: a bundle whose rootfs is a new overlay on LOWER.
# LOWER "bare" is a plain directory copy of the image instead (no overlay).
fresh_bundle() {
        local d=$1 lo=${2:-$lower}
        shift 2 || shift $#
        mkdir -p "$d/rootfs" "$d/u" "$d/w"
        if [ "$lo" = bare ]; then
                cp -a "$lower/." "$d/rootfs/"
        else
                mount -n -t overlay bench -o "lowerdir=$lo,upperdir=$d/u,workdir=$d/w" "$d/rootfs"
        fi
        cp "$template/config.json" "$d/config.json"
        [ $# -eq 0 ] || rig_env "$d" "$@"
        rig_jq "$d" '.linux.cgroupsPath = $p' --arg p "/$RIG_CG/$(basename "$d")"
}
drop_bundle() {
        rm -f "$1.go" "$1.state" "$1.pid" "$1.err"
        "$runc" --root "$state_dir" delete -f "$(basename "$1")" >/dev/null 2>&1 || true
        umount -n "$1/rootfs" 2>/dev/null || true
        rm -rf "$1"
}
# created DIR: start `runc create` with a prestart hook that saves the state it is given and
# then waits: the container is held exactly where a runtime runs its hooks (namespaces and
# cgroup made, device program attached, rootfs mounted, before pivot_root). DIR.state is the
# state a hook gets; `released DIR` lets runc finish.
created() {
        local d=$1 id
        id=$(basename "$d")
        mkfifo "$d.go"
        rig_jq "$d" '.hooks.prestart = [{path: "/bin/sh", args: ["sh", "-c",
                "cat >\"$0.tmp\" && mv \"$0.tmp\" \"$0.state\" && read x <\"$0.go\"", $d]}]' \
                --arg d "$d"
        "$runc" --root "$state_dir" create --bundle "$d" "$id" </dev/null >/dev/null 2>"$d.err" &
        echo $! >"$d.pid"
        while [ ! -s "$d.state" ]; do
                kill -0 "$(cat "$d.pid")" 2>/dev/null || { cat "$d.err" >&2; rig_die "runc create $id failed"; }
                sleep 0.001
        done
}
released() {
        echo go >"$1.go"
        wait "$(cat "$1.pid")" || { cat "$1.err" >&2; rig_die "runc create $(basename "$1") failed"; }
}

# hook_samples NAME COUNT LOWER ENV...: COUNT timed hook runs on fresh containers.
hook_samples() {
        local name=$1 count=$2 lo=$3 i d
        shift 3
        : >"$out/$name"
        : >"$log"
        for i in $(seq 1 "$count"); do
                d=$RIG_TMP/$name-$i
                fresh_bundle "$d" "$lo" "$@"
                created "$d"
                "$T" "$d.state" "$NVHOOK" --config "$conf" prestart >>"$out/$name"
                released "$d"
                drop_bundle "$d"
        done
        if awk '$2 != 0 { bad = 1 } END { exit !bad }' "$out/$name"; then
                rig_die "$name: the hook failed (see $log)"
        fi
        cp "$log" "$out/$name.log"
}

echo "== nvhook benchmarks ($mode; $(nproc) cores; $(uname -r); N=$N)" >&2

# 1 + 2: hook latency and the floor, interleaved so drift hits both alike.
nbind=0
d=$RIG_TMP/probe
fresh_bundle "$d" "$lower"
nbind=$("$NVHOOK" --config "$conf" explain --bundle "$d" | jq '[.operations[] | select(.op == "bind")] | length')
drop_bundle "$d"
srcfile=$(ls "${fx:+$fx/driver}"/usr/lib/x86_64-linux-gnu/libcuda.so.* /usr/local/nvidia/lib64/libcuda.so.* 2>/dev/null | head -1)
: >"$out/hook"
: >"$out/floor"
: >"$out/empty"
: >"$out/bare"
: >"$out/bare-floor"
: >"$out/nvcli"
: >"$out/floor-tmpfs"
: >"$out/baseline"
: >"$log"
# timed NAME LOWER OUT STDIN CMD...: one fresh container (bundle NAME on LOWER: an image dir
# or "bare"), held at the hook moment; CMD timed by timeexec with the state (STDIN "state") or
# nothing ("none") on stdin, appended to OUT. In CMD, @PID@ and @ROOTFS@ stand for the held
# container's pid and rootfs.
timed() {
        local lo=$2 dst=$3 input=$4 d=$RIG_TMP/$1 pid a
        shift 4
        fresh_bundle "$d" "$lo"
        created "$d"
        pid=$(jq .pid "$d.state")
        local -a cmd=()
        for a in "$@"; do
                a=${a//@PID@/$pid}
                cmd+=("${a//@ROOTFS@/$d/rootfs}")
        done
        [ "$input" = state ] && input=$d.state || input=/dev/null
        "$T" "$input" "${cmd[@]}" >>"$dst"
        released "$d"
        drop_bundle "$d"
}
for i in $(seq 1 "$N"); do
        timed "h-$i" "$lower" "$out/hook" state "$NVHOOK" --config "$conf" prestart
        d=$RIG_TMP/f-$i
        fresh_bundle "$d" "$lower"
        created "$d"
        "$T" "$d.state" "$bdir/bench_floor" "$(jq .pid "$d.state")" "$d/rootfs" "$nbind" \
                "$srcfile" >>"$out/floor"
        "$T" "$d.state" "$bdir/bench_empty" >>"$out/empty"
        released "$d"
        drop_bundle "$d"
        # The floor of the driver-directory layout: the same binds, targets in one tmpfs.
        timed "ft-$i" "$lower" "$out/floor-tmpfs" state "$bdir/bench_floor" @PID@ @ROOTFS@ \
                "$nbind" "$srcfile" tmpfs
        [ -z "$BASE" ] ||
                timed "bl-$i" "$lower" "$out/baseline" state "$BASE" --config "$conf_bare" prestart
        # The same on a bare rootfs (a fresh directory, no overlay): hook, then floor.
        timed "b-$i" bare "$out/bare" state "$NVHOOK" --config "$conf_bare" prestart
        timed "bf-$i" bare "$out/bare-floor" state "$bdir/bench_floor" @PID@ @ROOTFS@ "$nbind" \
                "$srcfile"
        [ -z "$nvcli" ] ||
                timed "n-$i" "$lower" "$out/nvcli" none "$nvcli" configure --no-cgroups --device=0 \
                        --compute --utility --pid=@PID@ @ROOTFS@
done
awk '$2 != 0 { print "hook failed: " FILENAME ": " $0; bad = 1 } END { exit bad }' "$out/hook" \
        "$out/floor" "$out/bare" "$out/bare-floor" "$out/nvcli" "$out/floor-tmpfs" \
        "$out/baseline" >&2 ||
        rig_die "a run failed (hook log: $log)"
cp "$log" "$out/hook.phases"

# 4: scaling.
if [ -n "$fx" ]; then
        for g in 8 64; do
                rig_fake_gpu_host "$fx/proc-${g}gpu"
                hook_samples "gpus$g" "$S" "$lower" NVIDIA_VISIBLE_DEVICES=all
        done
        rig_fake_gpu_host "$fx/proc-1gpu"
fi
hook_samples gpus1 "$S" "$lower" NVIDIA_VISIBLE_DEVICES=all
hook_samples capsall "$S" "$lower" NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=all
if [ -n "$BASE" ]; then
        : >"$out/capsall-base"
        : >"$out/capsall-new"
        for i in $(seq 1 "$S"); do
                for v in base new; do
                        d=$RIG_TMP/cb-$v-$i
                        fresh_bundle "$d" "$lower" NVIDIA_VISIBLE_DEVICES=all \
                                NVIDIA_DRIVER_CAPABILITIES=all
                        created "$d"
                        [ "$v" = base ] && bin=$BASE || bin=$NVHOOK
                        "$T" "$d.state" "$bin" --config "$conf_bare" prestart >>"$out/capsall-$v"
                        released "$d"
                        drop_bundle "$d"
                done
        done
        awk '$2 != 0 { bad = 1 } END { exit !bad }' "$out/capsall-base" "$out/capsall-new" &&
                rig_die "capsall baseline: a hook failed"
fi
bigroot=$RIG_TMP/bigcache-root
cp -a "$lower" "$bigroot"
mkdir -p "$bigroot/etc"
"$bdir/bench_mkcache" "$bigroot/etc/ld.so.cache" 10000
# The big cache and the same image without it, interleaved sample by sample: the ratio is
# what parsing and rewriting a 10,000-entry cache costs on top of the plain case.
plainroot=$RIG_TMP/plaincache-root
cp -a "$lower" "$plainroot"
: >"$out/cache10k"
: >"$out/cache-plain"
for c in cache10k cache-plain; do
        : >"$out/$c.log"
        jq -n --argjson b "$conf_base" --arg log "$out/$c.log" '$b + {log_file: $log}' \
                >"$out/conf-$c.json"
done
for i in $(seq 1 "$S"); do
        for c in cache10k cache-plain; do
                d=$RIG_TMP/$c-$i
                [ "$c" = cache10k ] && lo=$bigroot || lo=$plainroot
                fresh_bundle "$d" "$lo" NVIDIA_VISIBLE_DEVICES=0
                created "$d"
                "$T" "$d.state" "$NVHOOK" --config "$out/conf-$c.json" prestart >>"$out/$c"
                released "$d"
                drop_bundle "$d"
        done
done
awk '$2 != 0 { bad = 1 } END { exit !bad }' "$out/cache10k" "$out/cache-plain" &&
        rig_die "cache10k: the hook failed (see $log)"

# 4b: the verifier's cost against program size: the device program composed for the 1-GPU
# and the 64-GPU grants in front of a runtime-like program, loaded S times each.
: >"$out/bpf.info"
for g in 1 64; do
        "$bdir/bench_bpfload" "$g" "$S" >"$out/bpf$g" 2>>"$out/bpf.info" ||
                rig_die "bench_bpfload $g failed: $(cat "$out/bpf.info")"
done

# 4c: what one injected file costs, by part, in a held container (bench/mountcost.c): a new
# file on the image's overlay, a read-only bind on it, a new file in a tmpfs, a bind on that.
: >"$out/mountcost"
for i in $(seq 1 "$S"); do
        d=$RIG_TMP/mc-$i
        fresh_bundle "$d" "$lower"
        created "$d"
        "$bdir/bench_mountcost" "$(jq .pid "$d.state")" "$d/rootfs" "$nbind" "$srcfile" \
                >>"$out/mountcost"
        released "$d"
        drop_bundle "$d"
done
for k in 1 2 3 4; do awk -v k="$k" '{ print $k }' "$out/mountcost" >"$out/mountcost$k"; done

# 5: container start overhead, with and without the hook, alternating.
start_samples() {
        local rt=$1 bin=$2 i d hooked
        : >"$out/start-$rt-plain"
        : >"$out/start-$rt-hook"
        for i in $(seq 1 "$M"); do
                for hooked in plain hook; do
                        d=$RIG_TMP/s-$rt-$hooked-$i
                        fresh_bundle "$d" "$lower"
                        [ "$hooked" = plain ] || rig_hook "$d" prestart "$NVHOOK" --config "$conf" prestart
                        "$T" /dev/null "$bin" --root "$state_dir" run --bundle "$d" "$(basename "$d")" \
                                >>"$out/start-$rt-$hooked"
                        drop_bundle "$d"
                done
        done
}
if ! skipped start; then
        start_samples runc "$runc"
        [ -z "$crun" ] || start_samples crun "$crun"
fi

# 6: syscalls and RSS of one hook run.
syscalls=n/a
if command -v strace >/dev/null && ! skipped strace; then
        d=$RIG_TMP/strace
        fresh_bundle "$d" "$lower"
        created "$d"
        strace -f -c -o "$out/strace" "$NVHOOK" --config "$conf" prestart <"$d.state" >/dev/null
        released "$d"
        drop_bundle "$d"
        fresh_bundle "$d" "$lower"
        created "$d"
        strace -f -T -o "$out/strace.T" "$NVHOOK" --config "$conf" prestart <"$d.state" >/dev/null
        [ -z "${NVH_BENCH_TRACE:-}" ] || cp "$out/strace.T" "$NVH_BENCH_TRACE"
        released "$d"
        drop_bundle "$d"
        # strace -c's last line: "100.00 SECONDS USECS/CALL CALLS [ERRORS] total"
        calls=$(awk '$NF == "total" { print $4 }' "$out/strace")
        syscalls="$(awk -v c="$calls" -v n="$nbind" 'BEGIN { printf "%.1f", c / n }') ($calls syscalls in all, $nbind bind-mounted files)"
        # Per-GPU work: the syscalls of `all` on the 1- and 64-GPU trees.
        if [ -n "$fx" ]; then
                for g in 1 64; do
                        rig_fake_gpu_host "$fx/proc-${g}gpu"
                        d=$RIG_TMP/strace-$g
                        fresh_bundle "$d" "$lower" NVIDIA_VISIBLE_DEVICES=all
                        created "$d"
                        strace -f -c -o "$out/strace-all$g" "$NVHOOK" --config "$conf" prestart \
                                <"$d.state" >/dev/null
                        released "$d"
                        drop_bundle "$d"
                        [ -z "${NVH_BENCH_TRACE:-}" ] || cp "$out/strace-all$g" "$NVH_BENCH_TRACE.all$g"
                done
                rig_fake_gpu_host "$fx/proc-1gpu"
                c1=$(awk '$NF == "total" { print $4 }' "$out/strace-all1")
                c64=$(awk '$NF == "total" { print $4 }' "$out/strace-all64")
                syscalls="$syscalls; all GPUs: $c1 at 1 GPU, $c64 at 64 ($(awk -v a="$c1" -v b="$c64" 'BEGIN { printf "%.1f", (b - a) / 63 }') per extra GPU)"
        fi
fi
rss=$(awk '{ print $3 }' "$out/hook" | sort -n | tail -1)

# 7: concurrency.
skipped concurrency && C=0
: >"$out/concurrent"
for i in $(seq 1 "$C"); do
        d=$RIG_TMP/cc-$i
        fresh_bundle "$d" "$lower"
        rig_hook "$d" prestart "$NVHOOK" --config "$conf" prestart
done
seq 1 "$C" | xargs -P "$P" -I{} sh -c \
        "'$T' /dev/null '$runc' --root '$state_dir' run --bundle '$RIG_TMP/cc-{}' cc-{} >'$RIG_TMP/cc-{}.t'"
[ "$C" = 0 ] || cat "$RIG_TMP"/cc-*.t >"$out/concurrent"
failures=$(awk '$2 != 0' "$out/concurrent" | wc -l)
for i in $(seq 1 "$C"); do drop_bundle "$RIG_TMP/cc-$i"; done

# The table.
st() { python3 "$src/bench/stats.py" "$@"; }
{
        echo
        echo "nvhook benchmarks -- $mode -- $(date -u +%Y-%m-%dT%H:%MZ) -- $(nproc) cores, kernel $(uname -r)"
        echo
        echo "| what | n | median ms | p90 | p99 | min | max | ratio |"
        echo "|---|---|---|---|---|---|---|---|"
        st "exec of an empty static binary" "$out/empty"
        st "floor: static C, $nbind ro bind mounts" "$out/floor"
        st "nvhook hook, 1 GPU, utility+compute" "$out/hook" floor "$out/floor"
        st "floor: the same binds, targets in one tmpfs" "$out/floor-tmpfs"
        st "nvhook hook against that floor" "$out/hook" "tmpfs floor" "$out/floor-tmpfs"
        [ ! -s "$out/baseline" ] || st "baseline nvhook ($BASE), same loop" "$out/baseline" \
                "this nvhook" "$out/hook"
        st "floor, bare rootfs (fresh directory, no overlay)" "$out/bare-floor"
        st "nvhook, bare rootfs" "$out/bare" floor "$out/bare-floor"
        [ ! -s "$out/nvcli" ] || st "incumbent nvidia-container-cli configure --no-cgroups" \
                "$out/nvcli" nvhook "$out/hook"
        st "nvhook, 1 GPU (all)" "$out/gpus1" floor "$out/floor"
        [ ! -s "$out/gpus8" ] || st "nvhook, 8 GPUs (all)" "$out/gpus8" "1 GPU" "$out/gpus1"
        [ ! -s "$out/gpus64" ] || st "nvhook, 64 GPUs (all)" "$out/gpus64" "1 GPU" "$out/gpus1"
        st "nvhook, all capabilities" "$out/capsall" "1 GPU" "$out/gpus1"
        [ ! -s "$out/capsall-base" ] || st "all capabilities: this nvhook (paired)" \
                "$out/capsall-new"
        [ ! -s "$out/capsall-base" ] || st "all capabilities: baseline nvhook (paired)" \
                "$out/capsall-base" "this nvhook" "$out/capsall-new"
        st "nvhook, image without the big cache (paired)" "$out/cache-plain"
        st "nvhook, image cache 10,000 entries" "$out/cache10k" "plain" "$out/cache-plain"
        st "BPF device program load, 1-GPU grants" "$out/bpf1"
        st "BPF device program load, 64-GPU grants" "$out/bpf64" "1 GPU" "$out/bpf1"
        st "per file: create on the image's overlay" "$out/mountcost1"
        st "per file: ro bind mount on it" "$out/mountcost2"
        st "per file: create in a tmpfs (mount included)" "$out/mountcost3" overlay "$out/mountcost1"
        st "per file: ro bind mount on the tmpfs file" "$out/mountcost4"
        if [ -s "$out/start-runc-plain" ]; then
                st "runc run, no hook" "$out/start-runc-plain"
                st "runc run, with nvhook" "$out/start-runc-hook" "no hook" "$out/start-runc-plain"
        fi
        if [ -s "$out/start-crun-plain" ]; then
                st "crun run, no hook" "$out/start-crun-plain"
                st "crun run, with nvhook" "$out/start-crun-hook" "no hook" "$out/start-crun-plain"
        fi
        [ ! -s "$out/concurrent" ] || st "concurrent runc run + nvhook ($C, $P at a time)" "$out/concurrent"
        echo
        echo "concurrency failures: $failures / $C"
        echo "syscalls per injected file: $syscalls"
        echo "peak RSS of the hook: $rss KiB"
        sed 's/^/BPF program, /' "$out/bpf.info"
        echo
        echo "phase medians (ms, from the hook's JSON log, 1 GPU utility+compute):"
        jq -s -r '[.[].phases_ms] as $p | ($p[0] | keys_unsorted) as $k
                | $k[] as $name | [$p[][$name]] | sort | "  \($name): \(.[length / 2 | floor] * 1000 | round / 1000)"' \
                "$out/hook.phases"
        for c in gpus1 gpus64 capsall cache-plain cache10k; do
                [ -s "$out/$c.log" ] || continue
                printf '\nphase medians (ms), %s:' "$c"
                jq -s -r '[.[].phases_ms] as $p | ($p[0] | keys_unsorted) as $k
                        | [$k[] as $name | [$p[][$name]] | sort
                        | " \($name) \(.[length / 2 | floor] * 1000 | round / 1000)"] | join(",")' \
                        "$out/$c.log"
        done
} | tee "${NVH_BENCH_OUT:-/dev/null}"
