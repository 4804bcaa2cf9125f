#!/bin/bash
# The real ld.so finds a library through a cache we wrote: the host cache plus
# libnvhtest.so.1 -> a directory ld.so never searches, bind-mounted over /etc/ld.so.cache in a
# private mount namespace. Needs root; leaves nothing on the host.
set -eu

if [ "$(id -u)" != 0 ]; then
        echo "needs root (mount namespace, bind mount over /etc/ld.so.cache), skipping" >&2
        exit 77
fi
for t in gcc unshare mount ldconfig sha256sum; do
        if ! command -v "$t" >/dev/null; then
                echo "needs $t, skipping" >&2
                exit 77
        fi
done
if [ ! -f /etc/ld.so.cache ]; then
        echo "host has no /etc/ld.so.cache, skipping" >&2
        exit 77
fi

src=${NVH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d /tmp/nvh-ldcache-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
before=$(sha256sum /etc/ld.so.cache)

fail() {
        echo "FAIL: $*" >&2
        exit 1
}

mkdir -p "$tmp/odd dir/lib"
lib="$tmp/odd dir/lib/libnvhtest.so.1.0"
echo 'int nvhtest_answer(void) { return 42; }' >"$tmp/t.c"
gcc -shared -fPIC -nostdlib -Wl,-soname,libnvhtest.so.1 -o "$lib" "$tmp/t.c"

# Writer: host cache + one entry, through the module under test.
cat >"$tmp/writer.c" <<'EOF'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include "fileio.h"
#include "ldcache.h"
int
main(int argc, char **argv)
{
        struct nvh_err err = { 0 };
        struct nvh_ldcache *c = NULL;
        char *buf = NULL;
        size_t len = 0;
        int fd;

        if (argc != 3)
                return 2;
        if (nvh_ldcache_load(AT_FDCWD, "/etc/ld.so.cache", &c, &err) < 0 ||
            nvh_ldcache_upsert(c, "libnvhtest.so.1", argv[1],
                               NVH_LDCACHE_FLAG_ELF_LIBC6 | NVH_LDCACHE_FLAG_X8664_LIB64, &err) < 0 ||
            nvh_ldcache_serialize(c, &buf, &len, &err) < 0) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
        }
        fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || nvh_fileio_write_all(fd, buf, len) < 0)
                return 1;
        printf("%zu\n", c->n_entries);
        return 0;
}
EOF
cat >"$tmp/dltest.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
int
main(void)
{
        void *h = dlopen("libnvhtest.so.1", RTLD_NOW);
        struct link_map *lm = NULL;
        int (*f)(void);

        if (!h) {
                printf("not found: %s\n", dlerror());
                return 1;
        }
        f = (int (*)(void))dlsym(h, "nvhtest_answer");
        if (!f || dlinfo(h, RTLD_DI_LINKMAP, &lm) != 0)
                return 1;
        printf("%s %d\n", lm->l_name, f());
        return 0;
}
EOF
gcc -std=gnu11 -D_GNU_SOURCE -I"$src/lib" -o "$tmp/writer" "$tmp/writer.c" "$src/lib/ldcache.c" \
        "$src/lib/ldcache_write.c" "$src/lib/fileio.c" "$src/lib/err.c"
gcc -o "$tmp/dltest" "$tmp/dltest.c" -ldl

# Only x86-64 flags are written by the writer above.
if [ "$(uname -m)" != x86_64 ]; then
        echo "writer uses x86-64 flags, host is $(uname -m), skipping" >&2
        exit 77
fi

# The value is the versioned file itself (no soname link), as the hook maps sonames.
want=$lib
n=$("$tmp/writer" "$want" "$tmp/ld.so.cache")

# Control: without our cache ld.so cannot find it.
if "$tmp/dltest" >/dev/null; then
        fail "libnvhtest.so.1 found without the injected cache"
fi
# glibc's reader lists the new entry.
ldconfig -p -C "$tmp/ld.so.cache" | grep -qF "libnvhtest.so.1 (libc6,x86-64) => $want" ||
        fail "ldconfig -p does not list libnvhtest.so.1"

# shellcheck disable=SC2016 # $1 expands in the inner shell
out=$(unshare -m --propagation private bash -c '
        set -e
        mount -n --bind "$1/ld.so.cache" /etc/ld.so.cache
        "$1/dltest"
        ldconfig -p | head -1
        LD_DEBUG=libs "$1/dltest" 2>&1 | grep -e "search cache=" -e "trying file=.*libnvhtest" |
                grep -A1 "search cache=" | grep "libnvhtest" | head -1
' _ "$tmp") || fail "dlopen in the namespace failed: $out"
echo "$out"
first=$(echo "$out" | sed -n 1p)
[ "$first" = "$want 42" ] || fail "dlopen resolved to '$first', want '$want 42'"
echo "$out" | sed -n 2p | grep -q "^$n libs found" || fail "ldconfig -p count is not $n"
echo "$out" | sed -n 3p | grep -qF "trying file=$want" || fail "ld.so did not take it from the cache"

# Nothing left behind on the host.
[ "$(sha256sum /etc/ld.so.cache)" = "$before" ] || fail "host /etc/ld.so.cache changed"
if grep -q ' /etc/ld.so.cache ' /proc/self/mountinfo; then
        fail "a mount on /etc/ld.so.cache is visible on the host"
fi
echo "ok: ld.so resolved libnvhtest.so.1 to $want through the written cache"
