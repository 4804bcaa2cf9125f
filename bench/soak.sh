#!/bin/bash
# bench/soak.sh [--quick] [--faults] [-n N] [--runtime runc|crun]: N container starts with
# nvhook (default 1000; --quick: 20) in one private mount namespace on pure cgroup v2, against
# the fake driver (tests/fixtures). Before the first counted start and after the last it counts:
#   mounts      lines of this namespace's /proc/self/mountinfo
#   hook fds    descriptors nvhook still holds when it exits (strace of one start at each end)
#   bpf progs   BPF programs on the machine (bpftool, else BPF_PROG_GET_NEXT_ID from a small C
#               helper; informational: other jobs load programs too) and device programs
#               attached to the soak's cgroup parent (must stay 0)
#   cgroups     directories below the soak's cgroup parent
#   cache files files under the hook's cache_dir (/run/nvhook on this namespace's /run)
# prints them and fails if mounts, hook fds, attached programs, cgroups or cache files grew.
# --faults instead runs the fault cases, each asserting a one-line error and no residue:
# container killed mid-hook, read-only rootfs, full tmpfs rootfs, driver tree missing.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
export NVH_SOURCE_DIR=$src
. "$src/tests/e2e/lib.sh"
. "$src/tests/e2e/hook_lib.sh"
N=1000 faults=0 rt=runc
args=("$@")
while [ $# -gt 0 ]; do
        case $1 in
        --quick) N=20 ;;
        --faults) faults=1 ;;
        -n) N=$2 && shift ;;
        --runtime) rt=$2 && shift ;;
        *) echo "usage: soak.sh [--quick] [--faults] [-n N] [--runtime runc|crun]" >&2 && exit 2 ;;
        esac
        shift
done
set -- "${args[@]}"
rig_enter_private_ns "$@"
build=${BUILD:-$src/build}
NVHOOK=${NVHOOK:-$build/nvhook}
export NVHOOK
if [ -z "${NVH_FIXTURES:-}" ] || [ ! -d "$NVH_FIXTURES/driver" ]; then
        NVH_FIXTURES=$RIG_TMP/fixtures
        bash "$src/tests/fixtures/generate.sh" "$NVH_FIXTURES" >/dev/null
fi
export NVH_FIXTURES
rig_require_cmd strace gcc
rig_cgroup_v2
hook_setup
conf=$RIG_TMP/soak.json
jq '.log_level = "warning" | del(.log_file)' "$HOOK_CONF" >"$conf"
runtime=$(rig_runtime_bin "$rt")
state=$RIG_TMP/state/$rt
mkdir -p "$state" "/sys/fs/cgroup/$RIG_CG"

# The hook as the runtime runs it: nvhook's stderr kept per start, optionally under strace.
wrap=$RIG_TMP/bin/soak-hook
cat >"$wrap" <<EOF
#!/bin/sh
if [ -e "$RIG_TMP/trace-next" ]; then
        rm -f "$RIG_TMP/trace-next"
        exec $(command -v strace) -qq -o "$RIG_TMP/trace" $NVHOOK "\$@" 2>"$RIG_TMP/hook.err"
fi
exec $NVHOOK "\$@" 2>"$RIG_TMP/hook.err"
EOF
chmod 0755 "$wrap"

cat >"$RIG_TMP/bin/progs.c" <<'EOF'
/* Count the machine's BPF programs (BPF_PROG_GET_NEXT_ID); "-" when the kernel refuses. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void)
{
        union bpf_attr a;
        unsigned n = 0, id = 0;
        for (;;) {
                memset(&a, 0, sizeof(a));
                a.start_id = id;
                if (syscall(SYS_bpf, BPF_PROG_GET_NEXT_ID, &a, sizeof(a)) < 0) {
                        if (errno == ENOENT)
                                break;
                        printf("-\n");
                        return 0;
                }
                id = a.next_id;
                n++;
        }
        printf("%u\n", n);
        return 0;
}
EOF
gcc -O2 -o "$RIG_TMP/bin/progs" "$RIG_TMP/bin/progs.c" || rig_die "cannot build the BPF counter"

bundle=$RIG_TMP/soak
rig_bundle "$bundle" busybox
rig_env "$bundle" NVIDIA_VISIBLE_DEVICES=all
rig_hook "$bundle" prestart "$wrap" --config "$conf" prestart

# start ID: one container start with the hook; sets rc (the runtime's) and leaves hook.err.
start() {
        rc=0
        rig_jq "$bundle" '.linux.cgroupsPath = $p' --arg p "/$RIG_CG/$1"
        timeout -k 5 60 "$runtime" --root "$state" run --bundle "$bundle" "$1" </dev/null \
                >"$RIG_TMP/run.out" 2>"$RIG_TMP/run.err" || rc=$?
        "$runtime" --root "$state" delete -f "$1" >/dev/null 2>&1 || true
}

# Descriptors the traced nvhook still held at exit_group: opened minus closed, by fd number.
hook_fds() {
        [ -f "$RIG_TMP/trace" ] || { echo -; return 0; }
        awk '
        /^(open|openat|openat2|open_tree|fsopen|fsmount|fspick|socket|pidfd_open|memfd_create|dup|dup2|dup3|fcntl|bpf|epoll_create1|eventfd2|timerfd_create)\(/ {
                # (0-2 are stdio: a bpf() command that returns 0 made no descriptor)
                if ($NF ~ /^[0-9]+$/ && $NF > 2 && ($1 !~ /^fcntl/ || $0 ~ /F_DUPFD/))
                        open[$NF] = 1
        }
        /^pipe2?\(/ { if (match($0, /\[[0-9]+, [0-9]+\]/)) { split(substr($0, RSTART + 1, RLENGTH - 2), p, ", "); open[p[1]] = 1; open[p[2]] = 1 } }
        /^close\(/ { split($0, a, /[()]/); delete open[a[2]] }
        END { n = 0; for (f in open) n++; print n }' "$RIG_TMP/trace"
}

count() {
        local progs attached cg cache mounts
        mounts=$(grep -c . /proc/self/mountinfo)
        if command -v bpftool >/dev/null 2>&1; then
                progs=$(bpftool prog show -j 2>/dev/null | jq length 2>/dev/null || echo -)
        else
                progs=$("$RIG_TMP/bin/progs")
        fi
        attached=$(rig_devprogs "/sys/fs/cgroup/$RIG_CG" | cut -d' ' -f1)
        cg=$(find "/sys/fs/cgroup/$RIG_CG" -mindepth 1 -type d | wc -l)
        cache=$(find /run/nvhook -type f 2>/dev/null | wc -l)
        echo "$mounts $(hook_fds) $progs $attached $cg $cache"
}

if [ "$faults" = 0 ]; then
        # Warm-up: the first start fills the cache; then a traced start gives the fd baseline.
        start warm
        [ "$rc" = 0 ] || { cat "$RIG_TMP/run.err" >&2; rig_die "warm-up start failed"; }
        touch "$RIG_TMP/trace-next"
        start traced-first
        [ "$rc" = 0 ] || rig_die "traced start failed: $(cat "$RIG_TMP/run.err")"
        read -r m0 f0 p0 a0 c0 k0 < <(count)
        t0=$(date +%s%N)
        fails=0
        for i in $(seq 1 "$N"); do
                [ "$i" != "$N" ] || touch "$RIG_TMP/trace-next"
                start "s$i"
                if [ "$rc" != 0 ]; then
                        fails=$((fails + 1))
                        rig_log "start $i failed: $(tail -n 1 "$RIG_TMP/run.err")"
                fi
        done
        t1=$(date +%s%N)
        read -r m1 f1 p1 a1 c1 k1 < <(count)
        printf '%-26s %8s %8s\n' "soak ($rt, $N starts)" before after
        printf '%-26s %8s %8s\n' mounts "$m0" "$m1" "hook fds at exit" "$f0" "$f1" \
                "bpf programs (machine)" "$p0" "$p1" "device progs on parent" "$a0" "$a1" \
                cgroups "$c0" "$c1" "files in /run/nvhook" "$k0" "$k1"
        echo "$(((t1 - t0) / 1000000 / N)) ms per start, $fails failed"
        bad=
        [ "$m1" -le "$m0" ] || bad="$bad mounts"
        [ "$f1" -le "$f0" ] || bad="$bad hook-fds"
        [ "$a1" -le "$a0" ] || bad="$bad attached-programs"
        [ "$c1" -le "$c0" ] || bad="$bad cgroups"
        [ "$k1" -le "$k0" ] || bad="$bad cache-files"
        [ "$fails" = 0 ] || bad="$bad failed-starts"
        [ -z "$bad" ] || rig_die "grew or failed over $N starts:$bad"
        rig_log "ok: nothing grew over $N starts"
        exit 0
fi

# --- faults ---------------------------------------------------------------------------------
base=$(count | cut -d' ' -f1,4,5)
# fault NAME NEEDLE: the start failed, nvhook said one line containing NEEDLE, nothing stayed.
fault() {
        local name=$1 needle=$2 now
        if [ "$rc" = 0 ]; then
                rig_die "fault '$name': the start succeeded"
        fi
        if [ "$(grep -c . "$RIG_TMP/hook.err")" != 1 ] || ! grep -qF -- "$needle" "$RIG_TMP/hook.err"; then
                cat "$RIG_TMP/run.err" >&2
                rig_die "fault '$name': expected one line with '$needle' from nvhook, got: $(cat "$RIG_TMP/hook.err")"
        fi
        now=$(count | cut -d' ' -f1,4,5)
        [ "$now" = "$base" ] || rig_die "fault '$name': residue (mounts progs cgroups: $base -> $now)"
        rig_log "fault '$name': $(cat "$RIG_TMP/hook.err")"
}
start warm
[ "$rc" = 0 ] || rig_die "warm-up start failed: $(cat "$RIG_TMP/run.err")"
base=$(count | cut -d' ' -f1,4,5)

# 1. The container is killed while the hook runs (before it enters: deterministic).
cat >"$RIG_TMP/bin/kill-hook" <<EOF
#!/bin/sh
s=\$(cat)
kill -9 "\$(echo "\$s" | $(command -v jq) -r .pid)"
sleep 0.2
echo "\$s" | exec $NVHOOK "\$@" 2>"$RIG_TMP/hook.err"
EOF
chmod 0755 "$RIG_TMP/bin/kill-hook"
rig_jq "$bundle" '.hooks.prestart[0].path = $p | .hooks.prestart[0].args[0] = $p' \
        --arg p "$RIG_TMP/bin/kill-hook"
start killed
# Which step notices first depends on the runtime (the pid gone, or its namespace and root
# gone with it): any one line.
fault killed "nvhook: "
# ... and at a random moment while the hook runs: the start succeeds or fails in one line.
cat >"$RIG_TMP/bin/kill-during" <<EOF
#!/bin/bash
s=\$(cat)
echo "\$s" | $NVHOOK "\$@" 2>"$RIG_TMP/hook.err" &
sleep 0.0\$((RANDOM % 10))
kill -9 "\$(echo "\$s" | $(command -v jq) -r .pid)"
wait \$!
EOF
chmod 0755 "$RIG_TMP/bin/kill-during"
rig_jq "$bundle" '.hooks.prestart[0].path = $p | .hooks.prestart[0].args[0] = $p' \
        --arg p "$RIG_TMP/bin/kill-during"
for i in 1 2 3 4 5; do
        start "killed-during-$i"
        if [ "$(grep -c . "$RIG_TMP/hook.err")" -gt 1 ]; then
                rig_die "fault 'killed during': more than one line: $(cat "$RIG_TMP/hook.err")"
        fi
        now=$(count | cut -d' ' -f1,4,5)
        [ "$now" = "$base" ] || rig_die "fault 'killed during': residue ($base -> $now)"
done
rig_log "fault 'killed during': 5 starts, no residue"
rig_jq "$bundle" '.hooks.prestart[0].path = $p | .hooks.prestart[0].args[0] = $p' --arg p "$wrap"

# 2. Read-only rootfs.
mount -n --bind "$bundle/rootfs" "$bundle/rootfs"
mount -n -o remount,bind,ro "$bundle/rootfs"
base=$(count | cut -d' ' -f1,4,5)
start readonly
fault readonly "Read-only file system"
umount -n "$bundle/rootfs"
base=$(count | cut -d' ' -f1,4,5)

# 3. A full tmpfs as rootfs: no inode left for the files nvhook creates.
full=$RIG_TMP/full
mkdir -p "$full/rootfs"
inodes=$(find "$(rig_rootfs busybox)" | wc -l)
mount -n -t tmpfs -o "size=16m,nr_inodes=$((inodes + 3))" soak-full "$full/rootfs"
cp -a "$(rig_rootfs busybox)/." "$full/rootfs/"
rm -rf "$full/rootfs/usr/lib64" "$full/rootfs/etc/ld.so.cache"
cp "$bundle/config.json" "$full/config.json"
base=$(count | cut -d' ' -f1,4,5)
saved=$bundle
bundle=$full
start full
fault full "No space left on device"
bundle=$saved
umount -n "$full/rootfs"
base=$(count | cut -d' ' -f1,4,5)

# 4. The driver tree is gone (a copy of the fake driver, removed after the cache was made).
cp -a "$NVH_FIXTURES/driver" "$RIG_TMP/driver"
jq --arg r "$RIG_TMP/driver" '.driver_root = $r | .cache_dir = "/run/nvhook-soak"' "$conf" \
        >"$RIG_TMP/conf.tmp" && mv "$RIG_TMP/conf.tmp" "$conf"
start driver-warm
[ "$rc" = 0 ] || rig_die "start with the copied driver failed: $(cat "$RIG_TMP/hook.err")"
rm -rf "$RIG_TMP/driver"
start driver-missing
fault driver-missing "$RIG_TMP/driver"
rig_log "ok: 4 faults, each one line, no residue"
