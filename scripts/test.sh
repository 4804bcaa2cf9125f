#!/bin/bash
# Install dependencies, build with -Werror, run the whole suite (unit, component, e2e, bench,
# style) on the host's cgroup layout, then the component and e2e suites a second time on pure
# cgroup v2: cgroup2 mounted over /sys/fs/cgroup in a private mount namespace, the view a fresh
# systemd host has. After each run, the reason every skipped test or case gave.
# Arguments go to both ctest runs (e.g. -R cgroup). tests/README.md describes the layers.
set -eu -o pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
build=${BUILD:-build}
BUILD=$build bash scripts/build.sh -DNVH_WERROR=ON
cd "$build"

# What the tests of the last ctest run said about what they skipped: for a skipped test its
# reason (the lines with "SKIP:", "skipped:" or ", skipping", else its last line); for a test
# that passed, the cases it skipped ("SKIP:" lines, cmocka's "[  SKIPPED ]" lines).
skip_report() { # title ctest-output-file
        local skipped
        skipped=$(awk '/\*\*\*Skipped/ { print $4 }' "$2" | sort -u | tr '\n' ' ')
        awk -v skipped=" $skipped" -v title="$1" '
                function flush() {
                        if (name == "")
                                return
                        if (index(skipped, " " name " ")) {
                                if (n == 0 && last != "")
                                        lines[n++] = last
                                out = out "  " name " (skipped):\n"
                        } else if (n > 0) {
                                out = out "  " name " (passed, some cases skipped):\n"
                        }
                        for (i = 0; i < n; i++)
                                out = out "      " lines[i] "\n"
                }
                /^[0-9]+\/[0-9]+ Test: / { flush(); name = $3; n = 0; last = ""; body = 0; next }
                /^Output:$/ { body = 1; next }
                /^<end of output>$/ { body = 0; next }
                body && /^-+$/ { next }
                body {
                        # (not the log of nvhook itself: "nvhook: warning: ..., skipping")
                        if ($0 ~ /SKIP: |\[  SKIPPED \]|: skipped: |, skipping$/ &&
                            $0 !~ /^nvhook: / && n < 20)
                                lines[n++] = $0
                        if ($0 != "")
                                last = $0
                }
                END {
                        flush()
                        if (out != "")
                                printf "\n%s: skipped tests and cases, and why:\n%s", title, out
                }' Testing/Temporary/LastTest.log
}

rc=0
log=$(mktemp /tmp/nvh-ctest.XXXXXX)
trap 'rm -f "$log"' EXIT
layout=$(stat -fc %T /sys/fs/cgroup)
case $layout in
cgroup2fs) layout="pure cgroup v2" ;;
tmpfs) layout=$([ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
        echo "hybrid cgroup v1+v2" || echo "cgroup v1") ;;
esac

echo "== run 1: every test, on this host's cgroup layout ($layout) =="
st=0
ctest --output-on-failure -j 2 "$@" | tee "$log" || st=$?
skip_report "run 1 ($layout)" "$log"
[ "$st" = 0 ] || rc=1
summary="run 1 ($layout): $([ "$st" = 0 ] && echo passed || echo FAILED)"

if [ "$layout" = "pure cgroup v2" ]; then
        summary="$summary
run 2 (pure cgroup v2): not run, run 1 was on pure cgroup v2 already"
elif [ "$(id -u)" != 0 ]; then
        summary="$summary
run 2 (pure cgroup v2): not run, forcing pure cgroup v2 needs root"
else
        echo
        echo "== run 2: component and e2e tests again on pure cgroup v2 (cgroup2 mounted on" \
                "/sys/fs/cgroup in a private mount namespace) =="
        st=0
        # shellcheck disable=SC2016 # expanded by the inner shell
        unshare -m --propagation private -- bash -c \
                'if ! mount -n -t cgroup2 nvh-test-v2 /sys/fs/cgroup; then
                         echo "run 2: cannot mount cgroup2 on /sys/fs/cgroup" >&2
                         exit 77
                 fi
                 exec ctest --output-on-failure -j 2 -L "component|e2e" "$@"' ctest "$@" |
                tee "$log" || st=$?
        case $st in
        0) res=passed ;;
        77) res="not run, this kernel cannot mount cgroup2" ;;
        *)
                res=FAILED
                rc=1
                ;;
        esac
        [ "$st" = 77 ] || skip_report "run 2 (pure cgroup v2)" "$log"
        summary="$summary
run 2 (pure cgroup v2, component and e2e): $res"
fi
echo
echo "$summary"
exit "$rc"
