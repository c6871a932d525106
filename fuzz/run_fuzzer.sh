#!/usr/bin/env bash
# Runs one fuzzer for a fixed number of inputs from a fixed seed:
#   run_fuzzer.sh BUILD_DIR TARGET RUNS [libFuzzer options...]
# from the repository root (presets name their files relative to it). New
# inputs go to a scratch corpus that starts empty each time and the seed
# corpus in fuzz/corpus is never written. The run is the same from one run to
# the next on one machine, nearly: libFuzzer's comparison dictionary also
# takes the values the code compares, pointers among them, so another address
# layout can steer the mutations elsewhere. A crash leaves its input in
# BUILD_DIR/artifacts; keep it in fuzz/corpus as regression-* (docs/fuzzing.md).
set -euo pipefail
build=$1 target=$2 runs=$3
shift 3
scratch=$build/corpus/$target
rm -rf "$scratch"
mkdir -p "$scratch" "$build/artifacts"
exec "$build/fuzz/fuzz_$target" -seed=1 -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$build/artifacts/$target-" "$@" "$scratch" "fuzz/corpus/$target"
