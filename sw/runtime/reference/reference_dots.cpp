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

NPUVP_REFERENCE_CLONES void requantize_channels(const std::int32_t* acc, const std::int32_t* multiplier,
                                                const std::int32_t* shift, int n, std::int32_t zero_point,
                                                std::int32_t act_min, std::int32_t act_max, std::int8_t* out) {
  for (int k = 0; k < n; ++k) {
    const std::int32_t left = shift[k] > 0 ? shift[k] : 0, right = shift[k] > 0 ? 0 : -shift[k];
    // SaturatingRoundingDoublingHighMul of acc << left (wrapping) and the multiplier.
    const auto a = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc[k]) << left);
    const std::int32_t b = multiplier[k];
    const std::int64_t ab = static_cast<std::int64_t>(a) * b;
    const std::int64_t nudged = ab + (ab >= 0 ? std::int64_t{1} << 30 : 1 - (std::int64_t{1} << 30));
    // Division by 2^31 rounding toward zero, as the scalar code's '/'.
    const std::int64_t toward_zero = nudged + (nudged < 0 ? (std::int64_t{1} << 31) - 1 : 0);
    std::int32_t high = static_cast<std::int32_t>(toward_zero >> 31);
    high = a == b && a == INT32_MIN ? INT32_MAX : high;
    // RoundingDivideByPOT by `right`, in [0, 31].
    const auto mask = static_cast<std::int32_t>((std::uint32_t{1} << right) - 1u);
    const std::int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
    // The zero point added without wrapping, as the NPU's output stage does.
    std::int64_t v = std::int64_t{(high >> right) + ((high & mask) > threshold ? 1 : 0)} + zero_point;
    v = v < act_min ? act_min : v;
    v = v > act_max ? act_max : v;
    out[k] = static_cast<std::int8_t>(v);
  }
}

}  // namespace npuvp::runtime::reference_dots
