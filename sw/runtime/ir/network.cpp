#include "sw/runtime/ir/network.h"

#include "sw/runtime/ir/ir_format.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace npuvp::runtime {

using namespace ir_format;
namespace {

struct TypeName {
  LayerType type;
  const char* name;
};

constexpr TypeName kTypeNames[] = {
    {LayerType::kInput, "input"},
    {LayerType::kConv2d, "conv2d"},
    {LayerType::kFullyConnected, "fully_connected"},
    {LayerType::kMaxPool, "max_pool"},
    {LayerType::kAvgPool, "avg_pool"},
    {LayerType::kGlobalAvgPool, "global_avg_pool"},
    {LayerType::kAdaptiveAvgPool, "adaptive_avg_pool"},
    {LayerType::kReLU, "relu"},
    {LayerType::kReLU6, "relu6"},
    {LayerType::kAdd, "add"},
    {LayerType::kConcat, "concat"},
    {LayerType::kChannelShuffle, "channel_shuffle"},
    {LayerType::kShift, "shift"},
    {LayerType::kBatchNorm, "batch_norm"},
    {LayerType::kFlatten, "flatten"},
    {LayerType::kSliceChannels, "slice_channels"},
    {LayerType::kPadChannels, "pad_channels"},
};

// A generator fully specified by the C++ standard (mt19937_64), turned into
// doubles and normals by hand so the values do not depend on the standard
// library's distributions.
class WeightRng {
 public:
  explicit WeightRng(std::uint64_t seed) : engine_(seed) {}

  double uniform01() { return static_cast<double>(engine_() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform01(); }

 private:
  std::mt19937_64 engine_;
};

// A unit normal approximated by the sum of four uniforms (Irwin-Hall: mean 0,
// variance 1, tails cut at +-3.46 sigma), from element i's own splitmix64
// draw. Integer and exact float operations only, no libm: the same on every
// platform, and a few ns per weight where Box-Muller in double took tens.
inline float approx_normal(std::uint64_t key, std::uint64_t i) {
  std::uint64_t z = key + (i + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  const int sum = static_cast<int>((z & 0xFFFF) + (z >> 16 & 0xFFFF) + (z >> 32 & 0xFFFF) + (z >> 48));
  // Each uniform is (u + 0.5) / 65536, so the sum minus its mean 2 is (sum - 131070) / 65536.
  return static_cast<float>(sum - 131070) * (1.7320508f / 65536.0f);
}

// w[i] = stddev * approx_normal(key, first + i) for i < n, times `scale` in
// double (a BatchNorm folded in as fold_batchnorm folds it; 1 changes
// nothing), compiled per x86 ISA and picked when the program loads (one
// binary for any x86-64): AVX-512's 64-bit multiplies draw 8 weights at once.
// Integer steps, two float products and a double one, which no clone can
// round differently.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
void fill_normal(float* w, std::size_t first, std::size_t n, std::uint64_t key, float stddev, double scale) {
  for (std::size_t i = 0; i < n; ++i)
    w[i] = static_cast<float>(static_cast<double>(stddev * approx_normal(key, first + i)) * scale);
}

std::uint64_t layer_seed(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char ch : name) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  std::uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (h | 1);  // splitmix64 finalizer
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

FloatWeights batchnorm_weights(const std::string& name, std::size_t channels, std::uint64_t seed) {
  WeightRng rng(layer_seed(seed, name));
  FloatWeights w;
  w.gamma.resize(channels);
  w.beta.resize(channels);
  w.mean.resize(channels);
  w.var.resize(channels);
  for (std::size_t k = 0; k < channels; ++k) {
    w.gamma[k] = static_cast<float>(rng.uniform(0.5, 1.5));
    w.beta[k] = static_cast<float>(rng.uniform(-0.1, 0.1));
    w.mean[k] = static_cast<float>(rng.uniform(-0.1, 0.1));
    w.var[k] = static_cast<float>(rng.uniform(0.5, 1.5));
  }
  return w;
}

// BatchNorm `bn`'s factor for channel k (fold_batchnorm's s).
double bn_scale(const FloatWeights& bn, std::size_t k, float eps) {
  return bn.gamma[k] / std::sqrt(static_cast<double>(bn.var[k]) + eps);
}

// Channel k's bias `b` with BatchNorm `bn`, of factor s, folded in.
void fold_bias(float& b, const FloatWeights& bn, std::size_t k, double s) {
  b = static_cast<float>((b - bn.mean[k]) * s + bn.beta[k]);
}

// Channel k's `per_out` weights from `row` and its bias `b` with the
// BatchNorm `bn` (epsilon `eps`) folded in.
void fold_channel(float* row, std::size_t per_out, float& b, const FloatWeights& bn, std::size_t k, float eps) {
  const double s = bn_scale(bn, k, eps);
  for (std::size_t j = 0; j < per_out; ++j) row[j] = static_cast<float>(row[j] * s);
  fold_bias(b, bn, k, s);
}

// The BatchNorm `bn` folded into the weights `c` of a layer with `out_c`
// outputs, which had a bias or not.
void fold_weights(FloatWeights& c, int out_c, const FloatWeights& bn, float eps, bool had_bias) {
  const std::size_t per_out = c.weights.size() / static_cast<std::size_t>(out_c);
  if (!had_bias) c.bias.assign(static_cast<std::size_t>(out_c), 0.0f);
  for (std::size_t k = 0; k < static_cast<std::size_t>(out_c); ++k)
    fold_channel(&c.weights[k * per_out], per_out, c.bias[k], bn, k, eps);
}

// A Conv2d's or FC's weights and bias with the BatchNorms folded into it
// before it had weights folded in, the weights in `storage`'s memory when it
// holds enough.
FloatWeights conv_like_weights(const Layer& l, std::uint64_t seed, std::vector<float> storage) {
  const std::uint64_t key = layer_seed(seed, l.name);
  WeightRng rng(key);
  FloatWeights w;
  const bool conv = l.type == LayerType::kConv2d;
  const auto out = static_cast<std::size_t>(conv ? l.conv.out_channels : l.fc.out_features);
  const std::int64_t fan_in =
      conv ? static_cast<std::int64_t>(l.conv.in_channels / l.conv.groups) * l.conv.kernel_h * l.conv.kernel_w
           : l.fc.in_features;
  const auto stddev = static_cast<float>(std::sqrt(2.0 / static_cast<double>(fan_in)));
  const auto n = static_cast<std::size_t>(fan_in) * out;
  // Every value is written below: reused memory is not cleared first.
  if (storage.capacity() >= n)
    storage.resize(n);
  else
    storage = std::vector<float>(n);
  w.weights = std::move(storage);
  const std::vector<FoldedBatchNorm>& folded = l.folded_batchnorms;
  if (folded.empty() ? (conv ? l.conv.bias : l.fc.bias) : folded.front().had_bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
    w.bias.resize(out);
    for (auto& x : w.bias) x = static_cast<float>(rng.uniform(-bound, bound));
  } else if (!folded.empty()) {
    w.bias.assign(out, 0.0f);
  }
  std::vector<FloatWeights> bns;
  for (const FoldedBatchNorm& bn : folded) bns.push_back(batchnorm_weights(bn.name, out, seed));
  // The first BatchNorm scales each channel's weights as they are drawn,
  // any further one while they are in cache.
  const auto per_out = static_cast<std::size_t>(fan_in);
  for (std::size_t k = 0; k < out; ++k) {
    float* row = &w.weights[k * per_out];
    const double s = bns.empty() ? 1.0 : bn_scale(bns[0], k, folded[0].eps);
    fill_normal(row, k * per_out, per_out, key, stddev, s);
    if (!bns.empty()) fold_bias(w.bias[k], bns[0], k, s);
    for (std::size_t b = 1; b < bns.size(); ++b) fold_channel(row, per_out, w.bias[k], bns[b], k, folded[b].eps);
  }
  return w;
}

}  // namespace

const char* layer_type_name(LayerType type) {
  for (const auto& t : kTypeNames)
    if (t.type == type) return t.name;
  return "unknown";
}

std::optional<LayerType> parse_layer_type(const std::string& name) {
  for (const auto& t : kTypeNames)
    if (name == t.name) return t.type;
  return std::nullopt;
}

std::vector<std::string> layer_type_names() {
  std::vector<std::string> out;
  for (const auto& t : kTypeNames) out.emplace_back(t.name);
  return out;
}

std::vector<ChannelShift> five_direction_shifts(int channels) {
  constexpr ChannelShift kPattern[5] = {{1, 0}, {0, 1}, {0, 0}, {0, -1}, {-1, 0}};
  std::vector<ChannelShift> out(static_cast<std::size_t>(std::max(channels, 0)));
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = kPattern[i % 5];
  return out;
}

ConvParams to_conv_params(const Layer& l) {
  ConvParams p;
  static_cast<ConvWindow&>(p) = l.conv;
  p.out_channels = l.conv.out_channels;
  return p;
}

void fail_layer(const Network& n, int index, const std::string& what) {
  const Layer& l = n.layer(index);
  throw std::invalid_argument("network '" + n.name() + "': layer '" + l.name + "' (" + layer_type_name(l.type) +
                              "): " + what);
}

Network::Network(std::string name, TensorShape input) : name_(std::move(name)), default_input_(input) {
  if (input.c <= 0 || input.h <= 0 || input.w <= 0)
    throw std::invalid_argument("network '" + name_ + "': input shape " + shape_str(input) +
                                " must be positive in C, H and W");
  Layer in;
  in.name = "input";
  in.type = LayerType::kInput;
  in.out_shape = input;
  layers_.push_back(std::move(in));
}

const Layer& Network::layer(int index) const {
  if (index < 0 || index >= static_cast<int>(layers_.size()))
    throw std::invalid_argument("network '" + name_ + "': layer index " + std::to_string(index) + " out of range [0, " +
                                std::to_string(layers_.size()) + ")");
  return layers_[static_cast<std::size_t>(index)];
}

const Layer& Network::layer(const std::string& name) const {
  const int i = index_of(name);
  if (i < 0) throw std::invalid_argument("network '" + name_ + "': no layer named '" + name + "'");
  return layers_[static_cast<std::size_t>(i)];
}

int Network::index_of(const std::string& name) const {
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (layers_[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<int> Network::consumers(int index) const {
  std::vector<int> out;
  for (std::size_t i = 0; i < layers_.size(); ++i)
    if (std::find(layers_[i].inputs.begin(), layers_[i].inputs.end(), index) != layers_[i].inputs.end())
      out.push_back(static_cast<int>(i));
  return out;
}

std::vector<TensorShape> Network::input_shapes(int index) const {
  std::vector<TensorShape> out;
  for (int i : layer(index).inputs) out.push_back(layers_[static_cast<std::size_t>(i)].out_shape);
  return out;
}

void Network::fail(const Layer& l, const std::string& what) const {
  throw std::invalid_argument("network '" + name_ + "', layer '" + l.name + "' (" + layer_type_name(l.type) +
                              "): " + what);
}

int Network::append(Layer l) {
  if (l.name.empty()) throw std::invalid_argument("network '" + name_ + "': a layer needs a name");
  if (index_of(l.name) >= 0)
    throw std::invalid_argument("network '" + name_ + "': duplicate layer name '" + l.name + "'");
  if (l.type == LayerType::kInput) fail(l, "an input layer can only be the first layer");
  std::vector<TensorShape> in;
  for (int i : l.inputs) {
    if (i < 0 || i >= static_cast<int>(layers_.size()))
      fail(l, "input index " + std::to_string(i) + " does not name an earlier layer (expected 0.." +
                  std::to_string(layers_.size() - 1) + ")");
    in.push_back(layers_[static_cast<std::size_t>(i)].out_shape);
  }
  // Channel-bound attributes follow the input the layer is built on.
  if (l.inputs.size() == 1) {
    if (l.type == LayerType::kConv2d && l.conv.in_channels == 0) l.conv.in_channels = in[0].c;
    if (l.type == LayerType::kFullyConnected && l.fc.in_features == 0)
      l.fc.in_features = static_cast<int>(in[0].size());
    if (l.type == LayerType::kBatchNorm && l.channels == 0) l.channels = in[0].c;
  }
  infer_layer(l, in);
  layers_.push_back(std::move(l));
  return output();
}

int Network::add_simple(const std::string& name, LayerType type, std::vector<int> inputs) {
  Layer l;
  l.name = name;
  l.type = type;
  l.inputs = std::move(inputs);
  return append(std::move(l));
}

int Network::conv(const std::string& name, int input, Conv2dAttrs attrs) {
  Layer l;
  l.name = name;
  l.type = LayerType::kConv2d;
  l.inputs = {input};
  l.conv = attrs;
  return append(std::move(l));
}

int Network::conv(const std::string& name, int input, int out_channels, int kernel, int stride, int pad, int groups,
                  bool bias) {
  Conv2dAttrs a;
  a.set_square(kernel, stride, pad);
  a.out_channels = out_channels;
  a.groups = groups;
  a.bias = bias;
  return conv(name, input, a);
}

int Network::fc(const std::string& name, int input, int out_features, bool bias) {
  Layer l;
  l.name = name;
  l.type = LayerType::kFullyConnected;
  l.inputs = {input};
  l.fc.out_features = out_features;
  l.fc.bias = bias;
  return append(std::move(l));
}

int Network::bn(const std::string& name, int input, float eps) {
  Layer l;
  l.name = name;
  l.type = LayerType::kBatchNorm;
  l.inputs = {input};
  l.bn_eps = eps;
  return append(std::move(l));
}

int Network::relu(const std::string& name, int input) { return add_simple(name, LayerType::kReLU, {input}); }
int Network::relu6(const std::string& name, int input) { return add_simple(name, LayerType::kReLU6, {input}); }

namespace {

PoolAttrs square_pool(int kernel, int stride, int pad, bool ceil_mode) {
  PoolAttrs a;
  a.set_square(kernel, stride, pad);
  a.ceil_mode = ceil_mode;
  return a;
}

}  // namespace

int Network::add_pool(const std::string& name, LayerType type, int input, const PoolAttrs& attrs) {
  Layer l;
  l.name = name;
  l.type = type;
  l.inputs = {input};
  l.pool = attrs;
  return append(std::move(l));
}

int Network::max_pool(const std::string& name, int input, PoolAttrs attrs) {
  return add_pool(name, LayerType::kMaxPool, input, attrs);
}

int Network::max_pool(const std::string& name, int input, int kernel, int stride, int pad, bool ceil_mode) {
  return max_pool(name, input, square_pool(kernel, stride, pad, ceil_mode));
}

int Network::avg_pool(const std::string& name, int input, PoolAttrs attrs) {
  return add_pool(name, LayerType::kAvgPool, input, attrs);
}

int Network::avg_pool(const std::string& name, int input, int kernel, int stride, int pad, bool ceil_mode) {
  return avg_pool(name, input, square_pool(kernel, stride, pad, ceil_mode));
}

int Network::global_avg_pool(const std::string& name, int input) {
  return add_simple(name, LayerType::kGlobalAvgPool, {input});
}

int Network::adaptive_avg_pool(const std::string& name, int input, int out_h, int out_w) {
  Layer l;
  l.name = name;
  l.type = LayerType::kAdaptiveAvgPool;
  l.inputs = {input};
  l.adaptive = {out_h, out_w};
  return append(std::move(l));
}

int Network::add(const std::string& name, int a, int b) { return add_simple(name, LayerType::kAdd, {a, b}); }

int Network::concat(const std::string& name, const std::vector<int>& inputs) {
  return add_simple(name, LayerType::kConcat, inputs);
}

int Network::channel_shuffle(const std::string& name, int input, int groups) {
  Layer l;
  l.name = name;
  l.type = LayerType::kChannelShuffle;
  l.inputs = {input};
  l.shuffle_groups = groups;
  return append(std::move(l));
}

int Network::shift(const std::string& name, int input, std::vector<ChannelShift> shifts) {
  Layer l;
  l.name = name;
  l.type = LayerType::kShift;
  l.inputs = {input};
  l.channels = static_cast<int>(shifts.size());
  l.shifts = std::move(shifts);
  return append(std::move(l));
}

int Network::flatten(const std::string& name, int input) { return add_simple(name, LayerType::kFlatten, {input}); }

int Network::slice_channels(const std::string& name, int input, int begin, int end) {
  Layer l;
  l.name = name;
  l.type = LayerType::kSliceChannels;
  l.inputs = {input};
  l.begin = begin;
  l.end = end;
  return append(std::move(l));
}

int Network::pad_channels(const std::string& name, int input, int before, int after) {
  Layer l;
  l.name = name;
  l.type = LayerType::kPadChannels;
  l.inputs = {input};
  l.pad_before = before;
  l.pad_after = after;
  return append(std::move(l));
}

std::int64_t Network::total_params() const {
  std::int64_t n = 0;
  for (const auto& l : layers_) n += l.params;
  return n;
}

std::int64_t Network::total_macs() const {
  std::int64_t n = 0;
  for (const auto& l : layers_) n += l.macs;
  return n;
}

int Network::fold_batchnorm() {
  int folded = 0;
  for (std::size_t i = 1; i < layers_.size();) {
    Layer& b = layers_[i];
    if (b.type != LayerType::kBatchNorm || b.inputs.size() != 1) {
      ++i;
      continue;
    }
    const int src = b.inputs[0];
    Layer& c = layers_[static_cast<std::size_t>(src)];
    const bool foldable = (c.type == LayerType::kConv2d || c.type == LayerType::kFullyConnected) &&
                          consumers(src) == std::vector<int>{static_cast<int>(i)};
    if (!foldable) {
      ++i;
      continue;
    }
    const int out_c = c.type == LayerType::kConv2d ? c.conv.out_channels : c.fc.out_features;
    bool& has_bias = c.type == LayerType::kConv2d ? c.conv.bias : c.fc.bias;
    const bool had_bias = has_bias;
    if (!c.weights.weights.empty() && !b.weights.gamma.empty())
      fold_weights(c.weights, out_c, b.weights, b.bn_eps, had_bias);
    else if (c.weights.empty() && b.weights.empty())
      c.folded_batchnorms.push_back({b.name, b.bn_eps, had_bias});
    has_bias = true;
    if (!had_bias) c.params += out_c;
    // Readers of the BN read the conv; indices above the BN shift down by one.
    const int bn_index = static_cast<int>(i);
    layers_.erase(layers_.begin() + bn_index);
    for (auto& l : layers_)
      for (int& in : l.inputs) {
        if (in == bn_index)
          in = src;
        else if (in > bn_index)
          --in;
      }
    ++folded;
  }
  return folded;
}

void Network::generate_float_weights(std::uint64_t seed) {
  for (std::size_t i = 0; i < layers_.size(); ++i) generate_float_weights(static_cast<int>(i), seed);
}

void Network::generate_float_weights(int index, std::uint64_t seed, std::vector<float> storage) {
  layer(index);  // checks the index
  Layer& l = layers_[static_cast<std::size_t>(index)];
  if (l.type == LayerType::kBatchNorm) {
    l.weights = batchnorm_weights(l.name, static_cast<std::size_t>(l.channels), seed);
  } else if (l.type == LayerType::kConv2d || l.type == LayerType::kFullyConnected) {
    l.weights = conv_like_weights(l, seed, std::move(storage));
  } else {
    l.weights = FloatWeights();
  }
}

std::vector<float> Network::release_float_weights(int index) {
  layer(index);
  std::vector<float> weights = std::move(layers_[static_cast<std::size_t>(index)].weights.weights);
  layers_[static_cast<std::size_t>(index)].weights = FloatWeights();
  return weights;
}

bool Network::has_float_weights() const {
  for (const auto& l : layers_) {
    const bool needs =
        l.type == LayerType::kConv2d || l.type == LayerType::kFullyConnected || l.type == LayerType::kBatchNorm;
    if (needs && l.weights.empty()) return false;
  }
  return true;
}

void Network::drop_float_weights() {
  for (auto& l : layers_) l.weights = FloatWeights();
}

nlohmann::json Network::layers_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    const Layer& l = layers_[i];
    nlohmann::json j;
    j["name"] = l.name;
    j["type"] = layer_type_name(l.type);
    nlohmann::json ins = nlohmann::json::array();
    for (int k : l.inputs) ins.push_back(layers_[static_cast<std::size_t>(k)].name);
    j["inputs"] = ins;
    const TensorShape in = l.inputs.empty() ? l.out_shape : layers_[static_cast<std::size_t>(l.inputs[0])].out_shape;
    j["in_shape"] = {in.c, in.h, in.w};
    j["out_shape"] = {l.out_shape.c, l.out_shape.h, l.out_shape.w};
    if (l.type == LayerType::kConv2d) {
      j["kernel"] = {l.conv.kernel_h, l.conv.kernel_w};
      j["stride"] = {l.conv.stride_h, l.conv.stride_w};
      j["padding"] = {l.conv.pad.top, l.conv.pad.left, l.conv.pad.bottom, l.conv.pad.right};
      j["dilation"] = {l.conv.dilation_h, l.conv.dilation_w};
      j["groups"] = l.conv.groups;
    } else if (l.type == LayerType::kMaxPool || l.type == LayerType::kAvgPool) {
      j["kernel"] = {l.pool.kernel_h, l.pool.kernel_w};
      j["stride"] = {l.pool.stride_h, l.pool.stride_w};
      j["padding"] = {l.pool.pad.top, l.pool.pad.left, l.pool.pad.bottom, l.pool.pad.right};
    }
    j["params"] = l.params;
    j["macs"] = l.macs;
    out.push_back(std::move(j));
  }
  return out;
}

void Network::set_dataflow(const std::string& layer_name, const std::string& dataflow) {
  const int i = index_of(layer_name);
  if (i < 0) throw std::invalid_argument("network '" + name() + "': no layer named '" + layer_name + "'");
  Layer& l = layers_[static_cast<std::size_t>(i)];
  if (l.type != LayerType::kConv2d) fail(l, "a dataflow can only be set on a conv2d layer");
  if (dataflow != "ws" && dataflow != "os" && dataflow != "os2d")
    fail(l, "dataflow must be ws, os or os2d, got '" + dataflow + "'");
  l.conv.dataflow = dataflow;
}

}  // namespace npuvp::runtime
