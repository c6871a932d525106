#!/usr/bin/env bash
# Runs one fuzzer for a fixed number of inputs from a fixed seed:
#   run_fuzzer.sh BUILD_DIR TARGET RUNS [libFuzzer options...]
# from the repository root (presets name their files relative to it). New
# inputs go to a scratch corpus that starts empty each time, so the run is
# the same every time and the seed corpus in fuzz/corpus is never written;
# a crash leaves its input in BUILD_DIR/artifacts.
set -euo pipefail
build=$1 target=$2 runs=$3
shift 3
scratch=$build/corpus/$target
rm -rf "$scratch"
mkdir -p "$scratch" "$build/artifacts"
exec "$build/fuzz/fuzz_$target" -seed=1 -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$build/artifacts/$target-" "$@" "$scratch" "fuzz/corpus/$target"
