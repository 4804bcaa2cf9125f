#!/bin/bash
# Errors always surface, nothing degrades silently: a broken config file fails only GPU
# containers; a capability the policy refuses is an error naming it (or, for "all", a warning
# on stderr and in the JSON log line); errors and warnings also reach the system log (a unix
# datagram socket standing in for /dev/log); a probe failure is said in words. The hook runs
# against a live process standing for the container, with real runc for the end-to-end case.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup
rig_require_cmd python3

sleep 1000 >/dev/null 2>&1 &
live=$!
trap 'kill "$live" "${syslogd:-}" 2>/dev/null || true; rig__inner_cleanup' EXIT
state() { jq -nc --arg b "$1" --argjson p "$live" '{ociVersion: "1.0.2", id: "surface-1", status: "creating", pid: $p, bundle: $b}'; }

# A syslog daemon stand-in: every datagram on $sock, one per line, into $RIG_TMP/syslog.
sock=$RIG_TMP/log.sock
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode(errors="replace") + "\n")
' "$sock" "$RIG_TMP/syslog" &
syslogd=$!
for _ in $(seq 50); do [ -e "$RIG_TMP/syslog.ready" ] && break; sleep 0.1; done
[ -e "$RIG_TMP/syslog.ready" ] || rig_die "syslog stand-in did not start"

# The stand-in writes what it receives a moment later: wait for a line (5 s at most).
syslog_has() {
        for _ in $(seq 50); do
                grep -q "$1" "$RIG_TMP/syslog" && return 0
                sleep 0.1
        done
        return 1
}
conf() { jq --arg s "$sock" ". * {syslog: \$s, log_level: \"warning\"} * $1" "$HOOK_CONF"; }

gpu=$RIG_TMP/gpu
rig_bundle "$gpu" busybox
rig_env "$gpu" NVIDIA_VISIBLE_DEVICES=all
plain=$RIG_TMP/plain
rig_bundle "$plain" busybox

# 1. A typo in the config file: a container that asks for no GPU starts (a warning says why),
#    a GPU container fails naming the key.
echo '{"log_levle": "debug"}' >"$RIG_TMP/typo.json"
rc=0
"$NVHOOK" --config "$RIG_TMP/typo.json" prestart <<<"$(state "$plain")" 2>"$RIG_TMP/err" || rc=$?
[ "$rc" = 0 ] || rig_die "non-GPU container failed on a broken config: $(cat "$RIG_TMP/err")"
grep -q "warning: .*log_levle.*ignored: the container asks for no GPU" "$RIG_TMP/err" ||
        rig_die "no warning for the broken config: $(cat "$RIG_TMP/err")"
rc=0
"$NVHOOK" --config "$RIG_TMP/typo.json" prestart <<<"$(state "$gpu")" 2>"$RIG_TMP/err" || rc=$?
[ "$rc" != 0 ] && grep -q "log_levle" "$RIG_TMP/err" ||
        rig_die "GPU container with a broken config: rc $rc, $(cat "$RIG_TMP/err")"

# 2. allowed_capabilities: a named capability outside it fails naming it; "all" gets what is
#    allowed, with a warning on stderr, in the JSON log and in the system log.
conf '{allowed_capabilities: ["utility", "compute"]}' >"$RIG_TMP/caps.json"
rig_env "$gpu" NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,graphics
rc=0
"$NVHOOK" --config "$RIG_TMP/caps.json" explain --bundle "$gpu" >/dev/null 2>"$RIG_TMP/err" || rc=$?
[ "$rc" != 0 ] && grep -q "capability 'graphics' is not allowed" "$RIG_TMP/err" ||
        rig_die "a refused capability did not fail: rc $rc, $(cat "$RIG_TMP/err")"
b=$RIG_TMP/all
rig_bundle "$b" busybox
rig_env "$b" NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=all
rig_args "$b" sh -c 'ls /usr/lib/nvhook/lib/libcuda.so.1 >/dev/null && echo HAS-CUDA; ls /usr/lib/nvhook/lib/libGLX_nvidia.so.0 2>/dev/null || echo NO-GRAPHICS'
# (runc shows a hook's stderr only when it fails: keep it in a file)
rig_hook "$b" prestart /bin/sh -c \
        "exec '$NVHOOK' --config '$RIG_TMP/caps.json' prestart 2>'$RIG_TMP/hook.err'"
rig_run runc "$b" surface-all
rig_assert_rc 0
rig_assert_stdout_has HAS-CUDA
rig_assert_stdout_has NO-GRAPHICS
grep -q "warning: capabilities not allowed by policy dropped: .*graphics" "$RIG_TMP/hook.err" ||
        rig_die "no warning on stderr for the dropped capabilities: $(cat "$RIG_TMP/hook.err")"
tail -n 1 "$HOOK_LOG" | jq -e '.warnings | map(select(test("dropped: .*graphics"))) | length == 1' \
        >/dev/null || rig_die "no warning in the JSON log line: $(tail -n 1 "$HOOK_LOG")"
syslog_has '^<28>nvhook\[[0-9]*\]: container surface-all: capabilities not allowed' ||
        rig_die "the warning did not reach the system log: $(cat "$RIG_TMP/syslog")"

# 3. An error reaches the system log with the container id (crun drops a hook's stderr).
conf '{}' >"$RIG_TMP/log.json"
rig_env "$gpu" NVIDIA_VISIBLE_DEVICES=7
rc=0
"$NVHOOK" --config "$RIG_TMP/log.json" prestart <<<"$(state "$gpu")" 2>"$RIG_TMP/err" || rc=$?
[ "$rc" != 0 ] || rig_die "an unknown GPU did not fail"
syslog_has "^<27>nvhook\[[0-9]*\]: container surface-1: .*'7'" ||
        rig_die "the error did not reach the system log: $(cat "$RIG_TMP/syslog")"

# 4. nvhook-probe says why in words: a libcuda whose cuInit fails, one without the symbol.
probe=$(dirname "$NVHOOK")/nvhook-probe
[ -x "$probe" ] || rig_die "no nvhook-probe beside $NVHOOK"
cat >"$RIG_TMP/cu.c" <<'EOF'
int cuInit(unsigned f) { (void)f; return 100; }
int cuGetErrorName(int e, const char **s) { *s = e == 100 ? "CUDA_ERROR_NO_DEVICE" : "?"; return 0; }
int cuDeviceGet(int *d, int i) { *d = i; return 0; }
int cuDeviceGetAttribute(int *v, int a, int d) { (void)a; (void)d; *v = 9; return 0; }
EOF
gcc -shared -fPIC -o "$RIG_TMP/libcu-nodev.so" "$RIG_TMP/cu.c"
echo 'int cuInit(unsigned f) { (void)f; return 0; }' >"$RIG_TMP/cu2.c"
gcc -shared -fPIC -o "$RIG_TMP/libcu-old.so" "$RIG_TMP/cu2.c"
rc=0
out=$("$probe" "$RIG_TMP/libcu-nodev.so" arch) || rc=$?
[ "$rc" != 0 ] && [ "$out" = "error: cuInit: CUDA_ERROR_NO_DEVICE (100)" ] ||
        rig_die "probe of a failing cuInit: rc $rc, '$out'"
rc=0
out=$("$probe" "$RIG_TMP/libcu-old.so" arch 0000:3b:00.0) || rc=$?
[ "$rc" != 0 ] && [ "$out" = "error: missing symbol 'cuDeviceGet'" ] ||
        rig_die "probe of a library without the symbols: rc $rc, '$out'"
echo "test_hook_surface: ok"
