#!/bin/bash
# runc runs nvhook (prestart and createRuntime) on busybox and glibc rootfs, cgroup v1 hybrid.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup
hook_run_bundle runc prestart busybox /usr/lib64
hook_run_bundle runc createRuntime busybox /usr/lib64
hook_run_bundle runc prestart glibc /usr/lib/x86_64-linux-gnu
rig_log "ok"
