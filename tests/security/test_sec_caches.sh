#!/bin/bash
# Hostile linker caches in the image's /etc/ld.so.cache: a huge entry count, a shared-string
# bomb (every entry points at one long string: copying per entry multiplies it), truncated,
# corrupt, empty, and x32 entries. The hook stays within SEC_MAX_RSS_KB of memory and its
# timeout, either rewrites a valid cache or refuses in one line, and never puts the i386
# libraries where the cache's x32 libc lives.
set -eu
. "$(dirname "$0")/lib.sh"
rig_enter_private_ns "$@"
sec_setup
rig_require_cmd gcc
gcc -O2 -Wall -o "$RIG_TMP/bin/mkhostile" "$SEC_LIB_DIR/mkhostile.c" ||
        rig_die "cannot build mkhostile"
mk() { "$RIG_TMP/bin/mkhostile" "$@" || rig_die "mkhostile $* failed"; }

# The container checks the cache the hook left: new format, listing the injected libcuda.
check_cache='c=$(head -c 20 /etc/ld.so.cache)
[ "$c" = glibc-ld.so.cache1.1 ] || { echo "CHECK FAILED: cache header $c"; exit 1; }
grep -q libcuda.so.1 /etc/ld.so.cache || { echo "CHECK FAILED: no libcuda.so.1"; exit 1; }
echo CACHE-OK'

n=0
# cache EXPECT FILE [ENV...]: FILE becomes the image's /etc/ld.so.cache.
cache() {
        local expect=$1 file=$2 b
        shift 2
        n=$((n + 1))
        b=$RIG_TMP/cache-$n
        sec_bundle "$b" "${@:-NVIDIA_VISIBLE_DEVICES=all}"
        cp "$file" "$b/rootfs/etc/ld.so.cache"
        rig_args "$b" sh -c "$check_cache"
        sec_start "$b" "cache-$n" "$expect"
        rig_log "case $n ($(basename "$file"), $(stat -c %s "$file") bytes): hook rc" \
                "$SEC_HOOK_RC, ${SEC_HOOK_RSS} KiB, ${SEC_HOOK_MS} ms: $(cat "$SEC_HOOK_ERR")"
        if [ "$SEC_HOOK_RC" = 0 ]; then
                grep -q CACHE-OK "$RIG_STDOUT" || { rig_show; sec_fail "cache-$n: bad cache"; }
        fi
}

c=$RIG_TMP/caches
mkdir -p "$c"
mk "$c/valid" valid 20
mk "$c/huge" valid "${SEC_CACHE_ENTRIES:-500000}"
mk "$c/bomb-2m" bomb $((2 << 20))
mk "$c/bomb-60m" bomb $((60 << 20))
mk "$c/x32" x32
head -c $(($(stat -c %s "$c/valid") / 2)) "$c/valid" >"$c/truncated"
head -c 47 "$c/valid" >"$c/header-only"
cp "$c/valid" "$c/corrupt"
# Entry offsets pointing far past the end, a string table without terminator.
printf '\xff\xff\xff\x7f\xff\xff\xff\x7f' | dd of="$c/corrupt" bs=1 seek=52 conv=notrunc 2>/dev/null
head -c 4096 /dev/urandom >"$c/random"
: >"$c/empty"

cache ok "$c/valid"
cache ok "$c/truncated"
cache ok "$c/header-only"
cache ok "$c/corrupt"
cache ok "$c/random"
cache ok "$c/empty"
# Costly caches: bounded in memory and time, or refused.
cache any "$c/huge"
cache any "$c/bomb-2m"
cache any "$c/bomb-60m"
# x32: the i386 libraries never go to /usr/libx32.
b=$RIG_TMP/cache-x32
sec_bundle "$b" NVIDIA_VISIBLE_DEVICES=all NVIDIA_DRIVER_CAPABILITIES=all
cp "$c/x32" "$b/rootfs/etc/ld.so.cache"
rig_args "$b" sh -c 'ls /usr/libx32 2>/dev/null | grep -i nvidia && echo X32-POLLUTED; echo X32-DONE'
sec_start "$b" cache-x32 any
if [ "$SEC_HOOK_RC" = 0 ]; then
        rig_assert_stdout_has X32-DONE
        ! grep -q X32-POLLUTED "$RIG_STDOUT" ||
                { rig_show; sec_fail "cache-x32: i386 libraries injected into /usr/libx32"; }
fi
rig_log "ok: $((n + 1)) caches"
