#!/bin/bash
# Host IPC endpoints in shared areas (issue 8.1): the MPS pipe directory /tmp/nvidia-mps is
# mounted only when it is the running daemon's: opened without following symlinks, owned by
# root or the daemon's uid, writable by nobody else, with its control pipe, and the daemon
# (a process named nvidia-cuda-mps-control) running. Anything else is skipped with a warning;
# the container starts without it.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup

# A private /tmp for this namespace (the host's is shared with every other test).
rig_private_tmp

cp "$(command -v sleep)" "$RIG_TMP/bin/nvidia-cuda-mps-control"
daemon=""
start_daemon() { "$RIG_TMP/bin/nvidia-cuda-mps-control" 1000 & daemon=$!; }
stop_daemon() { [ -z "$daemon" ] || kill "$daemon" 2>/dev/null || true; daemon=""; }
trap 'stop_daemon; rig__inner_cleanup' EXIT

hostdir=$RIG_TMP/host-dir
mkdir -p "$hostdir"
echo untouched >"$hostdir/file"
mkfifo "$hostdir/control"

# run_case NAME WANT [NEEDLE]: WANT is MPS-MOUNTED or MPS-ABSENT; NEEDLE a warning expected.
run_case() {
        local name=$1 want=$2 needle=${3:-} b=$RIG_TMP/$1
        rig_bundle "$b" busybox
        rig_env "$b" NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=compute,utility
        rig_args "$b" sh -c 'touch /tmp/nvidia-mps/x 2>/dev/null
                if grep -q " /tmp/nvidia-mps " /proc/self/mountinfo; then echo MPS-MOUNTED
                else echo MPS-ABSENT; fi'
        : >"$RIG_TMP/hook.err"
        rig_hook "$b" prestart /bin/sh -c \
                "exec '$NVHOOK' --config '$HOOK_CONF' prestart 2>>'$RIG_TMP/hook.err'"
        rig_run runc "$b" "$name"
        rig_assert_rc 0
        rig_assert_stdout_has "$want"
        if [ -n "$needle" ] && ! grep -qF -- "$needle" "$RIG_TMP/hook.err"; then
                cat "$RIG_TMP/hook.err" >&2
                rig_die "$name: no warning with '$needle'"
        fi
        [ "$(ls -A "$hostdir" | tr '\n' ' ')" = "control file " ] ||
                rig_die "$name: the host directory changed: $(ls -A "$hostdir")"
}

start_daemon
# A symlink to a host directory: never followed.
ln -s "$hostdir" /tmp/nvidia-mps
run_case symlink MPS-ABSENT
rm /tmp/nvidia-mps

# A user's directory, writable by anyone: never shared.
mkdir /tmp/nvidia-mps
mkfifo /tmp/nvidia-mps/control
chown -R 1000:1000 /tmp/nvidia-mps
chmod 0777 /tmp/nvidia-mps
run_case user-owned MPS-ABSENT "'/tmp/nvidia-mps' is owned by uid 1000, not root nor"
chown -R 0:0 /tmp/nvidia-mps
run_case world-writable MPS-ABSENT "'/tmp/nvidia-mps' is writable by group or others (mode 0777)"

# Root's directory with the control pipe: mounted while the daemon runs, not after.
chmod 0755 /tmp/nvidia-mps
run_case daemon-running MPS-MOUNTED
stop_daemon
run_case daemon-gone MPS-ABSENT "its daemon 'nvidia-cuda-mps-control' is not running"
rig_log "ok"
