#!/bin/bash
# nvhook setup on real configuration files with unrelated settings, under --root: Docker's
# daemon.json, containerd's config.toml (schema 2 from `containerd config default`, schema 3,
# schema 1), Podman's hooks.d. Checks the printed diff, --dry-run, idempotence, --undo, the
# unrelated settings kept, and that the real daemons read the result: `containerd config dump`,
# dockerd started on the file (its Runtimes), and Podman starting a GPU container through the
# hooks.d file setup wrote.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
. "$(dirname "$0")/product_lib.sh"
rig_enter_private_ns "$@"
rig_require_cmd containerd jq sha256sum

root=$RIG_TMP/root
bindir=$(dirname "$(readlink -f "$NVHOOK")")
mkdir -p "$root/etc/docker" "$root/etc/containerd" "$root/etc/containers/oci/hooks.d"
cat >"$root/etc/docker/daemon.json" <<'JSON'
{
    "log-driver": "json-file",
    "log-opts": { "max-size": "10m", "max-file": "3" },
    "default-ulimits": { "nofile": { "Name": "nofile", "Hard": 65536, "Soft": 65536 } },
    "runtimes": { "crun": { "path": "/usr/bin/crun" } }
}
JSON
{
        echo "# site settings: keep"
        containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/'
} >"$root/etc/containerd/config.toml"
echo '{"version": "1.0.0", "hook": {"path": "/bin/true"}, "when": {"always": true}, "stages": ["prestart"]}' \
        >"$root/etc/containers/oci/hooks.d/other.json"
cp -a "$root" "$RIG_TMP/orig"
snap() { (cd "$root" && find . -type f -exec sha256sum {} + | sort); }

# Sets the rig's result variables, so rig_assert_* check this run.
# shellcheck disable=SC2034
run_setup() {
        RIG_RC=0
        "$NVHOOK" setup --root "$root" "$@" >"$RIG_TMP/setup.out" 2>"$RIG_TMP/setup.err" || RIG_RC=$?
        RIG_STDOUT=$RIG_TMP/setup.out
        RIG_STDERR=$RIG_TMP/setup.err
}

# --dry-run: the diff, no change.
before=$(snap)
run_setup --engine all --dry-run
rig_assert_rc 0
rig_assert_stdout_has "+++ $root/etc/docker/daemon.json"
rig_assert_stdout_has "dry run, '$root/etc/docker/daemon.json' not changed"
[ "$(snap)" = "$before" ] || rig_die "--dry-run changed files"

# Apply.
run_setup --engine all
rig_assert_rc 0
rig_assert_stdout_has "+        \"nvhook\": {"
rig_assert_stdout_has "+            \"path\": \"$bindir/nvhook-runtime\""
rig_assert_stdout_has "+[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.nvhook]"
rig_assert_stdout_has "+  BinaryName = \"$bindir/nvhook-runtime\""
rig_assert_stdout_has "restart dockerd"
rig_assert_stdout_has "restart containerd"
rig_assert_stdout_has "no restart: podman reads hooks.d on every run"
# Unrelated settings kept: daemon.json equal but for the new entry (indent 4 kept), the TOML
# file is the old text plus one block.
jq -e --slurpfile o "$RIG_TMP/orig/etc/docker/daemon.json" \
        'del(.runtimes.nvhook) == $o[0] and .runtimes.nvhook.path != null' \
        "$root/etc/docker/daemon.json" >/dev/null || rig_die "daemon.json lost settings"
grep -q '^    "log-driver"' "$root/etc/docker/daemon.json" || rig_die "indent not kept"
n=$(wc -c <"$RIG_TMP/orig/etc/containerd/config.toml")
cmp -n "$n" "$RIG_TMP/orig/etc/containerd/config.toml" "$root/etc/containerd/config.toml" ||
        rig_die "config.toml: the user's text changed"
tail -n 6 "$root/etc/containerd/config.toml" | head -n 1 | grep -q '^# BEGIN nvhook' ||
        rig_die "config.toml: no delimited block at the end"
cmp "$RIG_TMP/orig/etc/containers/oci/hooks.d/other.json" "$root/etc/containers/oci/hooks.d/other.json"
jq -e --arg p "$bindir/nvhook" '.hook.path == $p and .stages == ["prestart"]' \
        "$root/etc/containers/oci/hooks.d/nvhook.json" >/dev/null || rig_die "hooks.d file"

# Idempotent.
after=$(snap)
run_setup --engine all
rig_assert_rc 0
rig_assert_stdout_has "nothing to change"
[ "$(snap)" = "$after" ] || rig_die "second run changed files"

# containerd 1.6 reads it (schema 2) and has the handler.
containerd --config "$root/etc/containerd/config.toml" config dump >"$RIG_TMP/dump" ||
        rig_die "containerd cannot read the result"
sed -n '/runtimes.nvhook\]/,/^ *\[plugins.*runtimes.runc\]/p' "$RIG_TMP/dump" >"$RIG_TMP/nv"
grep -q 'runtime_type = "io.containerd.runc.v2"' "$RIG_TMP/nv" || rig_die "dump: runtime_type"
grep -q "BinaryName = \"$bindir/nvhook-runtime\"" "$RIG_TMP/nv" || rig_die "dump: BinaryName"
grep -q 'SystemdCgroup = true' "$RIG_TMP/dump" || rig_die "dump: the site setting is gone"

# dockerd reads it and lists the runtime.
if command -v dockerd >/dev/null 2>&1; then
        product_dockerd "$root/etc/docker/daemon.json" >"$RIG_TMP/rt"
        jq -e --arg p "$bindir/nvhook-runtime" '.nvhook.path == $p and .crun.path == "/usr/bin/crun"' \
                "$RIG_TMP/rt" >/dev/null || rig_die "dockerd runtimes: $(cat "$RIG_TMP/rt")"
else
        rig_log "note: dockerd not installed, daemon.json not read by dockerd"
fi

# Podman runs a GPU container through the hooks.d file setup wrote (default config file).
hook_setup
product_nvhook_conf
r=$RIG_TMP/podman-rootfs
cp -a "$(rig_rootfs busybox)" "$r"
RIG_HOOKS_DIR=$root/etc/containers/oci/hooks.d rig_podman runc "$r" -e NVIDIA_VISIBLE_DEVICES=all \
        --cap-add MKNOD -- sh -c "$(hook_check_script /usr/lib64 0 1)"
rig_assert_rc 0
rig_assert_stdout_has ALL-CHECKS-PASSED

# Undo: the TOML file and hooks.d back byte for byte, daemon.json back to the same JSON.
run_setup --undo
rig_assert_rc 0
cmp "$RIG_TMP/orig/etc/containerd/config.toml" "$root/etc/containerd/config.toml" ||
        rig_die "undo: config.toml differs"
jq -e --slurpfile o "$RIG_TMP/orig/etc/docker/daemon.json" '. == $o[0]' \
        "$root/etc/docker/daemon.json" >/dev/null || rig_die "undo: daemon.json differs"
[ ! -e "$root/etc/containers/oci/hooks.d/nvhook.json" ] || rig_die "undo: hooks.d file kept"
[ -e "$root/etc/containers/oci/hooks.d/other.json" ] || rig_die "undo removed another hook"
run_setup --undo
rig_assert_rc 0
rig_assert_stdout_has "nothing to change"

# Schema 3 (containerd 2.x; 1.6 cannot read it, so text only) and schema 1 (no version line).
printf 'version = 3\n\n[plugins."io.containerd.cri.v1.images"]\n  snapshotter = "overlayfs"\n' \
        >"$root/etc/containerd/config.toml"
run_setup --engine containerd
rig_assert_rc 0
grep -qF '[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.nvhook]' \
        "$root/etc/containerd/config.toml" || rig_die "schema 3 table"
grep -qF '[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.nvhook.options]' \
        "$root/etc/containerd/config.toml" || rig_die "schema 3 options"
printf '[plugins.cri]\n  sandbox_image = "k8s.gcr.io/pause:3.6"\n' >"$root/etc/containerd/config.toml"
run_setup --engine containerd
rig_assert_rc 0
containerd --config "$root/etc/containerd/config.toml" config dump >"$RIG_TMP/dump" ||
        rig_die "containerd cannot read the schema 1 result"
grep -q "BinaryName = \"$bindir/nvhook-runtime\"" "$RIG_TMP/dump" || rig_die "schema 1 dump"
# No file: one is created (schema 2), and undo removes it again.
rm "$root/etc/containerd/config.toml"
run_setup --engine containerd
rig_assert_rc 0
containerd --config "$root/etc/containerd/config.toml" config dump | grep -q "nvhook-runtime" ||
        rig_die "new config.toml not read"
run_setup --engine containerd --undo
[ ! -e "$root/etc/containerd/config.toml" ] || rig_die "undo left an empty config.toml"

# A runtimes.nvhook table the user wrote: refused, file untouched.
printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvhook]\n' \
        >"$root/etc/containerd/config.toml"
cp "$root/etc/containerd/config.toml" "$RIG_TMP/mine"
run_setup --engine containerd
rig_assert_rc 1
rig_assert_stderr_has "already has a runtimes.nvhook table outside nvhook's block"
cmp "$RIG_TMP/mine" "$root/etc/containerd/config.toml"
# Bad input: an unknown engine, a daemon.json that is not JSON.
run_setup --engine kubelet
rig_assert_rc 2
rig_assert_stderr_has "unknown engine 'kubelet'"
echo '{"runtimes": [' >"$root/etc/docker/daemon.json"
run_setup --engine docker
rig_assert_rc 1
rig_assert_stderr_has "daemon.json"
rig_log "ok"
