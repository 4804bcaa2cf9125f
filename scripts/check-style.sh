#!/bin/bash
# House style, checked in CI: clang-format on every C file, shellcheck on every script, and
# the import graph of hook/ and lib/ (scripts/check-includes.sh: no cycle, no upward include).
set -eu
cd "$(dirname "$0")/.."
fail=0
mapfile -t c_files < <(git ls-files '*.c' '*.h' 2>/dev/null || find lib hook tests bench -name '*.[ch]')
if ! clang-format --dry-run --Werror "${c_files[@]}" 2>/tmp/nvh-format.$$; then
        head -20 /tmp/nvh-format.$$ >&2
        echo "clang-format: the files above need formatting (clang-format -i FILE)" >&2
        fail=1
fi
rm -f /tmp/nvh-format.$$
mapfile -t scripts < <(git ls-files '*.sh' .ci/run 2>/dev/null || find . -name '*.sh')
if ! shellcheck -S warning "${scripts[@]}"; then
        echo "shellcheck: warnings above" >&2
        fail=1
fi
if ! bash scripts/check-includes.sh; then
        echo "check-includes: fix the includes above or place the module in its layer table" >&2
        fail=1
fi
[ "$fail" = 0 ] && echo "style: ok"
exit "$fail"
