# shellcheck shell=bash
# shellcheck disable=SC2016  # jq filters are single-quoted on purpose ($ARGS, $path are jq's)
# tests/e2e/lib.sh -- rig for end-to-end tests that run real OCI runtimes (runc, crun, podman)
# with a hook, on cgroup v1 and v2, inside a private mount namespace so the host is untouched.
#
# Usage in a test (run by ctest as `bash test_x.sh`):
#
#       . "$(dirname "$0")/lib.sh"
#       rig_enter_private_ns "$@"          # re-execs the script in a private mount namespace
#       rig_cgroup_v2                       # or rig_cgroup_v1; default is the host's layout
#       rig_bundle "$RIG_TMP/b" busybox
#       rig_args "$RIG_TMP/b" sh -c 'cat /marker'
#       rig_hook "$RIG_TMP/b" prestart "$NVHOOK" prestart
#       rig_run runc "$RIG_TMP/b" c1
#       rig_assert_rc 0; rig_assert_stdout_has 'expected text'
#
# Functions (all die with exit 1 on rig errors, or exit 77 where the machine cannot do it):
#
#   rig_log MSG...                 message on stderr, prefixed with the test name
#   rig_die MSG...                 message, exit 1
#   rig_skip REASON...             message, exit 77 (ctest: skipped)
#   rig_require_root               skip unless uid 0
#   rig_require_cmd CMD...         skip unless every CMD is in PATH
#   rig_enter_private_ns "$@"      outer call: snapshot host mounts + cgroups, run the script again
#                                  under `unshare -m --propagation private`, then (outside the
#                                  namespace) kill/remove the test's cgroups, fail if the host
#                                  gained or lost a mount or kept a cgroup (new /run entries are
#                                  reported as a note: concurrent tests may make them),
#                                  restore cgroup2 root subtree_control, remove $RIG_TMP, exit
#                                  with the inner status. Inner call: mount a private tmpfs on /run
#                                  (runtime state, /run/nvhook) and return. Exports RIG_TMP
#                                  (scratch dir), RIG_CG (cgroup parent name, nvh-e2e-<pid>).
#   rig_cgroup_mode                prints hybrid | v1 | v2 (the layout this namespace sees now)
#   rig_cgroup_v1                  make the layout pure v1 (unmount /sys/fs/cgroup/unified); crun
#                                  refuses the hybrid layout when cgroup2 has any controller
#   rig_cgroup_v2                  make the layout pure v2: mount cgroup2 on /sys/fs/cgroup.
#                                  On this hybrid host every controller but hugetlb stays bound
#                                  to v1, so v2 containers get no pids/memory/cpu limits, but the
#                                  device eBPF program (not a controller) works normally
#   rig_cgroup_v2_dir PID          host path of PID's cgroup v2 directory (any layout)
#   rig_devprogs DIR               prints "<count> <attach_flags>" of BPF_CGROUP_DEVICE programs
#                                  attached to cgroup v2 DIR (BPF_PROG_QUERY; tiny C helper)
#   rig_helpers                    builds the C helpers under $RIG_TMP/bin (rig-devprogs,
#                                  memlock shim); prints that dir
#   rig_runtime_bin RUNTIME        path to run for runc | crun ($NVH_RUNC / $NVH_CRUN override);
#                                  for crun where RLIMIT_MEMLOCK cannot be raised, a wrapper
#                                  that preloads the memlock shim (see gotchas below)
#   rig_rootfs KIND                prints a pristine rootfs dir (busybox | glibc) made once per
#                                  test by scripts/mkrootfs.sh; skips (77) if glibc can't be built
#   rig_bundle DIR KIND            OCI bundle in DIR: rootfs copy of KIND at DIR/rootfs (KIND
#                                  host: DIR/rootfs links to a scripts/gpu-rootfs.sh overlay of
#                                  the machine's /, driver hidden; for the GPU machine; root.path
#                                  is then its absolute path) and config.json from `runc spec`,
#                                  edited: root.path "rootfs",
#                                  root.readonly false, terminal false, args ["true"]
#   rig_jq DIR FILTER [JQ ARGS]    apply a jq filter to DIR/config.json in place
#   rig_args DIR ARG...            process.args
#   rig_env DIR K=V...             add or replace process.env entries
#   rig_hook DIR STAGE PATH [ARG...]  append a hook (args[0] = PATH) to hooks.STAGE; env from
#                                  $RIG_HOOK_ENV (newline-separated K=V, default a PATH) and
#                                  timeout from $RIG_HOOK_TIMEOUT when set
#   rig_userns DIR [HOST_ID [SIZE]]  add a user namespace (0 -> HOST_ID, default 100000/65536)
#                                  and shift the rootfs ownership by HOST_ID
#   rig_run RUNTIME DIR ID         `RUNTIME --root $RIG_TMP/state/RUNTIME run -b DIR ID` under a
#                                  timeout ($RIG_TIMEOUT, 120 s); linux.cgroupsPath defaults to
#                                  /$RIG_CG/ID. Sets RIG_RC, RIG_STDOUT, RIG_STDERR (file paths)
#                                  and never fails itself: assert on the result
#   rig_hooksd DIR NAME STAGE PATH [WHEN_JSON [ARG...]]  write DIR/NAME.json, a hooks.d hook
#                                  (version 1.0.0); WHEN_JSON defaults to {"always":true}
#   rig_podman RUNTIME ROOTFS [RUN OPTS...] -- CMD...  `podman run --rm --rootfs ROOTFS CMD`
#                                  with private storage (vfs), cgroupfs, --hooks-dir
#                                  ${RIG_HOOKS_DIR:-$RIG_TMP/hooks.d}, no network, limits the
#                                  sandbox allows. Sets RIG_RC, RIG_STDOUT, RIG_STDERR
#   rig_fake_gpu_host DIR          fake GPU host in this namespace: bind DIR/driver on
#                                  /proc/driver and DIR/devices on /proc/devices, a private /dev
#                                  (tmpfs with null zero full random urandom tty, devpts, shm,
#                                  mqueue) plus nvidiactl, nvidia-modeset, nvidia<minor> per
#                                  DIR/driver/nvidia/gpus/*/information, nvidia-uvm(-tools),
#                                  nvidia-caps/nvidia-cap{1,2} when DIR/devices lists the majors
#   rig_private_dev                only the private /dev part of rig_fake_gpu_host
#   rig_assert_rc N                fail (showing stdout/stderr) unless RIG_RC = N
#   rig_assert_stdout_has STR      fail unless the last run's stdout contains STR
#   rig_assert_stderr_has STR      same for stderr
#   rig_show                       print the last run's rc, stdout and stderr on stderr
#
# Gotchas found on the Debian 12 development machine (kernel 6.18, hybrid cgroups, no
# CAP_SYS_RESOURCE in the bounding set, PID 1 not systemd):
#   - crun 1.8.1 fails with "cgroups in hybrid mode not supported, drop all controllers from
#     cgroupv2" because hugetlb is available on the cgroup2 mount: use rig_cgroup_v1 (pure v1)
#     or rig_cgroup_v2. runc works on all three layouts.
#   - crun on v2 calls setrlimit(RLIMIT_MEMLOCK, infinity) before loading its device program and
#     aborts on EPERM ("setrlimit (RLIM_MEMLOCK): Operation not permitted") although kernels
#     >= 5.11 account BPF memory to memcg. Where raising the limit is refused, rig_runtime_bin
#     gives a wrapper that LD_PRELOADs a shim turning only that EPERM into success. The shim is
#     a workaround for the sandbox, not a mock of the feature: the program is really loaded.
#   - podman sets RLIMIT_NOFILE/NPROC above our hard limits (EPERM without CAP_SYS_RESOURCE);
#     even --ulimit nproc=<our hard limit> fails under conmon: rig_podman passes nofile=1024,
#     nproc=4096. On v2 here there is no pids
#     controller, so it passes --pids-limit 0.
#   - podman writes /run/libpod/events even with --tmpdir: the private /run tmpfs catches it;
#     --cgroup-parent keeps its cgroups (libpod-*, conmon) under $RIG_CG.
#   - runc on v2 enables the available controllers (hugetlb) in the root's
#     cgroup.subtree_control, which is host state; the outer rig_enter_private_ns restores it.
#   - cgroup2 mount options are per superblock, shared with the host: mounting it with
#     nsdelegate in the private namespace remounts the host's /sys/fs/cgroup/unified too.
#   - The fake GPU host mounts over /proc/driver and /proc/devices; a procfs with overmounts is
#     not "fully visible" and the kernel refuses proc mounts from user namespaces, so
#     rig_fake_gpu_host also mounts a clean procfs under $RIG_TMP.
#   - runc 1.1.5 reports status "creating" to prestart/createRuntime hooks, crun "created".
#   - On v2 both runc and crun attach their device program (BPF_F_ALLOW_MULTI) before
#     prestart/createRuntime hooks run (test_rig_selfcheck logs "1 2" = count, flags).
#   - runc/crun remove the container's cgroup but not the parent (/$RIG_CG): the outer side
#     removes it.
#   - Hooks get only the env of their hook entry (runc, crun), so the memlock shim does not
#     reach them; rig_hook always sets an explicit env.

RIG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RIG_SRC=${NVH_SOURCE_DIR:-$(cd "$RIG_LIB_DIR/../.." && pwd)}
RIG_NAME=$(basename "$0" .sh)
RIG_RC=
RIG_STDOUT=
RIG_STDERR=

rig_log() {
        echo "$RIG_NAME: $*" >&2
}

rig_die() {
        rig_log "error: $*"
        exit 1
}

rig_skip() {
        rig_log "skipped: $*"
        exit 77
}

rig_require_root() {
        [ "$(id -u)" = 0 ] || rig_skip "needs root"
}

rig_require_cmd() {
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null 2>&1 || rig_skip "'$c' not installed"
        done
}

# --- private namespace, host-side checks ------------------------------------------------------

# Top-level cgroup names of every mounted hierarchy, one "hierarchy/name" a line.
rig__cgroup_snapshot() {
        local h d
        for h in /sys/fs/cgroup /sys/fs/cgroup/*/; do
                [ -d "$h" ] || continue
                h=${h%/}
                for d in "$h"/*/; do
                        [ -d "$d" ] || continue
                        d=${d%/}
                        echo "${d#/sys/fs/cgroup/}"
                done
        done | sort
}

# Kill what still runs in the test's cgroups (a container the test leaked) and remove them.
rig__cgroup_purge() {
        local name=$1 top pid pids
        for top in /sys/fs/cgroup/"$name" /sys/fs/cgroup/*/"$name"; do
                [ -d "$top" ] || continue
                for _ in 1 2 3 4 5; do
                        pids=$(find "$top" -name cgroup.procs -exec cat {} + 2>/dev/null || true)
                        [ -n "$pids" ] || break
                        rig_log "killing leftovers in '$top': $(echo "$pids" | tr '\n' ' ')"
                        for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
                        sleep 0.2
                done
                find "$top" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        done
}

rig_enter_private_ns() {
        if [ "${NVH_RIG_IN_NS:-}" = 1 ]; then
                rig__inner_setup
                return 0
        fi
        rig_require_root
        rig_require_cmd unshare jq
        local before_mi before_cg before_run sc_file="" sc_before="" rc leak=0 f
        RIG_TMP=$(mktemp -d /tmp/nvh-e2e.XXXXXX)
        chmod 0755 "$RIG_TMP" # a user-namespaced container root must traverse it
        RIG_CG=nvh-e2e-$$
        export RIG_TMP RIG_CG
        before_mi=$(sort /proc/self/mountinfo)
        before_cg=$(rig__cgroup_snapshot)
        before_run=$(ls -A /run)
        for f in /sys/fs/cgroup/unified/cgroup.subtree_control \
                /sys/fs/cgroup/cgroup.subtree_control; do
                if [ -f "$f" ]; then
                        sc_file=$f
                        sc_before=$(cat "$f")
                        break
                fi
        done
        set +e
        NVH_RIG_IN_NS=1 unshare -m --propagation private -- bash "$0" "$@"
        rc=$?
        set -e
        rig__cgroup_purge "$RIG_CG"
        local after_mi after_cg gained lost newcg newrun
        after_mi=$(sort /proc/self/mountinfo)
        gained=$(comm -13 <(echo "$before_mi") <(echo "$after_mi"))
        lost=$(comm -23 <(echo "$before_mi") <(echo "$after_mi"))
        if [ -n "$gained$lost" ]; then
                rig_log "FAIL: host mount table changed"
                [ -z "$gained" ] || rig_log "gained: $gained"
                [ -z "$lost" ] || rig_log "lost: $lost"
                leak=1
        fi
        newrun=$(comm -13 <(echo "$before_run") <(ls -A /run))
        # A note only: other tests running at the same time may create these.
        [ -z "$newrun" ] || rig_log "note: new entries in the host's /run: $newrun"
        after_cg=$(rig__cgroup_snapshot)
        # Other tests may create cgroups at the same time: fail for ours and for the places a
        # runtime uses when it ignores the parent it was given, note the rest.
        newcg=$(comm -13 <(echo "$before_cg") <(echo "$after_cg") || true)
        local ours="(^|/)($RIG_CG|libpod_parent|machine\.slice|system\.slice)\$"
        if echo "$newcg" | grep -Eq "$ours"; then
                rig_log "FAIL: host kept new cgroups: $(echo "$newcg" | tr '\n' ' ')"
                leak=1
        elif [ -n "$newcg" ]; then
                rig_log "note: new cgroups not made by this test: $(echo "$newcg" | tr '\n' ' ')"
        fi
        if [ -n "$sc_file" ] && [ "$(cat "$sc_file")" != "$sc_before" ]; then
                rig_log "note: restoring '$sc_file' ('$(cat "$sc_file")' -> '$sc_before')"
                rig__restore_subtree "$sc_file" "$sc_before"
        fi
        if grep -q " $RIG_TMP" /proc/self/mountinfo; then
                rig_log "FAIL: mounts left under '$RIG_TMP', not removing it"
                leak=1
        else
                rm -rf --one-file-system "$RIG_TMP"
        fi
        if [ "$leak" = 1 ] && { [ "$rc" = 0 ] || [ "$rc" = 77 ]; }; then
                rc=1
        fi
        exit "$rc"
}

rig__restore_subtree() {
        local file=$1 want=$2 c
        local -a have
        read -r -a have <"$file" || true
        for c in "${have[@]}"; do
                case " $want " in *" $c "*) ;; *) echo "-$c" >"$file" 2>/dev/null || true ;; esac
        done
        for c in $want; do
                echo "+$c" >"$file" 2>/dev/null || true
        done
}

rig__inner_setup() {
        if [ -z "${RIG_TMP:-}" ] || [ ! -d "$RIG_TMP" ]; then
                rig_die "RIG_TMP not set in the namespace"
        fi
        # Runtime state (/run/runc, /run/crun, /run/libpod, /run/containers, /run/nvhook) and
        # libmount's utab land on this tmpfs and die with the namespace. Every rig mount uses
        # -n: before this one, libmount would create the host's /run/mount.
        mount -n -t tmpfs -o mode=0755,nosuid,nodev rig-run /run
        mkdir -p "$RIG_TMP/bin" "$RIG_TMP/state" "$RIG_TMP/out"
        trap rig__inner_cleanup EXIT
}

rig__inner_cleanup() {
        local st rt id
        for st in "$RIG_TMP"/state/*; do
                [ -d "$st" ] || continue
                rt=$(basename "$st")
                for id in "$st"/*; do
                        [ -d "$id" ] || continue
                        "$(rig_runtime_bin "$rt")" --root "$st" delete -f "$(basename "$id")" \
                                >/dev/null 2>&1 || true
                done
        done
}

# --- cgroup layouts ---------------------------------------------------------------------------

rig_cgroup_mode() {
        if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
                echo v2
        elif [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
                echo hybrid
        else
                echo v1
        fi
}

rig_cgroup_v1() {
        [ "${NVH_RIG_IN_NS:-}" = 1 ] || rig_die "rig_cgroup_v1 outside the private namespace"
        case $(rig_cgroup_mode) in
        v1) ;;
        hybrid) umount -n /sys/fs/cgroup/unified ;;
        v2) rig_skip "host is cgroup v2 only; no v1 hierarchies to use" ;;
        esac
        [ -d /sys/fs/cgroup/devices ] || rig_skip "no cgroup v1 devices hierarchy"
}

rig_cgroup_v2() {
        [ "${NVH_RIG_IN_NS:-}" = 1 ] || rig_die "rig_cgroup_v2 outside the private namespace"
        [ "$(rig_cgroup_mode)" = v2 ] && return 0
        # No options: cgroup2 has one superblock, and options such as nsdelegate would change
        # the host's /sys/fs/cgroup/unified mount too (the outer check caught exactly that).
        mount -n -t cgroup2 rig-cgroup2 /sys/fs/cgroup ||
                rig_skip "cannot mount cgroup2 on /sys/fs/cgroup"
        [ "$(rig_cgroup_mode)" = v2 ] || rig_die "cgroup2 mount did not take"
}

# rig_private_tmp: a /tmp of this namespace's own (the host's is shared with every other test
# and every user), with the paths the test still needs kept at their place inside it: the
# rig's scratch dir, the source tree, the build tree and nvhook (CI may clone under /tmp).
rig_private_tmp() {
        local fake=$RIG_TMP/fake-tmp p
        [ "${NVH_RIG_IN_NS:-}" = 1 ] || rig_die "rig_private_tmp outside the private namespace"
        mkdir -p "$fake"
        chmod 1777 "$fake"
        for p in "$RIG_TMP" "$RIG_SRC" "${NVH_BINARY_DIR:-}" "${NVH_FIXTURES:-}" \
                "$(dirname "${NVHOOK:-/}")"; do
                case $p in
                /tmp/?*) ;;
                *) continue ;;
                esac
                [ -d "$p" ] && [ ! -d "$fake/${p#/tmp/}/." ] || continue
                mkdir -p "$fake/${p#/tmp/}"
                mount -n --bind "$p" "$fake/${p#/tmp/}"
        done
        mount -n --rbind "$fake" /tmp
        [ -d "$RIG_TMP" ] && [ -d "$RIG_SRC/tests" ] || rig_die "private /tmp lost a needed path"
}

# rig_containerd_config DIR: a config.toml for a containerd of the test's own: root, state,
# sockets and plugin dir under DIR, no CRI plugin, no snapshotter that needs a kernel module,
# no tracing or metrics endpoint.
rig_containerd_config() {
        local d=$1
        cat <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$d/containerd.sock"
[ttrpc]
  address = "$d/containerd.sock.ttrpc"
[debug]
  address = "$d/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
EOF
}

# rig_need_cpu_controller WHY: a pure-v2 view whose cgroup2 lacks the cpu controller (forced
# on a hybrid host, where cpu stays bound to v1) cannot run a spec that sets CPU limits; skip
# with a reason. A real v2 host has the controller.
rig_need_cpu_controller() {
        [ "$(rig_cgroup_mode)" = v2 ] || return 0
        grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null ||
                rig_skip "cgroup2 here has no cpu controller (bound to v1 on this hybrid host): $1"
}

rig_cgroup_v2_dir() {
        local pid=$1 rel base
        rel=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
        [ -n "$rel" ] || rig_die "pid $pid has no cgroup v2 entry"
        case $(rig_cgroup_mode) in
        v2) base=/sys/fs/cgroup ;;
        hybrid) base=/sys/fs/cgroup/unified ;;
        *) rig_die "no cgroup2 mount in this namespace" ;;
        esac
        echo "$base${rel%/}"
}

# --- helpers built at test time ---------------------------------------------------------------

rig_helpers() {
        local bin=$RIG_TMP/bin
        mkdir -p "$bin"
        if [ ! -x "$bin/rig-devprogs" ]; then
                rig_require_cmd gcc
                cat >"$bin/devprogs.c" <<'EOF'
/* rig-devprogs CGROUP_DIR: count of BPF_CGROUP_DEVICE programs attached, and attach flags. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv)
{
        union bpf_attr attr;
        uint32_t ids[64];
        int cg_fd = -1;
        if (argc != 2) {
                fprintf(stderr, "usage: rig-devprogs CGROUP_DIR\n");
                return 2;
        }
        cg_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cg_fd < 0) {
                fprintf(stderr, "open '%s': %s\n", argv[1], strerror(errno));
                return 1;
        }
        memset(&attr, 0, sizeof(attr));
        attr.query.target_fd = cg_fd;
        attr.query.attach_type = BPF_CGROUP_DEVICE;
        attr.query.prog_ids = (uint64_t)(uintptr_t)ids;
        attr.query.prog_cnt = 64;
        if (syscall(SYS_bpf, BPF_PROG_QUERY, &attr, sizeof(attr)) < 0) {
                fprintf(stderr, "BPF_PROG_QUERY '%s': %s\n", argv[1], strerror(errno));
                return 1;
        }
        printf("%u %u\n", attr.query.prog_cnt, attr.query.attach_flags);
        return 0;
}
EOF
                gcc -O2 -Wall -Wextra -o "$bin/rig-devprogs" "$bin/devprogs.c" ||
                        rig_die "cannot build rig-devprogs"
        fi
        echo "$bin"
}

rig_devprogs() {
        "$(rig_helpers)/rig-devprogs" "$1"
}

# Whether this process may raise RLIMIT_MEMLOCK to infinity (CAP_SYS_RESOURCE).
rig__memlock_ok() {
        (ulimit -l unlimited) 2>/dev/null
}

rig__memlock_shim() {
        local bin=$RIG_TMP/bin
        [ -f "$bin/memlock.so" ] && return 0
        rig_require_cmd gcc
        cat >"$bin/memlock.c" <<'EOF'
/* Sandbox workaround: the rig's machine lacks CAP_SYS_RESOURCE, and crun aborts when it cannot
 * raise RLIMIT_MEMLOCK to infinity before loading its device program. Kernels >= 5.11 charge
 * BPF memory to memcg, so the limit is irrelevant: report success for that one EPERM only. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <sys/resource.h>
int setrlimit(__rlimit_resource_t res, const struct rlimit *rl)
{
        int (*real)(__rlimit_resource_t, const struct rlimit *);
        int r;
        *(void **)&real = dlsym(RTLD_NEXT, "setrlimit");
        r = real(res, rl);
        if (r < 0 && errno == EPERM && res == RLIMIT_MEMLOCK)
                return 0;
        return r;
}
EOF
        gcc -shared -fPIC -O2 -Wall -Wextra -o "$bin/memlock.so" "$bin/memlock.c" -ldl ||
                rig_die "cannot build the memlock shim"
}

rig_runtime_bin() {
        local rt=$1 real
        case $rt in
        runc) real=${NVH_RUNC:-$(command -v runc || true)} ;;
        crun) real=${NVH_CRUN:-$(command -v crun || true)} ;;
        *) rig_die "unknown runtime '$rt'" ;;
        esac
        [ -n "$real" ] || rig_skip "'$rt' not installed"
        if [ "$rt" = crun ] && ! rig__memlock_ok; then
                local wrap=$RIG_TMP/bin/crun-wrap/crun
                if [ ! -x "$wrap" ]; then
                        rig__memlock_shim
                        mkdir -p "$(dirname "$wrap")"
                        printf '#!/bin/sh\nLD_PRELOAD=%s exec %s "$@"\n' \
                                "$RIG_TMP/bin/memlock.so" "$real" >"$wrap"
                        chmod 0755 "$wrap"
                fi
                real=$wrap
        fi
        echo "$real"
}

# --- rootfs and bundles -----------------------------------------------------------------------

rig_rootfs() {
        local kind=$1 dir=$RIG_TMP/rootfs.$1 rc=0
        if [ ! -d "$dir" ]; then
                "$RIG_SRC/scripts/mkrootfs.sh" "$dir.tmp" "$kind" >&2 || rc=$?
                if [ "$rc" = 77 ]; then
                        rm -rf "$dir.tmp"
                        rig_skip "no '$kind' rootfs on this machine (see scripts/mkrootfs.sh)"
                fi
                [ "$rc" = 0 ] || rig_die "mkrootfs.sh '$kind' failed ($rc)"
                mv "$dir.tmp" "$dir"
        fi
        echo "$dir"
}

rig_jq() {
        local dir=$1 filter=$2
        shift 2
        jq "$@" "$filter" <"$dir/config.json" >"$dir/config.json.new" ||
                rig_die "jq '$filter' on '$dir/config.json' failed"
        mv "$dir/config.json.new" "$dir/config.json"
}

rig_bundle() {
        local dir=$1 kind=$2 src
        mkdir -p "$dir"
        [ ! -e "$dir/rootfs" ] || rig_die "'$dir/rootfs' already exists"
        if [ "$kind" = host ]; then
                # The machine's own / as an overlay, driver hidden (GPU machine: no debootstrap).
                [ "${NVH_RIG_IN_NS:-}" = 1 ] || rig_die "host rootfs outside the private namespace"
                src=$("$RIG_SRC/scripts/gpu-rootfs.sh" "$dir/.host-rootfs")
                ln -s "$src" "$dir/rootfs"
        else
                src=$(rig_rootfs "$kind")
                cp -a "$src" "$dir/rootfs"
        fi
        rm -f "$dir/config.json"
        if command -v runc >/dev/null 2>&1; then
                runc spec --bundle "$dir"
        else
                (cd "$dir" && "$(rig_runtime_bin crun)" spec)
        fi
        # runc refuses a symlinked root: a host rootfs is named by its absolute merged path
        # (DIR/rootfs stays a convenience link to it).
        [ "$kind" = host ] || src=rootfs
        rig_jq "$dir" '.root = {path: $root, readonly: false}
                | .process.terminal = false | .process.args = ["true"] | .hostname = "nvh-e2e"' \
                --arg root "$src"
}

# JSON array of the arguments. Not jq's --args: jq 1.6 parses a later "-c" as its own option
# (and its raw input stops at NUL), so one element at a time.
rig__json_array() {
        local out='[]' a
        for a in "$@"; do
                out=$(jq -cn --argjson o "$out" --arg a "$a" '$o + [$a]')
        done
        echo "$out"
}

rig_args() {
        local dir=$1
        shift
        rig_jq "$dir" '.process.args = $a' --argjson a "$(rig__json_array "$@")"
}

rig_env() {
        local dir=$1
        shift
        rig_jq "$dir" 'reduce $a[] as $kv (.;
                ($kv | split("=")[0]) as $k
                | .process.env = ([.process.env[]? | select(split("=")[0] != $k)] + [$kv]))' \
                --argjson a "$(rig__json_array "$@")"
}

rig_hook() {
        local dir=$1 stage=$2 path=$3 env
        shift 3
        env=${RIG_HOOK_ENV:-PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
        rig_jq "$dir" '.hooks[$stage] += [{path: $path, args: ([$path] + $a),
                        env: ($env | split("\n") | map(select(length > 0)))}
                        + (if $timeout == "" then {} else {timeout: ($timeout | tonumber)} end)]' \
                --arg stage "$stage" --arg path "$path" --arg env "$env" \
                --arg timeout "${RIG_HOOK_TIMEOUT:-}" --argjson a "$(rig__json_array "$@")"
}

rig_userns() {
        local dir=$1 hid=${2:-100000} size=${3:-65536}
        rig_jq "$dir" '.linux.namespaces += [{type: "user"}]
                | .linux.uidMappings = [{containerID: 0, hostID: $h, size: $s}]
                | .linux.gidMappings = [{containerID: 0, hostID: $h, size: $s}]' \
                --argjson h "$hid" --argjson s "$size"
        # Shift ownership so the container's root owns its tree (numeric, symlinks themselves).
        find "$dir/rootfs" -printf '%U %G %p\0' | while IFS=' ' read -r -d '' u g p; do
                chown -h "$((u + hid)):$((g + hid))" "$p"
        done
}

# --- running ----------------------------------------------------------------------------------

rig__capture() {
        local id=$1
        shift
        RIG_STDOUT=$RIG_TMP/out/$id.stdout
        RIG_STDERR=$RIG_TMP/out/$id.stderr
        RIG_RC=0
        timeout -k 5 "${RIG_TIMEOUT:-120}" "$@" </dev/null >"$RIG_STDOUT" 2>"$RIG_STDERR" ||
                RIG_RC=$?
}

rig_run() {
        local rt=$1 dir=$2 id=$3 bin state
        bin=$(rig_runtime_bin "$rt")
        if [ "$rt" = crun ] && [ "$(rig_cgroup_mode)" = hybrid ]; then
                rig_die "crun refuses the hybrid layout: call rig_cgroup_v1 or rig_cgroup_v2 first"
        fi
        state=$RIG_TMP/state/$rt
        mkdir -p "$state"
        if [ "$(jq -r '.linux.cgroupsPath // ""' "$dir/config.json")" = "" ]; then
                rig_jq "$dir" '.linux.cgroupsPath = $p' --arg p "/$RIG_CG/$id"
        fi
        rig__capture "$id" "$bin" --root "$state" run --bundle "$dir" "$id"
        "$bin" --root "$state" delete -f "$id" >/dev/null 2>&1 || true
}

rig_hooksd() {
        local dir=$1 name=$2 stage=$3 path=$4 when=${5:-'{"always":true}'} env
        shift 4
        [ $# -eq 0 ] || shift
        env=${RIG_HOOK_ENV:-PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
        mkdir -p "$dir"
        jq -n --arg path "$path" --arg stage "$stage" --argjson when "$when" --arg env "$env" \
                '{version: "1.0.0",
                  hook: {path: $path, args: ([$path] + $a),
                         env: ($env | split("\n") | map(select(length > 0)))},
                  when: $when, stages: [$stage]}' --argjson a "$(rig__json_array "$@")" \
                >"$dir/$name.json"
}

rig_podman() {
        local rt=$1 rootfs=$2 bin p hooks mode
        shift 2
        rig_require_cmd podman conmon
        bin=$(rig_runtime_bin "$rt")
        mode=$(rig_cgroup_mode)
        if [ "$rt" = crun ] && [ "$mode" = hybrid ]; then
                rig_die "crun refuses the hybrid layout: call rig_cgroup_v1 or rig_cgroup_v2 first"
        fi
        p=$RIG_TMP/podman
        hooks=${RIG_HOOKS_DIR:-$RIG_TMP/hooks.d}
        mkdir -p "$p/tmp" "$hooks"
        # Low fixed limits: podman's defaults (and even our own hard limits, seen through
        # conmon) exceed what runc/crun may set without CAP_SYS_RESOURCE.
        local -a opts=(--rm --network none --cgroup-parent "/$RIG_CG"
                --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
        if [ "$mode" = v2 ] && ! grep -qw pids /sys/fs/cgroup/cgroup.controllers; then
                opts+=(--pids-limit 0)
        fi
        while [ $# -gt 0 ] && [ "$1" != -- ]; do
                opts+=("$1")
                shift
        done
        [ "${1:-}" = -- ] || rig_die "rig_podman: missing '--' before the command"
        shift
        rig__capture "podman-$$-$RANDOM" podman --runtime "$bin" \
                --root "$p/root" --runroot "$p/runroot" --tmpdir "$p/tmp" \
                --storage-driver vfs --cgroup-manager cgroupfs --events-backend none \
                --hooks-dir "$hooks" run "${opts[@]}" --rootfs "$rootfs" "$@"
}

# --- fake GPU host ----------------------------------------------------------------------------

rig__node() {
        local path=$1 major=$2 minor=$3 mode=${4:-0666}
        mknod -m "$mode" "$path" c "$major" "$minor"
}

rig_private_dev() {
        [ "${NVH_RIG_IN_NS:-}" = 1 ] || rig_die "rig_private_dev outside the private namespace"
        mount -n -t tmpfs -o mode=0755,nosuid,size=1m rig-dev /dev
        rig__node /dev/null 1 3
        rig__node /dev/zero 1 5
        rig__node /dev/full 1 7
        rig__node /dev/random 1 8
        rig__node /dev/urandom 1 9
        rig__node /dev/tty 5 0
        ln -s /proc/self/fd /dev/fd
        ln -s /proc/self/fd/0 /dev/stdin
        ln -s /proc/self/fd/1 /dev/stdout
        ln -s /proc/self/fd/2 /dev/stderr
        mkdir /dev/pts /dev/shm /dev/mqueue
        mount -n -t devpts -o newinstance,ptmxmode=0666,mode=0620 rig-devpts /dev/pts
        ln -s pts/ptmx /dev/ptmx
        mount -n -t tmpfs -o mode=1777,nosuid,nodev rig-shm /dev/shm
        mount -n -t mqueue rig-mqueue /dev/mqueue 2>/dev/null || rmdir /dev/mqueue
}

# Major of a character device named NAME in a /proc/devices-format file; empty if absent.
rig__major() {
        awk -v n="$2" '/^Block devices:/ { exit } $2 == n { print $1; exit }' "$1"
}

rig_fake_gpu_host() {
        local src=$1 nv uvm caps info minor
        [ "${NVH_RIG_IN_NS:-}" = 1 ] || rig_die "rig_fake_gpu_host outside the private namespace"
        if [ ! -d "$src/driver" ] || [ ! -f "$src/devices" ]; then
                rig_die "'$src' needs driver/ and devices (see tests/fixtures/mkprocfs.sh)"
        fi
        [ -d /proc/driver ] || rig_skip "/proc/driver does not exist on this kernel"
        mount -n --bind "$src/driver" /proc/driver
        mount -n --bind "$src/devices" /proc/devices
        # A procfs with mounts on top is not "fully visible", and the kernel then refuses a new
        # proc mount from a user namespace (mount_too_revealing): keep a clean one around.
        mkdir -p "$RIG_TMP/proc-visible"
        mount -n -t proc -o nosuid,nodev,noexec rig-proc "$RIG_TMP/proc-visible"
        rig_private_dev
        nv=$(rig__major "$src/devices" nvidia-frontend)
        [ -n "$nv" ] || nv=$(rig__major "$src/devices" nvidia)
        [ -n "$nv" ] || nv=195
        rig__node /dev/nvidiactl "$nv" 255
        rig__node /dev/nvidia-modeset "$nv" 254
        for info in "$src"/driver/nvidia/gpus/*/information; do
                [ -f "$info" ] || continue
                minor=$(sed -n 's/^Device Minor:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$info")
                [ -n "$minor" ] || rig_die "no 'Device Minor' in '$info'"
                rig__node "/dev/nvidia$minor" "$nv" "$minor"
        done
        uvm=$(rig__major "$src/devices" nvidia-uvm)
        if [ -n "$uvm" ]; then
                rig__node /dev/nvidia-uvm "$uvm" 0
                rig__node /dev/nvidia-uvm-tools "$uvm" 1
        fi
        caps=$(rig__major "$src/devices" nvidia-caps)
        if [ -n "$caps" ]; then
                mkdir /dev/nvidia-caps
                rig__node /dev/nvidia-caps/nvidia-cap1 "$caps" 1 0400
                rig__node /dev/nvidia-caps/nvidia-cap2 "$caps" 2 0444
        fi
}

# --- assertions -------------------------------------------------------------------------------

rig_show() {
        {
                echo "--- rc: $RIG_RC"
                echo "--- stdout:"
                cat "$RIG_STDOUT" 2>/dev/null || true
                echo "--- stderr:"
                cat "$RIG_STDERR" 2>/dev/null || true
                echo "---"
        } >&2
}

rig_assert_rc() {
        if [ "$RIG_RC" != "$1" ]; then
                rig_show
                rig_die "expected exit code $1, got '$RIG_RC'"
        fi
}

rig_assert_stdout_has() {
        if ! grep -qF -- "$1" "$RIG_STDOUT"; then
                rig_show
                rig_die "stdout lacks '$1'"
        fi
}

rig_assert_stderr_has() {
        if ! grep -qF -- "$1" "$RIG_STDERR"; then
                rig_show
                rig_die "stderr lacks '$1'"
        fi
}
