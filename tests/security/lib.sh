# shellcheck shell=bash
# shellcheck disable=SC2034  # SEC_HOOK_* and the like are results read by the tests
# tests/security/lib.sh -- rig for the adversarial suite (tests/security/test_sec_*.sh), on top
# of tests/e2e/lib.sh and hook_lib.sh. Every test: a fake GPU host in a private mount namespace
# (the namespace the runtime and the hook run in stands for the host), hostile images or
# inputs, and after every start a check that the host did not change.
#
#   sec_setup [PROC_TREE]          after rig_enter_private_ns: fake GPU host (hook_setup), the
#                                  hook wrapper, a sentinel tree at $SEC_SENT (files with known
#                                  contents, a symlink, a FIFO, directories etc/ lib/ dev/ fw/
#                                  that hostile images point at), the baseline (this namespace's
#                                  mount table, sentinel hash, a stamp file)
#   sec_rebase                     the current mount table becomes the baseline (after a test's
#                                  own setup mounts)
#   sec_hook_wrapper               path of the wrapper runtimes run as the hook: nvhook under
#                                  `timeout` (a hang is rc 124), prlimit --as ($SEC_HOOK_AS) and
#                                  sec-rusage (peak RSS, wall time); per run it appends the rc to
#                                  $SEC_HOOKLOG.runs and keeps stderr in $SEC_HOOKLOG.<n>.err
#   sec_bundle DIR [ENV...]        busybox bundle running the wrapped hook at prestart with
#                                  --config ${SEC_CONF:-$SEC_QUIET}, CAP_MKNOD, env ENV (default
#                                  NVIDIA_VISIBLE_DEVICES=all); copied from one template
#   sec_start DIR ID EXPECT        run it with runc; EXPECT: ok (hook rc 0 and the container ran),
#                                  refuse (hook refused with one line), any (either). Always:
#                                  no hang, no signal, peak RSS <= $SEC_MAX_RSS_KB. Sets
#                                  SEC_HOOK_RC, SEC_HOOK_ERR (stderr file), SEC_HOOK_RSS (KiB),
#                                  SEC_HOOK_MS; then sec_check_host ID
#   sec_hook_direct EXPECT NEEDLE CMD...  run CMD (an nvhook invocation) under timeout, judged as
#                                  above; a refusal must be one stderr line containing NEEDLE;
#                                  $SEC_LABEL names the case in failures
#   sec_state BUNDLE PID           an OCI state (JSON) for a direct run
#   sec_check_host LABEL           fail unless: this namespace's mount table is the baseline,
#                                  the sentinel tree hashes the same, and no file under /etc,
#                                  /usr, /run (outside /run/nvhook) changed since the stamp that
#                                  looks like nvhook's (NVIDIA names, caches, firmware, device
#                                  nodes, FIFOs); other changes are noted (package installs)
#   sec_swapper                    path of the swapper (swap.c): exchanges path pairs until TERM
#   sec_fail MSG                   "FAIL: MSG", exit 1 (a weakness found, not a rig error)

SEC_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$SEC_LIB_DIR/../e2e/lib.sh"
# shellcheck source=tests/e2e/hook_lib.sh
. "$SEC_LIB_DIR/../e2e/hook_lib.sh"

SEC_HOOK_RC=
SEC_HOOK_ERR=
SEC_HOOK_RSS=
SEC_HOOK_MS=
# What a hook start may cost at most (the issue's numbers: 824 MB for a 2 MiB hostile cache).
SEC_MAX_RSS_KB=${SEC_MAX_RSS_KB:-131072}
SEC_HOOK_TIMEOUT=${SEC_HOOK_TIMEOUT:-30}
# Address-space cap on the hook, so a memory bomb fails the test instead of the machine.
SEC_HOOK_AS=${SEC_HOOK_AS:-$((2 << 30))}

sec_fail() {
        rig_log "FAIL: $*"
        exit 1
}

# Mounts of this namespace without the per-mount ids (a new mount shows as a new line).
sec__mounts() {
        awk '{ $1 = ""; $2 = ""; print }' /proc/self/mountinfo | sort
}

sec__sentinel_hash() {
        (cd "$SEC_SENT" && find . -printf '%p %y %m %U %s %l\n' | sort &&
                find . -type f -exec md5sum {} + | sort) | md5sum
}

# Files under /etc, /usr, /run (outside nvhook's cache dir and our scratch dir) created or
# changed since the stamp, as "<type> <path>".
sec__newer() {
        find /etc /usr /run -xdev \( -path /run/nvhook -o -path "$RIG_TMP" \) -prune -o \
                \( -newer "$SEC_STAMP" -o -cnewer "$SEC_STAMP" \) ! -type d -printf '%y %p\n' \
                2>/dev/null || true
}

sec__helpers() {
        local bin=$RIG_TMP/bin
        mkdir -p "$bin"
        [ -x "$bin/sec-rusage" ] && return 0
        rig_require_cmd gcc timeout
        cat >"$bin/sec-rusage.c" <<'EOF'
/* sec-rusage OUT CMD...: run CMD, append "rc maxrss_kb wall_ms" to OUT, exit with CMD's status. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv)
{
        struct timespec a, b;
        struct rusage ru;
        int st = 0, rc;
        pid_t pid;
        FILE *f;
        if (argc < 3)
                return 2;
        clock_gettime(CLOCK_MONOTONIC, &a);
        pid = fork();
        if (pid == 0) {
                execv(argv[2], argv + 2);
                perror("exec");
                _exit(127);
        }
        if (pid < 0 || wait4(pid, &st, 0, &ru) < 0)
                return 2;
        clock_gettime(CLOCK_MONOTONIC, &b);
        rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        f = fopen(argv[1], "a");
        if (f) {
                fprintf(f, "%d %ld %ld\n", rc, ru.ru_maxrss,
                        (long)((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000));
                fclose(f);
        }
        return rc;
}
EOF
        gcc -O2 -Wall -o "$bin/sec-rusage" "$bin/sec-rusage.c" || rig_die "cannot build sec-rusage"
}

sec_hook_wrapper() {
        local w=$RIG_TMP/bin/sec-hook
        if [ ! -x "$w" ]; then
                sec__helpers
                # Runtimes give hooks a bare environment: every path is absolute here.
                cat >"$w" <<EOF
#!/bin/sh
n=\$(( \$(wc -l <"$SEC_HOOKLOG.runs" 2>/dev/null || echo 0) + 1 ))
rc=0
$(command -v timeout) -k 2 $SEC_HOOK_TIMEOUT $(command -v prlimit) --as=$SEC_HOOK_AS \
        $RIG_TMP/bin/sec-rusage "$SEC_HOOKLOG.rusage" "$NVHOOK" "\$@" 2>"$SEC_HOOKLOG.\$n.err" || rc=\$?
# timeout kills sec-rusage too: a hang leaves no rusage line.
[ "\$rc" = 124 ] && echo "124 0 0" >>"$SEC_HOOKLOG.rusage"
echo "\$rc" >>"$SEC_HOOKLOG.runs"
cat "$SEC_HOOKLOG.\$n.err" >&2
exit "\$rc"
EOF
                chmod 0755 "$w"
        fi
        echo "$w"
}

sec_setup() {
        hook_setup "${1:-proc-1gpu}"
        SEC_HOOKLOG=$RIG_TMP/hooklog
        SEC_SENT=$RIG_TMP/sentinel
        SEC_QUIET=$RIG_TMP/quiet.json
        export SEC_HOOKLOG SEC_SENT SEC_QUIET
        jq '.log_level = "warning"' "$HOOK_CONF" >"$SEC_QUIET"
        mkdir -p "$SEC_SENT/etc" "$SEC_SENT/lib" "$SEC_SENT/dev" "$SEC_SENT/fw/nvidia"
        echo "host file" >"$SEC_SENT/file"
        echo "host cache" >"$SEC_SENT/etc/ld.so.cache"
        echo "host lib" >"$SEC_SENT/lib/libcuda.so.1"
        ln -s file "$SEC_SENT/link"
        mkfifo "$SEC_SENT/fifo"
        chmod 0700 "$SEC_SENT/etc"
        sec_hook_wrapper >/dev/null
        SEC_BASE_MOUNTS=$(sec__mounts)
        SEC_BASE_SENT=$(sec__sentinel_hash)
        SEC_STAMP=$RIG_TMP/stamp
        touch "$SEC_STAMP"
        sleep 0.01
}

sec_check_host() {
        local label=$1 now diff newer
        now=$(sec__mounts)
        if [ "$now" != "$SEC_BASE_MOUNTS" ]; then
                diff=$(diff <(echo "$SEC_BASE_MOUNTS") <(echo "$now") | grep '^[<>]' || true)
                sec_fail "$label: the host's mount table changed: $diff"
        fi
        [ "$(sec__sentinel_hash)" = "$SEC_BASE_SENT" ] ||
                sec_fail "$label: the host sentinel tree changed: $(cd "$SEC_SENT" &&
                        find . -newer "$SEC_STAMP" | tr '\n' ' ')"
        # Other jobs on the machine may touch /etc or /usr (package installs): fail for what a
        # GPU hook makes (libraries, links, caches, firmware, device nodes), note the rest.
        newer=$(sec__newer)
        if echo "$newer" | grep -Eq '^[cbp] |nvidia|cuda|libnv|ld\.so\.cache|firmware'; then
                sec_fail "$label: host files changed: $(echo "$newer" | tr '\n' ' ')"
        fi
        [ -z "$newer" ] || rig_log "note: host files changed by someone else: $(echo "$newer" |
                head -5 | tr '\n' ' ')"
}

sec_bundle() {
        local dir=$1 conf=${SEC_CONF:-$SEC_QUIET} t
        shift
        # One template per hook config: a copy is cheaper than `runc spec` and the edits.
        t=$RIG_TMP/sec-template-$(echo "$conf" | md5sum | cut -c1-8)
        if [ ! -d "$t" ]; then
                rig_bundle "$t" busybox
                hook_allow_mknod "$t"
                rig_hook "$t" prestart "$(sec_hook_wrapper)" --config "$conf" prestart
        fi
        mkdir -p "$dir"
        cp -a "$t/." "$dir/"
        if [ $# -gt 0 ]; then
                rig_env "$dir" "$@"
        else
                rig_env "$dir" NVIDIA_VISIBLE_DEVICES=all
        fi
}

# The last hook run's result: SEC_HOOK_RC / _ERR / _RSS / _MS (rc empty: the hook never ran).
sec__last_hook() {
        local n line
        n=$(wc -l <"$SEC_HOOKLOG.runs" 2>/dev/null || echo 0)
        SEC_HOOK_RC=
        SEC_HOOK_ERR=/dev/null
        SEC_HOOK_RSS=0
        SEC_HOOK_MS=0
        if [ "$n" -gt "${SEC__SEEN:-0}" ]; then
                SEC_HOOK_RC=$(tail -n 1 "$SEC_HOOKLOG.runs")
                SEC_HOOK_ERR=$SEC_HOOKLOG.$n.err
                line=$(tail -n 1 "$SEC_HOOKLOG.rusage")
                SEC_HOOK_RSS=$(echo "$line" | cut -d' ' -f2)
                SEC_HOOK_MS=$(echo "$line" | cut -d' ' -f3)
        fi
        SEC__SEEN=$n
}

# sec__judge LABEL EXPECT RC ERRFILE [NEEDLE]
sec__judge() {
        local label=$1 expect=$2 rc=$3 errf=$4 needle=${5:-}
        [ -n "$rc" ] || sec_fail "$label: the hook did not run"
        [ "$rc" != 124 ] && [ "$rc" != 137 ] ||
                sec_fail "$label: the hook hung (killed after ${SEC_HOOK_TIMEOUT}s)"
        [ "$rc" -lt 128 ] || sec_fail "$label: the hook died of signal $((rc - 128))"
        [ "$SEC_HOOK_RSS" -le "$SEC_MAX_RSS_KB" ] ||
                sec_fail "$label: the hook used ${SEC_HOOK_RSS} KiB (> $SEC_MAX_RSS_KB KiB)"
        case $expect in
        ok)
                [ "$rc" = 0 ] || sec_fail "$label: the hook failed ($rc): $(cat "$errf")"
                ;;
        refuse | any)
                if [ "$expect" = refuse ] && [ "$rc" = 0 ]; then
                        sec_fail "$label: the hook accepted what it must refuse"
                fi
                if [ "$rc" != 0 ]; then
                        [ "$(wc -l <"$errf")" = 1 ] ||
                                sec_fail "$label: refusal is not one line: $(cat "$errf")"
                        [ -z "$needle" ] || grep -qF -- "$needle" "$errf" ||
                                sec_fail "$label: refusal lacks '$needle': $(cat "$errf")"
                fi
                ;;
        *) rig_die "sec__judge: bad EXPECT '$expect'" ;;
        esac
}

sec_start() {
        local dir=$1 id=$2 expect=$3 needle=${4:-}
        rig_run runc "$dir" "$id"
        sec__last_hook
        sec__judge "$id" "$expect" "$SEC_HOOK_RC" "$SEC_HOOK_ERR" "$needle"
        if [ "$SEC_HOOK_RC" = 0 ] && [ "$RIG_RC" != 0 ]; then
                rig_show
                sec_fail "$id: the hook succeeded but the container failed"
        fi
        sec_check_host "$id"
}

sec_hook_direct() {
        local expect=$1 needle=$2 rc=0
        shift 2
        SEC_HOOK_RSS=0
        timeout -k 2 "$SEC_HOOK_TIMEOUT" "$@" >"$RIG_TMP/direct.out" 2>"$RIG_TMP/direct.err" ||
                rc=$?
        SEC_HOOK_RC=$rc
        SEC_HOOK_ERR=$RIG_TMP/direct.err
        sec__judge "${SEC_LABEL:-direct: $*}" "$expect" "$rc" "$RIG_TMP/direct.err" "$needle"
}

# OCI state for a direct hook run.
sec_state() {
        jq -nc --arg b "$1" --argjson p "$2" \
                '{ociVersion: "1.0.2", id: "sec", status: "creating", pid: $p, bundle: $b}'
}

# After a test's own setup mounts (a volume, a read-only bind): they are the new baseline.
sec_rebase() {
        SEC_BASE_MOUNTS=$(sec__mounts)
}

# Path of the swapper (tests/security/swap.c), built once per test.
sec_swapper() {
        local bin=$RIG_TMP/bin/swap
        if [ ! -x "$bin" ]; then
                rig_require_cmd gcc
                gcc -O2 -Wall -o "$bin" "$SEC_LIB_DIR/swap.c" || rig_die "cannot build the swapper"
        fi
        echo "$bin"
}
