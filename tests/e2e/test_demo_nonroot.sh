#!/bin/bash
# scripts/demo.sh run by a user other than root stops at once and says it needs root (it
# installs packages and creates device nodes), before touching anything.
set -eu
. "$(dirname "$0")/lib.sh"
rig_require_root
rig_require_cmd setpriv
out=$(mktemp /tmp/nvh-demo.XXXXXX)
trap 'rm -f "$out"' EXIT
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups bash "$RIG_SRC/scripts/demo.sh" >"$out" 2>&1 || rc=$?
[ "$rc" = 1 ] || { cat "$out" >&2; rig_die "exit $rc, expected 1"; }
grep -q '^demo.sh needs root' "$out" || { cat "$out" >&2; rig_die "no 'needs root' message"; }
[ "$(wc -l <"$out")" = 2 ] || { cat "$out" >&2; rig_die "more than the message"; }
rig_log "ok"
