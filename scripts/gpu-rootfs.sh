#!/bin/sh
# gpu-rootfs.sh [DIR] -- on the GPU machine (Ubuntu 24.04, no debootstrap image carried), make a
# glibc rootfs for e2e tests: an overlay with the machine's own / as the lower layer and
# upper/work on a tmpfs under DIR (default: a new /tmp/nvh-gpu-rootfs.XXXXXX). Prints the
# merged path, usable as an OCI bundle's root.path.
#
# The NVIDIA driver is then removed from the view (whiteouts in the upper layer, the real / is
# never written): /usr/local/nvidia, driver files in the library and binary dirs, ld.so.conf.d
# entries naming nvidia, and /etc/ld.so.cache is rebuilt with `ldconfig -r MERGED` so the image
# looks like a CUDA-less base image and the hook's injection is what tests observe.
# NVH_KEEP_DRIVER=1 keeps the driver in the view.
#
# Only the root filesystem is seen (overlay does not follow submounts such as /proc or a
# separately mounted /usr/local/nvidia). Run it inside the test's private mount namespace
# (tests/e2e/lib.sh rig_enter_private_ns) and the overlay dies with the test; run outside, undo
# with: umount DIR/merged DIR/rw && rm -rf DIR. Needs root.
set -eu

if [ $# -gt 1 ]; then
        echo "usage: $0 [DIR]" >&2
        exit 2
fi
if [ $# -eq 1 ]; then
        dir=$1
        mkdir -p "$dir"
else
        dir=$(mktemp -d /tmp/nvh-gpu-rootfs.XXXXXX)
fi
dir=$(cd "$dir" && pwd)
mkdir -p "$dir/rw" "$dir/merged"
# upper and work on their own tmpfs: an upper dir inside the lower tree (/) is refused as an
# overlapping layer.
mount -n -t tmpfs -o mode=0755 nvh-gpu-rootfs-rw "$dir/rw"
mkdir -p "$dir/rw/upper" "$dir/rw/work"
mount -n -t overlay nvh-gpu-rootfs \
        -o "lowerdir=/,upperdir=$dir/rw/upper,workdir=$dir/rw/work" "$dir/merged"
m=$dir/merged

# The overlay shows the lower's (empty) mount points of /proc /sys /dev /tmp /run: fine for an
# OCI root, the runtime mounts its own. Our own work dir would show up inside /tmp: hide it.
rm -rf "${m:?}/${dir#/}" 2>/dev/null || true

if [ "${NVH_KEEP_DRIVER:-0}" != 1 ]; then
        rm -rf "$m/usr/local/nvidia"
        for d in usr/lib/x86_64-linux-gnu usr/lib64 usr/lib usr/lib/i386-linux-gnu usr/lib32; do
                [ -d "$m/$d" ] || continue
                find "$m/$d" -maxdepth 1 \( -name 'libcuda.so*' -o -name 'libnvidia-*.so*' \
                        -o -name 'libnvcuvid.so*' -o -name 'libnvoptix.so*' \
                        -o -name 'libGLX_nvidia.so*' -o -name 'libEGL_nvidia.so*' \
                        -o -name 'libGLESv*_nvidia.so*' -o -name 'libcudadebugger.so*' \) \
                        -exec rm -f {} +
        done
        for b in nvidia-smi nvidia-debugdump nvidia-persistenced nvidia-cuda-mps-control \
                nvidia-cuda-mps-server; do
                rm -f "$m/usr/bin/$b"
        done
        rm -rf "$m/lib/firmware/nvidia" "$m/usr/lib/firmware/nvidia"
        if [ -d "$m/etc/ld.so.conf.d" ]; then
                grep -l -i nvidia "$m"/etc/ld.so.conf.d/* 2>/dev/null | while read -r f; do
                        rm -f "$f"
                done
        fi
        # NVH_KEEP_CACHE=1 keeps the machine's own cache, which still names the driver's
        # directory: the hook must then replace those entries with what it injected.
        if [ "${NVH_KEEP_CACHE:-0}" != 1 ]; then
                ldconfig -r "$m" 2>/dev/null || ldconfig -r "$m"
        fi
fi
echo "$m"
