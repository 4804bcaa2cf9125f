#!/bin/bash
# crun on pure cgroup v1 (crun refuses this machine's hybrid layout, so the unified mount is
# removed in the private namespace): devices.allow gets nvhook's rules.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
rig_cgroup_v1
hook_setup
hook_run_bundle crun createRuntime busybox /usr/lib64
hook_run_bundle crun prestart glibc /usr/lib/x86_64-linux-gnu
rig_log "ok"
