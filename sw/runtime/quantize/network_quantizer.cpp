#include "sw/runtime/quantize/network_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "sw/runtime/quantize/int16_values.h"
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
// registers instead of one compare-and-branch per element; or, where the
// kernel kept the range of what it stored (`stored`), from that: the same but
// for which of an equal -0 and +0 it keeps.
std::pair<float, float> value_range(const std::vector<float>& y, const StoredRange& stored = {}) {
  if (stored.seen) return std::isnan(y.front()) ? std::pair{y.front(), y.front()} : std::pair{stored.lo, stored.hi};
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

int datatype_bits(const Layer& l, int default_bits) {
  return l.datatype == "int4" ? 4 : l.datatype == "int8" ? 8 : l.datatype == "int16" ? 16 : default_bits;
}

// The integer type of every tensor's quantization group. int16 where an
// int16 layer reads a member (or, read by no conv-like layer, an int16 layer
// writes one), and across an add's inputs and output together; else 4 where
// an int4 layer writes or reads a member, else 8. Conv-like layers get their
// own type and convert in their output stage where their output's differs
// (int8 to int16 and back); a tensor read at int16 and at another width, or
// int16 meeting int4, is an error naming the layer.
std::vector<int> tensor_bits(QuantizedNetwork& q, const Structure& s, int default_bits) {
  const Network& n = q.network;
  const int count = static_cast<int>(n.size());
  std::vector<std::set<int>> read_at(n.size()), written_at(n.size());
  for (int i = 0; i < count; ++i) {
    const Layer& l = n.layer(i);
    if (!is_conv_like(l.type)) continue;
    q.layers[i].bits = datatype_bits(l, default_bits);
    read_at[s.group[l.inputs[0]]].insert(q.layers[i].bits);
    written_at[s.group[i]].insert(q.layers[i].bits);
  }
  std::vector<bool> wide(n.size());
  for (int g = 0; g < count; ++g) wide[g] = read_at[g].count(16) || (read_at[g].empty() && written_at[g].count(16));
  for (bool changed = true; changed;) {  // an add computes at one width
    changed = false;
    for (int i = 0; i < count; ++i) {
      const Layer& l = n.layer(i);
      if (l.type != LayerType::kAdd) continue;
      std::vector<int> groups{s.group[i]};
      for (int in : l.inputs) groups.push_back(s.group[in]);
      if (std::none_of(groups.begin(), groups.end(), [&](int g) { return wide[g]; })) continue;
      for (int g : groups) {
        changed |= !wide[g];
        wide[g] = true;
      }
    }
  }
  // The other side of an int4/int16 conflict over group g: a conv-like layer
  // of `bits` that reads or writes it.
  auto meeting = [&](int g, int bits) {
    for (int j = 0; j < count; ++j) {
      const Layer& l = n.layer(j);
      if (is_conv_like(l.type) && q.layers[j].bits == bits && (s.group[j] == g || s.group[l.inputs[0]] == g))
        return "the int" + std::to_string(bits) + " layer '" + l.name + "'";
    }
    return std::string("an int16 add");
  };
  auto refuse_int4_beside_int16 = [&](int i, int g, int other_bits) {
    fail_layer(n, i,
               "it shares a tensor with " + meeting(g, other_bits) +
                   ": an int4 and an int16 layer cannot share a tensor (supported: int4 beside int8, int16 beside "
                   "int8)");
  };
  std::vector<int> group_bits(n.size(), 8);
  for (int i = 0; i < count; ++i) {
    const Layer& l = n.layer(i);
    if (!is_conv_like(l.type)) continue;
    const int bits = q.layers[i].bits;
    const int in = s.group[l.inputs[0]], out = s.group[i];
    if (wide[in] && bits != 16)
      fail_layer(n, i,
                 "an int" + std::to_string(bits) + " layer reads the int16 tensor of layer '" +
                     n.layer(l.inputs[0]).name +
                     "' (an int16 layer or an int16 add reads it too); supported: a tensor read at one width");
    if (bits == 4 && wide[out]) refuse_int4_beside_int16(i, out, 16);
    if (bits == 4) group_bits[in] = group_bits[out] = 4;
  }
  for (int i = 0; i < count; ++i) {
    const Layer& l = n.layer(i);
    if (is_conv_like(l.type) && q.layers[i].bits == 16 && group_bits[s.group[i]] == 4)
      refuse_int4_beside_int16(i, s.group[i], 4);
  }
  for (int g = 0; g < count; ++g)
    if (wide[g]) group_bits[g] = 16;
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
  if (!f.bias->empty()) {
    ql.bias = quantize_bias(*f.bias, in_q.scale, ql.weight_scales);
    // quantize_bias saturates; a saturated bias leaves the accumulator no
    // room, which the reference found later without a layer ("conv2d: the
    // bias of output channel 0 (-2147483648) leaves no room").
    for (std::size_t k = 0; k < ql.bias.size(); ++k)
      if (ql.bias[k] == std::numeric_limits<std::int32_t>::min() ||
          ql.bias[k] == std::numeric_limits<std::int32_t>::max()) {
        std::ostringstream text;
        text << "the bias " << (*f.bias)[k] << " of output channel " << k << " does not fit int32 at its scale "
             << double(in_q.scale) * ql.weight_scales[k] << " (input scale " << in_q.scale
             << " x weight scale): the values reaching the layer span too small a range (an --input scaled down?)";
        throw std::invalid_argument(text.str());
      }
  }
  ql.requant = make_requantization(in_q.scale, ql.weight_scales, ql.output, ql.activation);
}

// Runs `step` for layer `i`, naming the network and the layer in what it throws:
// a bare "rmin and rmax must be finite" leaves the user to search every tensor.
template <typename Step>
void for_layer(const Network& n, int i, Step&& step) {
  try {
    step();
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    throw std::invalid_argument("network '" + n.name() + "': layer '" + n.layer(i).name + "': " + what +
                                (what.find("finite") != std::string::npos
                                     ? " (NaN or infinite values in its weights or in a layer before it?)"
                                     : ""));
  }
}

// 10 log10(Σ f² / Σ (f - value(k))²) in decibels, the sums kept in eight
// interleaved partial sums: one running sum waited on each addition's
// latency (3.7 % of MobileNet v1's first run at 1080 x 1920).
template <typename Value>
[[gnu::always_inline]] inline double sqnr_of(const std::vector<float>& f, Value value) {
  constexpr std::size_t kSums = 8;
  double signal[kSums] = {}, noise[kSums] = {};
  const auto add = [&](std::size_t j, std::size_t k) {
    const double x = f[k], e = x - value(k);
    signal[j] += x * x;
    noise[j] += e * e;
  };
  // A fixed inner count: the sums stay in registers.
  std::size_t k = 0;
  for (; k + kSums <= f.size(); k += kSums)
    for (std::size_t j = 0; j < kSums; ++j) add(j, k + j);
  for (; k < f.size(); ++k) add(k % kSums, k);
  double s = 0, n = 0;
  for (std::size_t j = 0; j < kSums; ++j) s += signal[j], n += noise[j];
  return n == 0 ? std::numeric_limits<double>::infinity() : 10 * std::log10(s / n);
}

// The int8 SQNR, each code dequantized in the loop (a table of the 256
// values, looked up per element, made the vector clones gather: 2.4 % of
// MobileNet v1's first run at 1080 x 1920); compiled per ISA (the loader picks
// the widest the CPU has), the eight sums becoming a vector's lanes, each
// summed in the same order as in the portable loop, so every clone gives the
// same bits. (GCC's spelling; other compilers build the portable loop.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NPUVP_SQNR_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define NPUVP_SQNR_CLONES
#endif
NPUVP_SQNR_CLONES double int8_sqnr_db(const std::vector<float>& f, const std::vector<std::int8_t>& q, QuantParams p) {
  return sqnr_of(f, [&](std::size_t k) { return double(dequantize_value(q[k], p)); });
}

double sqnr_db(const std::vector<float>& f, const std::vector<std::int8_t>& q, QuantParams p) {
  if (bits_of(p) == 16)
    return sqnr_of(f, [&](std::size_t k) { return double(p.scale) * (load_int16(q.data(), k) - p.zero_point); });
  return int8_sqnr_db(f, q, p);
}

// Layer i's SQNR (layer_sqnr_db) from its float output y, given the SQNRs of
// the layers before it in `db`: a ReLU fused into its producer has the
// producer's (its float output is the producer's, clamped again to no
// change; its codes and parameters are the producer's).
double layer_sqnr(const QuantizedNetwork& q, int i, const std::vector<float>& y, const std::vector<double>& db) {
  const QuantizedLayer& ql = q.layers[i];
  if (ql.fused_into >= 0) return db[ql.fused_into];
  const std::vector<std::int8_t>& expected = q.expected(i);
  const std::size_t values = bits_of(ql.output) == 16 ? expected.size() / 2 : expected.size();
  return !y.empty() && y.size() == values ? sqnr_db(y, expected, ql.output) : std::numeric_limits<double>::quiet_NaN();
}

// The calibration: a float forward pass over the network that takes every
// tensor's range, with each layer's quantization (and, when asked, its
// reference output and SQNR) done as soon as what it depends on is known:
// layer j's output parameters cover the union range of its quantization
// group, and its weights and reference output need its inputs' parameters
// too, so j's step runs once every member of those groups has had its float
// output. A float output stays until its float readers are done and, for the
// SQNR, until its layer's step: one float pass where the SQNR took a second.
class Calibration {
 public:
  Calibration(QuantizedNetwork& q, const Structure& s, const std::vector<int>& group_bits,
              const QuantizationOptions& options, bool generate, std::vector<double>* db)
      : q_(q),
        n_(q.network),
        s_(s),
        group_bits_(group_bits),
        reference_(options.reference_outputs),
        release_reference_(options.reference_outputs && !options.keep_reference_outputs),
        on_step_(options.on_reference_step),
        generate_(generate),
        release_weights_(generate && !options.keep_generated_weights),
        weight_seed_(options.weight_seed),
        db_(db),
        count_(static_cast<int>(n_.size())),
        group_lo_(n_.size(), 0.0f),
        group_hi_(n_.size(), 0.0f),
        unvisited_(n_.size(), 0),
        last_reader_(n_.size(), -1),
        last_reference_reader_(last_reference_readers(n_, s.fused_into)),
        holder_(n_.size()),
        act_(n_.size()) {
    for (int i = 0; i < count_; ++i) {
      ++unvisited_[s.group[i]];
      for (int in : n_.layer(i).inputs) last_reader_[in] = i;
    }
    std::iota(holder_.begin(), holder_.end(), 0);
    if (db_ != nullptr) db_->assign(n_.size(), std::numeric_limits<double>::quiet_NaN());
  }

  void run() {
    for (int i = 0; i < count_; ++i) {
      StoredRange stored;
      forward(i, stored);
      const std::vector<float>& y = act_[i];
      const int g = s_.group[i];
      // A ReLU fused into its producer holds the producer's output unchanged,
      // whose range their group (a ReLU keeps its input's quantization) has.
      if (s_.fused_into[i] < 0) {
        const auto [lo, hi] = value_range(y, stored);
        if (!std::isfinite(lo) || !std::isfinite(hi)) refuse_overflow(i);
        group_lo_[g] = std::min(group_lo_[g], lo);
        group_hi_[g] = std::max(group_hi_[g], hi);
      }
      --unvisited_[g];
      if (i == count_ - 1) q_.float_output = y;
      while (next_ < count_ && ready(next_)) step(next_++);
      for (int h = 0; h <= i; ++h)
        if (last_reader_[h] <= i && (db_ == nullptr || next_ > h)) release(act_[h]);
    }
  }

 private:
  // A NaN or infinite float output: the layer's own parameters (a NaN weight,
  // a batch normalization with a negative variance folded in) or, with those
  // finite, finite inputs whose sums overflow float (an input of 3e38).
  [[noreturn]] void refuse_overflow(int i) const {
    const FloatWeights& own = n_.layer(i).weights;
    for (const std::vector<float>* p : {&own.weights, &own.bias, &own.gamma, &own.beta, &own.mean, &own.var})
      if (std::any_of(p->begin(), p->end(), [](float v) { return !std::isfinite(v); }))
        fail_layer(n_, i,
                   "its float parameters hold NaN or infinite values (weights and bias, with any batch "
                   "normalization folded into them)");
    double largest = 0;
    for (int in : n_.layer(i).inputs)
      if (!act_[in].empty()) {
        const auto [lo, hi] = value_range(act_[in]);
        largest = std::max({largest, std::fabs(double(lo)), std::fabs(double(hi))});
      }
    std::ostringstream text;
    text << "network '" << n_.name() << "': layer '" << n_.layer(i).name
         << "': its float output overflows to infinity while the ranges are measured";
    if (largest > 0) text << " (the values reaching it are up to " << largest << " in magnitude)";
    text << ": scale the input down (--input) or check the weights";
    throw std::invalid_argument(text.str());
  }

  // Layer i's float output into act_[i]; a convolution's range into `stored`.
  void forward(int i, StoredRange& stored) {
    const Layer& l = n_.layer(i);
    const int p = l.inputs.empty() ? -1 : l.inputs[0];
    const bool relu = l.type == LayerType::kReLU || l.type == LayerType::kReLU6;
    // The input's last reader clamps it in place rather than a copy, unless
    // the input's SQNR is still to come and the clamp would change it (a
    // ReLU fused into its producer clamps what is already clamped).
    if (relu && last_reader_[p] == i && (db_ == nullptr || next_ > p || s_.fused_into[i] == p)) {
      act_[i] = std::move(act_[p]);
      // Fused, the producer clamped its output with this very activation.
      if (s_.fused_into[i] != p) apply_activation(act_[i], activation_of(l.type));
      std::replace(holder_.begin(), holder_.end(), p, i);
    } else {
      if (generate_ && is_conv_like(l.type))
        q_.network.generate_float_weights(i, weight_seed_, std::move(spare_weights_));
      act_[i] = i == 0 ? q_.float_input : float_layer(n_, i, act_, s_.activation[i], std::move(spare_), &stored);
    }
  }

  // Frees a float output, or keeps it as the next output's storage when it
  // is the largest freed so far: at 1080x1920 each output is tens of MB,
  // which would otherwise be faulted in afresh, layer after layer. Its
  // values stay: the next output overwrites them rather than zero-filling
  // them first.
  void release(std::vector<float>& y) {
    if (y.capacity() > spare_.capacity()) spare_ = std::move(y);
    std::vector<float>().swap(y);
  }

  bool ready(int j) const {
    if (unvisited_[s_.group[j]] > 0) return false;
    for (int in : n_.layer(j).inputs)
      if (unvisited_[s_.group[in]] > 0) return false;
    return true;
  }

  void step(int j) {
    const Layer& l = n_.layer(j);
    QuantizedLayer& ql = q_.layers[j];
    const int g = s_.group[j];
    if (!is_conv_like(l.type)) ql.bits = group_bits_[g];
    for_layer(n_, j, [&] { ql.output = choose_quant_params(group_lo_[g], group_hi_[g], group_bits_[g]); });
    ql.activation = s_.activation[j];
    ql.fused_into = s_.fused_into[j];
    if (is_conv_like(l.type)) for_layer(n_, j, [&] { quantize_conv_like(q_, j); });
    // Its float output is taken (a step follows every member's), so its
    // float weights have no further reader here.
    if (release_weights_ && is_conv_like(l.type)) {
      std::vector<float> weights = q_.network.release_float_weights(j);
      if (weights.capacity() > spare_weights_.capacity()) spare_weights_ = std::move(weights);
    }
    if (j == 0) ql.expected = quantize_tensor(q_.float_input, ql.output);
    if (!reference_) return;
    if (on_step_) on_step_(true);
    if (j > 0) compute_reference_output(q_, j);
    if (db_ != nullptr) (*db_)[j] = layer_sqnr(q_, j, act_[holder_[j]], *db_);
    if (release_reference_) release_read_outputs(j);
    if (on_step_) on_step_(false);
  }

  // Releases the expected outputs whose last reader is layer j. Its inputs
  // have had their steps (their fused_into is set); the last layer's comes later.
  void release_read_outputs(int j) {
    const int last = count_ - 1;
    const int output_holder = s_.fused_into[last] >= 0 ? s_.fused_into[last] : last;
    for (int in : n_.layer(j).inputs) {
      const int h = q_.expected_holder(in);
      if (h != 0 && h != output_holder && last_reference_reader_[h] == j) release_reference_output(q_, h);
    }
  }

  QuantizedNetwork& q_;
  const Network& n_;
  const Structure& s_;
  const std::vector<int>& group_bits_;
  const bool reference_;
  const bool release_reference_;  // reference outputs released once read (keep_reference_outputs false)
  const std::function<void(bool)>& on_step_;
  const bool generate_;         // float weights generated layer by layer, before the layer's float output
  const bool release_weights_;  // ... and freed after its step
  const std::uint64_t weight_seed_;
  std::vector<double>* const db_;
  const int count_;
  std::vector<float> group_lo_, group_hi_;  // per group, over its members' float outputs so far (and 0)
  std::vector<int> unvisited_;              // per group, members without a float output yet
  std::vector<int> last_reader_;            // per layer, its last float reader, or -1
  std::vector<int> last_reference_reader_;  // per layer, the last reference output reading its own, or -1
  std::vector<int> holder_;                 // per layer, the act_ entry its float output is in
  std::vector<std::vector<float>> act_;
  std::vector<float> spare_;          // a freed output's memory, for the next (release)
  std::vector<float> spare_weights_;  // the largest freed layer's weights' memory, for the next generated
  int next_ = 0;                      // the next layer whose step is due
};

QuantizedNetwork quantize(Network network, const QuantizationOptions& options, std::vector<double>* sqnr_db) {
  if (options.bits != 4 && options.bits != 8 && options.bits != 16)
    throw std::invalid_argument("network '" + network.name() + "': quantization bits must be 4, 8 or 16, got " +
                                std::to_string(options.bits));
  // Unsupported layers fail before the costly weights and passes.
  analyze(network, false);
  for (int i = 1; i < static_cast<int>(network.size()); ++i) {
    const Layer& l = network.layer(i);
    const TensorShape in = network.layer(l.inputs[0]).out_shape;
    if (l.type == LayerType::kMaxPool || l.type == LayerType::kAvgPool) pool_params(network, i, in);
    if (l.type == LayerType::kAdaptiveAvgPool) adaptive_pool_as_uniform(l, in);
  }
  // Generated weights replace any a layer has; the calibration generates
  // them layer by layer, each as it is needed, BatchNorms folded in.
  const bool generate = !network.has_float_weights();
  if (generate) network.drop_float_weights();
  network.fold_batchnorm();
  const std::size_t size = network.size();
  QuantizedNetwork q{std::move(network), std::vector<QuantizedLayer>(size), {}, {}};
  const Network& n = q.network;
  const Structure s = analyze(n, options.fuse_activations);
  q.float_input = options.float_input.empty() ? random_input(n.input_shape(), options.input_seed) : options.float_input;
  if (q.float_input.size() != n.input_shape().size())
    throw std::invalid_argument("network '" + n.name() + "': float_input has " + std::to_string(q.float_input.size()) +
                                " values, expected " + std::to_string(n.input_shape().size()) + " for input [" +
                                std::to_string(n.input_shape().c) + "," + std::to_string(n.input_shape().h) + "," +
                                std::to_string(n.input_shape().w) + "]");
  const std::vector<int> group_bits = tensor_bits(q, s, options.bits);
  Calibration(q, s, group_bits, options, generate, sqnr_db).run();
  return q;
}

}  // namespace

std::vector<double> layer_sqnr_db(const QuantizedNetwork& q) {
  std::vector<double> db(q.network.size(), std::numeric_limits<double>::quiet_NaN());
  float_forward(
      q.network, q.float_input, [&](int i) { return q.layers[i].activation; },
      [&](int i, const std::vector<float>& y) { db[i] = layer_sqnr(q, i, y, db); });
  return db;
}

QuantizedNetwork quantize_network(Network network, const QuantizationOptions& options) {
  return quantize(std::move(network), options, nullptr);
}

QuantizedNetwork quantize_network(Network network, const QuantizationOptions& options, std::vector<double>& sqnr_db) {
  if (!options.reference_outputs)
    throw std::invalid_argument("network '" + network.name() + "': the SQNR needs the reference outputs");
  return quantize(std::move(network), options, &sqnr_db);
}

}  // namespace npuvp::runtime
