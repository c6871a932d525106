#include "sw/runtime/reference/reference_dots.h"

#include <climits>

// Each function is compiled once per ISA below; the loader's resolver picks the
// widest the CPU has. The sums are of integers, so every clone gives the same bits.
// (GCC's spelling; other compilers build the portable loop alone.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NPUVP_REFERENCE_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define NPUVP_REFERENCE_CLONES
#endif

namespace npuvp::runtime::reference_dots {

NPUVP_REFERENCE_CLONES void dot_2x4(const std::int16_t* x0, const std::int16_t* x1, const std::int16_t* const w[4],
                                    int n, std::int32_t* out0, std::int32_t* out1) {
  const std::int16_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
  std::int32_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  for (int i = 0; i < n; ++i) {
    s00 += x0[i] * w0[i];
    s01 += x0[i] * w1[i];
    s02 += x0[i] * w2[i];
    s03 += x0[i] * w3[i];
    s10 += x1[i] * w0[i];
    s11 += x1[i] * w1[i];
    s12 += x1[i] * w2[i];
    s13 += x1[i] * w3[i];
  }
  out0[0] += s00;
  out0[1] += s01;
  out0[2] += s02;
  out0[3] += s03;
  out1[0] += s10;
  out1[1] += s11;
  out1[2] += s12;
  out1[3] += s13;
}

NPUVP_REFERENCE_CLONES void dot_1x4(const std::int16_t* x, const std::int16_t* const w[4], int n, std::int32_t* out) {
  const std::int16_t *w0 = w[0], *w1 = w[1], *w2 = w[2], *w3 = w[3];
  std::int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int i = 0; i < n; ++i) {
    s0 += x[i] * w0[i];
    s1 += x[i] * w1[i];
    s2 += x[i] * w2[i];
    s3 += x[i] * w3[i];
  }
  out[0] += s0;
  out[1] += s1;
  out[2] += s2;
  out[3] += s3;
}

NPUVP_REFERENCE_CLONES std::int32_t dot_1x1(const std::int16_t* x, const std::int16_t* w, int n) {
  std::int32_t s = 0;
  for (int i = 0; i < n; ++i) s += x[i] * w[i];
  return s;
}

// An int8 product fits int16 (at most 128 * 128), so it is formed in int16
// lanes before it is widened to the accumulator.
NPUVP_REFERENCE_CLONES void multiply_accumulate(const std::int8_t* x, const std::int8_t* w, int n, std::int32_t* acc) {
  for (int i = 0; i < n; ++i) acc[i] += static_cast<std::int16_t>(x[i] * w[i]);
}

namespace {

// MultiplyByQuantizedMultiplier (quantization.h) of x by {multiplier, shift},
// each step written without branches or 64-bit shifts by a variable so that
// the loops calling it vectorize.
inline std::int32_t multiply_by_multiplier(std::int32_t x, std::int32_t multiplier, std::int32_t shift) {
  const std::int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  // SaturatingRoundingDoublingHighMul of x << left (wrapping) and the multiplier.
  const auto a = static_cast<std::int32_t>(static_cast<std::uint32_t>(x) << left);
  const std::int64_t ab = static_cast<std::int64_t>(a) * multiplier;
  const std::int64_t nudged = ab + (ab >= 0 ? std::int64_t{1} << 30 : 1 - (std::int64_t{1} << 30));
  // Division by 2^31 rounding toward zero, as the scalar code's '/'.
  const std::int64_t toward_zero = nudged + (nudged < 0 ? (std::int64_t{1} << 31) - 1 : 0);
  std::int32_t high = static_cast<std::int32_t>(toward_zero >> 31);
  high = a == multiplier && a == INT32_MIN ? INT32_MAX : high;
  // RoundingDivideByPOT by `right`, in [0, 31].
  const auto mask = static_cast<std::int32_t>((std::uint32_t{1} << right) - 1u);
  const std::int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + ((high & mask) > threshold ? 1 : 0);
}

inline std::int8_t clamp_to(std::int64_t v, std::int32_t lo, std::int32_t hi) {
  v = v < lo ? lo : v;
  v = v > hi ? hi : v;
  return static_cast<std::int8_t>(v);
}

}  // namespace

NPUVP_REFERENCE_CLONES void requantize_channels(const std::int32_t* acc, const std::int32_t* multiplier,
                                                const std::int32_t* shift, int n, std::int32_t zero_point,
                                                std::int32_t act_min, std::int32_t act_max, std::int8_t* out) {
  // The zero point added without wrapping, as the NPU's output stage does.
  for (int k = 0; k < n; ++k)
    out[k] =
        clamp_to(std::int64_t{multiply_by_multiplier(acc[k], multiplier[k], shift[k])} + zero_point, act_min, act_max);
}

NPUVP_REFERENCE_CLONES void add_elements(const std::int8_t* x1, const std::int8_t* x2, std::size_t n, const AddSteps& p,
                                         std::int8_t* out) {
  const std::int32_t scale_up = std::int32_t{1} << p.left_shift;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t s1 = multiply_by_multiplier((p.input1_offset + x1[i]) * scale_up, p.multiplier[0], p.shift[0]);
    const std::int32_t s2 = multiply_by_multiplier((p.input2_offset + x2[i]) * scale_up, p.multiplier[1], p.shift[1]);
    out[i] =
        clamp_to(multiply_by_multiplier(s1 + s2, p.multiplier[2], p.shift[2]) + p.output_offset, p.act_min, p.act_max);
  }
}

}  // namespace npuvp::runtime::reference_dots
