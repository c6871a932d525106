#pragma once
// Network IR of the host runtime: a CNN as a DAG of layers kept in topological
// order (every layer's inputs come before it), batch 1, with shape inference
// for any input resolution, parameter and MAC bookkeeping, BatchNorm folding
// and deterministic float weights for later quantization.
//
// Conventions (the figures the zoo tests compare against published numbers):
// - params: weights + biases of Conv2d and FullyConnected, and BatchNorm scale
//   and shift (2 per channel) as torchvision counts them; running statistics
//   are buffers, not parameters.
// - macs: multiply-accumulates of Conv2d and FullyConnected only (what the
//   papers and torchvision's "GFLOPS" column count); pooling, element-wise ops
//   and BatchNorm count 0.
// - Activations are HWC (see tensor_shape.h); conv weights are OHWI
//   [out][kh][kw][in / groups] and FC weights [out][in] with `in` in the HWC
//   flattening order of the FC input, as the reference kernels expect.
//
// Every error throws std::invalid_argument naming the network, the layer, its
// type and what was expected.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sw/runtime/ir/tensor_shape.h"
#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime {

enum class LayerType {
  kInput,
  kConv2d,          // any kernel/stride/padding/dilation/groups (depthwise: groups == channels)
  kFullyConnected,  // over the HWC flattening of its input
  kMaxPool,
  kAvgPool,
  kGlobalAvgPool,    // output {C, 1, 1}
  kAdaptiveAvgPool,  // PyTorch AdaptiveAvgPool2d to a fixed output size
  kReLU,
  kReLU6,
  kAdd,             // element-wise sum of two tensors of equal shape
  kConcat,          // along channels, in input order
  kChannelShuffle,  // ShuffleNet transpose of [groups][C / groups]
  kShift,           // per-channel spatial shift (ShiftNet / DiracDeltaNet), zero fill
  kBatchNorm,
  kFlatten,        // {C, H, W} -> {C * H * W, 1, 1} (HWC order, a no-op on the data)
  kSliceChannels,  // channels [begin, end) of the input (ShuffleNet V2 channel split)
  kPadChannels,    // zero channels added before/after (ResNet CIFAR option-A shortcut)
};

// Lower-case snake names used in reports and network files: "conv2d",
// "fully_connected", "max_pool", "avg_pool", "global_avg_pool",
// "adaptive_avg_pool", "relu", "relu6", "add", "concat", "channel_shuffle",
// "shift", "batch_norm", "flatten", "slice_channels", "pad_channels", "input".
const char* layer_type_name(LayerType type);
// The inverse of layer_type_name; nullopt for an unknown name.
std::optional<LayerType> parse_layer_type(const std::string& name);
// Every layer type name, in enum order (for error messages).
std::vector<std::string> layer_type_names();

struct Conv2dAttrs : ConvWindow {
  int in_channels = 0;  // set from the input when the layer is added; checked by infer_shapes
  int out_channels = 0;
  bool bias = false;
  // "ws" or "os" forces this layer's dataflow; empty leaves it to the run.
  std::string dataflow;
};

struct FullyConnectedAttrs {
  int in_features = 0;  // set from the input when the layer is added; checked by infer_shapes
  int out_features = 0;
  bool bias = true;
};

// PyTorch MaxPool2d / AvgPool2d semantics, including ceil_mode (an extra last
// window that must start inside the input or its left/top padding) and
// count_include_pad for average pooling.
struct PoolAttrs : Window {
  bool ceil_mode = false;
  bool count_include_pad = true;
};

struct AdaptivePoolAttrs {
  int out_h = 1, out_w = 1;
};

// Float parameters of one layer, empty until generate_float_weights (or an
// importer) fills them. Conv: weights OHWI, bias per output channel (empty when
// the layer has none). FC: weights [out][in], bias [out]. BatchNorm: gamma,
// beta, running mean and variance per channel.
struct FloatWeights {
  std::vector<float> weights, bias;
  std::vector<float> gamma, beta, mean, var;

  bool empty() const { return weights.empty() && bias.empty() && gamma.empty(); }
};

// A BatchNorm that fold_batchnorm merged into a layer without float weights
// yet: generate_float_weights draws its parameters and folds them in, so that
// weights generated after the fold are the ones folded after generating.
struct FoldedBatchNorm {
  std::string name;
  float eps = 1e-5f;
  bool had_bias = false;  // whether the layer had a bias before this fold
};

struct Layer {
  std::string name;
  LayerType type = LayerType::kInput;
  std::vector<int> inputs;  // indices of earlier layers
  TensorShape out_shape{0, 0, 0};
  std::int64_t params = 0;
  std::int64_t macs = 0;

  // Attributes; only the ones of `type` are meaningful.
  Conv2dAttrs conv;
  FullyConnectedAttrs fc;
  PoolAttrs pool;
  AdaptivePoolAttrs adaptive;
  int shuffle_groups = 1;             // kChannelShuffle
  std::vector<ChannelShift> shifts;   // kShift: one per channel
  float bn_eps = 1e-5f;               // kBatchNorm
  int channels = 0;                   // kBatchNorm / kShift: channel count fixed when added
  int begin = 0, end = 0;             // kSliceChannels: [begin, end)
  int pad_before = 0, pad_after = 0;  // kPadChannels
  // Conv2d / FullyConnected: "int4" or "int8" computes this layer in that
  // type; empty leaves it to the run (--datatype).
  std::string datatype;

  FloatWeights weights;
  std::vector<FoldedBatchNorm> folded_batchnorms;  // Conv2d / FullyConnected, in folding order
};

// The 5-direction shift of DiracDeltaNet (the authors' Shift3x3): channel i is
// moved by (dy, dx) = (1, 0), (0, 1), (0, 0), (0, -1), (-1, 0) for i % 5 = 0..4,
// with the reference kernels' convention out(y, x) = in(y - dy, x - dx).
std::vector<ChannelShift> five_direction_shifts(int channels);

// Reference-kernel parameters of a conv layer (quantization fields left default).
ConvParams to_conv_params(const Layer& conv);
// Reference-kernel parameters of a max/avg pool layer for its input shape, with
// PyTorch's ceil_mode turned into the extra bottom/right padding it implies.
PoolParams to_pool_params(const Layer& pool, TensorShape in);

class Network;
// Throws std::invalid_argument "network 'N': layer 'L' (type): what", for the
// passes over a built network (quantization, reference, lowering).
[[noreturn]] void fail_layer(const Network& n, int index, const std::string& what);

class Network {
 public:
  // A network holding only its input layer (index 0, named "input").
  Network(std::string name, TensorShape input);

  const std::string& name() const { return name_; }
  // The input shape of the last successful infer_shapes (the constructor's at first).
  TensorShape input_shape() const { return layers_.front().out_shape; }
  // The input shape the network was built for (its published default).
  TensorShape default_input_shape() const { return default_input_; }

  const std::vector<Layer>& layers() const { return layers_; }
  std::size_t size() const { return layers_.size(); }
  const Layer& layer(int index) const;
  const Layer& layer(const std::string& name) const;  // throws if unknown
  int index_of(const std::string& name) const;        // -1 if unknown
  // Forces the dataflow ("ws" or "os") of a convolution; throws
  // std::invalid_argument naming the layer if it is not a convolution.
  void set_dataflow(const std::string& layer_name, const std::string& dataflow);
  // The network output: the last layer.
  int output() const { return static_cast<int>(layers_.size()) - 1; }
  // Layers that read layer `index`, in order.
  std::vector<int> consumers(int index) const;
  // The input shapes of a layer, in input order.
  std::vector<TensorShape> input_shapes(int index) const;

  // Builders. Each appends one layer reading the given earlier layers, infers
  // its shape at the current input shape (throwing on an invalid layer, which
  // is then not added) and returns its index. Names must be unique.
  int append(Layer layer);
  int conv(const std::string& name, int input, Conv2dAttrs attrs);
  // Square kernel, uniform padding.
  int conv(const std::string& name, int input, int out_channels, int kernel, int stride = 1, int pad = 0,
           int groups = 1, bool bias = false);
  int fc(const std::string& name, int input, int out_features, bool bias = true);
  int bn(const std::string& name, int input, float eps = 1e-5f);
  int relu(const std::string& name, int input);
  int relu6(const std::string& name, int input);
  int max_pool(const std::string& name, int input, PoolAttrs attrs);
  int max_pool(const std::string& name, int input, int kernel, int stride, int pad = 0, bool ceil_mode = false);
  int avg_pool(const std::string& name, int input, PoolAttrs attrs);
  int avg_pool(const std::string& name, int input, int kernel, int stride, int pad = 0, bool ceil_mode = false);
  int global_avg_pool(const std::string& name, int input);
  int adaptive_avg_pool(const std::string& name, int input, int out_h, int out_w);
  int add(const std::string& name, int a, int b);
  int concat(const std::string& name, const std::vector<int>& inputs);
  int channel_shuffle(const std::string& name, int input, int groups);
  int shift(const std::string& name, int input, std::vector<ChannelShift> shifts);
  int flatten(const std::string& name, int input);
  int slice_channels(const std::string& name, int input, int begin, int end);
  int pad_channels(const std::string& name, int input, int before, int after);

  // Re-infers every layer's output shape, params and MACs for `input` (C, H, W).
  // Transactional: on error the network is unchanged. Throws when the channel
  // count differs from the one the layers were built for, when a layer's output
  // would be empty or its kernel exceeds its padded input, and when an FC layer
  // receives a different feature count (a network that is not fully
  // convolutional only accepts inputs reproducing its FC input size).
  void infer_shapes(TensorShape input);

  // -1 for a fully convolutional network; otherwise the first FC layer whose
  // input size depends on the input resolution (no global/adaptive pooling in
  // front of it), i.e. the layer that fixes the input to default_input_shape().
  int resolution_fixing_layer() const;
  bool fully_convolutional() const { return resolution_fixing_layer() < 0; }

  std::int64_t total_params() const;
  std::int64_t total_macs() const;

  // Merges every BatchNorm whose single input is a Conv2d or FullyConnected read
  // by nothing else into that layer: the layer gains a bias (if it had none) and
  // the BN disappears, its readers now reading the conv. MACs are unchanged;
  // params drop by the BN's 2*C and grow by C for a conv that had no bias. With
  // float weights present they are folded numerically:
  //   s = gamma / sqrt(var + eps), w' = w * s, b' = (b - mean) * s + beta;
  // with none on either, the layer keeps the BN's name and epsilon
  // (Layer::folded_batchnorms) for generate_float_weights to fold.
  // Returns the number of BatchNorms folded.
  int fold_batchnorm();

  // Deterministic random float weights for every Conv2d, FC and BatchNorm: He
  // (Kaiming normal, fan-in) weights, the normal approximated by a sum of four
  // uniforms (splitmix64 per element, float arithmetic), biases uniform in
  // +-1/sqrt(fan_in), BN gamma in [0.5, 1.5], beta and mean in [-0.1, 0.1], var
  // in [0.5, 1.5] (mt19937_64). Each layer's values depend only on (seed, layer
  // name), from fully specified generators, so they are the same on every platform.
  void generate_float_weights(std::uint64_t seed);
  // Layer `index`'s weights as generate_float_weights(seed) gives them, a
  // BatchNorm folded into it before there were weights included, in
  // `storage`'s memory when it holds enough: a caller that needs one layer's
  // weights at a time reuses a freed layer's (release_float_weights) rather
  // than fresh pages.
  void generate_float_weights(int index, std::uint64_t seed, std::vector<float> storage = {});
  bool has_float_weights() const;
  // Frees every layer's float weights: a quantized network keeps its int8
  // ones (QuantizedLayer) and has no further use for these.
  void drop_float_weights();
  // Frees layer `index`'s float weights, handing back the memory of the
  // weights proper.
  std::vector<float> release_float_weights(int index);

  // One object per layer: name, type, inputs (names), out_shape [C,H,W],
  // in_shape (of the first input), kernel, stride, groups (conv/pool), params, macs.
  nlohmann::json layers_json() const;

 private:
  [[noreturn]] void fail(const Layer& layer, const std::string& what) const;
  // Output shape, params and MACs of `layer` given its input shapes.
  void infer_layer(Layer& layer, const std::vector<TensorShape>& in) const;
  void infer_conv(Layer& layer, TensorShape in) const;
  void infer_fc(Layer& layer, TensorShape in) const;
  void infer_pool(Layer& layer, TensorShape in) const;
  // Refuses a layer whose output, parameters or MACs this tool cannot count:
  // more than 2^40 elements or 2^62 parameters or MACs (an edge NPU's layers
  // are orders of magnitude below), so the counts below never overflow.
  void check_counts(const Layer& layer, std::int64_t c, std::int64_t h, std::int64_t w, long double params,
                    long double macs) const;
  int add_simple(const std::string& name, LayerType type, std::vector<int> inputs);
  int add_pool(const std::string& name, LayerType type, int input, const PoolAttrs& attrs);

  std::string name_;
  TensorShape default_input_;
  std::vector<Layer> layers_;
};

}  // namespace npuvp::runtime
