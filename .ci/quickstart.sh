#!/usr/bin/env bash
# The README's quick start: install what is missing (Debian 12 packages only),
# build (Release), then either run the default simulation or the test suite.
#
#   bash .ci/quickstart.sh run [npuvp run options...]
#   bash .ci/quickstart.sh test [ctest options...]
set -euo pipefail

mode=${1:-}
[ "$mode" = run ] || [ "$mode" = test ] || { echo "usage: $0 run|test [args...]" >&2; exit 2; }
shift

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

packages=(cmake g++ make pkg-config python3
          libsystemc-dev libspdlog-dev libboost-dev libboost-program-options-dev
          libgtest-dev libgmock-dev libyaml-cpp-dev nlohmann-json3-dev gtkwave
          libonnx-dev libprotobuf-dev protobuf-compiler)
# Tests only: report.html is rendered in headless Chromium, and the ONNX
# import tests write their models with Debian's python3-onnx; the format test
# runs clang-format and the size-limit test universal-ctags; the fuzzers
# (fuzz/) are built with clang and its libFuzzer runtime; the Slurm sweep
# test starts a one-node Slurm cluster (slurmctld, slurmd, munged); GTKWave
# itself reads the waveforms back on a virtual X display (xvfb-run).
[ "$mode" = test ] && packages+=(chromium python3-onnx python3-numpy clang-format universal-ctags
                                 clang libclang-rt-14-dev slurm-wlm munge xvfb xauth)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "quickstart: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

jobs=$(nproc)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j "$jobs"

if [ "$mode" = run ]; then
  exec ./build/platform/npuvp run "$@"
fi
cd build
exec ctest --output-on-failure -j "$jobs" "$@"
