#!/bin/bash
# Missing nodes and --load-kmods. The fake host's driver reports the nvidia-uvm major in
# /proc/devices, but nobody made /dev/nvidia-uvm{,-tools} (nvidia-modprobe did not run):
#   - the hook (runc) makes them in the container, and the cgroup lets them open (the kernel
#     then answers ENXIO: no driver behind the fake major);
#   - nvidia-container-cli configure does the same;
#   - --load-kmods runs the host's /sbin/modprobe by absolute path, with an empty
#     environment, for the modules that are not loaded; without the flag nothing is run.
#     (A recording script is bound over /sbin/modprobe in this test's mount namespace.)
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_enter_private_ns "$@"
hook_setup
rm -f /dev/nvidia-uvm /dev/nvidia-uvm-tools
uvm=$(awk '$2 == "nvidia-uvm" { print $1 }' /proc/devices)
[ -n "$uvm" ] || rig_die "the fake host has no nvidia-uvm major"
want=$(printf '%x:0' "$uvm")

# The hook.
b=$RIG_TMP/b
rig_bundle "$b" busybox
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0
rig_args "$b" sh -c '
[ "$(stat -c %t:%T /dev/nvidia-uvm)" = '"$want"' ] || { echo "no uvm node"; exit 1; }
[ -c /dev/nvidia-uvm-tools ] || { echo "no uvm-tools node"; exit 1; }
cat /dev/nvidia-uvm 2>/tmp/err && exit 1
grep -q "No such device or address" /tmp/err || { cat /tmp/err; exit 1; }
echo UVM-MADE'
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" kmods
rig_assert_rc 0
rig_assert_stdout_has UVM-MADE

# nvidia-container-cli, with and without --load-kmods.
printf '#!/bin/sh\necho "args: $*" >>"%s"\nenv >>"%s"\n' "$RIG_TMP/modprobe.log" \
        "$RIG_TMP/modprobe.log" >"$RIG_TMP/modprobe"
chmod 0755 "$RIG_TMP/modprobe"
touch "$RIG_TMP/modprobe.log"
mount --bind "$RIG_TMP/modprobe" /sbin/modprobe
r=$RIG_TMP/rootfs
cp -a "$(rig_rootfs busybox)" "$r"
mkdir -p "$RIG_TMP/bin"
ln -s "$NVHOOK" "$RIG_TMP/bin/nvidia-container-cli"
"$RIG_TMP/bin/nvidia-container-cli" --root="$NVH_FIXTURES/driver" list --binaries >/dev/null
[ ! -s "$RIG_TMP/modprobe.log" ] || rig_die "modprobe ran without --load-kmods"
rig__capture cli-kmods env FOO=bar LD_PRELOAD=/nonexistent.so unshare --mount \
        --propagation private -- sh -c 'mount --rbind /proc "$1/proc" &&
        "$2" --root="$3" --load-kmods configure --no-cgroups --device=0 --utility "$1" &&
        [ "$(stat -c %t:%T "$1/dev/nvidia-uvm")" = "$4" ] && echo CLI-UVM-MADE' \
        sh "$r" "$RIG_TMP/bin/nvidia-container-cli" "$NVH_FIXTURES/driver" "$want"
rig_assert_rc 0
rig_assert_stdout_has CLI-UVM-MADE
for m in nvidia nvidia_uvm nvidia_modeset; do
        grep -q "^args: -q -- $m\$" "$RIG_TMP/modprobe.log" ||
                rig_die "no modprobe of $m: $(cat "$RIG_TMP/modprobe.log")"
done
if grep -v '^args: ' "$RIG_TMP/modprobe.log" | grep -v '^PWD=' | grep -q .; then
        rig_die "modprobe got an environment: $(cat "$RIG_TMP/modprobe.log")"
fi
umount /sbin/modprobe
rig_log "ok"
