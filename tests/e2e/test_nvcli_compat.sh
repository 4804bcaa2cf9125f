#!/bin/bash
# CUDA forward compatibility. The image carries /usr/local/cuda/compat/libcuda.so.590.10.01
# (newer than the fake host driver 580.159.04) and the GPU is an H200 (datacenter): the
# container's linker cache maps libcuda.so.1 to the image's compat library. Only cache entries
# are written (the compat files are not mounted, not opened on the host, not run); a symlink
# named like a newer compat library is ignored; an older compat library is ignored; the
# config key "cuda_compat": false and `configure --cuda-compat-mode=disabled` turn it off;
# explain shows it. The cache is read back with the host's `ldconfig -p -C`.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
rig_require_cmd ldconfig
rig_enter_private_ns "$@"
hook_setup

compat_image() { # compat_image BUNDLE VERSION...
        local b=$1 v d
        shift
        rig_bundle "$b" busybox
        rig_env "$b" NVIDIA_VISIBLE_DEVICES=0
        rig_args "$b" true
        d=$b/rootfs/usr/local/cuda/compat
        mkdir -p "$d"
        for v in "$@"; do
                cp "$NVH_FIXTURES/driver/usr/lib/x86_64-linux-gnu/libcuda.so.580.159.04" \
                        "$d/libcuda.so.$v"
                cp "$NVH_FIXTURES/driver/usr/lib/x86_64-linux-gnu/libnvidia-ptxjitcompiler.so.580.159.04" \
                        "$d/libnvidia-ptxjitcompiler.so.$v"
        done
        ln -s libcuda.so.590.10.01 "$d/libcuda.so.1"
        # Named like a newer compat library, but a link (to a host path): never used.
        ln -s /etc/shadow "$d/libcuda.so.999.0.0"
}
cache_of() { ldconfig -p -C "$1/rootfs/etc/ld.so.cache"; }

# The hook, default config: the compat libraries win in the cache.
b=$RIG_TMP/b-on
compat_image "$b" 590.10.01 575.51.03
"$NVHOOK" --config "$HOOK_CONF" explain --bundle "$b" >"$RIG_TMP/explain.json"
jq -e '[.operations[] | select(.op == "ldcache" and .key == "libcuda.so.1")] | last |
        .value == "/usr/local/cuda/compat/libcuda.so.590.10.01"' "$RIG_TMP/explain.json" \
        >/dev/null || rig_die "explain: $(jq -c '.operations[] | select(.op == "ldcache")' \
        "$RIG_TMP/explain.json")"
grep -q "cuda forward compat" "$RIG_TMP/explain.json" || rig_die "explain does not say why"
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" compat-on
rig_assert_rc 0
cache_of "$b" | grep -q 'libcuda.so.1 (libc6,x86-64) => /usr/local/cuda/compat/libcuda.so.590.10.01$' ||
        rig_die "cache: $(cache_of "$b" | grep -i cuda)"
cache_of "$b" | grep -q 'libnvidia-ptxjitcompiler.so.1 (libc6,x86-64) => /usr/local/cuda/compat/' ||
        rig_die "ptxjitcompiler not from compat"
cache_of "$b" | grep -q '999' && rig_die "a symlinked compat library was used"
cache_of "$b" | grep -q '575.51.03' && rig_die "an older compat library was used"
grep -q " $b/rootfs/usr/local/cuda" /proc/self/mountinfo && rig_die "compat files mounted"

# Off with the config key.
b=$RIG_TMP/b-off
compat_image "$b" 590.10.01
jq '.cuda_compat = false' "$HOOK_CONF" >"$RIG_TMP/off.json"
rig_hook "$b" prestart "$NVHOOK" --config "$RIG_TMP/off.json" prestart
rig_run runc "$b" compat-off
rig_assert_rc 0
cache_of "$b" | grep 'libcuda.so.1 ' | grep -q compat && rig_die "cuda_compat=false ignored"
cache_of "$b" | grep -q 'libcuda.so.1 (libc6,x86-64) => /usr/lib/nvhook/lib/libcuda.so.1$' ||
        rig_die "no host libcuda.so.1 entry: $(cache_of "$b" | grep cuda)"

# Only older compat libraries: the host driver's.
b=$RIG_TMP/b-old
compat_image "$b" 575.51.03
rm "$b/rootfs/usr/local/cuda/compat/libcuda.so.1"
"$NVHOOK" --config "$HOOK_CONF" explain --bundle "$b" | grep -q "cuda forward compat" &&
        rig_die "an older compat library was planned"

# nvidia-container-cli: on by default, off with --cuda-compat-mode=disabled.
mkdir -p "$RIG_TMP/bin"
ln -s "$NVHOOK" "$RIG_TMP/bin/nvidia-container-cli"
for mode in ldconfig disabled; do
        b=$RIG_TMP/b-cli-$mode
        compat_image "$b" 590.10.01
        mkdir -p "$b/rootfs/proc"
        unshare --mount --propagation private -- sh -c 'mount --rbind /proc "$1/rootfs/proc" &&
                "$2" --root="$3" configure --no-cgroups --device=0 --compute \
                --cuda-compat-mode="$4" "$1/rootfs"' sh "$b" "$RIG_TMP/bin/nvidia-container-cli" \
                "$NVH_FIXTURES/driver" "$mode" || rig_die "configure ($mode) failed"
        if [ "$mode" = ldconfig ]; then
                cache_of "$b" | grep 'libcuda.so.1 ' | grep -q compat || rig_die "cli: no compat"
        else
                cache_of "$b" | grep 'libcuda.so.1 ' | grep -q compat && rig_die "cli: compat on"
        fi
done
rig_log "ok"
