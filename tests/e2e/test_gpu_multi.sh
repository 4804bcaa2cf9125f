#!/bin/bash
# Real GPUs, every one of them (issue 13): nvhook info against nvidia-smi (index, minor, UUID,
# bus id); for every GPU i and each form (index, UUID, bus id) a container that sees exactly
# GPU i (nvidia-smi -L, cudaGetDeviceCount = 1, a CUDA kernel checked on that GPU's UUID),
# whose hand-made nodes of every other GPU are denied (EPERM) and whose
# /proc/driver/nvidia/gpus holds only GPU i's bus id; "all" and a set; one container per GPU
# started at once (and, with one GPU, 8 at once on it) with the hook's p50/p99 under that
# concurrency; what the machine has of NVLink, fabric manager, IMEX channels and MIG
# capability files, and whether a request injects them; the hook's time at 1 GPU vs all.
# Runs only where an NVIDIA driver is loaded (scripts/gpu-run.sh); works for any GPU count.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
hook_gpu_setup "$@"
command -v nvidia-smi >/dev/null || rig_skip "no nvidia-smi on the host"
runc=$(rig_runtime_bin runc)
conf=$RIG_TMP/nvhook.json
log=$RIG_TMP/nvhook.log
jq -n --arg log "$log" '{log_file: $log}' >"$conf"

# 1. nvhook info against nvidia-smi.
"$NVHOOK" info --json >"$RIG_TMP/info.json"
jq -r '.gpus[] | "\(.index) \(.minor) \(.uuid) \(.bus_id | ascii_downcase)"' "$RIG_TMP/info.json" \
        >"$RIG_TMP/nvhook-gpus"
# Bus ids compared without the domain's leading zeros (nvidia-smi prints 8 digits, procfs 4).
busnorm='function norm(b,  p, d) { b = tolower(b); split(b, p, ":"); d = p[1]; sub(/^0+/, "", d);
        return d ":" p[2] ":" p[3] }'
nvidia-smi --query-gpu=index,uuid,pci.bus_id --format=csv,noheader |
        awk -F', ' "$busnorm"' { print $1, $2, norm($3) }' >"$RIG_TMP/smi-gpus"
echo "--- nvidia-smi (index uuid bus):"
cat "$RIG_TMP/smi-gpus"
echo "--- nvhook info (index minor uuid bus):"
cat "$RIG_TMP/nvhook-gpus"
awk "$busnorm"' { print $1, $3, norm($4) }' "$RIG_TMP/nvhook-gpus" >"$RIG_TMP/nvhook-cmp"
diff "$RIG_TMP/smi-gpus" "$RIG_TMP/nvhook-cmp" || rig_die "nvhook info disagrees with nvidia-smi"
n=$(wc -l <"$RIG_TMP/nvhook-gpus")
echo "GPUs: $n, index/UUID/bus id agree with nvidia-smi"

# A bundle whose container checks it sees exactly the GPUs listed in WANT (UUIDs) and that
# every other GPU's node, made by hand, is denied.
bundle() { # DIR VISIBLE WANT_UUIDS...
        local b=$1 vis=$2 others="" o_minor o_uuid
        shift 2
        NVH_KEEP_CACHE=1 rig_bundle "$b" host
        cp "$RIG_TMP/vecadd" "$b/rootfs/usr/local/bin/vecadd"
        rig_env "$b" NVIDIA_VISIBLE_DEVICES="$vis" NVIDIA_DRIVER_CAPABILITIES=compute,utility
        hook_allow_mknod "$b"
        while read -r _ o_minor o_uuid _; do
                case " $* " in *" $o_uuid "*) ;; *) others="$others $o_minor" ;; esac
        done <"$RIG_TMP/nvhook-gpus"
        rig_args "$b" sh -c '
set -e
want="'"$*"'"
nvidia-smi -L | tee /tmp/smi
[ "$(grep -c "^GPU " /tmp/smi)" = "$(echo $want | wc -w)" ] || { echo "WRONG GPU COUNT"; exit 1; }
for u in $want; do grep -q "$u" /tmp/smi || { echo "MISSING $u"; exit 1; }; done
/usr/local/bin/vecadd | tee /tmp/va
grep -q "$(echo $want | wc -w) device(s) visible" /tmp/va || { echo "WRONG CUDA COUNT"; exit 1; }
echo "$want" | grep -q "$(grep -o "GPU-[0-9a-f-]*" /tmp/va)" || { echo "KERNEL ON ANOTHER GPU"; exit 1; }
for m in '"$others"'; do
        mknod /dev/nvidia$m c 195 $m 2>/dev/null || true
        if cat /dev/nvidia$m 2>/tmp/err </dev/null; then echo "nvidia$m OPENED"; exit 1; fi
        grep -q "Operation not permitted" /tmp/err || { echo "nvidia$m: $(cat /tmp/err)"; exit 1; }
done
echo "procfs gpus: $(ls /proc/driver/nvidia/gpus | tr "\n" " ")"
echo MULTI-CHECKS-PASSED'
        rig_hook "$b" createRuntime "$NVHOOK" --config "$conf" createRuntime
}
expect_gpus() { # ID BUS_IDS...: the run passed and procfs lists exactly these bus ids
        local id=$1 got
        shift
        rig_assert_rc 0
        rig_assert_stdout_has MULTI-CHECKS-PASSED
        got=$(grep "^procfs gpus:" "$RIG_STDOUT" | cut -d: -f2- | tr ' ' '\n' | sed '/^$/d' | sort | tr '\n' ' ')
        [ "$got" = "$(printf '%s\n' "$@" | sort | tr '\n' ' ')" ] ||
                rig_die "$id: /proc/driver/nvidia/gpus holds '$got', want '$*'"
}

# 2. Every GPU by index, UUID and bus id; then all; then a set.
while read -r idx _ uuid bus <&3; do
        for form in "$idx" "$uuid" "$bus"; do
                id=g$idx-$(echo "$form" | tr -c 'a-zA-Z0-9\n' '-' | cut -c1-20)
                bundle "$RIG_TMP/$id" "$form" "$uuid"
                rig_run runc "$RIG_TMP/$id" "$id"
                expect_gpus "$id" "$bus"
                echo "GPU $idx by '$form': $(grep -o 'vecadd ok.*' "$RIG_STDOUT")"
        done
done 3<"$RIG_TMP/nvhook-gpus"
# shellcheck disable=SC2046 # one word per UUID
bundle "$RIG_TMP/all" all $(awk '{ print $3 }' "$RIG_TMP/nvhook-gpus")
rig_run runc "$RIG_TMP/all" all
# shellcheck disable=SC2046
expect_gpus all $(awk '{ print $4 }' "$RIG_TMP/nvhook-gpus")
echo "all: $(grep -o 'vecadd ok.*' "$RIG_STDOUT")"
if [ "$n" -ge 2 ]; then
        last=$((n - 1))
        set_idx=$([ "$n" -ge 4 ] && echo 3 || echo "$last")
        read -r _ _ u0 b0 < <(sed -n 1p "$RIG_TMP/nvhook-gpus")
        read -r _ _ u1 b1 < <(sed -n "$((set_idx + 1))p" "$RIG_TMP/nvhook-gpus")
        bundle "$RIG_TMP/set" "0,$set_idx" "$u0" "$u1"
        rig_run runc "$RIG_TMP/set" set
        expect_gpus set "$b0" "$b1"
        echo "set 0,$set_idx: $(grep -o 'vecadd ok.*' "$RIG_STDOUT")"
else
        echo "set: not run, the machine has 1 GPU"
fi

# 3. One container per GPU, all at once (8 on GPU 0 when there is one GPU), each checking its
#    own GPU; the hook's latency under that concurrency from its JSON log.
: >"$log"
mkdir -p "$RIG_TMP/state/par"
pids=()
k=0
reps=$([ "$n" -ge 2 ] && echo 1 || echo 8)
while read -r idx _ uuid bus <&3; do
        for r in $(seq 1 "$reps"); do
                id=par-$idx-$r
                bundle "$RIG_TMP/$id" "$idx" "$uuid"
                rig_jq "$RIG_TMP/$id" '.linux.cgroupsPath = $p' --arg p "/$RIG_CG/$id"
                (timeout 300 "$runc" --root "$RIG_TMP/state/par" run --bundle "$RIG_TMP/$id" "$id" \
                        </dev/null >"$RIG_TMP/$id.out" 2>&1; echo "rc=$?" >>"$RIG_TMP/$id.out") &
                pids+=($!)
                k=$((k + 1))
        done
done 3<"$RIG_TMP/nvhook-gpus"
wait "${pids[@]}"
fails=0
for f in "$RIG_TMP"/par-*.out; do
        grep -q "^rc=0$" "$f" && grep -q MULTI-CHECKS-PASSED "$f" || {
                fails=$((fails + 1))
                cat "$f"
        }
done
echo "concurrent: $k containers at once, $fails failed; hook ms $(jq -s -c '[.[].phases_ms.total] | sort |
        {n: length, p50: .[(length / 2 | floor)], p99: .[((length * 99 / 100) | floor)], max: .[-1]}' "$log")"
[ "$fails" = 0 ] || rig_die "$fails concurrent containers failed"

# 4. What the machine has of NVLink/NVSwitch, fabric manager, IMEX and MIG, and what a request
#    gets of it (nothing is changed on the GPUs).
echo "--- nvlink: $(nvidia-smi nvlink -s 2>&1 | head -n 3 | tr '\n' ' ')"
echo "--- fabric manager: $(pgrep -af nv-fabricmanager || echo 'not running')"
echo "--- MIG mode: $(nvidia-smi --query-gpu=mig.mode.current --format=csv,noheader | tr '\n' ' ')"
echo "--- MIG capability files: $(ls /proc/driver/nvidia/capabilities/ 2>&1 | tr '\n' ' ')"
echo "--- IMEX channels on the host: $(ls /dev/nvidia-caps-imex-channels 2>/dev/null | tr '\n' ' ' || true)"
b=$RIG_TMP/extras
NVH_KEEP_CACHE=1 rig_bundle "$b" host
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0 NVIDIA_IMEX_CHANNELS=all NVIDIA_MIG_MONITOR_DEVICES=all
rig_args "$b" sh -c 'echo "imex: $(ls /dev/nvidia-caps-imex-channels 2>/dev/null | tr "\n" " ")";
        echo "caps nodes: $(ls /dev/nvidia-caps 2>/dev/null | tr "\n" " ")";
        echo "proc caps: $(ls /proc/driver/nvidia/capabilities 2>/dev/null | tr "\n" " ")"'
rig_jq "$b" '.process.capabilities |= with_entries(.value += ["CAP_SYS_ADMIN"])'
rig_hook "$b" createRuntime "$NVHOOK" --config "$conf" createRuntime
rig_run runc "$b" extras
echo "--- a privileged container asking for IMEX all and MIG monitor (rc $RIG_RC):"
cat "$RIG_STDOUT" "$RIG_STDERR"

# 5. The hook's time at 1 GPU vs all (its JSON log), 20 starts each, alternating.
for vis in 0 all; do
        b=$RIG_TMP/t-$vis
        NVH_KEEP_CACHE=1 rig_bundle "$b" host
        rig_env "$b" NVIDIA_VISIBLE_DEVICES=$vis NVIDIA_DRIVER_CAPABILITIES=compute,utility
        rig_args "$b" true
        rig_hook "$b" createRuntime "$NVHOOK" --config "$conf" createRuntime
done
: >"$RIG_TMP/t.log"
for i in $(seq 1 20); do
        for vis in 0 all; do
                : >"$log"
                rig_run runc "$RIG_TMP/t-$vis" "t-$vis-$i"
                rig_assert_rc 0
                echo "$vis $(jq -r .phases_ms.total "$log")" >>"$RIG_TMP/t.log"
        done
done
for vis in 0 all; do
        echo "hook ms, NVIDIA_VISIBLE_DEVICES=$vis ($n GPU(s) on the host): $(awk -v v=$vis '$1 == v { print $2 }' "$RIG_TMP/t.log" |
                sort -n | awk '{ a[NR] = $1 } END { printf "median %.2f p99 %.2f (n=%d)", a[int((NR + 1) / 2)], a[NR], NR }')"
done
rig_log "ok"
