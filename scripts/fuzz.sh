#!/usr/bin/env bash
# The long fuzz run (issue 13, item 7; docs/fuzzing.md): every fuzz target
# of the workspace with many cases. Usage:
#
#     scripts/fuzz.sh [CASES]        # default 200000 cases per target
#     scripts/fuzz.sh 200000 cache   # only the targets whose name matches
#
# Targets that touch the file system for every case (cache entries, .npy
# files, graph files read from a path) run CASES/20 of those cases; the
# rest run CASES. A failure prints proptest's minimal input and keeps its
# seed in the crate's `*.proptest-regressions` file, which `cargo test`
# then runs first: commit it with a named regression test.
set -euo pipefail
cd "$(dirname "$0")/.."

cases=${1:-200000}
only=${2:-}
slow=$(( cases / 20 > 0 ? cases / 20 : 1 ))

# name | cases | cargo test arguments
targets=(
    "graph-files|$slow|-p rask-graph --test fuzz graph_file"
    "codecs|$cases|-p rask-graph --test fuzz codec_"
    "frames|$cases|-p rask-processes --lib frame::fuzz"
    "cache-entries|$slow|-p rask-cache --test fuzz"
    "npy-headers|$slow|-p rask-array --test fuzz"
    "json-lines|$cases|-p rask-bag --lib project::fuzz"
)

cargo test --release --no-run -q -p rask-graph -p rask-processes -p rask-cache -p rask-array -p rask-bag

failed=0
printf '%-14s %10s %10s  %s\n' target cases seconds result
for t in "${targets[@]}"; do
    IFS='|' read -r name n args <<<"$t"
    if [ -n "$only" ] && [[ "$name" != *"$only"* ]]; then
        continue
    fi
    start=$(date +%s.%N)
    # shellcheck disable=SC2086
    if RASK_FUZZ_CASES=$n cargo test --release -q $args >"target/fuzz-$name.log" 2>&1; then
        result=ok
    else
        result="FAILED (target/fuzz-$name.log)"
        failed=1
    fi
    end=$(date +%s.%N)
    printf '%-14s %10s %10.1f  %s\n' "$name" "$n" "$(awk "BEGIN { print $end - $start }")" "$result"
done
exit $failed
