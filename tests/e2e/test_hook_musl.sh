#!/bin/bash
# A musl image (Alpine's layout: the loader at /lib/ld-musl-x86_64.so.1, no glibc cache): its
# loader does not read /etc/ld.so.cache, so the image's library directory (/usr/lib, which musl
# searches by default) gets the soname links into the driver directory. A program built with
# musl-gcc dlopens "libcuda.so.1" by name and calls into it: the injected library answers.
# musl comes from Debian's musl package (the real loader); the rootfs is busybox plus that.
set -eu
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/hook_lib.sh"
command -v musl-gcc >/dev/null || rig_skip "musl-gcc not installed (Debian package musl-tools)"
rig_enter_private_ns "$@"
hook_setup

musl_lib=$(dpkg -L musl | grep -m1 '/libc\.so$') || rig_skip "no musl libc.so from the musl package"
b=$RIG_TMP/musl
rig_bundle "$b" busybox
r=$b/rootfs
mkdir -p "$r/lib" "$r/usr/lib" "$r/usr/local/bin"
cp "$musl_lib" "$r/lib/ld-musl-x86_64.so.1"
cat >"$RIG_TMP/musl_dlopen.c" <<'CEOF'
#include <dlfcn.h>
#include <stdio.h>
int main(void)
{
        void *h = dlopen("libcuda.so.1", RTLD_NOW);
        int (*ver)(int *) = h ? (int (*)(int *))dlsym(h, "cuDriverGetVersion") : NULL;
        int v = 0;
        if (!ver || ver(&v) != 0) {
                printf("dlopen failed: %s\n", dlerror());
                return 1;
        }
        printf("musl dlopen libcuda.so.1: driver CUDA version %d\n", v);
        return 0;
}
CEOF
musl-gcc -O2 -o "$r/usr/local/bin/musl_dlopen" "$RIG_TMP/musl_dlopen.c"
# Control: the image's loader cannot find the library before the hook.
if chroot "$r" /usr/local/bin/musl_dlopen >/dev/null 2>&1; then
        rig_die "control: libcuda.so.1 loads in the bare musl image"
fi
rig_env "$b" NVIDIA_VISIBLE_DEVICES=0
"$NVHOOK" --config "$HOOK_CONF" explain --bundle "$b" >"$RIG_TMP/explain.json"
jq -e '.layout.musl and (.layout.glibc | not) and .layout.libdir == "/usr/lib"' \
        "$RIG_TMP/explain.json" >/dev/null || rig_die "layout: $(jq -c .layout "$RIG_TMP/explain.json")"
jq -e '[.operations[] | select(.op == "file")] | length == 0' "$RIG_TMP/explain.json" >/dev/null ||
        rig_die "a glibc conf file planned for a musl image"

rig_args "$b" sh -c '
set -e
[ "$(readlink /usr/lib/libcuda.so.1)" = /usr/lib/nvhook/lib/libcuda.so.1 ]
[ "$(readlink /usr/lib/libcuda.so)" = /usr/lib/nvhook/lib/libcuda.so.1 ]
[ ! -e /usr/lib/libcuda.so.580.159.04 ]
[ ! -e /etc/ld.so.conf.d/00-nvhook.conf ]
/usr/local/bin/musl_dlopen
grep -q " /usr/lib/nvhook/lib/libcuda.so.580.159.04 " /proc/self/mountinfo
echo MUSL-CHECKS-PASSED'
rig_hook "$b" prestart "$NVHOOK" --config "$HOOK_CONF" prestart
rig_run runc "$b" musl
rig_assert_rc 0
rig_assert_stdout_has "musl dlopen libcuda.so.1: driver CUDA version 13000"
rig_assert_stdout_has MUSL-CHECKS-PASSED
rig_log "ok"
