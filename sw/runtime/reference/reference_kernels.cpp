#include "sw/runtime/reference/reference_kernels.h"

#include "sw/runtime/reference/kernel_checks.h"
#include "sw/runtime/reference/reference_dots.h"
#include "sw/runtime/reference/reference_simd.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

namespace npuvp::runtime {

using namespace kernel_checks;

namespace {

using Index = std::ptrdiff_t;

inline std::int32_t dot(const std::int8_t* a, const std::int8_t* b, int n) {
  std::int32_t sum = 0;
  for (int i = 0; i < n; ++i) sum += static_cast<std::int32_t>(a[i]) * static_cast<std::int32_t>(b[i]);
  return sum;
}

// The int32 accumulator holds the bias and every product: each of the
// kernel_h * kernel_w * C/groups products is at most 255 * 128 in magnitude
// (an input minus its zero point, times a weight). A bias that leaves less
// room could overflow it, so it is refused rather than computed.
void validate_accumulator_room(const char* where, TensorShape in, const ConvParams& p,
                               const std::vector<std::int32_t>& bias) {
  const std::int64_t products = std::int64_t{p.kernel_h} * p.kernel_w * (in.c / p.groups) * 255 * 128;
  for (std::size_t o = 0; o < bias.size(); ++o)
    if (std::abs(std::int64_t{bias[o]}) + products > INT32_MAX)
      throw std::invalid_argument(std::string(where) + ": the bias of output channel " + std::to_string(o) + " (" +
                                  std::to_string(bias[o]) + ") leaves no room in the int32 accumulator for up to " +
                                  std::to_string(products) + " from the products");
}

// The accumulators of up to two output pixels of one row whose windows have the
// same valid taps (input columns ix0[q] + kx * dilation_w, kx in [kx_lo, kx_hi)),
// into acc[q * out_channels + k]; `rows` holds the row's input rows in int16,
// kernel row ky at ky * W * C.
struct DenseConv {
  const ConvParams& p;
  TensorShape in;
  const std::vector<std::int16_t>& w16;      // OHWI
  const std::vector<std::int32_t>& tap_sum;  // per (output channel, tap), for the zero point
  const std::vector<std::int32_t>& bias;     // out_channels entries
  const std::vector<std::int16_t>& rows;

  void pixels(int np, const int* ix0, int ky_lo, int ky_hi, int kx_lo, int kx_hi, std::int32_t* acc) const {
    const int C = in.c, O = p.out_channels, icg = C / p.groups, ocg = O / p.groups;
    const int kw = p.kernel_w, taps = p.kernel_h * kw;
    const Index row = static_cast<Index>(in.w) * C;
    // With one group and no horizontal dilation, a kernel row's valid taps read one
    // contiguous run of input (HWC) and of weights (OHWI): a single dot product.
    const bool contiguous = p.groups == 1 && p.dilation_w == 1;
    std::fill(acc, acc + static_cast<Index>(np) * O, 0);
    for (int oc = 0; oc < O;) {
      const int g = oc / ocg;
      const int nb = oc + 4 <= O && (oc + 3) / ocg == g ? 4 : 1;
      for (int ky = ky_lo; ky < ky_hi; ++ky) {
        const std::int16_t* xr = rows.data() + ky * row + static_cast<Index>(g) * icg;
        const int segments = contiguous ? (kx_hi > kx_lo ? 1 : 0) : kx_hi - kx_lo;
        const int n = contiguous ? (kx_hi - kx_lo) * C : icg;
        for (int s = 0; s < segments; ++s) {
          const int kx = kx_lo + s;
          const Index wo = static_cast<Index>(ky * kw + kx) * icg;
          const std::int16_t* w[4];
          for (int j = 0; j < nb; ++j) w[j] = w16.data() + static_cast<Index>(oc + j) * taps * icg + wo;
          const std::int16_t* x0 = xr + (ix0[0] + static_cast<Index>(kx) * p.dilation_w) * C;
          std::int32_t* a0 = acc + oc;
          if (nb == 1) {
            a0[0] += reference_dots::dot_1x1(x0, w[0], n);
            if (np == 2)
              a0[O] += reference_dots::dot_1x1(xr + (ix0[1] + static_cast<Index>(kx) * p.dilation_w) * C, w[0], n);
          } else if (np == 2) {
            reference_dots::dot_2x4(x0, xr + (ix0[1] + static_cast<Index>(kx) * p.dilation_w) * C, w, n, a0, a0 + O);
          } else {
            reference_dots::dot_1x4(x0, w, n, a0);
          }
        }
      }
      oc += nb;
    }
    for (int oc = 0; oc < O; ++oc) {
      std::int32_t weight_sum = 0;
      if (p.input_zero_point != 0)
        for (int ky = ky_lo; ky < ky_hi; ++ky)
          for (int kx = kx_lo; kx < kx_hi; ++kx)
            weight_sum += tap_sum[static_cast<std::size_t>(oc) * taps + ky * kw + kx];
      for (int q = 0; q < np; ++q) {
        std::int32_t& a = acc[static_cast<Index>(q) * O + oc];
        a = bias[static_cast<std::size_t>(oc)] + a - p.input_zero_point * weight_sum;
      }
    }
  }
};

// A convolution that is not depthwise, one output row at a time, its output
// pixels in pairs of equal valid taps.
template <class Emit>
void conv_accumulate_dense(const std::vector<std::int8_t>& input, TensorShape in,
                           const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias,
                           const ConvParams& p, TensorShape out, Emit&& emit) {
  const int C = in.c, O = p.out_channels, icg = C / p.groups, kh = p.kernel_h, taps = kh * p.kernel_w;
  // Per (output channel, tap) weight sums, for the zero-point correction.
  std::vector<std::int32_t> tap_sum;
  if (p.input_zero_point != 0) {
    tap_sum.assign(static_cast<std::size_t>(O) * taps, 0);
    for (std::size_t i = 0; i < tap_sum.size(); ++i) {
      const std::int8_t* w = weights.data() + i * static_cast<std::size_t>(icg);
      std::int32_t s = 0;
      for (int j = 0; j < icg; ++j) s += w[j];
      tap_sum[i] = s;
    }
  }
  // int16 copies, which the dot products read (reference_dots.h): the weights,
  // and per output row the input rows its windows cover.
  const std::vector<std::int16_t> w16(weights.begin(), weights.end());
  const Index row = static_cast<Index>(in.w) * C;
  std::vector<std::int16_t> rows(static_cast<std::size_t>(kh * row));
  const DenseConv conv{p, in, w16, tap_sum, bias, rows};
  std::vector<std::int32_t> acc(2 * static_cast<std::size_t>(O));
  for (int oy = 0; oy < out.h; ++oy) {
    const int iy0 = oy * p.stride_h - p.pad.top;
    int ky_lo = 0, ky_hi = 0;
    valid_taps(iy0, in.h, p.dilation_h, kh, ky_lo, ky_hi);
    for (int ky = ky_lo; ky < ky_hi; ++ky) {
      const std::int8_t* src = input.data() + (iy0 + static_cast<Index>(ky) * p.dilation_h) * row;
      std::copy(src, src + row, rows.begin() + ky * row);
    }
    for (int ox = 0; ox < out.w;) {
      int ix0[2] = {ox * p.stride_w - p.pad.left, (ox + 1) * p.stride_w - p.pad.left};
      int kx_lo = 0, kx_hi = 0, lo1 = 0, hi1 = 0;
      valid_taps(ix0[0], in.w, p.dilation_w, p.kernel_w, kx_lo, kx_hi);
      int np = 1;
      if (ox + 1 < out.w) {
        valid_taps(ix0[1], in.w, p.dilation_w, p.kernel_w, lo1, hi1);
        if (lo1 == kx_lo && hi1 == kx_hi) np = 2;
      }
      conv.pixels(np, ix0, ky_lo, ky_hi, kx_lo, kx_hi, acc.data());
      for (int q = 0; q < np; ++q)
        emit(static_cast<Index>(oy) * out.w + ox + q, acc.data() + static_cast<Index>(q) * O);
      ox += np;
    }
  }
}

// conv_accumulate_dense on the host's vector units (reference_simd.h): each output row's
// sums of (x + 128) * w, then per pixel the bias added and (zero point + 128)
// times the weight sums of its valid taps subtracted.
template <class Emit>
void conv_accumulate_simd(const std::vector<std::int8_t>& input, TensorShape in,
                          const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias,
                          const ConvParams& p, TensorShape out, Emit&& emit) {
  const int O = p.out_channels, icg = in.c / p.groups, kh = p.kernel_h, kw = p.kernel_w, taps = kh * kw;
  std::vector<std::int32_t> tap_sum(static_cast<std::size_t>(O) * taps), full_sum(static_cast<std::size_t>(O), 0);
  for (std::size_t i = 0; i < tap_sum.size(); ++i) {
    const std::int8_t* w = weights.data() + i * static_cast<std::size_t>(icg);
    tap_sum[i] = std::accumulate(w, w + icg, std::int32_t{0});
    full_sum[i / static_cast<std::size_t>(taps)] += tap_sum[i];
  }
  const reference_simd::DenseConv conv(reference_simd::active_isa(), input, in, weights, p, out);
  const std::int64_t offset = std::int64_t{p.input_zero_point} + 128;
  // The true sum fits int32 (validate_accumulator_room) though its parts may
  // not, so it is summed modulo 2^32 (unsigned): exact, and for an interior
  // pixel one add per channel of a precomputed bias less the correction.
  std::vector<std::uint32_t> interior_base(static_cast<std::size_t>(O));
  for (std::size_t oc = 0; oc < interior_base.size(); ++oc)
    interior_base[oc] = static_cast<std::uint32_t>(bias[oc] - offset * full_sum[oc]);
  std::vector<std::int32_t> raw(static_cast<std::size_t>(out.w) * O), acc(static_cast<std::size_t>(O));
  for (int oy = 0; oy < out.h; ++oy) {
    conv.row(oy, raw.data());
    int ky_lo = 0, ky_hi = 0;
    valid_taps(oy * p.stride_h - p.pad.top, in.h, p.dilation_h, kh, ky_lo, ky_hi);
    for (int ox = 0; ox < out.w; ++ox) {
      int kx_lo = 0, kx_hi = 0;
      valid_taps(ox * p.stride_w - p.pad.left, in.w, p.dilation_w, kw, kx_lo, kx_hi);
      const bool interior = ky_lo == 0 && ky_hi == kh && kx_lo == 0 && kx_hi == kw;
      const std::int32_t* r = raw.data() + static_cast<Index>(ox) * O;
      if (interior) {
        for (int oc = 0; oc < O; ++oc)
          acc[static_cast<std::size_t>(oc)] = static_cast<std::int32_t>(interior_base[static_cast<std::size_t>(oc)] +
                                                                        static_cast<std::uint32_t>(r[oc]));
      } else {
        for (int oc = 0; oc < O; ++oc) {
          std::int64_t weight_sum = 0;
          const std::int32_t* t = tap_sum.data() + static_cast<Index>(oc) * taps;
          for (int ky = ky_lo; ky < ky_hi; ++ky)
            for (int kx = kx_lo; kx < kx_hi; ++kx) weight_sum += t[ky * kw + kx];
          acc[static_cast<std::size_t>(oc)] =
              static_cast<std::int32_t>(bias[static_cast<std::size_t>(oc)] + std::int64_t{r[oc]} - offset * weight_sum);
        }
      }
      emit(static_cast<Index>(oy) * out.w + ox, acc.data());
    }
  }
}

// A depthwise convolution's accumulators (see conv_accumulate).
template <class Emit>
void conv_accumulate_depthwise(const std::vector<std::int8_t>& input, TensorShape in,
                               const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias_or_zero,
                               const ConvParams& p, TensorShape out, Emit&& emit) {
  const int C = in.c, H = in.h, W = in.w;
  const int kh = p.kernel_h, kw = p.kernel_w, taps = kh * kw;
  const std::int32_t zp = p.input_zero_point;
  const std::int8_t* x = input.data();
  std::vector<std::int32_t> acc(static_cast<std::size_t>(C));
  {
    std::vector<std::int8_t> wt(static_cast<std::size_t>(taps) * C);
    std::vector<std::int32_t> full_sum(static_cast<std::size_t>(C), 0), partial_sum(static_cast<std::size_t>(C));
    for (int c = 0; c < C; ++c) {
      for (int t = 0; t < taps; ++t) {
        const std::int8_t w = weights[static_cast<std::size_t>(c) * taps + t];
        wt[static_cast<std::size_t>(t) * C + c] = w;
        full_sum[static_cast<std::size_t>(c)] += w;
      }
    }
    for (int oy = 0; oy < out.h; ++oy) {
      const int iy0 = oy * p.stride_h - p.pad.top;
      int ky_lo = 0, ky_hi = 0;
      valid_taps(iy0, H, p.dilation_h, kh, ky_lo, ky_hi);
      for (int ox = 0; ox < out.w; ++ox) {
        const int ix0 = ox * p.stride_w - p.pad.left;
        int kx_lo = 0, kx_hi = 0;
        valid_taps(ix0, W, p.dilation_w, kw, kx_lo, kx_hi);
        const bool interior = ky_lo == 0 && ky_hi == kh && kx_lo == 0 && kx_hi == kw;
        const bool track_sum = zp != 0 && !interior;
        std::int32_t* a = acc.data();
        std::int32_t* ps = partial_sum.data();
        std::copy(bias_or_zero.begin(), bias_or_zero.end(), acc.begin());
        if (track_sum) std::fill(partial_sum.begin(), partial_sum.end(), 0);
        for (int ky = ky_lo; ky < ky_hi; ++ky) {
          const Index iy = iy0 + static_cast<Index>(ky) * p.dilation_h;
          for (int kx = kx_lo; kx < kx_hi; ++kx) {
            const Index ix = ix0 + static_cast<Index>(kx) * p.dilation_w;
            const std::int8_t* xp = x + (iy * W + ix) * C;
            const std::int8_t* wp = wt.data() + static_cast<Index>(ky * kw + kx) * C;
            reference_dots::multiply_accumulate(xp, wp, C, a);
            if (track_sum) {
              for (int c = 0; c < C; ++c) ps[c] += wp[c];
            }
          }
        }
        if (zp != 0) {
          const std::int32_t* sum = interior ? full_sum.data() : ps;
          for (int c = 0; c < C; ++c) a[c] -= zp * sum[c];
        }
        emit(static_cast<Index>(oy) * out.w + ox, acc.data());
      }
    }
  }
}

// The int32 accumulators of a validated convolution, one output pixel at a time:
// emit(pixel_index, acc) receives out_channels accumulators (bias included).
// The input zero point is applied as zp * (sum of the weights of the valid taps),
// outside the inner dot products.
template <class Emit>
void conv_accumulate(const std::vector<std::int8_t>& input, TensorShape in, const std::vector<std::int8_t>& weights,
                     const std::vector<std::int32_t>& bias, const ConvParams& p, TensorShape out, Emit&& emit) {
  std::vector<std::int32_t> bias_or_zero(static_cast<std::size_t>(p.out_channels), 0);
  if (!bias.empty()) std::copy(bias.begin(), bias.end(), bias_or_zero.begin());
  // Depthwise: channels innermost in the weights too, so the inner loop runs over
  // contiguous channels of input, weights and accumulators.
  if (p.groups == in.c && p.groups == p.out_channels)
    conv_accumulate_depthwise(input, in, weights, bias_or_zero, p, out, emit);
  else if (reference_simd::active_isa() != reference_simd::Isa::kPortable)
    conv_accumulate_simd(input, in, weights, bias_or_zero, p, out, emit);
  else
    conv_accumulate_dense(input, in, weights, bias_or_zero, p, out, emit);
}

std::vector<std::int8_t> conv_requantized(const char* where, const std::vector<std::int8_t>& input, TensorShape in,
                                          const std::vector<std::int8_t>& weights,
                                          const std::vector<std::int32_t>& bias, const ConvParams& p,
                                          const Requantization& rq) {
  const TensorShape out = validate_conv(where, in, p);
  validate_conv_data(where, input, in, weights, bias, p);
  validate_accumulator_room(where, in, p, bias);
  validate_requantization(rq, p.out_channels, where);
  std::vector<std::int8_t> result(out.size());
  const int O = p.out_channels;
  const bool per_tensor = rq.per_channel.size() == 1;
  std::vector<std::int32_t> multiplier(static_cast<std::size_t>(O)), shift(static_cast<std::size_t>(O));
  for (int k = 0; k < O; ++k) {
    const FixedPointMultiplier m = rq.per_channel[per_tensor ? 0 : static_cast<std::size_t>(k)];
    multiplier[static_cast<std::size_t>(k)] = m.multiplier;
    shift[static_cast<std::size_t>(k)] = m.shift;
  }
  conv_accumulate(input, in, weights, bias, p, out, [&](Index pixel, const std::int32_t* acc) {
    std::int8_t* o = result.data() + pixel * O;
    reference_dots::requantize_channels(acc, multiplier.data(), shift.data(), O, rq.output_zero_point, rq.act_min,
                                        rq.act_max, o);
  });
  return result;
}

std::int32_t rounded_average(std::int32_t sum, std::int32_t count, bool ties_to_even = false) {
  if (!ties_to_even) return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
  std::int32_t q = sum / count, r = sum % count;
  if (r < 0) {  // floor division: sum = q * count + r with 0 <= r < count
    r += count;
    --q;
  }
  return q + (2 * r > count || (2 * r == count && (q & 1) != 0) ? 1 : 0);
}

std::int8_t clamp_to(std::int32_t v, std::int32_t lo, std::int32_t hi) {
  return static_cast<std::int8_t>(std::min(std::max(v, lo), hi));
}

}  // namespace

TensorShape conv_output_shape(TensorShape in, const ConvParams& p) { return validate_conv("conv_output_shape", in, p); }

std::vector<std::int8_t> conv2d(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias,
                                const ConvParams& p, const Requantization& rq) {
  return conv_requantized("conv2d", input, in_shape, weights, bias, p, rq);
}

std::vector<std::int32_t> conv2d_accumulators(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                              const std::vector<std::int8_t>& weights,
                                              const std::vector<std::int32_t>& bias, const ConvParams& p) {
  const char* where = "conv2d_accumulators";
  const TensorShape out = validate_conv(where, in_shape, p);
  validate_conv_data(where, input, in_shape, weights, bias, p);
  validate_accumulator_room(where, in_shape, p, bias);
  std::vector<std::int32_t> result(out.size());
  const int O = p.out_channels;
  conv_accumulate(input, in_shape, weights, bias, p, out,
                  [&](Index pixel, const std::int32_t* acc) { std::copy(acc, acc + O, result.begin() + pixel * O); });
  return result;
}

std::vector<std::int8_t> fully_connected(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                         const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias,
                                         const FullyConnectedParams& p, const Requantization& rq) {
  const char* where = "fully_connected";
  require_shape(where, "in_shape", in_shape);
  require_positive(where, "out_features", p.out_features);
  require_int8(where, "input_zero_point", p.input_zero_point);
  require_size(where, "input", input.size(), in_shape.size(), "in_shape " + to_string(in_shape));
  require_size(where, "weights", weights.size(), static_cast<std::size_t>(p.out_features) * in_shape.size(),
               "out_features * in_shape.c * in_shape.h * in_shape.w");
  // HWC flattening is the input's own memory order: a 1x1 conv on a 1x1 map.
  ConvParams conv;
  conv.kernel_h = conv.kernel_w = 1;
  conv.out_channels = p.out_features;
  conv.input_zero_point = p.input_zero_point;
  const TensorShape flat{static_cast<int>(in_shape.size()), 1, 1};
  return conv_requantized(where, input, flat, weights, bias, conv, rq);
}

TensorShape pool_output_shape(TensorShape in, const PoolParams& p) { return validate_pool("pool_output_shape", in, p); }

std::vector<std::int8_t> max_pool(const std::vector<std::int8_t>& input, TensorShape in_shape, const PoolParams& p) {
  const char* where = "max_pool";
  const TensorShape out = validate_pool(where, in_shape, p);
  require_size(where, "input", input.size(), in_shape.size(), "in_shape " + to_string(in_shape));
  const int C = in_shape.c;
  std::vector<std::int8_t> result(out.size());
  std::vector<std::int8_t> m(static_cast<std::size_t>(C));
  for (int oy = 0; oy < out.h; ++oy) {
    const int iy0 = oy * p.stride_h - p.pad.top;
    int ky_lo = 0, ky_hi = 0;
    valid_taps(iy0, in_shape.h, 1, p.kernel_h, ky_lo, ky_hi);
    for (int ox = 0; ox < out.w; ++ox) {
      const int ix0 = ox * p.stride_w - p.pad.left;
      int kx_lo = 0, kx_hi = 0;
      valid_taps(ix0, in_shape.w, 1, p.kernel_w, kx_lo, kx_hi);
      std::fill(m.begin(), m.end(), static_cast<std::int8_t>(-128));
      for (int ky = ky_lo; ky < ky_hi; ++ky) {
        for (int kx = kx_lo; kx < kx_hi; ++kx) {
          const std::int8_t* xp = input.data() + (static_cast<Index>(iy0 + ky) * in_shape.w + ix0 + kx) * C;
          for (int c = 0; c < C; ++c) m[static_cast<std::size_t>(c)] = std::max(m[static_cast<std::size_t>(c)], xp[c]);
        }
      }
      std::int8_t* o = result.data() + (static_cast<Index>(oy) * out.w + ox) * C;
      for (int c = 0; c < C; ++c) o[c] = clamp_to(m[static_cast<std::size_t>(c)], p.act_min, p.act_max);
    }
  }
  return result;
}

std::vector<std::int8_t> average_pool(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                      const PoolParams& p) {
  const char* where = "average_pool";
  const TensorShape out = validate_pool(where, in_shape, p);
  require_size(where, "input", input.size(), in_shape.size(), "in_shape " + to_string(in_shape));
  const int C = in_shape.c, H = in_shape.h, W = in_shape.w;
  std::vector<std::int8_t> result(out.size());
  std::vector<std::int32_t> sum(static_cast<std::size_t>(C));
  for (int oy = 0; oy < out.h; ++oy) {
    const int iy0 = oy * p.stride_h - p.pad.top;
    int ky_lo = 0, ky_hi = 0;
    valid_taps(iy0, H, 1, p.kernel_h, ky_lo, ky_hi);
    // Rows of the window inside the padded map, for count_include_pad.
    const int padded_rows = std::min(iy0 + p.kernel_h, H + p.pad.bottom) - std::max(iy0, -p.pad.top);
    for (int ox = 0; ox < out.w; ++ox) {
      const int ix0 = ox * p.stride_w - p.pad.left;
      int kx_lo = 0, kx_hi = 0;
      valid_taps(ix0, W, 1, p.kernel_w, kx_lo, kx_hi);
      const int padded_cols = std::min(ix0 + p.kernel_w, W + p.pad.right) - std::max(ix0, -p.pad.left);
      std::fill(sum.begin(), sum.end(), 0);
      for (int ky = ky_lo; ky < ky_hi; ++ky) {
        for (int kx = kx_lo; kx < kx_hi; ++kx) {
          const std::int8_t* xp = input.data() + (static_cast<Index>(iy0 + ky) * W + ix0 + kx) * C;
          for (int c = 0; c < C; ++c) sum[static_cast<std::size_t>(c)] += xp[c];
        }
      }
      const std::int32_t valid = (ky_hi - ky_lo) * (kx_hi - kx_lo);
      std::int32_t count = valid;
      std::int32_t pad_sum = 0;
      if (p.count_include_pad) {
        count = padded_rows * padded_cols;
        pad_sum = (count - valid) * p.zero_point;
      }
      std::int8_t* o = result.data() + (static_cast<Index>(oy) * out.w + ox) * C;
      for (int c = 0; c < C; ++c) {
        o[c] = clamp_to(rounded_average(sum[static_cast<std::size_t>(c)] + pad_sum, count, p.ties_to_even), p.act_min,
                        p.act_max);
      }
    }
  }
  return result;
}

std::vector<std::int8_t> global_average_pool(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                             ActivationRange act) {
  const char* where = "global_average_pool";
  require_shape(where, "in_shape", in_shape);
  require_act_range(where, act.min, act.max);
  require_size(where, "input", input.size(), in_shape.size(), "in_shape " + to_string(in_shape));
  const int C = in_shape.c;
  const Index pixels = static_cast<Index>(in_shape.h) * in_shape.w;
  if (pixels > (Index{1} << 23)) fail(where, "in_shape h * w must be at most 2^23 (int32 sum)");
  std::vector<std::int32_t> sum(static_cast<std::size_t>(C), 0);
  for (Index i = 0; i < pixels; ++i) {
    const std::int8_t* xp = input.data() + i * C;
    for (int c = 0; c < C; ++c) sum[static_cast<std::size_t>(c)] += xp[c];
  }
  std::vector<std::int8_t> result(static_cast<std::size_t>(C));
  for (int c = 0; c < C; ++c) {
    result[static_cast<std::size_t>(c)] = clamp_to(
        rounded_average(sum[static_cast<std::size_t>(c)], static_cast<std::int32_t>(pixels)), act.min, act.max);
  }
  return result;
}

AddParams make_add_params(QuantParams input1, QuantParams input2, QuantParams output, Activation act) {
  const char* where = "make_add_params";
  for (const auto& [name, q] :
       {std::pair{"input1", input1}, std::pair{"input2", input2}, std::pair{"output", output}}) {
    if (!(q.scale > 0.0f) || !std::isfinite(q.scale))
      fail(where, std::string(name) + ".scale must be positive and finite");
    require_int8(where, (std::string(name) + ".zero_point").c_str(), q.zero_point);
  }
  AddParams p;
  // TFLite's int16 ADD shifts by 15: 2^15 × an int16 difference fits int32.
  if (bits_of(output) == 16) p.left_shift = 15;
  const double twice_max_input_scale = 2.0 * static_cast<double>(std::max(input1.scale, input2.scale));
  p.input1_multiplier = quantize_multiplier(static_cast<double>(input1.scale) / twice_max_input_scale);
  p.input2_multiplier = quantize_multiplier(static_cast<double>(input2.scale) / twice_max_input_scale);
  p.output_multiplier =
      quantize_multiplier(twice_max_input_scale /
                          (static_cast<double>(std::int64_t{1} << p.left_shift) * static_cast<double>(output.scale)));
  p.input1_offset = -input1.zero_point;
  p.input2_offset = -input2.zero_point;
  p.output_offset = output.zero_point;
  const ActivationRange range = activation_range(act, output);
  p.act_min = range.min;
  p.act_max = range.max;
  return p;
}

std::vector<std::int8_t> add(const std::vector<std::int8_t>& input1, const std::vector<std::int8_t>& input2,
                             TensorShape shape, const AddParams& p) {
  const char* where = "add";
  require_shape(where, "shape", shape);
  require_size(where, "input1", input1.size(), shape.size(), "shape " + to_string(shape));
  require_size(where, "input2", input2.size(), shape.size(), "shape " + to_string(shape));
  if (p.left_shift < 0 || p.left_shift > 22) {
    fail(where, "left_shift must be in [0, 22] (got " + std::to_string(p.left_shift) + ")");
  }
  require_multiplier(where, "input1_multiplier", p.input1_multiplier);
  require_multiplier(where, "input2_multiplier", p.input2_multiplier);
  require_multiplier(where, "output_multiplier", p.output_multiplier);
  if (p.input1_offset < -127 || p.input1_offset > 128) fail(where, "input1_offset must be in [-127, 128]");
  if (p.input2_offset < -127 || p.input2_offset > 128) fail(where, "input2_offset must be in [-127, 128]");
  require_int8(where, "output_offset", p.output_offset);
  require_act_range(where, p.act_min, p.act_max);
  std::vector<std::int8_t> result(shape.size());
  const reference_dots::AddSteps steps{
      p.left_shift,
      p.input1_offset,
      p.input2_offset,
      p.output_offset,
      {p.input1_multiplier.multiplier, p.input2_multiplier.multiplier, p.output_multiplier.multiplier},
      {p.input1_multiplier.shift, p.input2_multiplier.shift, p.output_multiplier.shift},
      p.act_min,
      p.act_max};
  reference_dots::add_elements(input1.data(), input2.data(), result.size(), steps, result.data());
  return result;
}

std::vector<std::int8_t> requantize_tensor(const std::vector<std::int8_t>& input, QuantParams in, QuantParams out) {
  const char* where = "requantize_tensor";
  if (!(in.scale > 0.0f) || !std::isfinite(in.scale)) fail(where, "in.scale must be positive and finite");
  if (!(out.scale > 0.0f) || !std::isfinite(out.scale)) fail(where, "out.scale must be positive and finite");
  require_int8(where, "in.zero_point", in.zero_point);
  require_int8(where, "out.zero_point", out.zero_point);
  const FixedPointMultiplier m = quantize_multiplier(static_cast<double>(in.scale) / static_cast<double>(out.scale));
  std::vector<std::int8_t> result(input.size());
  for (std::size_t i = 0; i < input.size(); ++i) {
    const std::int32_t v =
        detail::multiply_by_quantized_multiplier_unchecked(input[i] - in.zero_point, m) + out.zero_point;
    result[i] = clamp_to(v, -128, 127);
  }
  return result;
}

TensorShape concat_output_shape(const std::vector<TensorShape>& shapes) {
  const char* where = "concat_output_shape";
  if (shapes.empty()) fail(where, "inputs must not be empty");
  TensorShape out{0, shapes.front().h, shapes.front().w};
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    const std::string name = "inputs[" + std::to_string(i) + "].shape";
    require_shape(where, name.c_str(), shapes[i]);
    if (shapes[i].h != out.h || shapes[i].w != out.w) {
      fail(where,
           name + " " + to_string(shapes[i]) + " differs in h/w from inputs[0].shape " + to_string(shapes.front()));
    }
    out.c += shapes[i].c;
  }
  return out;
}

std::vector<std::int8_t> concat_channels(const std::vector<TensorView>& inputs) {
  const char* where = "concat_channels";
  std::vector<TensorShape> shapes;
  shapes.reserve(inputs.size());
  for (const TensorView& v : inputs) shapes.push_back(v.shape);
  TensorShape out;
  try {
    out = concat_output_shape(shapes);
  } catch (const std::invalid_argument& e) {
    fail(where, std::string(e.what()).substr(std::string("concat_output_shape: ").size()));
  }
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "inputs[" + std::to_string(i) + "].data";
    if (inputs[i].data == nullptr) fail(where, name + " is null");
    require_size(where, name.c_str(), inputs[i].data->size(), inputs[i].shape.size(),
                 "shape " + to_string(inputs[i].shape));
  }
  std::vector<std::int8_t> result(out.size());
  const Index pixels = static_cast<Index>(out.h) * out.w;
  Index channel_offset = 0;
  for (const TensorView& v : inputs) {
    const std::int8_t* src = v.data->data();
    for (Index i = 0; i < pixels; ++i) {
      std::copy(src + i * v.shape.c, src + (i + 1) * v.shape.c, result.data() + i * out.c + channel_offset);
    }
    channel_offset += v.shape.c;
  }
  return result;
}

std::vector<std::int8_t> channel_shuffle(const std::vector<std::int8_t>& input, TensorShape shape, int groups) {
  const char* where = "channel_shuffle";
  require_shape(where, "shape", shape);
  require_positive(where, "groups", groups);
  if (shape.c % groups != 0) {
    fail(where,
         "shape.c (" + std::to_string(shape.c) + ") is not divisible by groups (" + std::to_string(groups) + ")");
  }
  require_size(where, "input", input.size(), shape.size(), "shape " + to_string(shape));
  const int C = shape.c, per_group = C / groups;
  std::vector<int> source(static_cast<std::size_t>(C));
  for (int g = 0; g < groups; ++g) {
    for (int j = 0; j < per_group; ++j) source[static_cast<std::size_t>(j * groups + g)] = g * per_group + j;
  }
  std::vector<std::int8_t> result(input.size());
  const Index pixels = static_cast<Index>(shape.h) * shape.w;
  for (Index i = 0; i < pixels; ++i) {
    const std::int8_t* src = input.data() + i * C;
    std::int8_t* dst = result.data() + i * C;
    for (int c = 0; c < C; ++c) dst[c] = src[source[static_cast<std::size_t>(c)]];
  }
  return result;
}

std::vector<std::int8_t> shift_channels(const std::vector<std::int8_t>& input, TensorShape shape,
                                        const std::vector<ChannelShift>& shifts, std::int32_t zero_point) {
  const char* where = "shift_channels";
  require_shape(where, "shape", shape);
  require_size(where, "input", input.size(), shape.size(), "shape " + to_string(shape));
  require_size(where, "shifts", shifts.size(), static_cast<std::size_t>(shape.c), "one per channel: shape.c");
  require_int8(where, "zero_point", zero_point);
  const int C = shape.c, H = shape.h, W = shape.w;
  std::vector<std::int8_t> result(input.size(), static_cast<std::int8_t>(zero_point));
  for (int c = 0; c < C; ++c) {
    const ChannelShift s = shifts[static_cast<std::size_t>(c)];
    // Output rows/cols whose source lies inside the map.
    const Index y_lo = std::max<Index>(0, s.dy), y_hi = std::min<Index>(H, static_cast<Index>(H) + s.dy);
    const Index x_lo = std::max<Index>(0, s.dx), x_hi = std::min<Index>(W, static_cast<Index>(W) + s.dx);
    for (Index y = y_lo; y < y_hi; ++y) {
      for (Index x = x_lo; x < x_hi; ++x) {
        result[static_cast<std::size_t>((y * W + x) * C + c)] =
            input[static_cast<std::size_t>(((y - s.dy) * W + (x - s.dx)) * C + c)];
      }
    }
  }
  return result;
}

std::vector<ChannelShift> grouped_shifts(int channels, int kernel_size) {
  const char* where = "grouped_shifts";
  require_positive(where, "channels", channels);
  require_positive(where, "kernel_size", kernel_size);
  if (kernel_size % 2 == 0) fail(where, "kernel_size must be odd (got " + std::to_string(kernel_size) + ")");
  const int directions = kernel_size * kernel_size;
  const int per_group = channels / directions;
  const int half = kernel_size / 2;
  std::vector<ChannelShift> shifts(static_cast<std::size_t>(channels));
  if (per_group == 0) return shifts;
  for (int c = 0; c < per_group * directions; ++c) {
    const int i = c / per_group;
    shifts[static_cast<std::size_t>(c)] = {i / kernel_size - half, i % kernel_size - half};
  }
  return shifts;
}

std::vector<std::int8_t> clamp(const std::vector<std::int8_t>& input, ActivationRange act) {
  require_act_range("clamp", act.min, act.max);
  std::vector<std::int8_t> result(input.size());
  for (std::size_t i = 0; i < input.size(); ++i) result[i] = clamp_to(input[i], act.min, act.max);
  return result;
}

std::vector<std::int8_t> relu(const std::vector<std::int8_t>& input, QuantParams q) {
  return clamp(input, activation_range(Activation::kRelu, q));
}

std::vector<std::int8_t> relu6(const std::vector<std::int8_t>& input, QuantParams q) {
  return clamp(input, activation_range(Activation::kRelu6, q));
}

}  // namespace npuvp::runtime
