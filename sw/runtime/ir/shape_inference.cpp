#include "sw/runtime/ir/ir_format.h"
#include "sw/runtime/ir/network.h"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

namespace npuvp::runtime {

using namespace ir_format;

namespace {

// One spatial dimension of a PyTorch pooling window (floor or ceil mode).
// Returns the output size, possibly <= 0 (the caller reports it).
std::int64_t pool_extent(std::int64_t in, std::int64_t pad_begin, std::int64_t pad_end, std::int64_t kernel,
                         std::int64_t stride, bool ceil_mode) {
  const std::int64_t span = in + pad_begin + pad_end - kernel;
  if (span < 0) return 0;
  std::int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // PyTorch: the last window must start inside the input or its leading padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_begin) --out;
  return out;
}

}  // namespace

PoolParams to_pool_params(const Layer& l, TensorShape in) {
  PoolParams p;
  static_cast<Window&>(p) = l.pool;
  p.count_include_pad = l.pool.count_include_pad;
  if (l.pool.ceil_mode) {
    // Extra padding so that the floor-mode formula gives the ceil-mode size.
    const auto oh = static_cast<int>(pool_extent(in.h, p.pad.top, p.pad.bottom, p.kernel_h, p.stride_h, true));
    const auto ow = static_cast<int>(pool_extent(in.w, p.pad.left, p.pad.right, p.kernel_w, p.stride_w, true));
    p.pad.bottom = std::max(p.pad.bottom, (oh - 1) * p.stride_h + p.kernel_h - in.h - p.pad.top);
    p.pad.right = std::max(p.pad.right, (ow - 1) * p.stride_w + p.kernel_w - in.w - p.pad.left);
  }
  return p;
}

void Network::infer_conv(Layer& l, TensorShape x) const {
  const auto& a = l.conv;
  if (a.out_channels <= 0) fail(l, "out_channels must be positive, got " + std::to_string(a.out_channels));
  if (a.kernel_h <= 0 || a.kernel_w <= 0) fail(l, "kernel must be positive, got " + hw_str(a.kernel_h, a.kernel_w));
  if (a.stride_h <= 0 || a.stride_w <= 0) fail(l, "stride must be positive, got " + hw_str(a.stride_h, a.stride_w));
  if (a.dilation_h <= 0 || a.dilation_w <= 0)
    fail(l, "dilation must be positive, got " + hw_str(a.dilation_h, a.dilation_w));
  if (a.pad.top < 0 || a.pad.left < 0 || a.pad.bottom < 0 || a.pad.right < 0)
    fail(l, "padding must be >= 0, got " + pad_str(a.pad));
  if (a.groups <= 0) fail(l, "groups must be positive, got " + std::to_string(a.groups));
  if (x.c != a.in_channels)
    fail(l, "expects " + std::to_string(a.in_channels) + " input channels, got " + shape_str(x));
  if (x.c % a.groups != 0)
    fail(l, "input channels " + std::to_string(x.c) + " not divisible by groups " + std::to_string(a.groups));
  if (a.out_channels % a.groups != 0)
    fail(l, "out_channels " + std::to_string(a.out_channels) + " not divisible by groups " + std::to_string(a.groups));
  // In 64 bits: a file's dilations, kernels and paddings may be large.
  const std::int64_t eff_kh = std::int64_t{a.dilation_h} * (a.kernel_h - 1) + 1;
  const std::int64_t eff_kw = std::int64_t{a.dilation_w} * (a.kernel_w - 1) + 1;
  const std::int64_t ph = std::int64_t{x.h} + a.pad.top + a.pad.bottom;
  const std::int64_t pw = std::int64_t{x.w} + a.pad.left + a.pad.right;
  if (eff_kh > ph || eff_kw > pw)
    fail(l, "kernel " + hw_str(a.kernel_h, a.kernel_w) + " (dilated " + hw_str(eff_kh, eff_kw) +
                ") larger than the padded input " + hw_str(ph, pw) + " (input " + shape_str(x) + ", padding " +
                pad_str(a.pad) + ")");
  const std::int64_t oh = (ph - eff_kh) / a.stride_h + 1, ow = (pw - eff_kw) / a.stride_w + 1;
  const long double taps = static_cast<long double>(x.c / a.groups) * a.kernel_h * a.kernel_w;
  check_counts(l, a.out_channels, oh, ow, taps * a.out_channels, taps * a.out_channels * oh * ow);
  l.out_shape = {a.out_channels, static_cast<int>(oh), static_cast<int>(ow)};
  const std::int64_t per_out = static_cast<std::int64_t>(x.c / a.groups) * a.kernel_h * a.kernel_w;
  l.params = per_out * a.out_channels + (a.bias ? a.out_channels : 0);
  l.macs = per_out * static_cast<std::int64_t>(l.out_shape.size());
}

void Network::check_counts(const Layer& l, std::int64_t c, std::int64_t h, std::int64_t w, long double params,
                           long double macs) const {
  const long double elements = static_cast<long double>(c) * h * w;
  if (h > std::numeric_limits<int>::max() || w > std::numeric_limits<int>::max() || elements > 0x1p40L ||
      params > 0x1p62L || macs > 0x1p62L)
    fail(l, "output " + std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w) +
                " is beyond what a layer may be: at most 2^40 elements and 2^62 parameters or MACs");
}

void Network::infer_fc(Layer& l, TensorShape x) const {
  if (l.fc.out_features <= 0) fail(l, "out_features must be positive, got " + std::to_string(l.fc.out_features));
  const auto features = static_cast<std::int64_t>(x.size());
  if (features != l.fc.in_features)
    fail(l, "expects " + std::to_string(l.fc.in_features) + " input features, got " + shape_str(x) + " = " +
                std::to_string(features) +
                " (a network with fully connected layers after resolution-dependent maps accepts only the "
                "input size it was built for, " +
                shape_str(default_input_) + ")");
  const long double weights = static_cast<long double>(features) * l.fc.out_features;
  check_counts(l, l.fc.out_features, 1, 1, weights, weights);
  l.out_shape = {l.fc.out_features, 1, 1};
  l.params = features * l.fc.out_features + (l.fc.bias ? l.fc.out_features : 0);
  l.macs = features * l.fc.out_features;
}

void Network::infer_pool(Layer& l, TensorShape x) const {
  const auto& a = l.pool;
  if (a.kernel_h <= 0 || a.kernel_w <= 0) fail(l, "kernel must be positive, got " + hw_str(a.kernel_h, a.kernel_w));
  if (a.stride_h <= 0 || a.stride_w <= 0) fail(l, "stride must be positive, got " + hw_str(a.stride_h, a.stride_w));
  if (a.pad.top < 0 || a.pad.left < 0 || a.pad.bottom < 0 || a.pad.right < 0)
    fail(l, "padding must be >= 0, got " + pad_str(a.pad));
  if (2 * std::int64_t{std::max(a.pad.top, a.pad.bottom)} > a.kernel_h ||
      2 * std::int64_t{std::max(a.pad.left, a.pad.right)} > a.kernel_w)
    fail(l, "padding " + pad_str(a.pad) + " must be at most half the kernel " + hw_str(a.kernel_h, a.kernel_w));
  const std::int64_t ph = std::int64_t{x.h} + a.pad.top + a.pad.bottom;
  const std::int64_t pw = std::int64_t{x.w} + a.pad.left + a.pad.right;
  if (a.kernel_h > ph || a.kernel_w > pw)
    fail(l, "kernel " + hw_str(a.kernel_h, a.kernel_w) + " larger than the padded input " + hw_str(ph, pw) +
                " (input " + shape_str(x) + ", padding " + pad_str(a.pad) + ")");
  const std::int64_t oh = pool_extent(x.h, a.pad.top, a.pad.bottom, a.kernel_h, a.stride_h, a.ceil_mode);
  const std::int64_t ow = pool_extent(x.w, a.pad.left, a.pad.right, a.kernel_w, a.stride_w, a.ceil_mode);
  if (oh <= 0 || ow <= 0) fail(l, "output would be empty for input " + shape_str(x));
  check_counts(l, x.c, oh, ow, 0, 0);
  l.out_shape = {x.c, static_cast<int>(oh), static_cast<int>(ow)};
}

void Network::infer_layer(Layer& l, const std::vector<TensorShape>& in) const {
  auto need_inputs = [&](std::size_t n) {
    if (in.size() != n) fail(l, "expects " + std::to_string(n) + " input(s), got " + std::to_string(in.size()));
  };
  l.params = 0;
  l.macs = 0;
  switch (l.type) {
    case LayerType::kInput:
      fail(l, "an input layer can only be the first layer");
    case LayerType::kConv2d:
      need_inputs(1);
      infer_conv(l, in[0]);
      return;
    case LayerType::kFullyConnected:
      need_inputs(1);
      infer_fc(l, in[0]);
      return;
    case LayerType::kMaxPool:
    case LayerType::kAvgPool:
      need_inputs(1);
      infer_pool(l, in[0]);
      return;
    case LayerType::kGlobalAvgPool:
      need_inputs(1);
      l.out_shape = {in[0].c, 1, 1};
      return;
    case LayerType::kAdaptiveAvgPool:
      need_inputs(1);
      if (l.adaptive.out_h <= 0 || l.adaptive.out_w <= 0)
        fail(l, "output size must be positive, got " + hw_str(l.adaptive.out_h, l.adaptive.out_w));
      l.out_shape = {in[0].c, l.adaptive.out_h, l.adaptive.out_w};
      return;
    case LayerType::kReLU:
    case LayerType::kReLU6:
      need_inputs(1);
      l.out_shape = in[0];
      return;
    case LayerType::kBatchNorm:
      need_inputs(1);
      if (in[0].c != l.channels)
        fail(l, "expects " + std::to_string(l.channels) + " channels, got " + shape_str(in[0]));
      l.out_shape = in[0];
      l.params = 2 * static_cast<std::int64_t>(l.channels);
      return;
    case LayerType::kAdd:
      need_inputs(2);
      if (in[0] != in[1])
        fail(l, "input shapes differ: '" + layers_[static_cast<std::size_t>(l.inputs[0])].name + "' is " +
                    shape_str(in[0]) + ", '" + layers_[static_cast<std::size_t>(l.inputs[1])].name + "' is " +
                    shape_str(in[1]) + "; expected equal shapes");
      l.out_shape = in[0];
      return;
    case LayerType::kConcat: {
      if (in.empty()) fail(l, "expects at least one input");
      std::int64_t c = 0;
      for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i].h != in[0].h || in[i].w != in[0].w)
          fail(l, "input '" + layers_[static_cast<std::size_t>(l.inputs[i])].name + "' is " + shape_str(in[i]) +
                      " but '" + layers_[static_cast<std::size_t>(l.inputs[0])].name + "' is " + shape_str(in[0]) +
                      "; expected equal H and W");
        c += in[i].c;
      }
      check_counts(l, c, in[0].h, in[0].w, 0, 0);
      if (c > std::numeric_limits<int>::max())
        fail(l, "output of " + std::to_string(c) + " channels: at most 2^31 - 1");
      l.out_shape = {static_cast<int>(c), in[0].h, in[0].w};
      return;
    }
    case LayerType::kChannelShuffle:
      need_inputs(1);
      if (l.shuffle_groups <= 0 || in[0].c % l.shuffle_groups != 0)
        fail(l, "channels " + std::to_string(in[0].c) + " not divisible by groups " + std::to_string(l.shuffle_groups));
      l.out_shape = in[0];
      return;
    case LayerType::kShift:
      need_inputs(1);
      if (static_cast<int>(l.shifts.size()) != in[0].c)
        fail(l, "has " + std::to_string(l.shifts.size()) + " channel shifts, expected one per channel of " +
                    shape_str(in[0]));
      l.out_shape = in[0];
      return;
    case LayerType::kFlatten:
      need_inputs(1);
      check_counts(l, static_cast<std::int64_t>(in[0].size()), 1, 1, 0, 0);
      if (in[0].size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
        fail(l, "output of " + std::to_string(in[0].size()) + " features: at most 2^31 - 1");
      l.out_shape = {static_cast<int>(in[0].size()), 1, 1};
      return;
    case LayerType::kSliceChannels:
      need_inputs(1);
      if (l.begin < 0 || l.end <= l.begin || l.end > in[0].c)
        fail(l, "channel range [" + std::to_string(l.begin) + ", " + std::to_string(l.end) +
                    ") expected non-empty inside [0, " + std::to_string(in[0].c) + ")");
      l.out_shape = {l.end - l.begin, in[0].h, in[0].w};
      return;
    case LayerType::kPadChannels:
      need_inputs(1);
      if (l.pad_before < 0 || l.pad_after < 0)
        fail(l, "channel padding must be >= 0, got " + std::to_string(l.pad_before) + " before and " +
                    std::to_string(l.pad_after) + " after");
      l.out_shape = {in[0].c + l.pad_before + l.pad_after, in[0].h, in[0].w};
      return;
  }
  fail(l, "unknown layer type");
}

void Network::infer_shapes(TensorShape input) {
  if (input.c <= 0 || input.h <= 0 || input.w <= 0)
    throw std::invalid_argument("network '" + name_ + "': input shape " + shape_str(input) +
                                " must be positive in C, H and W");
  if (input.c != default_input_.c)
    throw std::invalid_argument("network '" + name_ + "': input has " + std::to_string(input.c) +
                                " channels, expected " + std::to_string(default_input_.c) + " (input " +
                                shape_str(default_input_) + ")");
  std::vector<Layer> next = layers_;
  next.front().out_shape = input;
  for (std::size_t i = 1; i < next.size(); ++i) {
    std::vector<TensorShape> in;
    for (int j : next[i].inputs) in.push_back(next[static_cast<std::size_t>(j)].out_shape);
    try {
      infer_layer(next[i], in);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string(e.what()) + " [at network input " + shape_str(input) + "]");
    }
  }
  layers_ = std::move(next);
}

int Network::resolution_fixing_layer() const {
  // A layer's output depends on the input resolution unless a global or
  // adaptive pooling (or an FC, whose output is always 1x1) cuts the dependency.
  std::vector<bool> spatial(layers_.size(), false);
  spatial[0] = true;
  for (std::size_t i = 1; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    bool dep = false;
    for (int j : l.inputs) dep = dep || spatial[static_cast<std::size_t>(j)];
    if (l.type == LayerType::kFullyConnected && dep) return static_cast<int>(i);
    if (l.type == LayerType::kGlobalAvgPool || l.type == LayerType::kAdaptiveAvgPool ||
        l.type == LayerType::kFullyConnected)
      dep = false;
    spatial[i] = dep;
  }
  return -1;
}

}  // namespace npuvp::runtime
