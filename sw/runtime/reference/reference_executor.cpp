#include "sw/runtime/reference/reference_executor.h"

#include "sw/runtime/quantize/int16_values.h"
#include "sw/runtime/reference/int16_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>

namespace npuvp::runtime {

namespace {

using Index = std::ptrdiff_t;

std::string shape_str(TensorShape s) {
  return "[" + std::to_string(s.c) + "," + std::to_string(s.h) + "," + std::to_string(s.w) + "]";
}

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

}  // namespace

std::pair<float, float> activation_bounds(Activation act) {
  if (act == Activation::kNone)
    return {-std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()};
  return {0.0f, act == Activation::kRelu6 ? 6.0f : std::numeric_limits<float>::infinity()};
}

void apply_activation(std::vector<float>& x, Activation act) {
  if (act == Activation::kNone) return;
  const float hi = activation_bounds(act).second;
  for (auto& v : x) v = std::min(std::max(v, 0.0f), hi);
}

// Pool parameters of a max/avg pool layer at input `in`, with the checks the
// int8 kernels and the NPU need.
PoolParams pool_params(const Network& n, int index, TensorShape in) {
  const Layer& l = n.layer(index);
  PoolParams p = to_pool_params(l, in);
  const bool overhang = p.pad.bottom > l.pool.pad.bottom || p.pad.right > l.pool.pad.right;
  if (l.type == LayerType::kAvgPool && l.pool.count_include_pad && overhang)
    fail_layer(n, index,
               "count_include_pad with a ceil_mode window past the padded input " + shape_str(in) +
                   " is not supported (PyTorch divides such windows by their clipped "
                   "size); supported: "
                   "count_include_pad=false, or ceil_mode windows that stay inside "
                   "the padding");
  if (l.type == LayerType::kMaxPool) p.count_include_pad = false;
  return p;
}

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

std::vector<float> float_layer(const Network& n, int index, const std::vector<std::vector<float>>& act,
                               Activation fused, std::vector<float> storage, StoredRange* stored) {
  const Layer& l = n.layer(index);
  const TensorShape in = l.inputs.empty() ? l.out_shape : n.layer(l.inputs[0]).out_shape;
  const auto& x = l.inputs.empty() ? act[0] : act[l.inputs[0]];
  std::vector<float> y;
  switch (l.type) {
    case LayerType::kInput:
      y = act[0];
      break;
    case LayerType::kConv2d:
    case LayerType::kFullyConnected:
    case LayerType::kBatchNorm: {
      const ConvForm f = conv_form(n, index);
      // The fused activation as the convolution's clamp, which is
      // apply_activation()'s, in the pass that clamps anyway.
      const auto [lo, hi] = activation_bounds(fused);
      y = conv2d_float(x, f.in, *f.weights, *f.bias, f.params, lo, hi, std::move(storage), stored);
      break;
    }
    case LayerType::kMaxPool:
    case LayerType::kAvgPool:
      y = pool_float(x, in, pool_params(n, index, in), l.type == LayerType::kAvgPool);
      break;
    case LayerType::kAdaptiveAvgPool:
      y = pool_float(x, in, adaptive_pool_as_uniform(l, in), true);
      break;
    case LayerType::kGlobalAvgPool: {
      PoolParams p;
      p.kernel_h = in.h;
      p.kernel_w = in.w;
      y = pool_float(x, in, p, true);
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
      apply_activation(y, fused);
      break;
    }
    case LayerType::kConcat: {
      y.resize(l.out_shape.size());
      int offset = 0;
      for (int src : l.inputs) {
        const int c = n.layer(src).out_shape.c;
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
  return y;
}

namespace {

// The expected output of layer i of int16 tensors (int16_kernels.h), or of
// a conv-like layer converting between int8 and int16 in its output stage.
std::vector<std::int8_t> int16_layer_output(const QuantizedNetwork& q, int i) {
  const Network& n = q.network;
  const Layer& l = n.layer(i);
  const QuantizedLayer& ql = q.layers[i];
  const TensorShape in = n.layer(l.inputs[0]).out_shape;
  const auto& x = q.expected(l.inputs[0]);
  const QuantParams in_q = q.layers[l.inputs[0]].output;
  if (is_conv_like(l.type)) {
    // HWC flattening is the input's own memory order: FC is a 1x1 conv on a 1x1 map.
    const TensorShape conv_in =
        l.type == LayerType::kFullyConnected ? TensorShape{static_cast<int>(in.size()), 1, 1} : in;
    if (ql.bits == 16) {
      std::vector<std::int8_t> y = conv2d_int16(x, conv_in, ql.weights, ql.bias, ql.conv, ql.requant);
      if (bits_of(ql.output) == 16) return y;
      // The output stage narrows to int8 (the clamp already within it).
      std::vector<std::int8_t> narrow(y.size() / 2);
      for (std::size_t k = 0; k < narrow.size(); ++k) narrow[k] = static_cast<std::int8_t>(load_int16(y.data(), k));
      return narrow;
    }
    // An int8 layer writing an int16 tensor: its requantization clamped to int16.
    const std::vector<std::int32_t> acc = conv2d_accumulators(x, conv_in, ql.weights, ql.bias, ql.conv);
    std::vector<std::int8_t> y(2 * acc.size());
    for (std::size_t k = 0; k < acc.size(); ++k) store_int16(y.data(), k, ql.requant.apply(acc[k], k));
    return y;
  }
  // Pooling clamps to the int16 range.
  const auto int16_pool = [&](PoolParams p) {
    p.act_min = in_q.qmin;
    p.act_max = in_q.qmax;
    return p;
  };
  switch (l.type) {
    case LayerType::kMaxPool:
      return max_pool_int16(x, in, int16_pool(pool_params(n, i, in)));
    case LayerType::kAvgPool: {
      PoolParams p = pool_params(n, i, in);
      p.zero_point = in_q.zero_point;
      return average_pool_int16(x, in, int16_pool(p));
    }
    case LayerType::kAdaptiveAvgPool:
      return average_pool_int16(x, in, int16_pool(adaptive_pool_as_uniform(l, in)));
    case LayerType::kGlobalAvgPool: {
      PoolParams p;
      p.kernel_h = in.h;
      p.kernel_w = in.w;
      return average_pool_int16(x, in, int16_pool(p));
    }
    case LayerType::kReLU:
    case LayerType::kReLU6:
      return ql.fused_into >= 0 ? std::vector<std::int8_t>{}
                                : clamp_int16(x, activation_range(activation_of(l.type), in_q));
    case LayerType::kAdd:
      return add_int16(x, q.expected(l.inputs[1]), l.out_shape,
                       make_add_params(in_q, q.layers[l.inputs[1]].output, ql.output, ql.activation));
    case LayerType::kConcat: {
      std::vector<TensorView> views;
      for (int src : l.inputs) views.push_back({&q.expected(src), as_byte_channels(n.layer(src).out_shape)});
      return concat_channels(views);
    }
    case LayerType::kChannelShuffle:
      return channel_shuffle_int16(x, in, l.shuffle_groups);
    case LayerType::kShift:
      return shift_channels_int16(x, in, l.shifts);
    case LayerType::kSliceChannels:
      return slice_channels_of(x, as_byte_channels(in), 2 * l.begin, 2 * l.end);
    case LayerType::kPadChannels:
      return pad_channels_of(x, as_byte_channels(in), 2 * l.pad_before, 2 * l.pad_after, std::int8_t{0});
    default:  // input, flatten; conv-like layers above
      break;
  }
  return x;
}

}  // namespace

void compute_reference_output(QuantizedNetwork& q, int i) {
  const Network& n = q.network;
  const Layer& l = n.layer(i);
  QuantizedLayer& ql = q.layers[i];
  ql.expected_digest = {};
  const TensorShape in = n.layer(l.inputs[0]).out_shape;
  const auto& x = q.expected(l.inputs[0]);
  const QuantParams in_q = q.layers[l.inputs[0]].output;
  if (ql.bits == 16 || bits_of(ql.output) == 16) {
    ql.expected = int16_layer_output(q, i);
    return;
  }
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
      if (ql.fused_into >= 0)
        ql.expected.clear();
      else
        ql.expected = clamp(x, activation_range(activation_of(l.type), in_q));
      break;
    case LayerType::kAdd: {
      const AddParams p = make_add_params(in_q, q.layers[l.inputs[1]].output, ql.output, ql.activation);
      ql.expected = add(x, q.expected(l.inputs[1]), l.out_shape, p);
      break;
    }
    case LayerType::kConcat: {
      std::vector<TensorView> views;
      for (int src : l.inputs) views.push_back({&q.expected(src), n.layer(src).out_shape});
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

void compute_reference_outputs(QuantizedNetwork& q) {
  const Network& n = q.network;
  if (q.layers.size() != n.size())
    throw std::invalid_argument("network '" + n.name() + "': QuantizedNetwork has " + std::to_string(q.layers.size()) +
                                " layers, expected one per network layer (" + std::to_string(n.size()) + ")");
  for (int i = 1; i < static_cast<int>(n.size()); ++i) compute_reference_output(q, i);
}

std::vector<int> last_reference_readers(const Network& n, const std::vector<int>& fused_into) {
  std::vector<int> last(n.size(), -1);
  for (int i = 0; i < static_cast<int>(n.size()); ++i)
    for (int in : n.layer(i).inputs) {
      const int holder = fused_into[static_cast<std::size_t>(in)] >= 0 ? fused_into[static_cast<std::size_t>(in)] : in;
      last[static_cast<std::size_t>(holder)] = i;
    }
  return last;
}

bool reference_output_kept(const QuantizedNetwork& q, int i) {
  return i == 0 || i == q.expected_holder(static_cast<int>(q.layers.size()) - 1);
}

void release_reference_output(QuantizedNetwork& q, int i) {
  QuantizedLayer& l = q.layers[static_cast<std::size_t>(i)];
  if (l.expected.empty()) return;
  l.expected_digest = digest_of(l.expected);
  std::vector<std::int8_t>().swap(l.expected);
}

void release_reference_outputs(QuantizedNetwork& q) {
  for (int i = 0; i < static_cast<int>(q.layers.size()); ++i)
    if (!reference_output_kept(q, i)) release_reference_output(q, i);
}
}  // namespace npuvp::runtime
