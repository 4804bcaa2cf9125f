#!/bin/bash
# CI step: build the libFuzzer targets with clang (-DNVH_FUZZ=ON: fuzzer, ASan, UBSan), then run
# each for a bounded time from the seed corpus (tests/fuzz/seeds/<target> plus the binary seeds
# gen-seeds.sh makes). Fails on any crash, leak, sanitizer finding, slow input or memory blow-up;
# the input that did it is kept under $BUILD/artifacts.
# Env: BUILD_FUZZ (build-fuzz), FUZZ_SECONDS per target (20), FUZZ_JOBS targets at once (nproc).
set -eu
cd "$(dirname "$0")/../.."
build=${BUILD_FUZZ:-build-fuzz}
seconds=${FUZZ_SECONDS:-20}
jobs=${FUZZ_JOBS:-$(nproc)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! { CC=${CC_FUZZ:-clang} cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DNVH_FUZZ=ON -DNVH_TESTS=OFF && cmake --build "$build" -j "$(nproc)"; } \
        >"$work/build.log" 2>&1; then
        tail -n 40 "$work/build.log" >&2
        exit 1
fi

bash tests/fuzz/gen-seeds.sh "$work/gen"
mkdir -p "$build/artifacts"

# Corpus of a target: its committed text seeds and generated binary seeds, copied so that
# what the run adds stays out of the tree.
corpus() {
        local name=$1 dir=$work/corpus/$1
        mkdir -p "$dir"
        for d in tests/fuzz/seeds/"$name" "$work/gen/$name"; do
                if [ -d "$d" ]; then cp "$d"/* "$dir"/; fi
        done
        echo "$dir"
}

run_one() {
        local name=$1 dir log=$work/$1.log
        dir=$(corpus "$name")
        # -timeout: one input over 10 s is a finding (a quadratic parser); -rss_limit_mb: a
        # parser that multiplies its input is one too.
        if "$build/tests/fuzz/fuzz_$name" -max_total_time="$seconds" -timeout=10 \
                -rss_limit_mb=1024 -print_final_stats=1 \
                -artifact_prefix="$build/artifacts/$name-" "$dir" >"$log" 2>&1; then
                echo "fuzz $name: ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' \
                        "$log" | grep -o '[0-9]*$') runs in ${seconds} s)"
        else
                echo "fuzz $name: FAILED" >&2
                tail -n 60 "$log" >&2
                return 1
        fi
}

targets=(ldcache elf oci_state oci_config request require conf procfs)
for name in "${targets[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.2; done
        (if run_one "$name"; then echo 0 >"$work/$name.rc"; else echo 1 >"$work/$name.rc"; fi) &
done
wait
fail=0
for name in "${targets[@]}"; do
        [ "$(cat "$work/$name.rc")" = 0 ] || fail=1
done
if [ "$fail" != 0 ]; then
        echo "fuzz: crash inputs kept in $build/artifacts" >&2
        exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds} s each, no finding"
