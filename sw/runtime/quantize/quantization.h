#pragma once
// int8 quantization following the TFLite scheme: per-tensor asymmetric
// activations (scale, zero point), per-channel symmetric weights (zero point 0),
// int32 bias at scale input_scale * weight_scale[k], and integer-only
// requantization of int32 accumulators by a fixed-point multiplier with gemmlowp
// rounding semantics. Every function here gives the same bits as TFLite's
// reference kernels, so quantized models from TFLite/ONNX can be checked.

#include <cstdint>
#include <limits>
#include <vector>

namespace npuvp::runtime {

// A real multiplier M represented as multiplier * 2^(shift - 31), with
// multiplier in [2^30, 2^31) for M > 0 (or 0 when M is 0 or flushed to zero).
struct FixedPointMultiplier {
  std::int32_t multiplier;
  int shift;
};

// TFLite's QuantizeMultiplier: frexp, rounding of the mantissa half away from
// zero to 31 bits, renormalisation when it rounds up to 2^31, and flushing of
// multipliers below ~2^-32 to {0, 0}. Negative reals give negative multipliers.
// Throws std::invalid_argument for non-finite reals and for |real| >= 2^30
// (whose shift would not fit MultiplyByQuantizedMultiplier).
FixedPointMultiplier quantize_multiplier(double real);

// gemmlowp SaturatingRoundingDoublingHighMul: the high 32 bits of 2*a*b rounded
// to nearest with the nudge gemmlowp uses (ties toward +infinity); the single
// overflowing case a == b == INT32_MIN saturates to INT32_MAX.
inline std::int32_t saturating_rounding_doubling_high_mul(std::int32_t a, std::int32_t b) {
  if (a == b && a == std::numeric_limits<std::int32_t>::min()) return std::numeric_limits<std::int32_t>::max();
  const std::int64_t ab = static_cast<std::int64_t>(a) * static_cast<std::int64_t>(b);
  const std::int64_t nudge = ab >= 0 ? (std::int64_t{1} << 30) : (1 - (std::int64_t{1} << 30));
  return static_cast<std::int32_t>((ab + nudge) / (std::int64_t{1} << 31));
}

// gemmlowp RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away
// from zero. exponent must be in [0, 31].
inline std::int32_t rounding_divide_by_pot(std::int32_t x, int exponent) {
  const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << exponent) - 1);
  const std::int32_t remainder = x & mask;
  const std::int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

namespace detail {
// MultiplyByQuantizedMultiplier without the range check, for kernels that
// validated the multiplier once. A positive shift is a left shift of x that
// wraps modulo 2^32 like the two's complement hardware (TFLite leaves the
// overflow undefined).
inline std::int32_t multiply_by_quantized_multiplier_unchecked(std::int32_t x, FixedPointMultiplier m) {
  const int left_shift = m.shift > 0 ? m.shift : 0;
  const int right_shift = m.shift > 0 ? 0 : -m.shift;
  const auto shifted = static_cast<std::int32_t>(static_cast<std::uint32_t>(x) << left_shift);
  return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, m.multiplier), right_shift);
}
}  // namespace detail

// TFLite's reference MultiplyByQuantizedMultiplier (double rounding):
// RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x << left, multiplier), right).
// Throws std::invalid_argument when m.shift is outside [-31, 30].
std::int32_t multiply_by_quantized_multiplier(std::int32_t x, FixedPointMultiplier m);

// TFLite's MultiplyByQuantizedMultiplier for the int64 accumulators of its
// 16-bit kernels (reference_ops, int16 activations): the multiplier reduced
// to 15 bits (rounded, 0x7FFF at most), then (x × reduced + 2^(14 - shift))
// >> (15 - shift), saturated to int32 (TFLite asserts the result fits).
// The NPU's int16 convolutions requantize their 48-bit accumulators so.
// Throws std::invalid_argument when m.shift is outside [-31, 7] (TFLite's range).
std::int32_t multiply_by_quantized_multiplier_int64(std::int64_t x, FixedPointMultiplier m);

// Per-tensor affine quantization: real = scale * (q - zero_point), with q in
// [qmin, qmax]: [-128, 127] for an int8 tensor, [-8, 7] for an int4 one (held
// one value per int8 on the host, two per byte in NPU memory), [-32768, 32767]
// for an int16 one (zero point 0; held as stored, two bytes per value
// little-endian, in the same byte vectors: int16_values.h).
struct QuantParams {
  float scale = 1.0f;
  std::int32_t zero_point = 0;
  std::int32_t qmin = -128, qmax = 127;
};

// The [qmin, qmax] of a signed integer type of `bits` (4, 8 or 16).
inline QuantParams with_bits(QuantParams q, int bits) {
  q.qmax = (1 << (bits - 1)) - 1;
  q.qmin = -q.qmax - 1;
  return q;
}

// The integer type a tensor's parameters describe: 4, 8 or 16 bits.
inline int bits_of(QuantParams q) { return q.qmax > 127 ? 16 : q.qmax < 127 ? 4 : 8; }

enum class Activation { kNone, kRelu, kRelu6 };

// Inclusive int8 clamp range of an output tensor.
struct ActivationRange {
  std::int32_t min = -128;
  std::int32_t max = 127;
};

// TFLite's CalculateActivationRangeQuantized: ReLU clamps below at the
// quantized 0, ReLU6 also above at the quantized 6 (each q = zp + round(r / scale)),
// both intersected with the tensor's [qmin, qmax] (which is the range without
// an activation).
ActivationRange activation_range(Activation act, QuantParams output);

// How int32 accumulators of one layer become int8 outputs:
// clamp(multiply_by_quantized_multiplier(acc, per_channel[k]) + output_zero_point,
//       act_min, act_max). per_channel holds one multiplier per output channel,
// or a single one applied to every channel (per-tensor). The zero point is
// added without wrapping, as the NPU's output stage does.
struct Requantization {
  std::vector<FixedPointMultiplier> per_channel;
  std::int32_t output_zero_point = 0;
  std::int32_t act_min = -128, act_max = 127;

  // The output of accumulator `acc` of channel k (any k: per-tensor repeats).
  std::int32_t apply(std::int32_t acc, std::size_t k) const;
};

// Requantization of a conv/FC layer: real multiplier of channel k is
// input_scale * weight_scales[k] / output.scale (computed in double as TFLite's
// PopulateConvolutionQuantizationParams does), the clamp from `act`.
Requantization make_requantization(float input_scale, const std::vector<float>& weight_scales, QuantParams output,
                                   Activation act = Activation::kNone);

// Throws std::invalid_argument (message prefixed by `where`) unless every shift
// is in [-31, 30] (int16 output, `bits` 16: [-31, 7]), the zero point and
// clamp bounds lie in [-128, 127] (int16: [-32768, 32767]) with
// act_min <= act_max, and per_channel has 1 or `channels` entries.
void validate_requantization(const Requantization& rq, int channels, const char* where, int bits = 8);

// One int32 accumulator of output channel k requantized to int8 (no checks).
inline std::int8_t requantize(std::int32_t acc, FixedPointMultiplier m, const Requantization& rq) {
  // The zero point added without wrapping, as Requantization::apply and the NPU do.
  std::int64_t v = std::int64_t{detail::multiply_by_quantized_multiplier_unchecked(acc, m)} + rq.output_zero_point;
  v = v < rq.act_min ? rq.act_min : v;
  v = v > rq.act_max ? rq.act_max : v;
  return static_cast<std::int8_t>(v);
}

// int16 (`bits` 16): symmetric_int16_params (int16_values.h).
// TFLite's ChooseQuantizationParams over [rmin, rmax] for a signed type of
// `bits` (8: [-128, 127]; 4: [-8, 7]): the range is first extended to contain
// 0, scale = (rmax - rmin) / (qmax - qmin), and the zero point is the one (from
// min or from max) with the smaller error, rounded and clamped to [qmin, qmax]
// so that real 0 is exactly representable. A range of a single point (both 0)
// gives {1, 0}. Throws std::invalid_argument for non-finite bounds or
// rmin > rmax.
QuantParams choose_quant_params(float rmin, float rmax, int bits = 8);

// q = clamp(round(x / scale) + zero_point, qmin, qmax), round half away from
// zero and the division in float, as TFLite's AffineQuantize; NaN gives the
// zero point. quantize_tensor of int16 parameters gives the stored bytes.
std::int8_t quantize_value(float x, QuantParams q);
// Inline: the SQNR's loops over whole tensors vectorize it.
inline float dequantize_value(std::int8_t q, QuantParams p) {
  return p.scale * static_cast<float>(static_cast<std::int32_t>(q) - p.zero_point);
}
std::vector<std::int8_t> quantize_tensor(const std::vector<float>& values, QuantParams q);
std::vector<float> dequantize_tensor(const std::vector<std::int8_t>& values, QuantParams q);

// Weights quantized per output channel, symmetric and narrow-range:
// scales[k] = max|w_k| / qmax, values clamped to [-qmax, qmax] with qmax 127
// for int8, 7 for int4 and 32767 for int16 (the signed type of `bits` without
// its most negative value, as TFLite's int8 and int4 weight schemes; int16
// values as stored, two bytes each). A channel of zeros gets scale 1.
struct PerChannelWeights {
  std::vector<std::int8_t> values;
  std::vector<float> scales;
};

// `weights` is laid out with the output channel outermost (OHWI conv weights,
// [out][in] FC weights), so channel k is the k-th of out_channels equal slices.
PerChannelWeights quantize_weights_per_channel(const std::vector<float>& weights, int out_channels, int bits = 8);

// bias[k] quantized at scale input_scale * weight_scales[k], rounded half away
// from zero and saturated to int32.
std::vector<std::int32_t> quantize_bias(const std::vector<float>& bias, float input_scale,
                                        const std::vector<float>& weight_scales);

}  // namespace npuvp::runtime
