#include "sw/runtime/quantize/quantization.h"

#include "sw/runtime/quantize/int16_values.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

namespace npuvp::runtime {

namespace {

std::int32_t clamp_to(std::int64_t v, const QuantParams& q) {
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, q.qmin, q.qmax));
}

}  // namespace

FixedPointMultiplier quantize_multiplier(double real) {
  if (!std::isfinite(real)) {
    throw std::invalid_argument("quantize_multiplier: real multiplier must be finite (got " + std::to_string(real) +
                                ")");
  }
  if (real == 0.0) return {0, 0};
  int shift = 0;
  const double mantissa = std::frexp(real, &shift);  // |mantissa| in [0.5, 1)
  auto q = static_cast<std::int64_t>(std::round(mantissa * static_cast<double>(std::int64_t{1} << 31)));
  if (q == (std::int64_t{1} << 31)) {
    q /= 2;
    ++shift;
  }
  if (shift < -31) return {0, 0};
  if (shift > 30) {
    throw std::invalid_argument("quantize_multiplier: real multiplier " + std::to_string(real) + " too large (shift " +
                                std::to_string(shift) + " > 30)");
  }
  return {static_cast<std::int32_t>(q), shift};
}

std::int32_t multiply_by_quantized_multiplier(std::int32_t x, FixedPointMultiplier m) {
  if (m.shift > 30 || m.shift < -31) {
    throw std::invalid_argument("multiply_by_quantized_multiplier: shift must be in [-31, 30] (got " +
                                std::to_string(m.shift) + ")");
  }
  return detail::multiply_by_quantized_multiplier_unchecked(x, m);
}

std::int32_t Requantization::apply(std::int32_t acc, std::size_t k) const {
  const std::int64_t v =
      std::int64_t{multiply_by_quantized_multiplier(acc, per_channel[k % per_channel.size()])} + output_zero_point;
  return static_cast<std::int32_t>(std::clamp<std::int64_t>(v, act_min, act_max));
}

std::int32_t multiply_by_quantized_multiplier_int64(std::int64_t x, FixedPointMultiplier m) {
  if (m.shift > 7 || m.shift < -31) {
    throw std::invalid_argument("multiply_by_quantized_multiplier_int64: shift must be in [-31, 7] (got " +
                                std::to_string(m.shift) + ")");
  }
  const std::int32_t reduced = m.multiplier < 0x7FFF0000 ? (m.multiplier + (1 << 15)) >> 16 : 0x7FFF;
  const int total_shift = 15 - m.shift;
  const std::int64_t round = std::int64_t{1} << (total_shift - 1);
  const std::int64_t result = (x * static_cast<std::int64_t>(reduced) + round) >> total_shift;
  return static_cast<std::int32_t>(
      std::min<std::int64_t>(std::max<std::int64_t>(result, std::numeric_limits<std::int32_t>::min()),
                             std::numeric_limits<std::int32_t>::max()));
}

ActivationRange activation_range(Activation act, QuantParams output) {
  if (!(output.scale > 0.0f) || !std::isfinite(output.scale)) {
    throw std::invalid_argument("activation_range: output scale must be positive and finite");
  }
  auto quantize = [&](float r) {
    return static_cast<std::int64_t>(output.zero_point) + static_cast<std::int64_t>(std::round(r / output.scale));
  };
  ActivationRange range{output.qmin, output.qmax};
  switch (act) {
    case Activation::kNone:
      break;
    case Activation::kRelu:
      range.min = clamp_to(quantize(0.0f), output);
      break;
    case Activation::kRelu6:
      range.min = clamp_to(quantize(0.0f), output);
      range.max = clamp_to(quantize(6.0f), output);
      break;
  }
  return range;
}

Requantization make_requantization(float input_scale, const std::vector<float>& weight_scales, QuantParams output,
                                   Activation act) {
  if (!(input_scale > 0.0f) || !std::isfinite(input_scale)) {
    throw std::invalid_argument("make_requantization: input_scale must be positive and finite");
  }
  if (!(output.scale > 0.0f) || !std::isfinite(output.scale)) {
    throw std::invalid_argument("make_requantization: output scale must be positive and finite");
  }
  if (weight_scales.empty()) throw std::invalid_argument("make_requantization: weight_scales is empty");
  Requantization rq;
  rq.per_channel.reserve(weight_scales.size());
  for (float ws : weight_scales) {
    if (!(ws >= 0.0f) || !std::isfinite(ws)) {
      throw std::invalid_argument("make_requantization: weight_scales must be non-negative and finite");
    }
    const double real = static_cast<double>(input_scale) * static_cast<double>(ws) / static_cast<double>(output.scale);
    rq.per_channel.push_back(quantize_multiplier(real));
  }
  rq.output_zero_point = output.zero_point;
  const ActivationRange range = activation_range(act, output);
  rq.act_min = range.min;
  rq.act_max = range.max;
  validate_requantization(rq, static_cast<int>(weight_scales.size()), "make_requantization", bits_of(output));
  return rq;
}

void validate_requantization(const Requantization& rq, int channels, const char* where, int bits) {
  const std::string prefix = std::string(where) + ": ";
  // int16 requantizes an int64 accumulator (TFLite's shifts up to 7).
  const int max_shift = bits == 16 ? 7 : 30;
  const QuantParams range = with_bits({}, bits == 16 ? 16 : 8);
  const std::string lo = std::to_string(range.qmin), hi = std::to_string(range.qmax);
  if (rq.per_channel.size() != 1 && rq.per_channel.size() != static_cast<std::size_t>(channels)) {
    throw std::invalid_argument(prefix + "requantization per_channel has " + std::to_string(rq.per_channel.size()) +
                                " entries, expected 1 or " + std::to_string(channels) + " (output channels)");
  }
  for (std::size_t k = 0; k < rq.per_channel.size(); ++k) {
    const int shift = rq.per_channel[k].shift;
    if (shift > max_shift || shift < -31) {
      throw std::invalid_argument(prefix + "requantization per_channel[" + std::to_string(k) +
                                  "].shift must be in [-31, " + std::to_string(max_shift) + "] (got " +
                                  std::to_string(shift) + ")");
    }
  }
  if (rq.output_zero_point < range.qmin || rq.output_zero_point > range.qmax) {
    throw std::invalid_argument(prefix + "output_zero_point must be in [" + lo + ", " + hi + "] (got " +
                                std::to_string(rq.output_zero_point) + ")");
  }
  if (rq.act_min < range.qmin || rq.act_max > range.qmax || rq.act_min > rq.act_max) {
    throw std::invalid_argument(prefix + "act_min/act_max must satisfy " + lo + " <= act_min <= act_max <= " + hi +
                                " (got " + std::to_string(rq.act_min) + ", " + std::to_string(rq.act_max) + ")");
  }
}

QuantParams choose_quant_params(float rmin_in, float rmax_in, int bits) {
  if (bits != 4 && bits != 8 && bits != 16) throw std::invalid_argument("choose_quant_params: bits must be 4, 8 or 16");
  const QuantParams range = with_bits({}, bits);
  if (!std::isfinite(rmin_in) || !std::isfinite(rmax_in)) {
    throw std::invalid_argument("choose_quant_params: rmin and rmax must be finite");
  }
  if (rmin_in > rmax_in) {
    throw std::invalid_argument("choose_quant_params: rmin (" + std::to_string(rmin_in) + ") > rmax (" +
                                std::to_string(rmax_in) + ")");
  }
  if (bits == 16) return symmetric_int16_params(rmin_in, rmax_in);
  const double rmin = std::min(0.0, static_cast<double>(rmin_in));
  const double rmax = std::max(0.0, static_cast<double>(rmax_in));
  if (rmin == rmax) return with_bits({1.0f, 0}, bits);
  const double qmin = range.qmin;
  const double qmax = range.qmax;
  const double scale = (rmax - rmin) / (qmax - qmin);
  const double zp_from_min = qmin - rmin / scale;
  const double zp_from_max = qmax - rmax / scale;
  const double zp_from_min_error = std::abs(qmin) + std::abs(rmin / scale);
  const double zp_from_max_error = std::abs(qmax) + std::abs(rmax / scale);
  const double zp = zp_from_min_error < zp_from_max_error ? zp_from_min : zp_from_max;
  std::int32_t nudged = 0;
  if (zp < qmin) {
    nudged = range.qmin;
  } else if (zp > qmax) {
    nudged = range.qmax;
  } else {
    nudged = static_cast<std::int32_t>(std::round(zp));
  }
  return with_bits({static_cast<float>(scale), nudged}, bits);
}

std::int8_t quantize_value(float x, QuantParams q) {
  if (std::isnan(x)) return static_cast<std::int8_t>(clamp_to(q.zero_point, q));
  const float scaled = std::round(x / q.scale);
  // Saturate in float first: a huge value must not overflow the int conversion.
  const float bounded = std::clamp(scaled, -1.0e6f, 1.0e6f);
  return static_cast<std::int8_t>(clamp_to(static_cast<std::int64_t>(bounded) + q.zero_point, q));
}

std::vector<std::int8_t> quantize_tensor(const std::vector<float>& values, QuantParams q) {
  if (!(q.scale > 0.0f) || !std::isfinite(q.scale)) {
    throw std::invalid_argument("quantize_tensor: scale must be positive and finite");
  }
  if (bits_of(q) == 16) return quantize_tensor_int16(values, q);
  if (q.zero_point < -128 || q.zero_point > 127) {
    throw std::invalid_argument("quantize_tensor: zero_point must be in [-128, 127] (got " +
                                std::to_string(q.zero_point) + ")");
  }
  std::vector<std::int8_t> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = quantize_value(values[i], q);
  return out;
}

std::vector<float> dequantize_tensor(const std::vector<std::int8_t>& values, QuantParams q) {
  std::vector<float> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) out[i] = dequantize_value(values[i], q);
  return out;
}

namespace {

// Each function below is compiled once per ISA; the loader's resolver picks
// the widest the CPU has. IEEE division, compares and conversions round alike
// in every clone. (GCC's spelling; other compilers build the portable loop.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NPUVP_QUANTIZE_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define NPUVP_QUANTIZE_CLONES
#endif

// The largest |w[i]| for i < n as its bits, which for non-negative floats
// order as the values do: an integer maximum that vectorizes, at least
// 0x7f800000 when a weight is infinite or NaN.
NPUVP_QUANTIZE_CLONES std::uint32_t max_abs_bits(const float* w, std::size_t n) {
  std::uint32_t top = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, w + i, sizeof bits);
    bits &= 0x7fffffffu;
    top = bits > top ? bits : top;
  }
  return top;
}

// q[i] = clamp(round(w[i] / scale), -qmax, qmax) for i < n with no call and
// no branch per weight, a loop each clone vectorizes at its own width:
// truncate, then step away from zero when the dropped part is at least a half
// (std::round's ties away from zero; v minus its truncation is exact). Values
// beyond qmax + 1 clamp to qmax either way. Checked equal to the scalar
// expression for every finite float quotient. (Written on 16-float vectors,
// it ran its clamps lane by lane on AVX2, which has no 64-byte vector.)
NPUVP_QUANTIZE_CLONES void round_and_clamp(const float* w, std::size_t n, float scale, float qmax, std::int8_t* q) {
  const float lo = -qmax - 1.0f, hi = qmax + 1.0f;
  const auto rhi = static_cast<std::int32_t>(qmax), rlo = -rhi;
  for (std::size_t i = 0; i < n; ++i) {
    float v = w[i] / scale;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    const auto t = static_cast<std::int32_t>(v);
    const float dropped = v - static_cast<float>(t);
    std::int32_t r = t + (dropped >= 0.5f ? 1 : 0) - (dropped <= -0.5f ? 1 : 0);
    r = r < rlo ? rlo : r;
    r = r > rhi ? rhi : r;
    q[i] = static_cast<std::int8_t>(r);
  }
}

}  // namespace

PerChannelWeights quantize_weights_per_channel(const std::vector<float>& weights, int out_channels, int bits) {
  if (bits != 4 && bits != 8 && bits != 16)
    throw std::invalid_argument("quantize_weights_per_channel: bits must be 4, 8 or 16");
  const float qmax = static_cast<float>(with_bits({}, bits).qmax);
  if (out_channels <= 0) {
    throw std::invalid_argument("quantize_weights_per_channel: out_channels must be positive (got " +
                                std::to_string(out_channels) + ")");
  }
  if (weights.size() % static_cast<std::size_t>(out_channels) != 0) {
    throw std::invalid_argument("quantize_weights_per_channel: weights size " + std::to_string(weights.size()) +
                                " is not a multiple of out_channels " + std::to_string(out_channels));
  }
  const std::size_t per_channel = weights.size() / static_cast<std::size_t>(out_channels);
  PerChannelWeights result;
  result.values.resize(weights.size() * (bits == 16 ? 2 : 1));
  result.scales.resize(static_cast<std::size_t>(out_channels));
  for (int k = 0; k < out_channels; ++k) {
    const float* w = weights.data() + static_cast<std::size_t>(k) * per_channel;
    const std::uint32_t max_bits = max_abs_bits(w, per_channel);
    if (max_bits >= 0x7f800000u) throw std::invalid_argument("quantize_weights_per_channel: weights must be finite");
    float max_abs;
    std::memcpy(&max_abs, &max_bits, sizeof max_abs);
    const float scale = max_abs > 0.0f ? max_abs / qmax : 1.0f;
    result.scales[static_cast<std::size_t>(k)] = scale;
    if (bits == 16) {
      quantize_int16_weights(w, per_channel, scale, result.values.data() + 2 * k * per_channel);
      continue;
    }
    round_and_clamp(w, per_channel, scale, qmax, result.values.data() + static_cast<std::size_t>(k) * per_channel);
  }
  return result;
}

std::vector<std::int32_t> quantize_bias(const std::vector<float>& bias, float input_scale,
                                        const std::vector<float>& weight_scales) {
  if (bias.size() != weight_scales.size()) {
    throw std::invalid_argument("quantize_bias: bias size " + std::to_string(bias.size()) +
                                " does not match weight_scales size " + std::to_string(weight_scales.size()));
  }
  std::vector<std::int32_t> out(bias.size());
  for (std::size_t k = 0; k < bias.size(); ++k) {
    const double scale = static_cast<double>(input_scale * weight_scales[k]);
    if (!(scale > 0.0) || !std::isfinite(scale)) {
      throw std::invalid_argument("quantize_bias: input_scale * weight_scales[" + std::to_string(k) +
                                  "] must be positive and finite");
    }
    const double q = std::round(static_cast<double>(bias[k]) / scale);
    out[k] = static_cast<std::int32_t>(
        std::clamp<double>(q, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()));
  }
  return out;
}

}  // namespace npuvp::runtime
