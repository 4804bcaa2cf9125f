#!/bin/bash
# Debian's LXC with its own hook (liblxc-common's /usr/share/lxc/hooks/nvidia) and nvhook as
# nvidia-container-cli: an unprivileged container (lxc.idmap, no network, the rig's debootstrap
# rootfs) started with lxc-start. The hook runs inside the container's user and mount
# namespaces before pivot_root and execs
#   nvidia-container-cli --user configure --no-cgroups --ldconfig=@/sbin/ldconfig
#       --device=0 --compute --utility ${LXC_ROOTFS_MOUNT}
# so nvhook works in its own namespace, binds the host's nodes (no mknod, no cgroup write)
# and writes the container's linker cache itself as the container's root. Inside, the GPU
# node, the libraries and `ldconfig -p` listing them are checked.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_require_cmd lxc-start
[ -x /usr/share/lxc/hooks/nvidia ] || rig_skip "no /usr/share/lxc/hooks/nvidia (liblxc-common)"
rig_enter_private_ns "$@"
hook_setup

T=$RIG_TMP/lxc
mkdir -p "$T/bin" "$T/c1"
chmod 0755 "$T" "$T/bin"
cat >"$T/bin/nvidia-container-cli" <<EOF
#!/bin/sh
printf '%s\n' "\$*" >>"$T/argv.log"
exec "$NVHOOK" --config "$HOOK_CONF" cli "\$@"
EOF
chmod 0755 "$T/bin/nvidia-container-cli"
touch "$T/argv.log"
chmod 0666 "$T/argv.log" # the hook runs as the container's root, uid 100000 here
chmod 0644 "$HOOK_CONF"

r=$(rig_rootfs glibc)
cp -a "$r" "$T/c1/rootfs"
chown -R -h 100000:100000 "$T/c1/rootfs"
chmod 0755 "$T/c1"
cat >"$T/c1/rootfs/check.sh" <<'EOF'
#!/bin/sh
exec >/result 2>&1
L=/usr/lib/nvhook/lib
fail() { echo "CHECK FAILED: $*"; exit 1; }
[ "$(id -u)" = 0 ] || fail "not root in the container"
grep -q '^ *0 *100000 *65536' /proc/self/uid_map || fail "not user-namespaced: $(cat /proc/self/uid_map)"
[ -f $L/libcuda.so.580.159.04 ] || fail "no libcuda"
[ -f $L/libnvidia-ml.so.580.159.04 ] || fail "no NVML"
[ "$(readlink $L/libcuda.so.1)" = libcuda.so.580.159.04 ] || fail "libcuda.so.1 link"
[ -x /usr/bin/nvidia-smi ] || fail "no nvidia-smi"
[ "$(stat -c %t:%T /dev/nvidia0)" = c3:0 ] || fail "/dev/nvidia0: $(ls -l /dev/nvidia0)"
[ "$(stat -c %t:%T /dev/nvidiactl)" = c3:ff ] || fail "/dev/nvidiactl"
cat /dev/nvidia0 2>/tmp/err </dev/null && fail "/dev/nvidia0 opened?"
grep -q "No such device or address" /tmp/err || fail "/dev/nvidia0: $(cat /tmp/err)"
p=$(ldconfig -p | sed -n 's/^\tlibcuda.so.1 (libc6,x86-64) => //p')
[ -n "$p" ] || fail "ldconfig -p: no libcuda.so.1: $(ldconfig -p | grep -i cuda)"
[ "$(readlink -f "$p")" = "$(readlink -f $L/libcuda.so.580.159.04)" ] ||
        fail "ldconfig -p: libcuda.so.1 => '$p'"
ldconfig -p | grep -q "libnvidia-ml.so.1 " || fail "ldconfig -p: no NVML"
[ "$(stat -c %u /etc/ld.so.cache)" = 0 ] || fail "ld.so.cache not owned by the container's root"
echo LXC-CHECKS-PASSED
EOF
chmod 0755 "$T/c1/rootfs/check.sh"
chown 100000:100000 "$T/c1/rootfs/check.sh"

cat >"$T/c1/config" <<EOF
lxc.uts.name = nvh-lxc
lxc.rootfs.path = dir:$T/c1/rootfs
lxc.idmap = u 0 100000 65536
lxc.idmap = g 0 100000 65536
lxc.net.0.type = empty
lxc.mount.auto = proc:mixed sys:ro
lxc.autodev = 1
lxc.apparmor.profile = unconfined
lxc.environment = NVIDIA_VISIBLE_DEVICES=0
lxc.environment = NVIDIA_DRIVER_CAPABILITIES=compute,utility
lxc.hook.mount = /usr/share/lxc/hooks/nvidia
lxc.init.cmd = /check.sh
lxc.console.path = none
lxc.log.file = $T/c1/lxc.log
lxc.log.level = INFO
EOF
pivot_before=$(ls -d /sys/fs/cgroup/*/lxc.pivot /sys/fs/cgroup/lxc.pivot 2>/dev/null || true)
RIG_TIMEOUT=120 rig__capture lxc env PATH="$T/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
        NVIDIA_VISIBLE_DEVICES=0 NVIDIA_DRIVER_CAPABILITIES=compute,utility \
        lxc-start -P "$T" -n c1 -F
# LXC keeps an empty "lxc.pivot" cgroup for its monitor: remove the ones this test made.
for d in /sys/fs/cgroup/*/lxc.pivot /sys/fs/cgroup/lxc.pivot; do
        [ -d "$d" ] && ! echo "$pivot_before" | grep -qx "$d" && rmdir "$d" 2>/dev/null
done
if [ "$RIG_RC" != 0 ] || ! grep -q LXC-CHECKS-PASSED "$T/c1/rootfs/result" 2>/dev/null; then
        rig_show
        cat "$T/c1/rootfs/result" >&2 2>/dev/null || true
        grep -i 'hook\|nvidia\|error' "$T/c1/lxc.log" | tail -20 >&2 || true
        rig_die "the LXC container did not pass its checks"
fi
grep -q -- '--user configure --no-cgroups --ldconfig=@' "$T/argv.log" ||
        rig_die "LXC's hook ran: $(cat "$T/argv.log")"
rig_log "LXC's hook ran: nvidia-container-cli $(head -1 "$T/argv.log")"
rig_log "ok"
