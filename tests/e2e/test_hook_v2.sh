#!/bin/bash
# Pure cgroup v2 (cgroup2 mounted over /sys/fs/cgroup in a private namespace): runc and crun
# attach their eBPF device program; nvhook composes its rules with it and swaps it in.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
rig_cgroup_v2
hook_setup
hook_run_bundle runc createRuntime busybox /usr/lib64
hook_run_bundle crun createRuntime busybox /usr/lib64
hook_run_bundle crun prestart glibc /usr/lib/x86_64-linux-gnu
rig_log "ok"
