#!/bin/sh
# mkrootfs.sh OUT KIND -- build a root filesystem usable as an OCI bundle's root.path.
#
#   KIND=busybox  minimal tree from busybox-static: /bin/busybox plus applet symlinks,
#                 /etc/passwd and /etc/group, empty /dev /proc /sys /tmp /run, /lib and
#                 /usr/lib (no multiarch dir on purpose: the hook must cope with images that
#                 have no glibc layout). Takes well under a second.
#   KIND=glibc    debootstrap --variant=minbase bookworm from the Debian mirror configured for
#                 apt on this machine. Built once per machine and cached as a tarball at
#                 ${NVH_CACHE:-/var/cache/nvhook-test}/glibc-rootfs.tar (a few minutes the
#                 first time); later calls only unpack it.
#
# OUT must not exist or be an empty directory. Needs root (mknod-free, but debootstrap and
# file ownership need it). Exit 77 when KIND=glibc cannot be built here (no debootstrap, no
# mirror), so tests can skip with a reason.
#
# Environment: NVH_CACHE (cache dir), NVH_MIRROR (override the mirror URL),
# NVH_DEBOOTSTRAP_LOG (where debootstrap's output goes; default $NVH_CACHE/debootstrap.log).
set -eu

usage() {
        echo "usage: $0 OUT busybox|glibc" >&2
        exit 2
}

[ $# -eq 2 ] || usage
out=$1
kind=$2
cache=${NVH_CACHE:-/var/cache/nvhook-test}

prepare_out() {
        if [ -e "$out" ]; then
                if [ -n "$(ls -A "$out")" ]; then
                        echo "mkrootfs: '$out' exists and is not empty" >&2
                        exit 1
                fi
        else
                mkdir -p "$out"
        fi
}

# Print the first http(s) URI of a Debian (not -security) repository known to apt.
find_mirror() {
        if [ -n "${NVH_MIRROR:-}" ]; then
                echo "$NVH_MIRROR"
                return 0
        fi
        for f in /etc/apt/sources.list.d/*.sources; do
                [ -r "$f" ] || continue
                # deb822: "URIs: ..." in a stanza whose Suites contain bookworm (not -security).
                awk '
                        /^URIs:/   { uri = $2 }
                        /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") ok = 1 }
                        /^$/       { if (ok && uri != "") { print uri; exit } uri = ""; ok = 0 }
                        END        { if (ok && uri != "") print uri }
                ' "$f" | head -n 1
        done | grep -m 1 . && return 0
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
                [ -r "$f" ] || continue
                awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' "$f"
        done | grep -m 1 . && return 0
        return 1
}

make_busybox() {
        bb=$(command -v busybox || true)
        if [ -z "$bb" ]; then
                echo "mkrootfs: busybox not installed (apt-get install busybox-static)" >&2
                exit 77
        fi
        if ldd "$bb" >/dev/null 2>&1; then
                echo "mkrootfs: '$bb' is dynamically linked; install busybox-static" >&2
                exit 77
        fi
        prepare_out
        mkdir -p "$out/bin" "$out/sbin" "$out/usr/bin" "$out/usr/sbin" "$out/etc" \
                "$out/dev" "$out/proc" "$out/sys" "$out/tmp" "$out/run" "$out/root" \
                "$out/lib" "$out/usr/lib" "$out/var"
        chmod 1777 "$out/tmp"
        cp "$bb" "$out/bin/busybox"
        chmod 0755 "$out/bin/busybox"
        # Every applet this busybox build knows, as a symlink in /bin.
        for applet in $("$bb" --list); do
                [ "$applet" = busybox ] && continue
                ln -sf busybox "$out/bin/$applet"
        done
        {
                echo 'root:x:0:0:root:/root:/bin/sh'
                echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false'
        } >"$out/etc/passwd"
        printf 'root:x:0:\nnogroup:x:65534:\n' >"$out/etc/group"
        echo "busybox" >"$out/etc/hostname"
}

build_glibc_cache() {
        tarball=$1
        command -v debootstrap >/dev/null 2>&1 ||
                { echo "mkrootfs: debootstrap not installed" >&2; exit 77; }
        mirror=$(find_mirror) ||
                { echo "mkrootfs: no bookworm mirror found in apt sources" >&2; exit 77; }
        mkdir -p "$cache"
        log=${NVH_DEBOOTSTRAP_LOG:-$cache/debootstrap.log}
        tmp=$(mktemp -d "$cache/debootstrap.XXXXXX")
        echo "mkrootfs: debootstrap minbase bookworm from $mirror (log: $log)" >&2
        if ! debootstrap --variant=minbase bookworm "$tmp/root" "$mirror" >"$log" 2>&1; then
                echo "mkrootfs: debootstrap failed, see '$log'" >&2
                tail -n 5 "$log" >&2 || true
                rm -rf "$tmp"
                exit 77
        fi
        # Drop the package cache and anything host-specific; keep the image small and neutral.
        rm -rf "$tmp/root/var/cache/apt/archives/"*.deb "$tmp/root/var/lib/apt/lists/"* \
                "$tmp/root/dev/"*
        tar -C "$tmp/root" --numeric-owner -cf "$tmp/rootfs.tar" .
        mv "$tmp/rootfs.tar" "$tarball"
        rm -rf "$tmp"
}

make_glibc() {
        tarball=$cache/glibc-rootfs.tar
        lock=$cache/glibc-rootfs.lock
        mkdir -p "$cache"
        # Serialize concurrent builders (parallel ctest): the first builds, the others wait.
        exec 9>"$lock"
        flock 9
        [ -s "$tarball" ] || build_glibc_cache "$tarball"
        flock -u 9
        exec 9>&-
        prepare_out
        tar -C "$out" --numeric-owner -xf "$tarball"
}

case "$kind" in
busybox) make_busybox ;;
glibc) make_glibc ;;
*) usage ;;
esac
