#!/bin/bash
# nvhook-runtime in front of runc, called as an engine calls runc: a GPU container (env, the
# device plugin's volume-mount form, a cdi.k8s.io/ annotation) gets nvhook's createRuntime hook
# once and its GPUs; a container without a GPU request, other commands and an unparsable
# config.json pass through untouched.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
. "$(dirname "$0")/shim_lib.sh"
rig_enter_private_ns "$@"
shim_setup
RUNC=$(rig_runtime_bin runc)
STATE=$RIG_TMP/state/runc
mkdir -p "$STATE"
export NVHOOK_CONFIG=$HOOK_CONF

# shim_run NAME [SETUP...]: a busybox bundle set up by the caller, run through the shim.
mkbundle() {
        local b=$RIG_TMP/b-$1
        rig_bundle "$b" busybox
        rig_args "$b" sh -c "$NODES"
        rig_jq "$b" '.linux.cgroupsPath = $p' --arg p "/$RIG_CG/$1"
        echo "$b"
}
shim() {
        local id=$1 b=$2
        shift 2
        rig__capture "$id" "$SHIM" --root "$STATE" --log "$RIG_TMP/runc-$id.log" \
                --log-format json "$@" --bundle "$b" "$id"
        "$RUNC" --root "$STATE" delete -f "$id" >/dev/null 2>&1 || true
}
hooks_in() {
        jq '[.hooks.createRuntime[]? | select(.path | endswith("/nvhook"))] | length' \
                "$1/config.json"
}

# The device plugin's env hand-off, runtime from PATH (no "runtime" key).
b=$(mkbundle env)
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0
shim env "$b" run
rig_assert_rc 0
shim_assert_nodes 0
[ "$(hooks_in "$b")" = 1 ] || rig_die "expected one nvhook hook, got $(hooks_in "$b")"
# Again (create + start, as containerd does): the hook is not added twice.
rig__capture env2 "$SHIM" --root "$STATE" create --bundle "$b" env2
rig_assert_rc 0
"$RUNC" --root "$STATE" delete -f env2 >/dev/null 2>&1 || true
[ "$(hooks_in "$b")" = 1 ] || rig_die "hook added twice: $(hooks_in "$b")"
for f in "$b"/config.json.nvhook-*; do
        [ ! -e "$f" ] || rig_die "temporary file left in the bundle: '$f'"
done

# The "runtime" key names the real runtime from here on.
shim_conf '.runtime = $r' --arg r "$RUNC"

# The device plugin's volume-mount hand-off: /dev/null on /var/run/nvidia-container-devices/1.
b=$(mkbundle mounts)
rig_jq "$b" '.mounts += [{destination: "/var/run/nvidia-container-devices/1", type: "bind",
        source: "/dev/null", options: ["bind", "ro"]}]'
shim mounts "$b" run
rig_assert_rc 0
shim_assert_nodes 1

# A CDI annotation naming our kind (containerd < 1.7 does not resolve CDI itself).
b=$(mkbundle annot)
rig_jq "$b" '.annotations["cdi.k8s.io/nvidia-device-plugin_0"] =
        "example.com/other=x,nvidia.com/gpu=1,nvidia.com/gpu=0"'
shim annot "$b" run
rig_assert_rc 0
shim_assert_nodes 0 1
jq -e '.hooks.createRuntime[0].args | index("--cdi-device")' "$b/config.json" >/dev/null ||
        rig_die "annotation devices not passed as --cdi-device"

# Not a GPU container: config.json untouched, byte for byte.
b=$(mkbundle plain)
sum=$(sha256sum <"$b/config.json")
shim plain "$b" run
rig_assert_rc 0
shim_assert_nodes none
[ "$(sha256sum <"$b/config.json")" = "$sum" ] || rig_die "config.json of a non-GPU container changed"

# NVIDIA_VISIBLE_DEVICES=void/none: not a GPU container either.
b=$(mkbundle void)
rig_env "$b" NVIDIA_VISIBLE_DEVICES=void
sum=$(sha256sum <"$b/config.json")
shim void "$b" run
rig_assert_rc 0
[ "$(sha256sum <"$b/config.json")" = "$sum" ] || rig_die "config.json with =void changed"

# An unparsable config.json reaches runc, which rejects it; the shim leaves it as it was.
b=$(mkbundle broken)
rig_env "$b" NVIDIA_VISIBLE_DEVICES=all
echo '{"ociVersion": ' >"$b/config.json"
shim broken "$b" run
[ "$RIG_RC" != 0 ] || rig_die "runc accepted a broken config.json?"
[ "$(cat "$b/config.json")" = '{"ociVersion": ' ] || rig_die "broken config.json rewritten"
grep -q "unexpected EOF" "$RIG_STDERR" "$RIG_TMP/runc-broken.log" ||
        { rig_show; rig_die "runc's own error did not come through"; }

# Other commands pass through: the output is runc's own.
rig__capture version "$SHIM" --version
rig_assert_rc 0
[ "$(cat "$RIG_STDOUT")" = "$("$RUNC" --version)" ] || rig_die "--version not runc's"
rig__capture list "$SHIM" --root "$STATE" list -q
rig_assert_rc 0

# A broken config file breaks no runtime command and no container without a GPU: the shim
# warns and goes on with the defaults (runc from PATH); a GPU container fails in the hook.
good_conf=$(cat "$NVHOOK_CONFIG")
echo '{"runtime": ' >"$NVHOOK_CONFIG"
rig__capture broken-version "$SHIM" --version
rig_assert_rc 0
rig_assert_stderr_has "going on with the defaults"
b=$(mkbundle broken-plain)
shim broken-plain "$b" run
rig_assert_rc 0
b=$(mkbundle broken-gpu)
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0
shim broken-gpu "$b" run
[ "$RIG_RC" != 0 ] || rig_die "a GPU container started with a broken config"
echo "$good_conf" >"$NVHOOK_CONFIG"

# A runtime that is the shim itself is refused instead of looping.
shim_conf '.runtime = $r' --arg r "$SHIM"
rig__capture loop "$SHIM" --version
rig_assert_rc 1
rig_assert_stderr_has "is nvhook-runtime itself"
rig_log "ok"
