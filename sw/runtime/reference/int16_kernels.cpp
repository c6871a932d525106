#include "sw/runtime/reference/int16_kernels.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "sw/runtime/quantize/int16_values.h"

namespace npuvp::runtime {
namespace {

using Index = std::ptrdiff_t;

void require_values(const char* where, const char* name, const std::vector<std::int8_t>& bytes, std::size_t values) {
  if (bytes.size() != 2 * values)
    throw std::invalid_argument(std::string(where) + ": " + name + " has " + std::to_string(bytes.size()) +
                                " bytes, expected " + std::to_string(2 * values) + " (two per int16 value)");
}

// A sum modulo 2^48 as a signed 48-bit value: the NPU's int16 accumulator.
std::int64_t wrap48(std::int64_t v) {
  const auto low = static_cast<std::uint64_t>(v) & ((std::uint64_t{1} << 48) - 1);
  return low >= (std::uint64_t{1} << 47) ? static_cast<std::int64_t>(low - (std::uint64_t{1} << 48))
                                         : static_cast<std::int64_t>(low);
}

std::int32_t average(std::int32_t sum, std::int32_t count) {
  return (sum >= 0 ? sum + count / 2 : sum - count / 2) / count;  // half away from zero (TFLite)
}

}  // namespace

std::vector<std::int8_t> conv2d_int16(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                      const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias,
                                      const ConvParams& p, const Requantization& rq) {
  const char* where = "conv2d_int16";
  const TensorShape out = conv_output_shape(in_shape, p);
  const int group_in = in_shape.c / p.groups, group_out = p.out_channels / p.groups;
  const std::size_t filter = static_cast<std::size_t>(p.kernel_h) * p.kernel_w * group_in;
  require_values(where, "input", input, in_shape.size());
  require_values(where, "weights", weights, filter * p.out_channels);
  if (!bias.empty() && bias.size() != static_cast<std::size_t>(p.out_channels))
    throw std::invalid_argument(std::string(where) + ": bias must be empty or hold out_channels values");
  validate_requantization(rq, p.out_channels, where, 16);
  std::vector<std::int8_t> result(2 * out.size());
  for (int oy = 0; oy < out.h; ++oy)
    for (int ox = 0; ox < out.w; ++ox)
      for (int k = 0; k < out.c; ++k) {
        const int c0 = k / group_out * group_in;
        std::int64_t acc = bias.empty() ? 0 : bias[static_cast<std::size_t>(k)];
        for (int ky = 0; ky < p.kernel_h; ++ky)
          for (int kx = 0; kx < p.kernel_w; ++kx) {
            const int iy = oy * p.stride_h - p.pad.top + ky * p.dilation_h;
            const int ix = ox * p.stride_w - p.pad.left + kx * p.dilation_w;
            if (iy < 0 || ix < 0 || iy >= in_shape.h || ix >= in_shape.w) continue;  // the zero point: no term
            const Index x0 = (static_cast<Index>(iy) * in_shape.w + ix) * in_shape.c + c0;
            const Index w0 = static_cast<Index>(k) * filter + (static_cast<Index>(ky) * p.kernel_w + kx) * group_in;
            for (int c = 0; c < group_in; ++c)
              acc += std::int64_t{load_int16(input.data(), x0 + c) - p.input_zero_point} *
                     load_int16(weights.data(), w0 + c);
          }
        const FixedPointMultiplier m = rq.per_channel[rq.per_channel.size() == 1 ? 0 : static_cast<std::size_t>(k)];
        // Clamped, never wrapped, where a saturated product meets the zero point (as the NPU's output stage).
        const std::int64_t v =
            std::int64_t{multiply_by_quantized_multiplier_int64(wrap48(acc), m)} + rq.output_zero_point;
        store_int16(result.data(), (static_cast<Index>(oy) * out.w + ox) * out.c + k,
                    static_cast<std::int32_t>(std::clamp<std::int64_t>(v, rq.act_min, rq.act_max)));
      }
  return result;
}

namespace {

// Pooling over the window's taps inside the map: reduce(values) per channel.
template <typename Reduce>
std::vector<std::int8_t> pool_int16(const char* where, const std::vector<std::int8_t>& input, TensorShape in,
                                    const PoolParams& p, Reduce reduce) {
  PoolParams window = p;  // pool_output_shape checks an int8 clamp
  window.act_min = -128;
  window.act_max = 127;
  const TensorShape out = pool_output_shape(in, window);
  require_values(where, "input", input, in.size());
  std::vector<std::int8_t> result(2 * out.size());
  std::vector<std::int32_t> taps;
  for (int oy = 0; oy < out.h; ++oy)
    for (int ox = 0; ox < out.w; ++ox) {
      const int y0 = oy * p.stride_h - p.pad.top, x0 = ox * p.stride_w - p.pad.left;
      // The window clipped to the padded map, for count_include_pad.
      const int padded = (std::min(y0 + p.kernel_h, in.h + p.pad.bottom) - std::max(y0, -p.pad.top)) *
                         (std::min(x0 + p.kernel_w, in.w + p.pad.right) - std::max(x0, -p.pad.left));
      for (int c = 0; c < in.c; ++c) {
        taps.clear();
        for (int y = std::max(y0, 0); y < std::min(y0 + p.kernel_h, in.h); ++y)
          for (int x = std::max(x0, 0); x < std::min(x0 + p.kernel_w, in.w); ++x)
            taps.push_back(load_int16(input.data(), (static_cast<Index>(y) * in.w + x) * in.c + c));
        store_int16(result.data(), (static_cast<Index>(oy) * out.w + ox) * out.c + c,
                    std::clamp(reduce(taps, padded), p.act_min, p.act_max));
      }
    }
  return result;
}

}  // namespace

std::vector<std::int8_t> max_pool_int16(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                        const PoolParams& p) {
  return pool_int16("max_pool_int16", input, in_shape, p, [](const std::vector<std::int32_t>& taps, int) {
    return *std::max_element(taps.begin(), taps.end());
  });
}

std::vector<std::int8_t> average_pool_int16(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                            const PoolParams& p) {
  return pool_int16("average_pool_int16", input, in_shape, p, [&](const std::vector<std::int32_t>& taps, int padded) {
    std::int32_t sum = 0;
    for (std::int32_t v : taps) sum += v;
    const auto valid = static_cast<std::int32_t>(taps.size());
    if (!p.count_include_pad) return average(sum, valid);
    return average(sum + (padded - valid) * p.zero_point, padded);
  });
}

std::vector<std::int8_t> add_int16(const std::vector<std::int8_t>& input1, const std::vector<std::int8_t>& input2,
                                   TensorShape shape, const AddParams& p) {
  const char* where = "add_int16";
  require_values(where, "input1", input1, shape.size());
  require_values(where, "input2", input2, shape.size());
  std::vector<std::int8_t> result(input1.size());
  for (std::size_t i = 0; i < shape.size(); ++i) {
    const std::int32_t a = (load_int16(input1.data(), i) + p.input1_offset) * (1 << p.left_shift);
    const std::int32_t b = (load_int16(input2.data(), i) + p.input2_offset) * (1 << p.left_shift);
    const std::int32_t sum = multiply_by_quantized_multiplier(a, p.input1_multiplier) +
                             multiply_by_quantized_multiplier(b, p.input2_multiplier);
    const std::int32_t v = multiply_by_quantized_multiplier(sum, p.output_multiplier) + p.output_offset;
    store_int16(result.data(), i, std::clamp(v, p.act_min, p.act_max));
  }
  return result;
}

std::vector<std::int8_t> clamp_int16(const std::vector<std::int8_t>& input, ActivationRange act) {
  std::vector<std::int8_t> result(input.size());
  for (std::size_t i = 0; i < input.size() / 2; ++i)
    store_int16(result.data(), i, std::clamp(load_int16(input.data(), i), act.min, act.max));
  return result;
}

std::vector<std::int8_t> channel_shuffle_int16(const std::vector<std::int8_t>& input, TensorShape shape, int groups) {
  require_values("channel_shuffle_int16", "input", input, shape.size());
  std::vector<std::int8_t> result(input.size());
  const int per = shape.c / groups;
  for (Index px = 0; px < static_cast<Index>(shape.h) * shape.w; ++px)
    for (int g = 0; g < groups; ++g)
      for (int j = 0; j < per; ++j)
        store_int16(result.data(), px * shape.c + j * groups + g, load_int16(input.data(), px * shape.c + g * per + j));
  return result;
}

std::vector<std::int8_t> shift_channels_int16(const std::vector<std::int8_t>& input, TensorShape shape,
                                              const std::vector<ChannelShift>& shifts) {
  require_values("shift_channels_int16", "input", input, shape.size());
  std::vector<std::int8_t> result(input.size(), 0);
  for (int c = 0; c < shape.c; ++c) {
    const ChannelShift s = shifts[static_cast<std::size_t>(c)];
    for (int y = std::max(0, s.dy); y < std::min(shape.h, shape.h + s.dy); ++y)
      for (int x = std::max(0, s.dx); x < std::min(shape.w, shape.w + s.dx); ++x)
        store_int16(result.data(), (static_cast<Index>(y) * shape.w + x) * shape.c + c,
                    load_int16(input.data(), (static_cast<Index>(y - s.dy) * shape.w + x - s.dx) * shape.c + c));
  }
  return result;
}

}  // namespace npuvp::runtime
