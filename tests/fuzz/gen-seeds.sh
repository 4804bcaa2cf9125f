#!/bin/bash
# Binary seeds, made at run time (never committed): ld.so.caches written by the real ldconfig
# in its three formats, ELF files built by gcc (and one from the host), procfs inputs from
# tests/fixtures/mkprocfs.sh joined the way fuzz_procfs.c splits them. Usage: gen-seeds.sh OUT.
set -eu
out=${1:?usage: gen-seeds.sh OUTDIR}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/ldcache" "$out/elf" "$out/procfs"

# A root with a 64- and a 32-bit library, one in a glibc-hwcaps subdirectory.
root=$work/root
mkdir -p "$root/etc" "$root/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3" "$root/usr/lib32"
echo 'int nvh_fuzz_seed(void){return 1;}' >"$work/f.c"
gcc -shared -fPIC -Wl,-soname,libfoo.so.1 -o "$root/lib/x86_64-linux-gnu/libfoo.so.1" "$work/f.c"
cp "$root/lib/x86_64-linux-gnu/libfoo.so.1" \
        "$root/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libfoo.so.1"
gcc -shared -fPIC -Wl,-soname,libbar.so.2 -o "$root/lib/x86_64-linux-gnu/libbar.so.2" "$work/f.c"
if gcc -m32 -shared -fPIC -nostdlib -Wl,-soname,libfoo.so.1 -o "$root/usr/lib32/libfoo.so.1" \
        "$work/f.c" 2>/dev/null; then
        cp "$root/usr/lib32/libfoo.so.1" "$out/elf/lib32.so"
fi
printf '/lib/x86_64-linux-gnu\n/usr/lib32\n' >"$root/etc/ld.so.conf"
for fmt in old compat new; do
        ldconfig -r "$root" -c "$fmt" -C "/etc/ld.so.cache.$fmt" -f /etc/ld.so.conf -X
        cp "$root/etc/ld.so.cache.$fmt" "$out/ldcache/$fmt"
done
cp "$root/lib/x86_64-linux-gnu/libfoo.so.1" "$out/elf/lib64.so"
gcc -o "$work/exe" "$work/f.c" -Wl,-e,nvh_fuzz_seed -nostartfiles
cp "$work/exe" "$out/elf/exe"

# procfs: the 1-GPU and MIG trees of the fixtures, in fuzz_procfs.c's order.
bash "$src/tests/fixtures/mkprocfs.sh" "$work/fx" >/dev/null
for tree in 1gpu mig; do
        p=$work/fx/proc-$tree
        info=$(find "$p/driver/nvidia/gpus" -name information | head -n1)
        access=$(find "$p/driver/nvidia/capabilities" -path '*/mig/gi*/access' | head -n1)
        {
                cat "$p/devices"
                printf '\0'
                cat "$p/driver/nvidia/version"
                printf '\0'
                cat "$p/driver/nvidia/params"
                printf '\0'
                cat "$info"
                printf '\0'
                cat "$p/driver/nvidia/capabilities/mig/config"
                printf '\0'
                if [ -n "$access" ]; then cat "$access"; fi
        } >"$out/procfs/$tree"
done
