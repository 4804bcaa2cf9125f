#!/bin/bash
# Real GPU, every way in besides hooks in config.json (test_gpu.sh has those): the runtime shim
# (nvhook-runtime in front of runc), a CDI device of `nvhook cdi generate` (its hook entry as a
# CDI consumer adds it), the nvidia-container-cli command line (`info` and `list` beside the
# incumbent's reference output, `configure --pid` from a prestart hook as containerd's
# `ctr --gpus` runs it, and `--user` in a user namespace as enroot runs it), and `nvhook
# doctor`. Each container runs nvidia-smi and a CUDA kernel that checks its result. Runs only
# where an NVIDIA driver is loaded (scripts/gpu-run.sh); skipped with a reason elsewhere.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
hook_gpu_setup "$@"
bin=$RIG_TMP/bin
mkdir -p "$bin"
ln -s "$NVHOOK" "$bin/nvhook"
ln -s "$NVHOOK" "$bin/nvhook-runtime"
ln -s "$NVHOOK" "$bin/nvidia-container-cli"
cp "$(dirname "$NVHOOK")/nvhook-probe" "$bin/" 2>/dev/null || true
runc=$(rig_runtime_bin runc)
conf=$RIG_TMP/nvhook.json
jq -n --arg rt "$runc" '{runtime: $rt}' >"$conf"
checks='set -e
nvidia-smi -L
/usr/local/bin/vecadd
echo GPU-CHECKS-PASSED'

bundle() { # DIR: a glibc rootfs (the machine's /, driver hidden) with the CUDA program
        NVH_KEEP_CACHE=1 rig_bundle "$1" host
        cp "$RIG_TMP/vecadd" "$1/rootfs/usr/local/bin/vecadd"
        rig_args "$1" sh -c "$checks"
}
passed() { # WHAT
        echo "--- $1:"
        cat "$RIG_STDOUT" "$RIG_STDERR"
        rig_assert_rc 0
        rig_assert_stdout_has GPU-CHECKS-PASSED
        rig_assert_stdout_has "vecadd ok"
}

# 1. The shim: no hook in config.json; nvhook-runtime adds it and execs runc.
b=$RIG_TMP/shim
bundle "$b"
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0 NVIDIA_DRIVER_CAPABILITIES=compute,utility
rig_jq "$b" '.linux.cgroupsPath = "/'"$RIG_CG"'/shim"'
mkdir -p "$RIG_TMP/state/shim"
RIG_STDOUT=$RIG_TMP/shim.out RIG_STDERR=$RIG_TMP/shim.err RIG_RC=0
NVHOOK_CONFIG=$conf timeout 120 "$bin/nvhook-runtime" --root "$RIG_TMP/state/shim" run \
        --bundle "$b" shim </dev/null >"$RIG_STDOUT" 2>"$RIG_STDERR" || RIG_RC=$?
"$runc" --root "$RIG_TMP/state/shim" delete -f shim >/dev/null 2>&1 || true
passed "nvhook-runtime (shim) in front of runc"
jq -e '[.hooks.createRuntime[]? | select(.args | index("createRuntime"))] | length == 1' \
        "$b/config.json" >/dev/null || rig_die "the shim did not add exactly one hook"

# 2. CDI: the generated spec's device "0", applied as a CDI consumer applies container edits.
"$bin/nvhook" cdi generate --output "$RIG_TMP/cdi.json"
echo "--- nvhook cdi list:"
"$bin/nvhook" cdi list
b=$RIG_TMP/cdi
bundle "$b"
rig_jq "$b" '.hooks.createRuntime += ($s[0].devices[] | select(.name == "0")
        | .containerEdits.hooks | map(del(.hookName)))' --slurpfile s "$RIG_TMP/cdi.json"
rig_run runc "$b" cdi-0
passed "CDI device nvidia.com/gpu=0 (runc, createRuntime hook from the spec)"
"$bin/nvhook" cdi check "$RIG_TMP/cdi.json"

# 3. nvidia-container-cli: info and list, beside the incumbent's output on such a machine.
echo "--- nvidia-container-cli info:"
"$bin/nvidia-container-cli" info
echo "--- nvidia-container-cli list:"
"$bin/nvidia-container-cli" list | tee "$RIG_TMP/list.txt"
ref=${NVH_REFERENCE:-$RIG_SRC/.carry/incumbent-h200.txt}
if [ -r "$ref" ]; then
        awk '/^\$ nvidia-container-cli list$/ { on = 1; next } on && /^\[exit/ { exit }
             on { print }' "$ref" >"$RIG_TMP/ref-list.txt"
        echo "--- list against the incumbent's (diff; - incumbent, + nvhook):"
        diff "$RIG_TMP/ref-list.txt" "$RIG_TMP/list.txt" || true
fi

# 4. nvidia-container-cli configure --pid from a prestart hook, as containerd's ctr --gpus runs
#    it (state on stdin: the container's pid and bundle).
cat >"$bin/ctr-hook" <<EOF
#!/bin/sh
state=\$(cat)
pid=\$(echo "\$state" | jq -r .pid)
bundle=\$(echo "\$state" | jq -r .bundle)
root=\$(jq -r .root.path "\$bundle/config.json")
case \$root in /*) ;; *) root=\$bundle/\$root ;; esac
exec "$bin/nvidia-container-cli" --load-kmods configure --ldconfig=@/sbin/ldconfig.real \
        --device=0 --compute --utility --pid="\$pid" "\$root"
EOF
chmod +x "$bin/ctr-hook"
b=$RIG_TMP/nvcli
bundle "$b"
rig_hook "$b" prestart "$bin/ctr-hook"
rig_run runc "$b" nvcli-0
passed "nvidia-container-cli configure --pid (prestart hook, as ctr --gpus)"

# 5. nvidia-container-cli --user in a user namespace, as enroot runs it: no mknod, no cgroup
#    (the caller grants devices), host nodes bound; then the container root runs the program.
r=$RIG_TMP/userns
mkdir -p "$r"
root=$(bash "$RIG_SRC/scripts/gpu-rootfs.sh" "$r")
cp "$RIG_TMP/vecadd" "$root/usr/local/bin/vecadd"
RIG_STDOUT=$RIG_TMP/user.out RIG_STDERR=$RIG_TMP/user.err RIG_RC=0
# shellcheck disable=SC2034 # RIG_RC is read by rig_assert_rc
timeout 120 unshare -U -r -m -p -f --propagation private sh -c "
        mount -t proc proc '$root/proc' &&
        '$bin/nvidia-container-cli' --user configure --no-cgroups --ldconfig=@/sbin/ldconfig.real \
                --device=0 --compute --utility '$root' &&
        chroot '$root' sh -c '$checks'" </dev/null >"$RIG_STDOUT" 2>"$RIG_STDERR" || RIG_RC=$?
passed "nvidia-container-cli --user configure in a user namespace (as enroot)"

# 6. The node as an SRE sees it.
if "$bin/nvhook" --help | grep -q doctor; then
        echo "--- nvhook doctor:"
        "$bin/nvhook" doctor || echo "(doctor exit $?)"
fi
rig_log "ok"
