#!/bin/bash
# cmake --install gives a P/bin/npuvp that runs from any directory: presets by
# name, the files they name found under P/share/npuvp, a sweep file from
# there too; NPUVP_DATA overrides where the data is.
# An ONNX network loads the installed importer module, P/lib/npuvp/npuvp_onnx.so.
# usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1
source=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >"$tmp/install.log"
npuvp=$tmp/prefix/bin/npuvp
[[ -x $npuvp ]] || fail "no $npuvp after cmake --install"
[[ -f $tmp/prefix/share/npuvp/configs/platforms/edge-ip.yaml ]] || fail "configs not installed under share/npuvp"
[[ -f $tmp/prefix/share/npuvp/configs/dram/lpddr4x-4266.yaml ]] || fail "memspecs not installed"

# Run from a directory with no configs/ anywhere above it, with the source
# tree out of reach: the installed data must be what is used.
mkdir -p "$tmp/elsewhere"
cd "$tmp/elsewhere"
list=$("$npuvp" list platforms)
grep -q '^edge-ip ' <<<"$list" || fail "npuvp list platforms from elsewhere: $list"
"$npuvp" run --platform edge-ip --network conv_slice --out run --quiet --traces none >run.txt ||
  fail "npuvp run from elsewhere: $(cat run.txt)"
[[ -s run/report.json ]] || fail "no run/report.json"
grep -q '"name": "edge-ip"' run/report.json || fail "report.json does not name edge-ip"
# The default platform is the preset by name, too.
"$npuvp" run --network conv_slice --out run2 --quiet --traces none >/dev/null || fail "default --platform from elsewhere"
# A shipped network file by its path under the data root.
"$npuvp" run --network configs/networks/resnet20_cifar.yaml --out run6 --quiet --traces none >/dev/null ||
  fail "a shipped network file from elsewhere"
grep -q '"name": "resnet20_cifar"' run6/report.json || fail "run6/report.json does not name resnet20_cifar"
# A preset copied out of the tree still finds its memspec, energy and area
# tables (configs/... relative to the data root).
cp "$tmp/prefix/share/npuvp/configs/platforms/edge-ip.yaml" mine.yaml
"$npuvp" run --platform mine.yaml --network conv_slice --out run3 --quiet --traces none >/dev/null ||
  fail "a copied preset from elsewhere"
# A file beside the preset wins over the shipped one of the same name.
mkdir -p configs/dram
sed 's/^name: .*/name: LOCAL-PART/' "$tmp/prefix/share/npuvp/configs/dram/lpddr4x-4266.yaml" >configs/dram/local.yaml
sed 's|memspec: .*|memspec: configs/dram/local.yaml|' mine.yaml >beside.yaml
"$npuvp" run --platform beside.yaml --network conv_slice --out run4 --quiet --traces none >/dev/null ||
  fail "a preset naming a memspec beside it"
grep -q 'LOCAL-PART' run4/report.json || fail "the memspec beside the preset was not used"

# NPUVP_DATA overrides the data root; a missing preset says where it looked.
err=$(NPUVP_DATA="$tmp/nowhere" "$npuvp" run --network conv_slice --out run5 2>&1) && fail "NPUVP_DATA=nowhere ran"
expected="npuvp: --platform 'edge-ip': no preset of that name in $tmp/nowhere/configs/platforms (npuvp list platforms)"
[[ $err == "$expected" ]] || fail "expected '$expected', got '$err'"

# A shipped sweep file, by its path under the data root's configs/.
"$npuvp" sweep "$tmp/prefix/share/npuvp/configs/sweeps/smoke.yaml" --out sweep --dry-run >dry.txt ||
  fail "sweep --dry-run of an installed sweep file: $(cat dry.txt)"
grep -q "^'\?$npuvp'\? run --platform $tmp/prefix/share/npuvp/configs/platforms/edge-ip.yaml" dry.txt ||
  fail "the dry run does not run the installed binary on the installed preset: $(head -3 dry.txt)"
# An ONNX model: the installed module is the one loaded (glibc's LD_DEBUG
# names every object loaded and who loaded it).
[[ -f $tmp/prefix/lib/npuvp/npuvp_onnx.so ]] || fail "the ONNX module was not installed under lib/npuvp"
/usr/bin/python3 "$source/tests/sw/make_onnx_models.py" "$tmp/models" >/dev/null
LD_DEBUG=files "$npuvp" run --network "$tmp/models/qdq_cnn.onnx" --out run7 --quiet --traces none >run7.txt 2>ld.txt ||
  fail "an ONNX model with the installed npuvp: $(cat run7.txt)"
grep -q "verified          all outputs bit-exact" run7.txt || fail "the ONNX run was not bit-exact: $(cat run7.txt)"
grep -q "file=$tmp/prefix/lib/npuvp/npuvp_onnx.so .*dynamically loaded by $npuvp" ld.txt ||
  fail "the installed npuvp did not load the installed module: $(grep npuvp_onnx ld.txt)"
echo "installed npuvp runs from $tmp/elsewhere"
