#!/bin/bash
# The install and the .deb: configure a fresh build for /usr, `cmake --install` with DESTDIR
# (binaries, the alternative names as symlinks, the hooks.d file naming the installed path,
# the example config with every key, the man pages), then `cpack -G DEB`: the package depends
# on libc6 only (nvhook is static, nvhook-probe needs only libc). The .deb is installed with
# dpkg into a fresh Debian 12 root (the rig's cached debootstrap tree), `nvhook --version` and
# `nvhook doctor` run there (chroot, fake driver bound in), Podman on this host starts a GPU
# container through the installed hooks.d file, and `dpkg --purge` leaves the root as it was.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
. "$(dirname "$0")/product_lib.sh"
rig_enter_private_ns "$@"
rig_require_cmd cmake cpack dpkg dpkg-deb readelf chroot
[ -d "${NVH_FIXTURES:-}/driver" ] || rig_skip "no generated fixtures (run under ctest)"

# --- build and install layout ---
b=$RIG_TMP/pkgbuild
cmake -S "$RIG_SRC" -B "$b" -DCMAKE_INSTALL_PREFIX=/usr -DNVH_TESTS=OFF \
        -DNVH_INSTALL_CLI=ON >"$RIG_TMP/cmake.log" 2>&1 || { cat "$RIG_TMP/cmake.log" >&2; rig_die "cmake"; }
cmake --build "$b" -j 2 --target nvhook nvhook-probe >>"$RIG_TMP/cmake.log" 2>&1 ||
        { tail -50 "$RIG_TMP/cmake.log" >&2; rig_die "build"; }
d=$RIG_TMP/destdir
DESTDIR=$d cmake --install "$b" >"$RIG_TMP/install.log" 2>&1 || { cat "$RIG_TMP/install.log" >&2; rig_die "install"; }
for f in usr/bin/nvhook usr/bin/nvhook-probe usr/share/man/man1/nvhook.1 \
        usr/share/man/man5/nvhook.conf.5 usr/share/man/man7/nvhook.7 \
        usr/share/doc/nvhook/config.json.example usr/share/containers/oci/hooks.d/nvhook.json; do
        [ -f "$d/$f" ] || rig_die "install: no '$f'"
done
for l in nvidia-container-runtime-hook nvhook-runtime nvidia-container-cli; do
        [ "$(readlink "$d/usr/bin/$l")" = nvhook ] || rig_die "install: '$l' is not a link to nvhook"
done
jq -e '.hook.path == "/usr/bin/nvhook" and .stages == ["prestart"] and .when.always' \
        "$d/usr/share/containers/oci/hooks.d/nvhook.json" >/dev/null || rig_die "hooks.d file"
# The example has every key of lib/conf.c, each at its default: nvhook accepts it and shows the
# same as with no config at all.
ex=$d/usr/share/doc/nvhook/config.json.example
keys=$(sed -n 's/^    {"\([a-z_]*\)", K_.*/\1/p' "$RIG_SRC/lib/conf.c" | sort)
[ -n "$keys" ] || rig_die "no keys found in lib/conf.c"
[ "$(jq -r 'keys[]' "$ex" | sort)" = "$keys" ] || rig_die "example keys differ from lib/conf.c: $keys"
"$b/nvhook" --config "$ex" --proc "$NVH_FIXTURES/proc-1gpu" info >"$RIG_TMP/ex.out" ||
        rig_die "nvhook rejects its example config"
readelf -d "$b/nvhook" | grep -q NEEDED && rig_die "nvhook has run-time library dependencies"

# --- the package ---
(cd "$b" && cpack -G DEB >"$RIG_TMP/cpack.log" 2>&1) || { cat "$RIG_TMP/cpack.log" >&2; rig_die "cpack"; }
deb=$(ls "$b"/nvhook_*.deb)
dep=$(dpkg-deb -f "$deb" Depends)
case $dep in
"libc6 (>= "*")") ;;
*) rig_die "Depends is '$dep', expected libc6 only" ;;
esac
[ "$(dpkg-deb -f "$deb" Conflicts)" = nvidia-container-toolkit ] ||
        rig_die "the .deb does not conflict with the package that owns nvidia-container-runtime-hook"
contents=$(dpkg-deb -c "$deb")
grep -q ' ./usr/bin/nvhook-runtime -> nvhook$' <<<"$contents" || rig_die "no nvhook-runtime link in the .deb"

# --- a fresh Debian 12 root ---
r=$RIG_TMP/debroot
mkdir "$r"
cp -a "$(rig_rootfs glibc)/." "$r/"
snapshot() { # every path with type, mode, owner and content hash; dpkg's own records and logs aside
        (cd "$r" && find . -path ./var/lib/dpkg -prune -o -path ./var/log -prune -o -path ./tmp -prune \
                -o -path ./proc -prune -o -path ./mnt -prune -o -printf '%p %y %m %u %l\n' | sort
        cd "$r" && find . -path ./var/lib/dpkg -prune -o -path ./var/log -prune -o -path ./tmp -prune \
                -o -type f -print0 | sort -z | xargs -0 sha256sum)
}
before=$(snapshot)
cp "$deb" "$r/tmp/nvhook.deb"
chroot "$r" dpkg -i /tmp/nvhook.deb >"$RIG_TMP/dpkg.log" 2>&1 || { cat "$RIG_TMP/dpkg.log" >&2; rig_die "dpkg -i"; }
chroot "$r" dpkg -s nvhook | grep -q '^Status: install ok installed' || rig_die "not installed"

mount -n -t proc rig-proc "$r/proc"
mkdir -p "$r/mnt/fixtures"
mount -n --rbind "$NVH_FIXTURES" "$r/mnt/fixtures"
chroot "$r" nvhook --version >"$RIG_TMP/version" || rig_die "nvhook --version in the root"
grep -q '^nvhook [0-9]' "$RIG_TMP/version" && grep -q '^kernel features: ' "$RIG_TMP/version" ||
        rig_die "--version: $(cat "$RIG_TMP/version")"
printf '{"cache_dir": "/tmp/nvhook-cache"}\n' >"$r/tmp/conf.json"
rc=0
chroot "$r" nvhook --config /tmp/conf.json doctor --json --root /mnt/fixtures/driver \
        --proc /mnt/fixtures/proc-1gpu --dev /mnt/fixtures/dev-1gpu >"$RIG_TMP/doctor" || rc=$?
[ "$rc" = 0 ] || [ "$rc" = 1 ] || rig_die "doctor exit $rc"
for c in driver gpus nodes uvm driver-files probe; do
        jq -e --arg c "$c" '.checks[] | select(.check == $c) | .status == "ok"' "$RIG_TMP/doctor" \
                >/dev/null || rig_die "doctor in the root: '$c' not ok: $(cat "$RIG_TMP/doctor")"
done
jq -e '.checks[] | select(.check == "probe") | .detail | startswith("'"'"'/usr/bin/nvhook-probe'"'"' root-owned")' \
        "$RIG_TMP/doctor" >/dev/null || rig_die "doctor: probe not found beside the installed nvhook"
umount -n -R "$r/mnt/fixtures"
umount -n "$r/proc"
rmdir "$r/mnt/fixtures"

# --- Podman on this host through the installed hooks.d file (it names /usr/bin/nvhook: the
# installed binaries show through an overlay on /usr/bin in this namespace only) ---
hook_setup
product_nvhook_conf
mkdir -p "$RIG_TMP/usrbin-upper"
cp -a "$r/usr/bin/nvhook" "$r/usr/bin/nvhook-probe" "$RIG_TMP/usrbin-upper/"
product_overlay /usr/bin "$RIG_TMP/usrbin-upper"
c=$RIG_TMP/podman-rootfs
cp -a "$(rig_rootfs busybox)" "$c"
RIG_HOOKS_DIR=$r/usr/share/containers/oci/hooks.d rig_podman runc "$c" -e NVIDIA_VISIBLE_DEVICES=all \
        --cap-add MKNOD -- sh -c "$(hook_check_script /usr/lib64 0 1)"
rig_assert_rc 0
rig_assert_stdout_has ALL-CHECKS-PASSED
grep -q '"decision"' "$HOOK_LOG" || rig_die "the installed hook did not log"

# --- purge: nothing left ---
chroot "$r" dpkg --purge nvhook >>"$RIG_TMP/dpkg.log" 2>&1 || { cat "$RIG_TMP/dpkg.log" >&2; rig_die "dpkg --purge"; }
rm -rf "$r/tmp/nvhook.deb" "$r/tmp/conf.json" "$r/tmp/nvhook-cache"
after=$(snapshot)
if [ "$before" != "$after" ]; then
        diff <(echo "$before") <(echo "$after") >&2 || true
        rig_die "the root differs after dpkg --purge"
fi
rig_log "ok ($(basename "$deb"), Depends: $dep)"
