#include "sw/runtime/lowering.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <utility>

namespace npuvp::runtime {

namespace {

using firmware::LayerCommand;
using firmware::Opcode;
using Index = std::ptrdiff_t;

std::string shape_str(TensorShape s) {
  return "[" + std::to_string(s.c) + "," + std::to_string(s.h) + "," + std::to_string(s.w) + "]";
}

[[noreturn]] void fail(const Network& n, int index, const std::string& what) {
  const Layer& l = n.layer(index);
  throw std::invalid_argument("network '" + n.name() + "': layer '" + l.name + "' (" + layer_type_name(l.type) +
                              "): " + what);
}

bool is_conv_like(LayerType t) {
  return t == LayerType::kConv2d || t == LayerType::kFullyConnected || t == LayerType::kBatchNorm;
}

// Output params equal to the (first) input's: the layer only moves or selects
// values.
bool keeps_quantization(LayerType t) {
  switch (t) {
    case LayerType::kMaxPool:
    case LayerType::kAvgPool:
    case LayerType::kGlobalAvgPool:
    case LayerType::kAdaptiveAvgPool:
    case LayerType::kReLU:
    case LayerType::kReLU6:
    case LayerType::kConcat:
    case LayerType::kChannelShuffle:
    case LayerType::kShift:
    case LayerType::kFlatten:
    case LayerType::kSliceChannels:
    case LayerType::kPadChannels:
      return true;
    default:
      return false;
  }
}

Activation activation_of(LayerType t) { return t == LayerType::kReLU6 ? Activation::kRelu6 : Activation::kRelu; }

// Kernel taps k in [lo, hi) whose coordinate origin + k * dilation lies in [0,
// extent).
void valid_taps(int origin, int extent, int dilation, int kernel, int& lo, int& hi) {
  lo = origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
  hi = origin >= extent ? 0 : std::min(kernel, (extent - 1 - origin) / dilation + 1);
  if (hi < lo) hi = lo;
}

// ------------------------------------------------ data movement (float and
// int8)

template <class T>
std::vector<T> slice_channels_of(const std::vector<T>& x, TensorShape in, int begin, int end) {
  const int c = end - begin;
  std::vector<T> y(static_cast<std::size_t>(in.h) * in.w * c);
  const Index pixels = static_cast<Index>(in.h) * in.w;
  for (Index i = 0; i < pixels; ++i) std::copy_n(x.data() + i * in.c + begin, c, y.data() + i * c);
  return y;
}

template <class T>
std::vector<T> pad_channels_of(const std::vector<T>& x, TensorShape in, int before, int after, T fill) {
  const int c = in.c + before + after;
  std::vector<T> y(static_cast<std::size_t>(in.h) * in.w * c, fill);
  const Index pixels = static_cast<Index>(in.h) * in.w;
  for (Index i = 0; i < pixels; ++i) std::copy_n(x.data() + i * in.c, in.c, y.data() + i * c + before);
  return y;
}

// ------------------------------------------------------- float calibration
// pass

// Float conv (float accumulation; only ranges are taken from it). The weights
// are transposed so the innermost loop runs over contiguous output channels.
std::vector<float> float_conv(const std::vector<float>& x, TensorShape in, const std::vector<float>& w,
                              const std::vector<float>& bias, const ConvParams& p, TensorShape out) {
  const int C = in.c, H = in.h, W = in.w, O = p.out_channels, G = p.groups;
  const int icg = C / G, ocg = O / G, kh = p.kernel_h, kw = p.kernel_w;
  std::vector<float> y(out.size());
  for (Index pix = 0; pix < static_cast<Index>(out.h) * out.w; ++pix) {
    float* a = y.data() + pix * O;
    if (bias.empty())
      std::fill(a, a + O, 0.0f);
    else
      std::copy(bias.begin(), bias.end(), a);
  }
  if (out.h * out.w == 1 && kh == 1 && kw == 1 && G == 1 && p.pad_top == 0 && p.pad_left == 0) {
    // Fully connected: one dot product per output, no transposed copy of the
    // weights.
    for (int o = 0; o < O; ++o) {
      const float* wr = w.data() + static_cast<Index>(o) * C;
      float sum = 0.0f;
      for (int i = 0; i < C; ++i) sum += x[static_cast<std::size_t>(i)] * wr[i];
      y[static_cast<std::size_t>(o)] += sum;
    }
    return y;
  }
  const bool depthwise = G == C && G == O;
  std::vector<float> wt(w.size());
  if (depthwise) {
    for (int c = 0; c < C; ++c)
      for (int t = 0; t < kh * kw; ++t)
        wt[static_cast<std::size_t>(t) * C + c] = w[static_cast<std::size_t>(c) * kh * kw + t];
  } else {
    for (int g = 0; g < G; ++g)
      for (int o = 0; o < ocg; ++o)
        for (int t = 0; t < kh * kw; ++t)
          for (int i = 0; i < icg; ++i)
            wt[((static_cast<std::size_t>(g) * kh * kw + t) * icg + i) * ocg + o] =
                w[((static_cast<std::size_t>(g) * ocg + o) * kh * kw + t) * icg + i];
  }
  for (int oy = 0; oy < out.h; ++oy) {
    const int iy0 = oy * p.stride_h - p.pad_top;
    int ky_lo = 0, ky_hi = 0;
    valid_taps(iy0, H, p.dilation_h, kh, ky_lo, ky_hi);
    for (int ox = 0; ox < out.w; ++ox) {
      const int ix0 = ox * p.stride_w - p.pad_left;
      int kx_lo = 0, kx_hi = 0;
      valid_taps(ix0, W, p.dilation_w, kw, kx_lo, kx_hi);
      float* a = y.data() + (static_cast<Index>(oy) * out.w + ox) * O;
      for (int ky = ky_lo; ky < ky_hi; ++ky) {
        const Index iy = iy0 + static_cast<Index>(ky) * p.dilation_h;
        for (int kx = kx_lo; kx < kx_hi; ++kx) {
          const Index ix = ix0 + static_cast<Index>(kx) * p.dilation_w;
          const float* xp = x.data() + (iy * W + ix) * C;
          const int t = ky * kw + kx;
          if (depthwise) {
            const float* wp = wt.data() + static_cast<Index>(t) * C;
            for (int c = 0; c < C; ++c) a[c] += xp[c] * wp[c];
            continue;
          }
          for (int g = 0; g < G; ++g) {
            const float* xg = xp + static_cast<Index>(g) * icg;
            float* ag = a + static_cast<Index>(g) * ocg;
            const float* wg = wt.data() + (static_cast<Index>(g) * kh * kw + t) * icg * ocg;
            for (int i = 0; i < icg; ++i) {
              const float xv = xg[i];
              if (xv == 0.0f) continue;  // post-ReLU zeros are common
              const float* wr = wg + static_cast<Index>(i) * ocg;
              for (int o = 0; o < ocg; ++o) ag[o] += xv * wr[o];
            }
          }
        }
      }
    }
  }
  return y;
}

std::vector<float> float_pool(const std::vector<float>& x, TensorShape in, const PoolParams& p, TensorShape out,
                              bool average) {
  std::vector<float> y(out.size());
  const int C = in.c;
  std::vector<double> acc(static_cast<std::size_t>(C));
  for (int oy = 0; oy < out.h; ++oy) {
    const int iy0 = oy * p.stride_h - p.pad_top;
    int ky_lo = 0, ky_hi = 0;
    valid_taps(iy0, in.h, 1, p.kernel_h, ky_lo, ky_hi);
    const int padded_rows = std::min(iy0 + p.kernel_h, in.h + p.pad_bottom) - std::max(iy0, -p.pad_top);
    for (int ox = 0; ox < out.w; ++ox) {
      const int ix0 = ox * p.stride_w - p.pad_left;
      int kx_lo = 0, kx_hi = 0;
      valid_taps(ix0, in.w, 1, p.kernel_w, kx_lo, kx_hi);
      const int padded_cols = std::min(ix0 + p.kernel_w, in.w + p.pad_right) - std::max(ix0, -p.pad_left);
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

void apply_activation(std::vector<float>& x, Activation act) {
  if (act == Activation::kNone) return;
  const float hi = act == Activation::kRelu6 ? 6.0f : std::numeric_limits<float>::infinity();
  for (auto& v : x) v = std::min(std::max(v, 0.0f), hi);
}

// ------------------------------------------------------------ structure

// Pool parameters of a max/avg pool layer at input `in`, with the checks the
// int8 kernels and the NPU need.
PoolParams pool_params(const Network& n, int index, TensorShape in) {
  const Layer& l = n.layer(index);
  PoolParams p = to_pool_params(l, in);
  const bool overhang = p.pad_bottom > l.pool.pad.bottom || p.pad_right > l.pool.pad.right;
  if (l.type == LayerType::kAvgPool && l.pool.count_include_pad && overhang)
    fail(n, index,
         "count_include_pad with a ceil_mode window past the padded input " + shape_str(in) +
             " is not supported (PyTorch divides such windows by their clipped "
             "size); supported: "
             "count_include_pad=false, or ceil_mode windows that stay inside "
             "the padding");
  if (l.type == LayerType::kMaxPool) p.count_include_pad = false;
  return p;
}

struct Structure {
  std::vector<int> fused_into;         // per layer: producer a ReLU/ReLU6 is fused into, or -1
  std::vector<Activation> activation;  // per layer: activation fused into it
  std::vector<int> group;              // per layer: root of its quantization group
};

int find_root(std::vector<int>& parent, int i) {
  while (parent[i] != i) i = parent[i] = parent[parent[i]];
  return i;
}

Structure analyze(const Network& n, bool fuse) {
  const int count = static_cast<int>(n.size());
  std::vector<int> readers(n.size(), 0);
  for (const Layer& l : n.layers())
    for (int in : l.inputs) ++readers[in];
  Structure s;
  s.fused_into.assign(n.size(), -1);
  s.activation.assign(n.size(), Activation::kNone);
  std::vector<int> parent(n.size());
  std::iota(parent.begin(), parent.end(), 0);
  for (int i = 1; i < count; ++i) {
    const Layer& l = n.layer(i);
    switch (l.type) {
      case LayerType::kInput:
        fail(n, i, "only layer 0 may be the input");
      case LayerType::kConv2d:
      case LayerType::kFullyConnected:
      case LayerType::kBatchNorm:
      case LayerType::kAdd:
        break;
      case LayerType::kReLU:
      case LayerType::kReLU6: {
        const int p = l.inputs[0];
        const LayerType pt = n.layer(p).type;
        if (fuse && (is_conv_like(pt) || pt == LayerType::kAdd) && readers[p] == 1 &&
            s.activation[p] == Activation::kNone) {
          s.fused_into[i] = p;
          s.activation[p] = activation_of(l.type);
        }
        break;
      }
      default:
        if (!keeps_quantization(l.type)) fail(n, i, "unsupported layer type");
    }
    if (keeps_quantization(l.type))
      for (int in : l.inputs) parent[find_root(parent, in)] = find_root(parent, i);
  }
  s.group.resize(n.size());
  for (int i = 0; i < count; ++i) s.group[i] = find_root(parent, i);
  return s;
}

// The float weights of a conv-like layer as OHWI + bias, and its ConvParams
// (input zero point left 0) and the input shape it convolves.
struct ConvForm {
  ConvParams params;
  TensorShape in;
  const std::vector<float>* weights = nullptr;  // the layer's own, or bn_* below
  const std::vector<float>* bias = nullptr;
  std::vector<float> bn_weights, bn_bias;
};

ConvForm conv_form(const Network& n, int index) {
  const Layer& l = n.layer(index);
  const TensorShape in = n.layer(l.inputs[0]).out_shape;
  ConvForm f;
  if (l.type == LayerType::kConv2d) {
    f.params = to_conv_params(l);
    f.in = in;
    f.weights = &l.weights.weights;
    f.bias = &l.weights.bias;
  } else if (l.type == LayerType::kFullyConnected) {
    f.params.kernel_h = f.params.kernel_w = 1;
    f.params.out_channels = l.fc.out_features;
    f.in = {static_cast<int>(in.size()), 1, 1};
    f.weights = &l.weights.weights;
    f.bias = &l.weights.bias;
  } else {  // BatchNorm not folded into a conv: a 1x1 depthwise conv
    const int c = l.channels;
    f.params.kernel_h = f.params.kernel_w = 1;
    f.params.out_channels = c;
    f.params.groups = c;
    f.in = in;
    f.bn_weights.resize(static_cast<std::size_t>(c));
    f.bn_bias.resize(static_cast<std::size_t>(c));
    for (std::size_t k = 0; k < f.bn_weights.size(); ++k) {
      const double s = l.weights.gamma[k] / std::sqrt(static_cast<double>(l.weights.var[k]) + l.bn_eps);
      f.bn_weights[k] = static_cast<float>(s);
      f.bn_bias[k] = static_cast<float>(l.weights.beta[k] - l.weights.mean[k] * s);
    }
    f.weights = &f.bn_weights;
    f.bias = &f.bn_bias;
  }
  return f;
}

std::vector<float> random_input(TensorShape shape, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<float> x(shape.size());
  for (auto& v : x) v = static_cast<float>(static_cast<double>(engine() >> 11) * (2.0 / 9007199254740992.0) - 1.0);
  return x;
}

}  // namespace

PoolParams adaptive_pool_as_uniform(const Layer& layer, TensorShape in) {
  // PyTorch's windows: [floor(i * in / out), ceil((i + 1) * in / out)).
  const auto uniform = [&](int in_size, int out_size, int& kernel, int& stride) {
    kernel = stride = 0;
    for (int i = 0; i < out_size; ++i) {
      const int start = static_cast<int>(static_cast<std::int64_t>(i) * in_size / out_size);
      const int end = static_cast<int>((static_cast<std::int64_t>(i + 1) * in_size + out_size - 1) / out_size);
      if (i == 0) kernel = end - start;
      if (i == 1) stride = start;
      if (end - start != kernel || (i > 0 && start != i * stride)) return false;
    }
    if (out_size == 1) stride = kernel;
    return stride > 0;  // stride 0: the output replicates inputs (upsampling)
  };
  PoolParams p;
  if (!uniform(in.h, layer.adaptive.out_h, p.kernel_h, p.stride_h) ||
      !uniform(in.w, layer.adaptive.out_w, p.kernel_w, p.stride_w))
    throw std::invalid_argument("layer '" + layer.name + "' (adaptive_avg_pool): output " +
                                std::to_string(layer.adaptive.out_h) + "x" + std::to_string(layer.adaptive.out_w) +
                                " from input " + std::to_string(in.h) + "x" + std::to_string(in.w) +
                                " does not reduce to a uniform average pool; supported: resolutions "
                                "where every "
                                "window has the same size and stride (e.g. input a multiple of the "
                                "output)");
  p.count_include_pad = false;
  return p;
}

ShiftAsConv shift_as_depthwise_conv(const std::vector<ChannelShift>& shifts, std::int32_t zero_point) {
  int r = 1;
  for (const auto& s : shifts) r = std::max({r, std::abs(s.dy), std::abs(s.dx)});
  const int k = 2 * r + 1;
  ShiftAsConv out;
  const int c = static_cast<int>(shifts.size());
  out.conv.kernel_h = out.conv.kernel_w = k;
  out.conv.pad_top = out.conv.pad_left = out.conv.pad_bottom = out.conv.pad_right = r;
  out.conv.groups = c;
  out.conv.out_channels = c;
  out.conv.input_zero_point = zero_point;
  // out(y, x) = in(y - dy, x - dx) = in(y - r + ky, x - r + kx) at ky = r - dy,
  // kx = r - dx.
  out.weights.assign(static_cast<std::size_t>(c) * k * k, 0);
  for (int ch = 0; ch < c; ++ch) {
    const ChannelShift s = shifts[static_cast<std::size_t>(ch)];
    out.weights[(static_cast<std::size_t>(ch) * k + (r - s.dy)) * k + (r - s.dx)] = 1;
  }
  // acc * 2^30 * 2^1 / 2^31 == acc exactly (see
  // multiply_by_quantized_multiplier).
  out.requant.per_channel = {FixedPointMultiplier{std::int32_t{1} << 30, 1}};
  out.requant.output_zero_point = zero_point;
  return out;
}

QuantizedNetwork quantize_network(Network network, const QuantizationOptions& options) {
  // Unsupported layers fail before the costly weights and passes.
  analyze(network, false);
  for (int i = 1; i < static_cast<int>(network.size()); ++i) {
    const Layer& l = network.layer(i);
    const TensorShape in = network.layer(l.inputs[0]).out_shape;
    if (l.type == LayerType::kMaxPool || l.type == LayerType::kAvgPool) pool_params(network, i, in);
    if (l.type == LayerType::kAdaptiveAvgPool) adaptive_pool_as_uniform(l, in);
  }
  if (!network.has_float_weights()) network.generate_float_weights(options.weight_seed);
  network.fold_batchnorm();
  const std::size_t size = network.size();
  QuantizedNetwork q{std::move(network), std::vector<QuantizedLayer>(size), {}, {}};
  const Network& qn = q.network;
  const Network& n = qn;
  const int count = static_cast<int>(size);
  const Structure s = analyze(n, options.fuse_activations);
  q.float_input =
      options.float_input.empty() ? random_input(qn.input_shape(), options.input_seed) : options.float_input;
  if (q.float_input.size() != qn.input_shape().size())
    throw std::invalid_argument("network '" + qn.name() + "': float_input has " + std::to_string(q.float_input.size()) +
                                " values, expected " + std::to_string(qn.input_shape().size()) + " for input " +
                                shape_str(qn.input_shape()));

  // Calibration: a float forward pass recording every tensor's range. Tensors
  // are dropped after their last reader.
  std::vector<int> last_reader(n.size(), -1);
  for (int i = 0; i < count; ++i)
    for (int in : qn.layer(i).inputs) last_reader[in] = i;
  std::vector<std::vector<float>> act(n.size());
  std::vector<float> lo(n.size(), 0.0f), hi(n.size(), 0.0f);
  act[0] = q.float_input;
  for (int i = 0; i < count; ++i) {
    const Layer& l = qn.layer(i);
    const TensorShape in = l.inputs.empty() ? l.out_shape : qn.layer(l.inputs[0]).out_shape;
    const auto& x = l.inputs.empty() ? act[0] : act[l.inputs[0]];
    std::vector<float> y;
    switch (l.type) {
      case LayerType::kInput:
        y = act[0];
        break;
      case LayerType::kConv2d:
      case LayerType::kFullyConnected:
      case LayerType::kBatchNorm: {
        const ConvForm f = conv_form(qn, i);
        y = float_conv(x, f.in, *f.weights, *f.bias, f.params, l.out_shape);
        apply_activation(y, s.activation[i]);
        break;
      }
      case LayerType::kMaxPool:
      case LayerType::kAvgPool:
        y = float_pool(x, in, pool_params(qn, i, in), l.out_shape, l.type == LayerType::kAvgPool);
        break;
      case LayerType::kAdaptiveAvgPool:
        y = float_pool(x, in, adaptive_pool_as_uniform(l, in), l.out_shape, true);
        break;
      case LayerType::kGlobalAvgPool: {
        PoolParams p;
        p.kernel_h = in.h;
        p.kernel_w = in.w;
        y = float_pool(x, in, p, l.out_shape, true);
        break;
      }
      case LayerType::kReLU:
      case LayerType::kReLU6:
        y = x;
        apply_activation(y, activation_of(l.type));
        break;
      case LayerType::kAdd: {
        const auto& b = act[l.inputs[1]];
        y.resize(x.size());
        for (std::size_t k = 0; k < y.size(); ++k) y[k] = x[k] + b[k];
        apply_activation(y, s.activation[i]);
        break;
      }
      case LayerType::kConcat: {
        y.resize(l.out_shape.size());
        int offset = 0;
        for (int src : l.inputs) {
          const int c = qn.layer(src).out_shape.c;
          const Index pixels = static_cast<Index>(l.out_shape.h) * l.out_shape.w;
          for (Index p = 0; p < pixels; ++p)
            std::copy_n(act[src].data() + p * c, c, y.data() + p * l.out_shape.c + offset);
          offset += c;
        }
        break;
      }
      case LayerType::kChannelShuffle: {
        y.resize(x.size());
        const int per = in.c / l.shuffle_groups;
        for (Index p = 0; p < static_cast<Index>(in.h) * in.w; ++p)
          for (int g = 0; g < l.shuffle_groups; ++g)
            for (int j = 0; j < per; ++j) y[p * in.c + j * l.shuffle_groups + g] = x[p * in.c + g * per + j];
        break;
      }
      case LayerType::kShift: {
        y.assign(x.size(), 0.0f);
        for (int c = 0; c < in.c; ++c) {
          const ChannelShift sh = l.shifts[static_cast<std::size_t>(c)];
          for (int yy = std::max(0, sh.dy); yy < std::min(in.h, in.h + sh.dy); ++yy)
            for (int xx = std::max(0, sh.dx); xx < std::min(in.w, in.w + sh.dx); ++xx)
              y[(static_cast<Index>(yy) * in.w + xx) * in.c + c] =
                  x[(static_cast<Index>(yy - sh.dy) * in.w + xx - sh.dx) * in.c + c];
        }
        break;
      }
      case LayerType::kFlatten:
        y = x;
        break;
      case LayerType::kSliceChannels:
        y = slice_channels_of(x, in, l.begin, l.end);
        break;
      case LayerType::kPadChannels:
        y = pad_channels_of(x, in, l.pad_before, l.pad_after, 0.0f);
        break;
    }
    const auto [mn, mx] = std::minmax_element(y.begin(), y.end());
    lo[i] = *mn;
    hi[i] = *mx;
    if (i == count - 1) q.float_output = y;
    act[i] = std::move(y);
    for (int in_index : l.inputs)
      if (last_reader[in_index] == i && in_index != 0) std::vector<float>().swap(act[in_index]);
  }

  // One set of parameters per group, over the union of its members' ranges.
  std::vector<float> group_lo(n.size(), 0.0f), group_hi(n.size(), 0.0f);
  for (int i = 0; i < count; ++i) {
    group_lo[s.group[i]] = std::min(group_lo[s.group[i]], lo[i]);
    group_hi[s.group[i]] = std::max(group_hi[s.group[i]], hi[i]);
  }
  for (int i = 0; i < count; ++i) {
    QuantizedLayer& ql = q.layers[i];
    ql.output = choose_quant_params(group_lo[s.group[i]], group_hi[s.group[i]]);
    ql.activation = s.activation[i];
    ql.fused_into = s.fused_into[i];
  }

  // Weights, biases and requantization of the conv-like layers.
  for (int i = 0; i < count; ++i) {
    const Layer& l = qn.layer(i);
    if (!is_conv_like(l.type)) continue;
    QuantizedLayer& ql = q.layers[i];
    const ConvForm f = conv_form(qn, i);
    const QuantParams in_q = q.layers[l.inputs[0]].output;
    PerChannelWeights pw = quantize_weights_per_channel(*f.weights, f.params.out_channels);
    ql.conv = f.params;
    ql.conv.input_zero_point = in_q.zero_point;
    ql.weights = std::move(pw.values);
    ql.weight_scales = std::move(pw.scales);
    if (!f.bias->empty()) ql.bias = quantize_bias(*f.bias, in_q.scale, ql.weight_scales);
    ql.requant = make_requantization(in_q.scale, ql.weight_scales, ql.output, ql.activation);
  }
  q.layers[0].expected = quantize_tensor(q.float_input, q.layers[0].output);
  compute_reference_outputs(q);
  return q;
}

void compute_reference_outputs(QuantizedNetwork& q) {
  const Network& n = q.network;
  if (q.layers.size() != n.size())
    throw std::invalid_argument("network '" + n.name() + "': QuantizedNetwork has " + std::to_string(q.layers.size()) +
                                " layers, expected one per network layer (" + std::to_string(n.size()) + ")");
  for (int i = 1; i < static_cast<int>(n.size()); ++i) {
    const Layer& l = n.layer(i);
    QuantizedLayer& ql = q.layers[i];
    const TensorShape in = n.layer(l.inputs[0]).out_shape;
    const auto& x = q.layers[l.inputs[0]].expected;
    const QuantParams in_q = q.layers[l.inputs[0]].output;
    switch (l.type) {
      case LayerType::kInput:
        break;
      case LayerType::kConv2d:
      case LayerType::kBatchNorm:
        ql.expected = conv2d(x, in, ql.weights, ql.bias, ql.conv, ql.requant);
        break;
      case LayerType::kFullyConnected: {
        FullyConnectedParams p;
        p.out_features = l.fc.out_features;
        p.input_zero_point = in_q.zero_point;
        ql.expected = fully_connected(x, in, ql.weights, ql.bias, p, ql.requant);
        break;
      }
      case LayerType::kMaxPool:
        ql.expected = max_pool(x, in, pool_params(n, i, in));
        break;
      case LayerType::kAvgPool: {
        PoolParams p = pool_params(n, i, in);
        p.zero_point = in_q.zero_point;
        ql.expected = average_pool(x, in, p);
        break;
      }
      case LayerType::kAdaptiveAvgPool:
        ql.expected = average_pool(x, in, adaptive_pool_as_uniform(l, in));
        break;
      case LayerType::kGlobalAvgPool:
        ql.expected = global_average_pool(x, in);
        break;
      case LayerType::kReLU:
      case LayerType::kReLU6:
        ql.expected = ql.fused_into >= 0 ? x : clamp(x, activation_range(activation_of(l.type), in_q));
        break;
      case LayerType::kAdd: {
        const AddParams p = make_add_params(in_q, q.layers[l.inputs[1]].output, ql.output, ql.activation);
        ql.expected = add(x, q.layers[l.inputs[1]].expected, l.out_shape, p);
        break;
      }
      case LayerType::kConcat: {
        std::vector<TensorView> views;
        for (int src : l.inputs) views.push_back({&q.layers[src].expected, n.layer(src).out_shape});
        ql.expected = concat_channels(views);
        break;
      }
      case LayerType::kChannelShuffle:
        ql.expected = channel_shuffle(x, in, l.shuffle_groups);
        break;
      case LayerType::kShift:
        ql.expected = shift_channels(x, in, l.shifts, in_q.zero_point);
        break;
      case LayerType::kFlatten:
        ql.expected = x;
        break;
      case LayerType::kSliceChannels:
        ql.expected = slice_channels_of(x, in, l.begin, l.end);
        break;
      case LayerType::kPadChannels:
        ql.expected = pad_channels_of(x, in, l.pad_before, l.pad_after, static_cast<std::int8_t>(in_q.zero_point));
        break;
    }
  }
}

// ------------------------------------------------------------------ lowering

namespace {

class Lowerer {
 public:
  Lowerer(const QuantizedNetwork& q, const DramAllocator& alloc, const LoweringOptions& options)
      : q_(q), n_(q.network), alloc_(alloc), options_(options) {}

  LoweredNetwork run() {
    const int count = static_cast<int>(n_.size());
    out_.layers.resize(n_.size());
    // Output tensors: flatten and fused activations alias their input's.
    for (int i = 0; i < count; ++i) {
      const Layer& l = n_.layer(i);
      const bool alias = l.type == LayerType::kFlatten || q_.layers[i].fused_into >= 0;
      out_.layers[i].output =
          alias ? out_.layers[l.inputs[0]].output : DramRegion{allocate(l.out_shape.size()), l.out_shape.size()};
    }
    out_.initial_data.push_back({out_.layers[0].output.addr, as_bytes(q_.input())});
    for (int i = 1; i < count; ++i) {
      out_.layers[i].first_command = out_.commands.size();
      lower_layer(i);
      out_.layers[i].command_count = out_.commands.size() - out_.layers[i].first_command;
    }
    return std::move(out_);
  }

 private:
  template <class T>
  static std::vector<std::uint8_t> as_bytes(const std::vector<T>& v) {
    std::vector<std::uint8_t> b(v.size() * sizeof(T));
    if (!b.empty()) std::memcpy(b.data(), v.data(), b.size());
    return b;
  }

  std::uint64_t allocate(std::uint64_t bytes) {
    out_.allocated_bytes += bytes;
    return alloc_(std::max<std::uint64_t>(bytes, 1));
  }

  template <class T>
  std::uint64_t parameter_block(const std::vector<T>& values) {
    const std::uint64_t addr = allocate(values.size() * sizeof(T));
    out_.initial_data.push_back({addr, as_bytes(values)});
    return addr;
  }

  std::uint64_t addr_of(int layer) const { return out_.layers[layer].output.addr; }

  template <class T>
  T narrow(int layer, const char* field, long long v, long long lo = 0) const {
    if (v < lo || v > static_cast<long long>(std::numeric_limits<T>::max()))
      fail(n_, layer,
           std::string(field) + " " + std::to_string(v) + " does not fit the command field (supported: " +
               std::to_string(lo) + ".." + std::to_string(static_cast<long long>(std::numeric_limits<T>::max())) + ")");
    return static_cast<T>(v);
  }

  LayerCommand command(int layer, Opcode op, TensorShape in, TensorShape out) const {
    LayerCommand c{};
    c.opcode = static_cast<std::uint32_t>(op);
    c.dataflow = static_cast<std::uint32_t>(options_.dataflow);
    const std::string& forced = q_.network.layer(layer).conv.dataflow;
    if (!forced.empty())
      c.dataflow = static_cast<std::uint32_t>(forced == "ws" ? firmware::DataflowChoice::kWeightStationary
                                                             : firmware::DataflowChoice::kOutputStationary);
    c.layer_id = static_cast<std::uint32_t>(layer);
    c.in_c = static_cast<std::uint32_t>(in.c);
    c.in_h = static_cast<std::uint32_t>(in.h);
    c.in_w = static_cast<std::uint32_t>(in.w);
    c.out_c = static_cast<std::uint32_t>(out.c);
    c.out_h = static_cast<std::uint32_t>(out.h);
    c.out_w = static_cast<std::uint32_t>(out.w);
    c.act_min = -128;
    c.act_max = 127;
    c.groups = 1;
    c.kernel_h = c.kernel_w = c.stride_h = c.stride_w = c.dilation_h = c.dilation_w = 1;
    return c;
  }

  void set_window(LayerCommand& c, int layer, int kh, int kw, int sh, int sw, int pt, int pl, int pb, int pr) const {
    c.kernel_h = narrow<std::uint8_t>(layer, "kernel_h", kh, 1);
    c.kernel_w = narrow<std::uint8_t>(layer, "kernel_w", kw, 1);
    c.stride_h = narrow<std::uint8_t>(layer, "stride_h", sh, 1);
    c.stride_w = narrow<std::uint8_t>(layer, "stride_w", sw, 1);
    c.pad_top = narrow<std::uint16_t>(layer, "pad_top", pt);
    c.pad_left = narrow<std::uint16_t>(layer, "pad_left", pl);
    c.pad_bottom = narrow<std::uint16_t>(layer, "pad_bottom", pb);
    c.pad_right = narrow<std::uint16_t>(layer, "pad_right", pr);
  }

  void conv_command(int layer, std::uint64_t input, TensorShape in, TensorShape out, const ConvParams& p,
                    const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias,
                    const Requantization& rq) {
    LayerCommand c = command(layer, Opcode::kConv2d, in, out);
    c.input_addr = input;
    c.output_addr = addr_of(layer);
    set_window(c, layer, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left, p.pad_bottom,
               p.pad_right);
    c.dilation_h = narrow<std::uint8_t>(layer, "dilation_h", p.dilation_h, 1);
    c.dilation_w = narrow<std::uint8_t>(layer, "dilation_w", p.dilation_w, 1);
    c.groups = static_cast<std::uint32_t>(p.groups);
    c.input_zero_point = p.input_zero_point;
    c.output_zero_point = rq.output_zero_point;
    c.act_min = rq.act_min;
    c.act_max = rq.act_max;
    c.weights_addr = parameter_block(weights);
    c.bias_addr = parameter_block(bias.empty() ? std::vector<std::int32_t>(static_cast<std::size_t>(out.c), 0) : bias);
    std::vector<std::int32_t> table(2 * static_cast<std::size_t>(out.c));
    for (int k = 0; k < out.c; ++k) {
      const FixedPointMultiplier m = rq.per_channel[rq.per_channel.size() == 1 ? 0 : static_cast<std::size_t>(k)];
      table[2 * static_cast<std::size_t>(k)] = m.multiplier;
      table[2 * static_cast<std::size_t>(k) + 1] = m.shift;
    }
    c.requant_addr = parameter_block(table);
    out_.commands.push_back(c);
  }

  void pool_command(int layer, Opcode op, TensorShape in, TensorShape out, const PoolParams& p, QuantParams q,
                    ActivationRange act = {}) {
    LayerCommand c = command(layer, op, in, out);
    c.input_addr = addr_of(n_.layer(layer).inputs[0]);
    c.output_addr = addr_of(layer);
    set_window(c, layer, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left, p.pad_bottom,
               p.pad_right);
    c.input_zero_point = c.output_zero_point = q.zero_point;
    c.act_min = act.min;
    c.act_max = act.max;
    if (op == Opcode::kAvgPool && p.count_include_pad && (p.pad_top | p.pad_left | p.pad_bottom | p.pad_right) != 0)
      c.flags |= firmware::kPoolCountIncludePad;
    out_.commands.push_back(c);
  }

  // A 3D strided byte copy (or fill when `fill` is set) into this layer's
  // output.
  void copy_command(int layer, Opcode op, std::uint64_t src, std::uint64_t dst, std::uint32_t row_bytes,
                    std::uint32_t rows, std::uint32_t planes, std::int32_t src_row_pitch, std::int32_t dst_row_pitch,
                    std::int32_t src_plane_pitch, std::int32_t dst_plane_pitch, std::int32_t fill = 0) {
    const Layer& l = n_.layer(layer);
    const TensorShape in = l.inputs.empty() ? l.out_shape : n_.layer(l.inputs[0]).out_shape;
    LayerCommand c = command(layer, op, in, l.out_shape);
    c.input_addr = op == Opcode::kFill ? 0 : src;
    c.output_addr = dst;
    c.copy = firmware::CopyParams{row_bytes,       rows, planes, src_row_pitch, dst_row_pitch, src_plane_pitch,
                                  dst_plane_pitch, fill};
    out_.commands.push_back(c);
  }

  void lower_layer(int i) {
    const Layer& l = n_.layer(i);
    const QuantizedLayer& ql = q_.layers[i];
    const TensorShape out = l.out_shape;
    const TensorShape in = n_.layer(l.inputs[0]).out_shape;
    const QuantParams in_q = q_.layers[l.inputs[0]].output;
    const auto pixels = static_cast<std::uint32_t>(static_cast<std::uint64_t>(out.h) * out.w);
    switch (l.type) {
      case LayerType::kInput:
        break;
      case LayerType::kConv2d:
      case LayerType::kBatchNorm:
        conv_command(i, addr_of(l.inputs[0]), in, out, ql.conv, ql.weights, ql.bias, ql.requant);
        break;
      case LayerType::kFullyConnected:
        conv_command(i, addr_of(l.inputs[0]), {static_cast<int>(in.size()), 1, 1}, out, ql.conv, ql.weights, ql.bias,
                     ql.requant);
        break;
      case LayerType::kMaxPool:
        pool_command(i, Opcode::kMaxPool, in, out, pool_params(n_, i, in), in_q);
        break;
      case LayerType::kAvgPool:
        pool_command(i, Opcode::kAvgPool, in, out, pool_params(n_, i, in), in_q);
        break;
      case LayerType::kAdaptiveAvgPool:
        pool_command(i, Opcode::kAvgPool, in, out, adaptive_pool_as_uniform(l, in), in_q);
        break;
      case LayerType::kGlobalAvgPool: {
        // TFLite MEAN and AVERAGE_POOL_2D round alike here: the reference
        // global_average_pool and a window of the whole map give the same bits.
        PoolParams p;
        p.kernel_h = in.h;
        p.kernel_w = in.w;
        if (in.h > 255 || in.w > 255)
          fail(n_, i,
               "global average over a " + std::to_string(in.h) + "x" + std::to_string(in.w) +
                   " map; supported: maps up to 255x255 (the command's 8-bit "
                   "kernel size)");
        pool_command(i, Opcode::kAvgPool, in, out, p, in_q);
        break;
      }
      case LayerType::kReLU:
      case LayerType::kReLU6:
        if (ql.fused_into < 0) {
          PoolParams p;
          p.kernel_h = p.kernel_w = 1;
          pool_command(i, Opcode::kMaxPool, in, out, p, in_q, activation_range(activation_of(l.type), in_q));
        }
        break;
      case LayerType::kAdd: {
        const QuantParams b_q = q_.layers[l.inputs[1]].output;
        const AddParams p = make_add_params(in_q, b_q, ql.output, ql.activation);
        LayerCommand c = command(i, Opcode::kAdd, in, out);
        c.input_addr = addr_of(l.inputs[0]);
        c.input2_addr = addr_of(l.inputs[1]);
        c.output_addr = addr_of(i);
        c.input_zero_point = in_q.zero_point;
        c.output_zero_point = ql.output.zero_point;
        c.act_min = p.act_min;
        c.act_max = p.act_max;
        c.add = firmware::AddParams{b_q.zero_point,
                                    p.left_shift,
                                    p.input1_multiplier.multiplier,
                                    p.input1_multiplier.shift,
                                    p.input2_multiplier.multiplier,
                                    p.input2_multiplier.shift,
                                    p.output_multiplier.multiplier,
                                    p.output_multiplier.shift};
        out_.commands.push_back(c);
        break;
      }
      case LayerType::kConcat: {
        std::uint64_t offset = 0;
        for (int src : l.inputs) {
          const auto c = static_cast<std::uint32_t>(n_.layer(src).out_shape.c);
          copy_command(i, Opcode::kCopy, addr_of(src), addr_of(i) + offset, c, pixels, 1, static_cast<std::int32_t>(c),
                       out.c, 0, 0);
          offset += c;
        }
        break;
      }
      case LayerType::kChannelShuffle: {
        // Per group g: its channels (rows of one byte, source pitch 1) land
        // every G-th output channel (destination pitch G), for every pixel
        // (planes).
        const int groups = l.shuffle_groups, per = in.c / groups;
        for (int g = 0; g < groups; ++g)
          copy_command(i, Opcode::kCopy, addr_of(l.inputs[0]) + static_cast<std::uint64_t>(g) * per,
                       addr_of(i) + static_cast<std::uint64_t>(g), 1, static_cast<std::uint32_t>(per), pixels, 1,
                       groups, in.c, in.c);
        break;
      }
      case LayerType::kShift: {
        const ShiftAsConv s = shift_as_depthwise_conv(l.shifts, in_q.zero_point);
        conv_command(i, addr_of(l.inputs[0]), in, out, s.conv, s.weights, {}, s.requant);
        break;
      }
      case LayerType::kFlatten:
        break;
      case LayerType::kSliceChannels:
        copy_command(i, Opcode::kCopy, addr_of(l.inputs[0]) + static_cast<std::uint64_t>(l.begin), addr_of(i),
                     static_cast<std::uint32_t>(out.c), pixels, 1, in.c, out.c, 0, 0);
        break;
      case LayerType::kPadChannels:
        if (l.pad_before > 0)
          copy_command(i, Opcode::kFill, 0, addr_of(i), static_cast<std::uint32_t>(l.pad_before), pixels, 1, 0, out.c,
                       0, 0, in_q.zero_point);
        if (l.pad_after > 0)
          copy_command(i, Opcode::kFill, 0, addr_of(i) + static_cast<std::uint64_t>(l.pad_before + in.c),
                       static_cast<std::uint32_t>(l.pad_after), pixels, 1, 0, out.c, 0, 0, in_q.zero_point);
        copy_command(i, Opcode::kCopy, addr_of(l.inputs[0]), addr_of(i) + static_cast<std::uint64_t>(l.pad_before),
                     static_cast<std::uint32_t>(in.c), pixels, 1, in.c, out.c, 0, 0);
        break;
    }
  }

  const QuantizedNetwork& q_;
  const Network& n_;
  const DramAllocator& alloc_;
  const LoweringOptions& options_;
  LoweredNetwork out_;
};

}  // namespace

LoweredNetwork lower_network(const QuantizedNetwork& q, const DramAllocator& alloc, const LoweringOptions& options) {
  if (q.layers.size() != q.network.size())
    throw std::invalid_argument("network '" + q.network.name() + "': QuantizedNetwork has " +
                                std::to_string(q.layers.size()) + " layers, expected " +
                                std::to_string(q.network.size()));
  return Lowerer(q, alloc, options).run();
}

}  // namespace npuvp::runtime
