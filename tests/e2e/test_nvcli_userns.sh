#!/bin/bash
# enroot's and Apptainer's command lines, as their sources build them, against nvhook installed
# as nvidia-container-cli (a symlink):
#   enroot (conf/hooks/98-nvidia.sh), run by an unprivileged user inside enroot's user and
#   mount namespaces, no --pid:
#     nvidia-container-cli --user configure --no-cgroups --ldconfig=@/sbin/ldconfig
#         --device=0 --compute --utility "${ENROOT_ROOTFS}"
#   Apptainer --nvccli (internal/pkg/util/gpu/nvidia.go NVCLIConfigure), user namespace:
#     nvidia-container-cli --user configure --no-cgroups --device=all --compute --utility
#         --ldconfig=@/sbin/ldconfig ROOTFS
#   and as root (setuid flow): the same without --user;
#   Apptainer --nv: nvidia-container-cli list --binaries --ipcs --libraries
# Unprivileged: nodes are the host's, bound (no mknod), no cgroup is written, created files
# belong to the container's root; privileged: nodes are made.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_require_cmd setpriv unshare chroot
rig_enter_private_ns "$@"
hook_setup
chmod 0644 "$HOOK_CONF"
B=$RIG_TMP/bin
mkdir -p "$B"
chmod 0755 "$B"
ln -s "$NVHOOK" "$B/nvidia-container-cli"
ROOT=$NVH_FIXTURES/driver
U=65534 # the unprivileged user running enroot / Apptainer

new_rootfs() { # new_rootfs DIR OWNER
        cp -a "$(rig_rootfs busybox)" "$1"
        chown -R -h "$2:$2" "$1"
}

# Inside the container view: what the checks expect.
checks='set -e
fail() { echo "CHECK FAILED: $*"; exit 1; }
[ -f /usr/lib/nvhook/lib/libcuda.so.580.159.04 ] || fail "no libcuda"
[ "$(readlink /usr/lib/nvhook/lib/libcuda.so.1)" = libcuda.so.580.159.04 ] || fail "libcuda.so.1"
[ ! -e /usr/lib64/libcuda.so.1 ] || fail "a link in a libc-less image"
[ "$(stat -c %t:%T /dev/nvidia0)" = c3:0 ] || fail "/dev/nvidia0"
cat /dev/nvidia0 2>/tmp/err && fail "/dev/nvidia0 opened?"
grep -q "No such device or address" /tmp/err || fail "/dev/nvidia0: $(cat /tmp/err)"
grep -q "^ModifyDeviceFiles: 0" /proc/driver/nvidia/params || fail "params not masked"
echo CHECKS-PASSED'

# "${UNPRIV[@]}" ROOTFS ARGS...: as user $U in a new user (mapped to root) and mount namespace,
# bind /proc into ROOTFS as enroot does, run ARGS (nvidia-container-cli), then the checks
# chrooted there.
UNPRIV=(setpriv --reuid="$U" --regid="$U" --clear-groups -- unshare --user --map-root-user --mount
        --propagation private -- sh -c
        'r=$1; shift; mount --rbind /proc "$r/proc" && "$@" && chroot "$r" /bin/sh -c "$CHECKS"'
        sh)
export CHECKS=$checks

# enroot
r=$RIG_TMP/enroot-rootfs
new_rootfs "$r" $U
rig__capture enroot "${UNPRIV[@]}" "$r" "$B/nvidia-container-cli" --root="$ROOT" --user configure \
        --no-cgroups --ldconfig=@/sbin/ldconfig --device=0 --compute --utility "$r"
rig_assert_rc 0
rig_assert_stdout_has CHECKS-PASSED
# What is created in the image belongs to the container's root (uid $U on the host), not to
# root: the driver directory (the tmpfs's mount point).
[ "$(stat -c %u "$r/usr/lib/nvhook")" = $U ] ||
        rig_die "driver directory owned by $(stat -c %u "$r/usr/lib/nvhook")"
[ "$(stat -c %u "$r/dev/nvidia0")" = $U ] || rig_die "/dev/nvidia0 placeholder owner"
[ ! -c "$r/dev/nvidia0" ] || rig_die "a node was made in user mode"

# Apptainer --nvccli in a user namespace; --device=all
r=$RIG_TMP/apptainer-rootfs
new_rootfs "$r" $U
rig__capture apptainer-userns "${UNPRIV[@]}" "$r" "$B/nvidia-container-cli" --root="$ROOT" --user \
        configure --no-cgroups --device=all --compute --utility --ldconfig=@/sbin/ldconfig "$r"
rig_assert_rc 0
rig_assert_stdout_has CHECKS-PASSED

# Without --no-cgroups, a user namespace cannot do what was asked: refused, clearly.
r=$RIG_TMP/refused-rootfs
new_rootfs "$r" $U
rig__capture refused "${UNPRIV[@]}" "$r" "$B/nvidia-container-cli" --root="$ROOT" configure \
        --device=0 --compute "$r"
[ "$RIG_RC" = 1 ] || rig_die "user namespace without --no-cgroups: rc $RIG_RC"
rig_assert_stderr_has "add --no-cgroups"

# Apptainer setuid flow: as root, no user namespace, no --pid: nodes are made (mknod).
r=$RIG_TMP/apptainer-root-rootfs
new_rootfs "$r" 0
mkdir -p "$r/proc"
rig__capture apptainer-root unshare --mount --propagation private -- sh -c \
        'r=$1; shift; mount --rbind /proc "$r/proc" && "$@" &&
         [ -c "$r/dev/nvidia0" ] && echo NODE-MADE && chroot "$r" /bin/sh -c "$CHECKS"' \
        sh "$r" "$B/nvidia-container-cli" --root="$ROOT" configure --no-cgroups --device=all \
        --compute --utility --ldconfig=@/sbin/ldconfig "$r"
rig_assert_rc 0
rig_assert_stdout_has NODE-MADE
rig_assert_stdout_has CHECKS-PASSED

# Apptainer --nv: the list it binds, as the unprivileged user.
rig__capture apptainer-list setpriv --reuid=$U --regid=$U --clear-groups -- \
        "$B/nvidia-container-cli" --root="$ROOT" list --binaries --ipcs --libraries
rig_assert_rc 0
rig_assert_stdout_has "$ROOT/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04"
rig_assert_stdout_has "$ROOT/usr/bin/nvidia-smi"
grep -q '^/dev/' "$RIG_STDOUT" && rig_die "list --binaries --ipcs --libraries printed devices"
rig_log "ok"
