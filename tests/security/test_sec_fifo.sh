#!/bin/bash
# FIFOs and device nodes in the image where nvhook reads or writes: /etc/ld.so.cache as a FIFO
# (a blocking open would hang the hook: it runs under timeout), as a character device (the
# host's kernel log, /dev/mem) and a block device (a host loop device), and the files nvhook
# mounts over (a library, nvidia-smi) as FIFOs or nodes. The hook never hangs, never reads a
# device node or FIFO of the image (strace), and either starts the container or refuses in one
# line.
set -eu
. "$(dirname "$0")/lib.sh"
rig_enter_private_ns "$@"
sec_setup
rig_require_cmd strace

# The hook under strace: its opens and reads, to show a node of the image is never read.
trace=$RIG_TMP/trace
printf '#!/bin/sh\nexec %s -f -qq -e trace=open,openat,openat2,read,close,pread64,setns -e signal=none -o "%s.$$" %s "$@"\n' \
        "$(command -v strace)" "$trace" "$NVHOOK" >"$RIG_TMP/bin/traced-nvhook"
chmod 0755 "$RIG_TMP/bin/traced-nvhook"
# The wrapper is made once per test with the NVHOOK it sees: remake it with the traced one.
rm -f "$RIG_TMP/bin/sec-hook"
NVHOOK=$RIG_TMP/bin/traced-nvhook sec_hook_wrapper >/dev/null

# Successful non-O_PATH opens of NAME while in the container's mount namespace (between the
# hook's setns into it and back: the image's file, not the driver tree's own of that name) that
# were then read (pid fd pairs, until closed): prints the open and the read.
read_of() {
        local name=$1
        shift
        awk -v name="$name" '
        $2 ~ /^setns\(/ && /CLONE_NEWNS/ && $NF == 0 { inside[$1] = !inside[$1] }
        inside[$1] && index($0, name) && /open/ && !/O_PATH/ && $NF ~ /^[0-9]+$/ {
                fd[$1 " " $NF] = $0
        }
        $2 ~ /^(read|pread64)\(/ {
                split($2, a, /[(,]/)
                if (($1 " " a[2]) in fd) { print fd[$1 " " a[2]] " / " $0; exit }
        }
        $2 ~ /^close\(/ { split($2, a, /[()]/); delete fd[$1 " " a[2]] }
        ' "$@"
}

n=0
# node EXPECT PATH SETUP: SETUP makes $p (PATH in the bundle's rootfs) before the start.
node() {
        local expect=$1 path=$2 setup=$3 b
        n=$((n + 1))
        b=$RIG_TMP/node-$n
        rm -f "$trace".*
        sec_bundle "$b"
        rm -f "$b/rootfs$path"
        mkdir -p "$(dirname "$b/rootfs$path")"
        # shellcheck disable=SC2034  # p is used by the eval'ed setup
        (p=$b/rootfs$path && eval "$setup") || rig_die "case $n: setup failed"
        rig_args "$b" sh -c 'echo NODE-DONE'
        sec_start "$b" "node-$n" "$expect"
        rig_log "case $n ($path: $setup): hook rc $SEC_HOOK_RC, ${SEC_HOOK_MS} ms:" \
                "$(cat "$SEC_HOOK_ERR")"
        local r=""
        if ls "$trace".* >/dev/null 2>&1; then
                r=$(read_of "$(basename "$path")" "$trace".*)
        fi
        [ -z "$r" ] || sec_fail "node-$n: the hook read the image's $path: $r"
}

node any /etc/ld.so.cache 'mkfifo "$p"'
node any /etc/ld.so.cache 'mknod "$p" c 1 11' # the host's /dev/kmsg
node any /etc/ld.so.cache 'mknod "$p" c 1 1'  # /dev/mem
node any /etc/ld.so.cache 'mknod "$p" b 7 0'  # /dev/loop0
node any /usr/lib/nvhook 'mkfifo "$p"'          # the driver directory's mount point
node any /usr/lib/nvhook 'mknod "$p" c 1 1'
node any /usr/lib/nvhook/lib/libcuda.so.580.159.04 'mkfifo "$p"' # under the tmpfs: hidden
node any /usr/bin/nvidia-smi 'mknod "$p" c 1 3'
node any /usr/lib/x86_64-linux-gnu/libcuda.so 'mkfifo "$p"' # a development link's name
rig_log "ok: $n FIFO and node layouts"
