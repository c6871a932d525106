#!/usr/bin/env bash
# Configures and builds the fuzzers with clang in their own build directory:
#   build_fuzzers.sh SOURCE_DIR BUILD_DIR CLANGXX
# Every library is compiled with libFuzzer's coverage instrumentation and
# ASan+UBSan (any UB aborts, so libFuzzer reports it as a crash); only the
# fuzzers' dependencies are built, the suite and tools are not.
set -euo pipefail
src=$1 build=$2 cxx=$3
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src" -B "$build" -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
  -DCMAKE_CXX_FLAGS_RELEASE=-O1 \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DNPUVP_BUILD_TESTS=OFF -DNPUVP_FUZZ_TARGETS=ON >/dev/null
cmake --build "$build" --target npuvp_fuzzers -j "$(nproc)"
