// The reference convolution's instruction-set paths (reference_simd.h), each
// forced in turn, against the textbook loop nest: channel counts that leave
// tails of input groups (4 or 2 channels) and channel blocks (16 or 8), runs of 1 to 8 pixels with
// the same valid taps, strides, dilations, asymmetric padding, groups, input
// zero points and biases at the accumulator's limit.
#include "sw/runtime/reference/reference_simd.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <random>
#include <string>
#include <vector>

#include "tests/sw/direct_conv.h"
#include "tests/sw/runtime_test_util.h"

namespace npuvp::runtime {
namespace {

using reference_simd::Isa;
using testing::direct_conv;
using testing::random_int8;

std::vector<Isa> isas() {
  std::vector<Isa> list{Isa::kPortable};
  if (reference_simd::best_isa() != Isa::kPortable) list.push_back(Isa::kAvx2);
  if (reference_simd::best_isa() == Isa::kAvx512Vnni) list.push_back(Isa::kAvx512Vnni);
  return list;
}

const char* isa_name(Isa isa) {
  return isa == Isa::kPortable ? "portable" : isa == Isa::kAvx2 ? "avx2" : "avx512-vnni";
}

// Restores the CPU's own ISA when a test ends.
struct ForcedIsa {
  explicit ForcedIsa(Isa isa) { reference_simd::force_isa(isa); }
  ~ForcedIsa() { reference_simd::force_isa(reference_simd::best_isa()); }
};

TEST(ReferenceIsa, EveryPathMatchesTheLoopNestOnRandomConvolutions) {
  for (const Isa isa : isas()) {
    const ForcedIsa forced(isa);
    std::mt19937 rng(7);
    auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
    for (int trial = 0; trial < 150; ++trial) {
      ConvParams p;
      p.kernel_h = pick(1, 3);
      p.kernel_w = pick(1, 5);
      p.stride_h = pick(1, 2);
      p.stride_w = pick(1, 3);
      p.dilation_h = pick(1, 2);
      p.dilation_w = pick(1, 2);
      p.pad = {pick(0, 2), pick(0, 2), pick(0, 2), pick(0, 3)};
      p.input_zero_point = trial % 4 == 0 ? 0 : pick(-128, 127);
      p.groups = trial % 3 == 0 ? pick(2, 3) : 1;
      TensorShape s{p.groups * pick(1, 41), pick(1, 7), pick(1, 21)};
      p.out_channels = p.groups * pick(1, 37);
      s.h = std::max(s.h, p.dilation_h * (p.kernel_h - 1) + 1 - p.pad.top - p.pad.bottom);
      s.w = std::max(s.w, p.dilation_w * (p.kernel_w - 1) + 1 - p.pad.left - p.pad.right);
      const auto in = random_int8(rng, s.size());
      const auto w =
          random_int8(rng, static_cast<std::size_t>(p.out_channels) * p.kernel_h * p.kernel_w * (s.c / p.groups));
      std::vector<std::int32_t> bias(static_cast<std::size_t>(p.out_channels));
      for (auto& b : bias) b = pick(-100000, 100000);
      ASSERT_EQ(conv2d_accumulators(in, s, w, bias, p), direct_conv(in, s, w, bias, p))
          << isa_name(isa) << " trial " << trial;
    }
  }
}

// The extremes of every operand: inputs -128 and 127 against a zero point of
// -128 or 127 (differences up to 255), weights -128, and a bias that leaves
// exactly the room the products may need.
TEST(ReferenceIsa, EveryPathKeepsExtremeOperandsExact) {
  for (const Isa isa : isas()) {
    const ForcedIsa forced(isa);
    for (const std::int32_t zp : {-128, 127}) {
      ConvParams p;
      p.kernel_h = p.kernel_w = 3;
      p.pad = Padding::uniform(1);
      p.out_channels = 19;
      p.input_zero_point = zp;
      const TensorShape s{67, 5, 9};
      std::vector<std::int8_t> in(s.size(), static_cast<std::int8_t>(zp == -128 ? 127 : -128));
      const std::vector<std::int8_t> w(static_cast<std::size_t>(p.out_channels) * 9 * s.c, -128);
      const std::int64_t products = std::int64_t{9} * s.c * 255 * 128;
      std::vector<std::int32_t> bias(
          static_cast<std::size_t>(p.out_channels),
          static_cast<std::int32_t>(zp == -128 ? INT32_MAX - products : products - INT32_MAX));
      ASSERT_EQ(conv2d_accumulators(in, s, w, bias, p), direct_conv(in, s, w, bias, p))
          << isa_name(isa) << " zp " << zp;
    }
  }
}

}  // namespace
}  // namespace npuvp::runtime
