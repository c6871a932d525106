#!/bin/bash
# `cmake --install` gives a CMake package: examples/layer_on_npu, copied out of
# the tree, configures with find_package(npuvp) against the install alone,
# builds, and runs on the installed data (NPUVP_DATA), writing its reports.
# usage: installed_example_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
[[ -f $prefix/lib/cmake/npuvp/npuvpConfig.cmake ]] || fail "no npuvpConfig.cmake"
[[ -f $prefix/include/npuvp/platform/run.h && -f $prefix/include/npuvp/contract/command_format.h ]] ||
  fail "headers not installed under include/npuvp"
[[ -f $prefix/lib/libnpuvp_platform.a ]] || fail "libnpuvp_platform.a not installed"
# No installed header may include one of the project's that was not installed.
grep -rho '#include "[^"]*"' "$prefix/include/npuvp" | sed 's/#include "\(.*\)"/\1/' | sort -u >"$tmp/includes"
while read -r inc; do
  [[ -f $prefix/include/npuvp/$inc ]] || echo "$inc"
done <"$tmp/includes" >"$tmp/missing"
[[ -s $tmp/missing ]] && fail "installed headers include what was not installed: $(tr '\n' ' ' <"$tmp/missing")"

cp -r "$source/examples/layer_on_npu" "$tmp/src"
cmake -S "$tmp/src" -B "$tmp/build" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/configure.log" 2>&1 ||
  fail "configure against the install: $(tail -20 "$tmp/configure.log")"
cmake --build "$tmp/build" -j2 >"$tmp/build.log" 2>&1 || fail "build against the install: $(tail -30 "$tmp/build.log")"
# The include path is the install's, never the source tree's.
grep -rq -- "-I$source\b\|-isystem $source\b" "$tmp/build" && fail "the out-of-tree build includes from $source"

mkdir "$tmp/run" && cd "$tmp/run"
NPUVP_DATA=$prefix/share/npuvp "$tmp/build/layer_on_npu" edge-ip out >run.txt 2>&1 ||
  fail "the installed example failed: $(cat run.txt)"
grep -q "^0 of 25088 output bytes differ from the reference; reports in out$" run.txt || fail "$(cat run.txt)"
[[ -s out/report.json && -s out/report.html ]] || fail "no reports"
echo "layer_on_npu built against $prefix and ran"
