#!/bin/bash
# examples/layer_on_npu from a directory of its own: probes the NPU, runs its
# layer bit-exact and writes the standard reports; a bad platform is refused.
# usage: layer_on_npu_test.sh LAYER_ON_NPU
set -euo pipefail
example=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp"

"$example" edge-ip out >run.txt 2>&1 || fail "layer_on_npu exited non-zero: $(cat run.txt)"
grep -q '^NPU id 0x4e505556, version 1\.0: 16 clusters of 8x8 PEs, 512 KiB SRAM$' run.txt ||
  fail "no probe line: $(cat run.txt)"
# 32 channels of 28x28 int8 outputs, every one as the reference computed it.
grep -q "^0 of 25088 output bytes differ from the reference; reports in out$" run.txt || fail "$(cat run.txt)"
for f in report.json layers.csv report.html roofline.svg trace.vcd timeline.json power.csv; do
  [[ -s out/$f ]] || fail "no out/$f"
done
python3 - out/report.json <<'PY' || fail "report.json"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["network"]["name"] == "layer_on_npu", r["network"]["name"]
assert [l["name"] for l in r["layers"]] == ["conv3x3"], r["layers"]
assert r["layers"][0]["verified"] is True and r["layers"][0]["mismatches"] == 0
assert r["layers"][0]["cycles"] > 0 and r["totals"]["all_verified"] is True
PY
grep -q '^conv3x3,conv2d,' out/layers.csv || fail "layers.csv: $(head -2 out/layers.csv)"

# A platform that does not exist: a message naming it and exit code 1.
if "$example" no-such-platform out2 >bad.txt 2>&1; then fail "ran on no-such-platform"; fi
grep -q "^layer_on_npu: .*'no-such-platform'" bad.txt || fail "$(cat bad.txt)"
echo "layer_on_npu ran and reported"
