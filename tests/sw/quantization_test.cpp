// Known-answer tests of the TFLite int8 quantization arithmetic. Every expected
// value is worked out by hand from the definitions (comments show the steps).
#include "sw/runtime/quantize/quantization.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "sw/runtime/reference/reference_dots.h"
#include "tests/sw/runtime_test_util.h"

namespace npuvp::runtime {
namespace {

using testing::expect_invalid;

constexpr std::int32_t kTwo30 = 1 << 30;
constexpr std::int32_t kMin = std::numeric_limits<std::int32_t>::min();
constexpr std::int32_t kMax = std::numeric_limits<std::int32_t>::max();

void expect_multiplier(double real, std::int32_t multiplier, int shift) {
  const FixedPointMultiplier m = quantize_multiplier(real);
  EXPECT_EQ(m.multiplier, multiplier) << "real " << real;
  EXPECT_EQ(m.shift, shift) << "real " << real;
}

TEST(QuantizeMultiplier, PowersOfTwoAndExactMantissas) {
  expect_multiplier(0.5, kTwo30, 0);    // 0.5 = 0.5 * 2^0
  expect_multiplier(1.0, kTwo30, 1);    // 1 = 0.5 * 2^1
  expect_multiplier(0.25, kTwo30, -1);  // 0.5 * 2^-1
  expect_multiplier(4.0, kTwo30, 3);
  expect_multiplier(0.75, 1610612736, 0);  // 0.75 * 2^31
  expect_multiplier(0.0, 0, 0);
}

TEST(QuantizeMultiplier, RoundsMantissaToNearest) {
  // 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4 -> 1717986918.
  expect_multiplier(0.1, 1717986918, -3);
  // Mantissa * 2^31 = 2^30 + 0.5 exactly: a tie, rounded away from zero.
  expect_multiplier(0.5 + std::ldexp(1.0, -32), kTwo30 + 1, 0);
  // 1 - 2^-33: mantissa * 2^31 = 2^31 - 0.25 rounds up to 2^31, renormalised to 2^30 with shift + 1.
  expect_multiplier(1.0 - std::ldexp(1.0, -33), kTwo30, 1);
}

TEST(QuantizeMultiplier, NegativeRealsGiveNegativeMultipliers) {
  expect_multiplier(-0.5, -kTwo30, 0);
  expect_multiplier(-0.1, -1717986918, -3);
  // -(1 - 2^-40): mantissa * 2^31 rounds to -2^31, which fits int32 and is kept.
  expect_multiplier(-(1.0 - std::ldexp(1.0, -40)), kMin, 0);
}

TEST(QuantizeMultiplier, TinyFlushedHugeRejected) {
  expect_multiplier(std::ldexp(1.0, -32), kTwo30, -31);  // 0.5 * 2^-31: the smallest kept shift
  expect_multiplier(std::ldexp(1.0, -33), 0, 0);         // shift -32 < -31: flushed to zero
  expect_multiplier(std::ldexp(1.0, -40), 0, 0);
  expect_multiplier(std::ldexp(1.0, 29), kTwo30, 30);  // largest shift accepted
  expect_invalid([] { quantize_multiplier(std::ldexp(1.0, 30)); }, "shift");
  expect_invalid([] { quantize_multiplier(std::nan("")); }, "finite");
  expect_invalid([] { quantize_multiplier(std::numeric_limits<double>::infinity()); }, "finite");
}

TEST(SaturatingRoundingDoublingHighMul, KnownAnswers) {
  // round(a * b / 2^31) with gemmlowp's nudge.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(100, kTwo30), 50);
  // 101 * 0.5 = 50.5: (101 * 2^30 + 2^30) / 2^31 = 51.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(101, kTwo30), 51);
  // -101 * 0.5 = -50.5: (-101 * 2^30 + 1 - 2^30) / 2^31 = -50.99.. truncates to -50 (ties go up).
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-101, kTwo30), -50);
  // -0.75: (-3 * 2^29 + 1 - 2^30) / 2^31 = -1.25 -> -1.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(-3, 1 << 29), -1);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(0, kMin), 0);
  // The only overflow: INT32_MIN * INT32_MIN saturates.
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMin), kMax);
  // -2^31 * (2^31 - 1) / 2^31 = -(2^31 - 1) exactly (minus the nudge, truncated).
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMin, kMax), -kMax);
  EXPECT_EQ(saturating_rounding_doubling_high_mul(kMax, kMax), kMax - 1);  // (2^31-1)^2 / 2^31 = 2^31 - 2 + 2^-31
}

TEST(RoundingDivideByPot, KnownAnswers) {
  EXPECT_EQ(rounding_divide_by_pot(5, 0), 5);
  EXPECT_EQ(rounding_divide_by_pot(5, 1), 3);    // 2.5 -> 3 (ties away from zero)
  EXPECT_EQ(rounding_divide_by_pot(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(rounding_divide_by_pot(-3, 1), -2);  // -1.5 -> -2
  EXPECT_EQ(rounding_divide_by_pot(7, 2), 2);    // 1.75 -> 2
  EXPECT_EQ(rounding_divide_by_pot(-7, 2), -2);
  EXPECT_EQ(rounding_divide_by_pot(-9, 2), -2);  // -2.25 -> -2
  EXPECT_EQ(rounding_divide_by_pot(kMin, 31), -1);
  EXPECT_EQ(rounding_divide_by_pot(kTwo30, 31), 1);  // 0.5 -> 1
  EXPECT_EQ(rounding_divide_by_pot(kMax, 31), 1);
}

TEST(MultiplyByQuantizedMultiplier, RightShiftsAndRounding) {
  const FixedPointMultiplier tenth{1717986918, -3};
  // SRDHM(1000, m) = round(1000 * 0.7999999998) = 800; 800 / 8 = 100.
  EXPECT_EQ(multiply_by_quantized_multiplier(1000, tenth), 100);
  // 1005 * 0.8 -> 804; 804 / 8 = 100.5 -> 101.
  EXPECT_EQ(multiply_by_quantized_multiplier(1005, tenth), 101);
  EXPECT_EQ(multiply_by_quantized_multiplier(-1005, tenth), -101);
  const FixedPointMultiplier quarter{kTwo30, -1};
  EXPECT_EQ(multiply_by_quantized_multiplier(10, quarter), 3);    // 5 / 2 = 2.5 -> 3
  EXPECT_EQ(multiply_by_quantized_multiplier(-10, quarter), -3);  // -5 / 2 -> -3
  // Double rounding: -202 * 0.25 = -50.5 -> -51, but -101 * 0.5 (no right shift) -> -50.
  EXPECT_EQ(multiply_by_quantized_multiplier(-202, quarter), -51);
  EXPECT_EQ(multiply_by_quantized_multiplier(-101, FixedPointMultiplier{kTwo30, 0}), -50);
  EXPECT_EQ(multiply_by_quantized_multiplier(12345, FixedPointMultiplier{0, 0}), 0);
}

TEST(MultiplyByQuantizedMultiplier, LeftShifts) {
  const FixedPointMultiplier two{kTwo30, 2};  // 0.5 * 2^2
  EXPECT_EQ(multiply_by_quantized_multiplier(3, two), 6);
  EXPECT_EQ(multiply_by_quantized_multiplier(-7, two), -14);
  const FixedPointMultiplier one_and_half{1610612736, 1};             // 0.75 * 2
  EXPECT_EQ(multiply_by_quantized_multiplier(3, one_and_half), 5);    // 4.5 -> 5 (SRDHM tie up)
  EXPECT_EQ(multiply_by_quantized_multiplier(-3, one_and_half), -4);  // -4.5 -> -4 (SRDHM tie up)
}

TEST(MultiplyByQuantizedMultiplier, SaturatesAtInt32Min) {
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, FixedPointMultiplier{kMin, 0}), kMax);
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, FixedPointMultiplier{kTwo30, 0}), kMin / 2);
  EXPECT_EQ(multiply_by_quantized_multiplier(kMin, FixedPointMultiplier{kMax, -31}), -1);
}

TEST(MultiplyByQuantizedMultiplier, RejectsShiftOutOfRange) {
  expect_invalid([] { multiply_by_quantized_multiplier(1, FixedPointMultiplier{kTwo30, 31}); }, "shift");
  expect_invalid([] { multiply_by_quantized_multiplier(1, FixedPointMultiplier{kTwo30, -32}); }, "shift");
}

TEST(MultiplyByQuantizedMultiplier, MatchesRealProductWithinOne) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> real_dist(1e-6, 4.0);
  std::uniform_int_distribution<std::int32_t> x_dist(-(1 << 24), 1 << 24);
  for (int i = 0; i < 10000; ++i) {
    const double real = real_dist(rng);
    const std::int32_t x = x_dist(rng);
    const std::int32_t got = multiply_by_quantized_multiplier(x, quantize_multiplier(real));
    EXPECT_LE(std::abs(static_cast<double>(got) - std::round(real * x)), 1.0) << real << " * " << x;
  }
}

TEST(ActivationRange, ReluAndRelu6FromScaleAndZeroPoint) {
  const QuantParams q{0.1f, -10};
  ActivationRange r = activation_range(Activation::kNone, q);
  EXPECT_EQ(r.min, -128);
  EXPECT_EQ(r.max, 127);
  r = activation_range(Activation::kRelu, q);
  EXPECT_EQ(r.min, -10);
  EXPECT_EQ(r.max, 127);
  r = activation_range(Activation::kRelu6, q);
  EXPECT_EQ(r.min, -10);
  EXPECT_EQ(r.max, 50);  // -10 + round(6 / 0.1)
  r = activation_range(Activation::kRelu6, QuantParams{0.05f, -128});
  EXPECT_EQ(r.min, -128);
  EXPECT_EQ(r.max, -8);  // -128 + round(6 / 0.05)
  r = activation_range(Activation::kRelu6, QuantParams{0.02f, -128});
  EXPECT_EQ(r.max, 127);  // -128 + 300 clamped to int8
}

TEST(MakeRequantization, PerChannelMultipliersAndClamp) {
  const Requantization rq = make_requantization(0.5f, {0.25f, 0.5f, 0.0f}, QuantParams{0.125f, 3}, Activation::kRelu);
  ASSERT_EQ(rq.per_channel.size(), 3u);
  EXPECT_EQ(rq.per_channel[0].multiplier, kTwo30);  // 0.5 * 0.25 / 0.125 = 1
  EXPECT_EQ(rq.per_channel[0].shift, 1);
  EXPECT_EQ(rq.per_channel[1].shift, 2);  // 2
  EXPECT_EQ(rq.per_channel[2].multiplier, 0);
  EXPECT_EQ(rq.output_zero_point, 3);
  EXPECT_EQ(rq.act_min, 3);
  EXPECT_EQ(rq.act_max, 127);
  EXPECT_EQ(requantize(10, rq.per_channel[0], rq), 13);
  EXPECT_EQ(requantize(-10, rq.per_channel[0], rq), 3);     // clamped by ReLU
  EXPECT_EQ(requantize(1000, rq.per_channel[1], rq), 127);  // saturates
  expect_invalid([] { make_requantization(0.0f, {1.0f}, QuantParams{1.0f, 0}); }, "input_scale");
  expect_invalid([] { make_requantization(1.0f, {}, QuantParams{1.0f, 0}); }, "weight_scales");
}

TEST(ValidateRequantization, NamesTheField) {
  Requantization rq{{{kTwo30, 0}, {kTwo30, 0}}, 0};
  expect_invalid([&] { validate_requantization(rq, 3, "k"); }, "per_channel");
  rq.per_channel[1].shift = 31;
  expect_invalid([&] { validate_requantization(rq, 2, "k"); }, "per_channel[1].shift");
  rq.per_channel[1].shift = 0;
  rq.output_zero_point = 200;
  expect_invalid([&] { validate_requantization(rq, 2, "k"); }, "output_zero_point");
  rq.output_zero_point = 0;
  rq.act_min = 10;
  rq.act_max = 5;
  expect_invalid([&] { validate_requantization(rq, 2, "k"); }, "act_min");
}

TEST(ChooseQuantParams, KnownRanges) {
  // [-2, 6]: scale 8/255; zero point from min = -128 + 63.75 = -64.25 (smaller error) -> -64.
  QuantParams q = choose_quant_params(-2.0f, 6.0f);
  EXPECT_FLOAT_EQ(q.scale, 8.0f / 255.0f);
  EXPECT_EQ(q.zero_point, -64);
  q = choose_quant_params(1.0f, 3.0f);  // extended to [0, 3]
  EXPECT_FLOAT_EQ(q.scale, 3.0f / 255.0f);
  EXPECT_EQ(q.zero_point, -128);
  q = choose_quant_params(-5.0f, -1.0f);  // extended to [-5, 0]
  EXPECT_FLOAT_EQ(q.scale, 5.0f / 255.0f);
  EXPECT_EQ(q.zero_point, 127);
  q = choose_quant_params(0.0f, 0.0f);
  EXPECT_EQ(q.scale, 1.0f);
  EXPECT_EQ(q.zero_point, 0);
  expect_invalid([] { choose_quant_params(1.0f, -1.0f); }, "rmin");
  expect_invalid([] { choose_quant_params(0.0f, std::numeric_limits<float>::infinity()); }, "rmax");
}

TEST(ChooseQuantParams, ZeroIsExactlyRepresentable) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-10.0f, 10.0f);
  for (int i = 0; i < 1000; ++i) {
    float a = dist(rng), b = dist(rng);
    if (a > b) std::swap(a, b);
    const QuantParams q = choose_quant_params(a, b);
    EXPECT_EQ(dequantize_value(quantize_value(0.0f, q), q), 0.0f);
    EXPECT_GE(q.zero_point, -128);
    EXPECT_LE(q.zero_point, 127);
  }
}

TEST(QuantizeTensor, RoundsHalfAwayAndSaturates) {
  const QuantParams q{0.5f, 3};
  EXPECT_EQ(quantize_value(1.25f, q), 6);   // 2.5 -> 3, + 3
  EXPECT_EQ(quantize_value(-1.25f, q), 0);  // -2.5 -> -3, + 3
  EXPECT_EQ(quantize_value(100.0f, q), 127);
  EXPECT_EQ(quantize_value(-1e30f, q), -128);
  EXPECT_EQ(quantize_value(std::nanf(""), q), 3);
  EXPECT_EQ(quantize_tensor({0.0f, 1.0f, -1.0f}, q), (std::vector<std::int8_t>{3, 5, 1}));
  EXPECT_EQ(dequantize_tensor({3, 5, 1}, q), (std::vector<float>{0.0f, 1.0f, -1.0f}));
  expect_invalid([] { quantize_tensor({1.0f}, QuantParams{0.0f, 0}); }, "scale");
  expect_invalid([] { quantize_tensor({1.0f}, QuantParams{1.0f, 300}); }, "zero_point");
}

TEST(QuantizeWeightsPerChannel, SymmetricPerChannel) {
  const std::vector<float> w = {31.75f, -0.375f, 0.125f,  // scale 31.75 / 127 = 0.25: 127, -1.5 -> -2, 0.5 -> 1
                                -12.7f, 1.0f,    0.0f,    // scale 0.1: -127, 10, 0
                                0.0f,   0.0f,    0.0f};   // all zero: scale 1
  const PerChannelWeights q = quantize_weights_per_channel(w, 3);
  EXPECT_EQ(q.values, (std::vector<std::int8_t>{127, -2, 1, -127, 10, 0, 0, 0, 0}));
  ASSERT_EQ(q.scales.size(), 3u);
  EXPECT_EQ(q.scales[0], 0.25f);
  EXPECT_FLOAT_EQ(q.scales[1], 0.1f);
  EXPECT_EQ(q.scales[2], 1.0f);
  expect_invalid([&] { quantize_weights_per_channel(w, 4); }, "out_channels");
  expect_invalid([&] { quantize_weights_per_channel(w, 0); }, "out_channels");
}

// The vectorized max and rounding against the scalar definition: random
// weights with exact halves of a step (ties away from zero), channel lengths
// that leave every tail of 16 lanes, int4 and int8; a NaN or an infinity in
// any lane is refused.
TEST(QuantizeWeightsPerChannel, EqualsTheScalarDefinition) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> value(-3.0f, 3.0f);
  for (const int bits : {4, 8}) {
    const float qmax = bits == 4 ? 7.0f : 127.0f;
    for (int per_channel = 1; per_channel <= 40; ++per_channel) {
      const int channels = 3;
      std::vector<float> w(static_cast<std::size_t>(channels * per_channel));
      for (std::size_t i = 0; i < w.size(); ++i)
        w[i] = i % 5 == 0 ? (static_cast<float>(static_cast<int>(i % 9)) - 4.5f) * 0.25f : value(rng);
      if (per_channel > 2) w[1] = -0.0f;
      const PerChannelWeights q = quantize_weights_per_channel(w, channels, bits);
      for (int k = 0; k < channels; ++k) {
        float max_abs = 0.0f;
        for (int i = 0; i < per_channel; ++i) max_abs = std::max(max_abs, std::abs(w[k * per_channel + i]));
        const float scale = max_abs > 0.0f ? max_abs / qmax : 1.0f;
        ASSERT_EQ(q.scales[k], scale) << bits << " bits, " << per_channel << " per channel, channel " << k;
        for (int i = 0; i < per_channel; ++i) {
          const auto expected =
              static_cast<std::int8_t>(std::clamp(std::round(w[k * per_channel + i] / scale), -qmax, qmax));
          ASSERT_EQ(q.values[k * per_channel + i], expected) << bits << " bits, weight " << k * per_channel + i;
        }
      }
      for (const float bad : {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
        std::vector<float> poisoned = w;
        poisoned[poisoned.size() - 1 - static_cast<std::size_t>(per_channel) / 2] = bad;
        expect_invalid([&] { quantize_weights_per_channel(poisoned, channels, bits); }, "weights must be finite");
      }
    }
  }
}

TEST(QuantizeBias, AtInputTimesWeightScale) {
  EXPECT_EQ(quantize_bias({1.0f, -0.5f, 0.0625f}, 0.5f, {0.25f, 1.0f, 0.25f}),
            (std::vector<std::int32_t>{8, -1, 1}));  // 1 / 0.125, -0.5 / 0.5, 0.0625 / 0.125 = 0.5 -> 1
  EXPECT_EQ(quantize_bias({1e20f}, 1.0f, {1.0f}), (std::vector<std::int32_t>{kMax}));
  expect_invalid([] { quantize_bias({1.0f}, 1.0f, {1.0f, 2.0f}); }, "bias size");
}

// The reference convolution's vectorized epilogue against the scalar
// requantize it replaces: random accumulators, multipliers and shifts, with the
// extremes (INT32_MIN times INT32_MIN saturates, every shift, the clamp bounds).
TEST(RequantizeChannels, MatchesRequantizeOnRandomAndExtremeValues) {
  std::mt19937 rng(7);
  const std::vector<std::int32_t> extremes = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX, 1 << 30, -(1 << 30)};
  constexpr int kN = 4096;
  std::vector<std::int32_t> acc(kN), multiplier(kN), shift(kN);
  std::size_t compared = 0;
  for (int round = 0; round < 64; ++round) {
    for (int k = 0; k < kN; ++k) {
      acc[k] = k % 7 == 0 ? extremes[rng() % extremes.size()] : static_cast<std::int32_t>(rng()) >> (rng() % 24);
      multiplier[k] = k % 5 == 0 ? extremes[rng() % extremes.size()] : static_cast<std::int32_t>(rng());
      shift[k] = static_cast<std::int32_t>(rng() % 62) - 31;
    }
    Requantization rq;
    rq.output_zero_point = static_cast<std::int32_t>(rng() % 256) - 128;
    rq.act_min = round % 2 == 0 ? -128 : static_cast<std::int32_t>(rng() % 128) - 128;
    rq.act_max = round % 3 == 0 ? 127 : rq.act_min + static_cast<std::int32_t>(rng() % (128 - rq.act_min));
    std::vector<std::int8_t> out(kN);
    reference_dots::requantize_channels(acc.data(), multiplier.data(), shift.data(), kN, rq.output_zero_point,
                                        rq.act_min, rq.act_max, out.data());
    for (int k = 0; k < kN; ++k, ++compared)
      ASSERT_EQ(out[k], requantize(acc[k], {multiplier[k], shift[k]}, rq))
          << "acc " << acc[k] << " multiplier " << multiplier[k] << " shift " << shift[k];
  }
  EXPECT_EQ(compared, 64u * kN);
}

}  // namespace
// The largest product plus a positive zero point clamps to act_max: the sum is
// taken wider than int32, as the NPU's output stage takes it.
TEST(Requantization, AZeroPointOnASaturatedProductClampsInsteadOfWrapping) {
  Requantization rq;
  rq.per_channel = {{std::numeric_limits<std::int32_t>::max(), 0}};
  rq.output_zero_point = 5;
  EXPECT_EQ(rq.apply(std::numeric_limits<std::int32_t>::max(), 3), 127);
  rq.output_zero_point = -5;
  rq.act_min = -32768;
  rq.act_max = 32767;
  EXPECT_EQ(rq.apply(std::numeric_limits<std::int32_t>::min(), 0), -32768);
}

}  // namespace npuvp::runtime
