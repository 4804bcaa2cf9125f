#!/bin/bash
# The man pages render without a single warning (groff -ww on two devices, mandoc's linter) and
# are complete against the code: nvhook(1) has an OPTIONS entry for every long option that
# `nvhook --help` prints and a COMMANDS entry for every command of its command table (the rows
# --help lists); nvhook.conf(5) has an entry "KEY (TYPE, default VALUE)" for every key of
# packaging/config.json.example with the value the example holds, and the example has exactly
# the keys of lib/conf.c's field table. No root needed.
# MAN_DIR=DIR checks the pages of another directory (to prove the test fails on a gap).
set -eu
src=${NVH_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
man_dir=${MAN_DIR:-$src/man}
skip() {
        echo "SKIP: $*"
        exit 77
}
fail() {
        echo "FAIL: $*" >&2
        failed=1
}
[ -n "${NVHOOK:-}" ] && [ -x "$NVHOOK" ] || skip "NVHOOK is not set (run under ctest)"
for c in groff mandoc jq; do
        command -v "$c" >/dev/null || skip "'$c' is missing (scripts/deps.sh installs it)"
done
failed=0
tmp=$(mktemp -d /tmp/nvh-manpages.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
pages=(nvhook.1 nvhook.conf.5 nvhook.7)

# 1. Warnings are errors: groff (PostScript and UTF-8 devices, every warning enabled) and
#    mandoc -T lint at level warning print nothing for a clean page.
for p in "${pages[@]}"; do
        f=$man_dir/$p
        [ -f "$f" ] || { fail "missing page '$f'"; continue; }
        for dev in ps utf8; do
                groff -man -ww -z -T"$dev" "$f" >"$tmp/out" 2>&1 || true
                [ ! -s "$tmp/out" ] || { cat "$tmp/out" >&2; fail "groff -T$dev warns on '$p'"; }
        done
        mandoc -T lint -W warning "$f" >"$tmp/out" 2>&1 || true
        [ ! -s "$tmp/out" ] || { cat "$tmp/out" >&2; fail "mandoc -T lint warns on '$p'"; }
done

# Plain text, one paragraph line per line (no wrapping, no hyphenation), no bold/underline.
render() {
        groff -man -Tascii -P-cbou -rLL=400n -rHY=0 "$man_dir/$1" 2>/dev/null
}
# The lines of section $2 of page $1 (from its heading to the next one).
section() {
        render "$1" | awk -v s="$2" '/^[A-Z]/ { on = ($0 == s) ; next } on'
}

# 2. nvhook(1): every long option of --help has its own OPTIONS entry (a tag line at the
#    page's indent, the option first), every command a COMMANDS entry (its name first on a tag
#    line, alone or in a comma list of names).
"$NVHOOK" --help >"$tmp/help" || fail "nvhook --help exits $?"
mapfile -t opts < <(grep -oE -- '--[a-z][a-z0-9-]*' "$tmp/help" | sort -u)
mapfile -t cmds < <(sed -n 's/^  \([A-Za-z]\+\) .*/\1/p' "$tmp/help")
[ "${#opts[@]}" -ge 10 ] || fail "only ${#opts[@]} long options parsed from --help"
[ "${#cmds[@]}" -ge 10 ] || fail "only ${#cmds[@]} commands parsed from --help"
section nvhook.1 OPTIONS >"$tmp/options"
section nvhook.1 COMMANDS >"$tmp/commands"
for o in "${opts[@]}"; do
        grep -qE -- "^ {7}$o( |$)" "$tmp/options" || fail "nvhook(1) OPTIONS: no entry for '$o'"
done
for c in "${cmds[@]}"; do
        grep -qE "^ {7}([A-Za-z]+, )*$c( |,|$)" "$tmp/commands" ||
                fail "nvhook(1) COMMANDS: no entry for '$c'"
done
# The other names and the sections the page promises.
render nvhook.1 >"$tmp/nvhook.1.txt"
for w in nvhook-runtime nvidia-container-runtime-hook nvidia-container-cli NVHOOK_CONFIG \
        NVIDIA_VISIBLE_DEVICES NVIDIA_DRIVER_CAPABILITIES NVIDIA_DISABLE_REQUIRE CUDA_VERSION \
        NVIDIA_MIG_CONFIG_DEVICES NVIDIA_MIG_MONITOR_DEVICES NVIDIA_IMEX_CHANNELS \
        /var/run/nvidia-container-devices; do
        grep -qF -- "$w" "$tmp/nvhook.1.txt" || fail "nvhook(1) does not mention '$w'"
done
for s in SYNOPSIS DESCRIPTION COMMANDS OPTIONS ENVIRONMENT "EXIT STATUS" FILES EXAMPLES; do
        grep -qx "$s" "$tmp/nvhook.1.txt" || fail "nvhook(1) has no section '$s'"
done

# 3. nvhook.conf(5): the example config has exactly lib/conf.c's keys, and each key's entry
#    says the example's value is its default.
ex=$src/packaging/config.json.example
code_keys=$(sed -n 's/^    {"\([a-z_]*\)", K_.*/\1/p' "$src/lib/conf.c" | sort)
[ -n "$code_keys" ] || fail "no keys found in lib/conf.c"
[ "$(jq -r 'keys[]' "$ex" | sort)" = "$code_keys" ] ||
        fail "packaging/config.json.example keys differ from lib/conf.c's: $code_keys"
render nvhook.conf.5 >"$tmp/conf.txt"
mapfile -t keys < <(jq -r 'keys_unsorted[]' "$ex")
for k in "${keys[@]}"; do
        v=$(jq -c --arg k "$k" '.[$k]' "$ex")
        if ! grep -E "^ {7}$k \(" "$tmp/conf.txt" >"$tmp/entry"; then
                fail "nvhook.conf(5): no entry for key '$k'"
        elif ! grep -qF "default $v)" "$tmp/entry"; then
                fail "nvhook.conf(5): key '$k' does not say 'default $v': $(cat "$tmp/entry")"
        fi
done

# 4. nvhook(7): what the issue asks it to explain is there.
render nvhook.7 >"$tmp/n7.txt"
for w in "WHAT GOES WHERE" "ERRORS AND WARNINGS" "SECURITY MODEL" run.oci.hooks.stderr syslog \
        /usr/lib64 nvidia-caps-imex-channels /proc/driver/nvidia ld.so.cache "cdi generate" \
        nvidia-container-cli; do
        grep -qF -- "$w" "$tmp/n7.txt" || fail "nvhook(7) does not mention '$w'"
done

[ "$failed" = 0 ] || exit 1
echo "ok: ${#pages[@]} pages clean; ${#opts[@]} options, ${#cmds[@]} commands, ${#keys[@]} keys documented"
