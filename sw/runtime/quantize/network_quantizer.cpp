#include "sw/runtime/quantize/network_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "sw/runtime/reference/reference_executor.h"

namespace npuvp::runtime {

namespace {

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
        fail_layer(n, i, "only layer 0 may be the input");
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
        if (!keeps_quantization(l.type)) fail_layer(n, i, "unsupported layer type");
    }
    if (keeps_quantization(l.type))
      for (int in : l.inputs) parent[find_root(parent, in)] = find_root(parent, i);
  }
  s.group.resize(n.size());
  for (int i = 0; i < count; ++i) s.group[i] = find_root(parent, i);
  return s;
}

std::vector<float> random_input(TensorShape shape, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<float> x(shape.size());
  for (auto& v : x) v = static_cast<float>(static_cast<double>(engine() >> 11) * (2.0 / 9007199254740992.0) - 1.0);
  return x;
}

// A float forward pass from `input`: visit(i, output) sees each layer's
// output, which stays until its last reader has run.
template <class ActivationOf, class Visit>
void float_forward(const Network& n, const std::vector<float>& input, ActivationOf activation_of, Visit visit) {
  const int count = static_cast<int>(n.size());
  std::vector<int> last_reader(n.size(), -1);
  for (int i = 0; i < count; ++i)
    for (int in : n.layer(i).inputs) last_reader[in] = i;
  std::vector<std::vector<float>> act(n.size());
  for (int i = 0; i < count; ++i) {
    const Layer& l = n.layer(i);
    if ((l.type == LayerType::kReLU || l.type == LayerType::kReLU6) && last_reader[l.inputs[0]] == i) {
      // The input's last reader clamps it in place rather than a copy.
      act[i] = std::move(act[l.inputs[0]]);
      apply_activation(act[i], runtime::activation_of(l.type));
    } else {
      act[i] = i == 0 ? input : float_layer(n, i, act, activation_of(i));
    }
    visit(i, act[i]);
    for (int in_index : n.layer(i).inputs)
      if (last_reader[in_index] == i) std::vector<float>().swap(act[in_index]);
  }
}

// The smallest and largest value of a non-empty tensor as std::minmax_element
// sees them (a NaN counts only as the first element), 16 at a time in vector
// registers instead of one compare-and-branch per element.
std::pair<float, float> value_range(const std::vector<float>& y) {
  typedef float Lanes __attribute__((vector_size(4 * sizeof(float))));
  constexpr int kWays = 4, kLanes = 4;
  Lanes lo[kWays], hi[kWays];
  for (int w = 0; w < kWays; ++w) lo[w] = hi[w] = Lanes{} + y.front();
  std::size_t k = 0;
  for (; k + kWays * kLanes <= y.size(); k += kWays * kLanes)
    for (int w = 0; w < kWays; ++w) {
      Lanes v;
      std::memcpy(&v, y.data() + k + w * kLanes, sizeof v);
      lo[w] = v < lo[w] ? v : lo[w];
      hi[w] = hi[w] < v ? v : hi[w];
    }
  float mn = y.front(), mx = y.front();
  for (int w = 0; w < kWays; ++w)
    for (int j = 0; j < kLanes; ++j) {
      mn = lo[w][j] < mn ? lo[w][j] : mn;
      mx = mx < hi[w][j] ? hi[w][j] : mx;
    }
  for (; k < y.size(); ++k) {
    mn = y[k] < mn ? y[k] : mn;
    mx = mx < y[k] ? y[k] : mx;
  }
  return {mn, mx};
}

// Calibration: every tensor's [lo, hi] (and the network output) over a
// float forward pass.
void calibrate(QuantizedNetwork& q, const Structure& s, std::vector<float>& lo, std::vector<float>& hi) {
  const int count = static_cast<int>(q.network.size());
  lo.assign(q.network.size(), 0.0f);
  hi.assign(q.network.size(), 0.0f);
  float_forward(
      q.network, q.float_input, [&](int i) { return s.activation[i]; },
      [&](int i, const std::vector<float>& y) {
        std::tie(lo[i], hi[i]) = value_range(y);
        if (i == count - 1) q.float_output = y;
      });
}

// The integer type of every tensor's quantization group: 4 bits where an int4
// layer writes or reads a member, else 8; conv-like layers get their own type.
std::vector<int> tensor_bits(QuantizedNetwork& q, const Structure& s, int default_bits) {
  const Network& n = q.network;
  std::vector<int> group_bits(n.size(), 8);
  for (int i = 0; i < static_cast<int>(n.size()); ++i) {
    const Layer& l = n.layer(i);
    if (!is_conv_like(l.type)) continue;
    const int bits = l.datatype == "int4" ? 4 : l.datatype == "int8" ? 8 : default_bits;
    q.layers[i].bits = bits;
    if (bits != 4) continue;
    group_bits[s.group[i]] = 4;
    for (int in : l.inputs) group_bits[s.group[in]] = 4;
  }
  return group_bits;
}

// Weights, biases and requantization of the conv-like layer `i`, whose input
// and output parameters are chosen.
void quantize_conv_like(QuantizedNetwork& q, int i) {
  const Layer& l = q.network.layer(i);
  QuantizedLayer& ql = q.layers[i];
  const ConvForm f = conv_form(q.network, i);
  const QuantParams in_q = q.layers[l.inputs[0]].output;
  PerChannelWeights pw = quantize_weights_per_channel(*f.weights, f.params.out_channels, ql.bits);
  ql.conv = f.params;
  ql.conv.input_zero_point = in_q.zero_point;
  ql.weights = std::move(pw.values);
  ql.weight_scales = std::move(pw.scales);
  if (!f.bias->empty()) ql.bias = quantize_bias(*f.bias, in_q.scale, ql.weight_scales);
  ql.requant = make_requantization(in_q.scale, ql.weight_scales, ql.output, ql.activation);
}

// Runs `step` for layer `i`, naming the network and the layer in what it throws:
// a bare "rmin and rmax must be finite" leaves the user to search every tensor.
template <typename Step>
void for_layer(const Network& n, int i, Step&& step) {
  try {
    step();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("network '" + n.name() + "': layer '" + n.layer(i).name + "': " + e.what() +
                                " (NaN or infinite values in its weights or in a layer before it?)");
  }
}

double sqnr_db(const std::vector<float>& f, const std::vector<std::int8_t>& q, QuantParams p) {
  // Each code's value looked up, not recomputed per element.
  float value[256];
  for (int c = -128; c < 128; ++c) value[c + 128] = dequantize_value(static_cast<std::int8_t>(c), p);
  double signal = 0, noise = 0;
  for (std::size_t k = 0; k < f.size(); ++k) {
    const double e = double(f[k]) - double(value[q[k] + 128]);
    signal += double(f[k]) * f[k];
    noise += e * e;
  }
  return noise == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(signal / noise);
}

}  // namespace

std::vector<double> layer_sqnr_db(const QuantizedNetwork& q) {
  std::vector<double> db(q.network.size(), std::numeric_limits<double>::quiet_NaN());
  float_forward(
      q.network, q.float_input, [&](int i) { return q.layers[i].activation; },
      [&](int i, const std::vector<float>& y) {
        const QuantizedLayer& ql = q.layers[i];
        const std::vector<std::int8_t>& expected = q.expected(i);
        if (!y.empty() && y.size() == expected.size()) db[i] = sqnr_db(y, expected, ql.output);
      });
  return db;
}

QuantizedNetwork quantize_network(Network network, const QuantizationOptions& options) {
  if (options.bits != 4 && options.bits != 8)
    throw std::invalid_argument("network '" + network.name() + "': quantization bits must be 4 or 8, got " +
                                std::to_string(options.bits));
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
  const Network& n = q.network;
  const int count = static_cast<int>(size);
  const Structure s = analyze(n, options.fuse_activations);
  q.float_input = options.float_input.empty() ? random_input(n.input_shape(), options.input_seed) : options.float_input;
  if (q.float_input.size() != n.input_shape().size())
    throw std::invalid_argument("network '" + n.name() + "': float_input has " + std::to_string(q.float_input.size()) +
                                " values, expected " + std::to_string(n.input_shape().size()) + " for input [" +
                                std::to_string(n.input_shape().c) + "," + std::to_string(n.input_shape().h) + "," +
                                std::to_string(n.input_shape().w) + "]");
  std::vector<float> lo, hi;
  calibrate(q, s, lo, hi);

  // One set of parameters per group, over the union of its members' ranges.
  std::vector<float> group_lo(n.size(), 0.0f), group_hi(n.size(), 0.0f);
  for (int i = 0; i < count; ++i) {
    group_lo[s.group[i]] = std::min(group_lo[s.group[i]], lo[i]);
    group_hi[s.group[i]] = std::max(group_hi[s.group[i]], hi[i]);
  }
  const std::vector<int> group_bits = tensor_bits(q, s, options.bits);
  for (int i = 0; i < count; ++i) {
    QuantizedLayer& ql = q.layers[i];
    const int bits = group_bits[s.group[i]];
    if (!is_conv_like(n.layer(i).type)) ql.bits = bits;
    for_layer(n, i, [&] { ql.output = choose_quant_params(group_lo[s.group[i]], group_hi[s.group[i]], bits); });
    ql.activation = s.activation[i];
    ql.fused_into = s.fused_into[i];
  }
  for (int i = 0; i < count; ++i)
    if (is_conv_like(n.layer(i).type)) for_layer(n, i, [&] { quantize_conv_like(q, i); });
  q.layers[0].expected = quantize_tensor(q.float_input, q.layers[0].output);
  if (options.reference_outputs) compute_reference_outputs(q);
  return q;
}

}  // namespace npuvp::runtime
