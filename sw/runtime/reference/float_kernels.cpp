#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include "sw/runtime/reference/kernel_checks.h"
#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime {

using namespace kernel_checks;

namespace {

using Index = std::ptrdiff_t;

// The weights transposed so that the innermost loop of conv2d_float runs over
// contiguous output channels: [tap][channel] for a depthwise convolution,
// [group][tap][in][out] otherwise.
std::vector<float> transposed_weights(const std::vector<float>& w, TensorShape in, const ConvParams& p) {
  const int C = in.c, O = p.out_channels, G = p.groups;
  const int icg = C / G, ocg = O / G, taps = p.kernel_h * p.kernel_w;
  std::vector<float> wt(w.size());
  if (G == C && G == O) {
    for (int c = 0; c < C; ++c)
      for (int t = 0; t < taps; ++t)
        wt[static_cast<std::size_t>(t) * C + c] = w[static_cast<std::size_t>(c) * taps + t];
    return wt;
  }
  for (int g = 0; g < G; ++g)
    for (int o = 0; o < ocg; ++o)
      for (int t = 0; t < taps; ++t)
        for (int i = 0; i < icg; ++i)
          wt[((static_cast<std::size_t>(g) * taps + t) * icg + i) * ocg + o] =
              w[((static_cast<std::size_t>(g) * ocg + o) * taps + t) * icg + i];
  return wt;
}

// Adds one kernel tap's contribution at input pixel `xp` to the accumulators
// `a` of one output pixel.
void accumulate_tap(const float* xp, const float* wt, int t, TensorShape in, const ConvParams& p, float* a) {
  const int C = in.c, G = p.groups, icg = C / G, ocg = p.out_channels / G;
  if (G == C && G == p.out_channels) {
    const float* wp = wt + static_cast<Index>(t) * C;
    for (int c = 0; c < C; ++c) a[c] += xp[c] * wp[c];
    return;
  }
  const int taps = p.kernel_h * p.kernel_w;
  for (int g = 0; g < G; ++g) {
    const float* xg = xp + static_cast<Index>(g) * icg;
    float* ag = a + static_cast<Index>(g) * ocg;
    const float* wg = wt + (static_cast<Index>(g) * taps + t) * icg * ocg;
    for (int i = 0; i < icg; ++i) {
      const float xv = xg[i];
      if (xv == 0.0f) continue;  // post-ReLU zeros are common
      const float* wr = wg + static_cast<Index>(i) * ocg;
      for (int o = 0; o < ocg; ++o) ag[o] += xv * wr[o];
    }
  }
}

void clamp_all(std::vector<float>& y, float act_min, float act_max) {
  for (auto& v : y) v = std::min(std::max(v, act_min), act_max);
}

}  // namespace

std::vector<float> conv2d_float(const std::vector<float>& x, TensorShape in, const std::vector<float>& w,
                                const std::vector<float>& bias, const ConvParams& p_in, float act_min, float act_max) {
  const char* where = "conv2d_float";
  ConvParams p = p_in;
  p.input_zero_point = 0;
  const TensorShape out = validate_conv(where, in, p);
  validate_conv_data(where, x, in, w, bias, p);
  if (!(act_min <= act_max)) fail(where, "act_min must not exceed act_max");
  const int C = in.c, O = p.out_channels;
  std::vector<float> y(out.size());
  for (Index pix = 0; pix < static_cast<Index>(out.h) * out.w; ++pix) {
    float* a = y.data() + pix * O;
    if (bias.empty())
      std::fill(a, a + O, 0.0f);
    else
      std::copy(bias.begin(), bias.end(), a);
  }
  if (out.h * out.w == 1 && p.kernel_h == 1 && p.kernel_w == 1 && p.groups == 1 && p.pad.top == 0 && p.pad.left == 0) {
    // Fully connected: one dot product per output, no transposed copy of the weights.
    for (int o = 0; o < O; ++o) {
      const float* wr = w.data() + static_cast<Index>(o) * C;
      float sum = 0.0f;
      for (int i = 0; i < C; ++i) sum += x[static_cast<std::size_t>(i)] * wr[i];
      y[static_cast<std::size_t>(o)] += sum;
    }
    clamp_all(y, act_min, act_max);
    return y;
  }
  const std::vector<float> wt = transposed_weights(w, in, p);
  for (int oy = 0; oy < out.h; ++oy) {
    const int iy0 = oy * p.stride_h - p.pad.top;
    int ky_lo = 0, ky_hi = 0;
    valid_taps(iy0, in.h, p.dilation_h, p.kernel_h, ky_lo, ky_hi);
    for (int ox = 0; ox < out.w; ++ox) {
      const int ix0 = ox * p.stride_w - p.pad.left;
      int kx_lo = 0, kx_hi = 0;
      valid_taps(ix0, in.w, p.dilation_w, p.kernel_w, kx_lo, kx_hi);
      float* a = y.data() + (static_cast<Index>(oy) * out.w + ox) * O;
      for (int ky = ky_lo; ky < ky_hi; ++ky) {
        const Index iy = iy0 + static_cast<Index>(ky) * p.dilation_h;
        for (int kx = kx_lo; kx < kx_hi; ++kx) {
          const Index ix = ix0 + static_cast<Index>(kx) * p.dilation_w;
          accumulate_tap(x.data() + (iy * in.w + ix) * C, wt.data(), ky * p.kernel_w + kx, in, p, a);
        }
      }
    }
  }
  clamp_all(y, act_min, act_max);
  return y;
}

std::vector<float> pool_float(const std::vector<float>& x, TensorShape in, const PoolParams& p, bool average) {
  const char* where = average ? "average_pool_float" : "max_pool_float";
  const TensorShape out = validate_pool(where, in, p);
  require_size(where, "input", x.size(), in.size(), "in_shape " + to_string(in));
  std::vector<float> y(out.size());
  const int C = in.c;
  std::vector<double> acc(static_cast<std::size_t>(C));
  for (int oy = 0; oy < out.h; ++oy) {
    const int iy0 = oy * p.stride_h - p.pad.top;
    int ky_lo = 0, ky_hi = 0;
    valid_taps(iy0, in.h, 1, p.kernel_h, ky_lo, ky_hi);
    const int padded_rows = std::min(iy0 + p.kernel_h, in.h + p.pad.bottom) - std::max(iy0, -p.pad.top);
    for (int ox = 0; ox < out.w; ++ox) {
      const int ix0 = ox * p.stride_w - p.pad.left;
      int kx_lo = 0, kx_hi = 0;
      valid_taps(ix0, in.w, 1, p.kernel_w, kx_lo, kx_hi);
      const int padded_cols = std::min(ix0 + p.kernel_w, in.w + p.pad.right) - std::max(ix0, -p.pad.left);
      std::fill(acc.begin(), acc.end(), average ? 0.0 : -std::numeric_limits<double>::infinity());
      for (int ky = ky_lo; ky < ky_hi; ++ky)
        for (int kx = kx_lo; kx < kx_hi; ++kx) {
          const float* xp = x.data() + (static_cast<Index>(iy0 + ky) * in.w + ix0 + kx) * C;
          for (int c = 0; c < C; ++c) acc[c] = average ? acc[c] + xp[c] : std::max<double>(acc[c], xp[c]);
        }
      const int count = p.count_include_pad ? padded_rows * padded_cols : (ky_hi - ky_lo) * (kx_hi - kx_lo);
      float* o = y.data() + (static_cast<Index>(oy) * out.w + ox) * C;
      for (int c = 0; c < C; ++c) o[c] = static_cast<float>(average ? acc[c] / count : acc[c]);
    }
  }
  return y;
}

std::vector<float> fully_connected_float(const std::vector<float>& input, TensorShape in_shape,
                                         const std::vector<float>& weights, const std::vector<float>& bias,
                                         int out_features, float act_min, float act_max) {
  const char* where = "fully_connected_float";
  require_shape(where, "in_shape", in_shape);
  require_positive(where, "out_features", out_features);
  require_size(where, "input", input.size(), in_shape.size(), "in_shape " + to_string(in_shape));
  require_size(where, "weights", weights.size(), static_cast<std::size_t>(out_features) * in_shape.size(),
               "out_features * in_shape.c * in_shape.h * in_shape.w");
  ConvParams conv;
  conv.kernel_h = conv.kernel_w = 1;
  conv.out_channels = out_features;
  const TensorShape flat{static_cast<int>(in_shape.size()), 1, 1};
  try {
    return conv2d_float(input, flat, weights, bias, conv, act_min, act_max);
  } catch (const std::invalid_argument& e) {
    fail(where, std::string(e.what()).substr(std::string("conv2d_float: ").size()));
  }
}
}  // namespace npuvp::runtime
