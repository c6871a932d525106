#pragma once
// From a float network IR to what the NPU runs:
//
// 1. quantize_network: TFLite-style post-training int8 quantization. BatchNorm
//    is folded, float weights are generated from a seed (unless the network
//    already carries them), weights are quantized per output channel
//    (symmetric int8), biases to int32 at input_scale * weight_scale, and every
//    activation tensor per tensor (asymmetric int8) from the min/max of a float
//    forward pass over one seeded random input (the calibration).
//    Layers that cannot change quantization (pools, standalone ReLU, concat,
//    channel shuffle, shift, slice, pad, flatten) share their input's
//    parameters; the inputs of a concat share one set chosen over their union
//    range, which each producer then outputs directly. A ReLU/ReLU6 that is the
//    only reader of a conv/FC/add is fused into that layer's clamp.
//    The expected int8 output of every layer comes from the independent
//    reference kernels (reference_kernels.h): the reference executor.
//
// 2. lower_network: one or more firmware::LayerCommand per IR layer (layer_id =
//    the layer's index in QuantizedNetwork::network), every tensor and
//    parameter block placed in DRAM through a caller-supplied allocator.
//
// Unsupported layers or parameters throw std::invalid_argument naming the
// network, the layer and what is supported.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "contract/command_format.h"
#include "sw/runtime/network.h"
#include "sw/runtime/quantization.h"
#include "sw/runtime/reference_kernels.h"

namespace npuvp::runtime {

struct QuantizationOptions {
  // Seed of generate_float_weights; ignored when the network already has float
  // weights.
  std::uint64_t weight_seed = 1;
  // Seed of the calibration input (uniform in [-1, 1), HWC), used when
  // `float_input` is empty.
  std::uint64_t input_seed = 2;
  std::vector<float> float_input;
  // Fuse ReLU/ReLU6 into the clamp of a conv/FC/add it is the only reader of.
  bool fuse_activations = true;
};

// One IR layer after quantization. Layers that only move data leave the
// conv-like fields empty.
struct QuantizedLayer {
  QuantParams output;  // parameters of this layer's output tensor
  // Conv2d, FullyConnected and a BatchNorm left after folding (run as a 1x1
  // depthwise conv): ConvParams with the input zero point (FC: a 1x1 conv over
  // the {C*H*W, 1, 1} flattening of its input), OHWI int8 weights, their
  // per-channel scales, int32 bias and the requantization with the clamp.
  ConvParams conv;
  std::vector<std::int8_t> weights;
  std::vector<float> weight_scales;
  std::vector<std::int32_t> bias;
  Requantization requant;
  // The activation fused into this conv/FC/add (its clamp).
  Activation activation = Activation::kNone;
  // For a ReLU/ReLU6 fused into its producer: the producer's index (the layer
  // emits no command and its output is the producer's tensor); -1 otherwise.
  int fused_into = -1;
  // The reference executor's output of this layer (HWC int8).
  std::vector<std::int8_t> expected;
};

struct QuantizedNetwork {
  Network network;                     // BatchNorm folded; the layer indices every other field uses
  std::vector<QuantizedLayer> layers;  // one per network layer
  std::vector<float> float_input;      // the calibration input (HWC)
  // The float network's output for float_input (the last layer, after fused
  // activations): what the int8 output approximates.
  std::vector<float> float_output;
  // The int8 network input: layers[0].expected.
  const std::vector<std::int8_t>& input() const { return layers.front().expected; }
};

// Quantizes `network` at its current input shape (call infer_shapes first for
// another resolution) and runs the reference executor.
QuantizedNetwork quantize_network(Network network, const QuantizationOptions& options = {});

// The reference executor alone: recomputes every layers[i].expected (except
// the input's, which it keeps) from the quantization already in `q`, for
// importers that bring their own scales and zero points. Conv-like layers
// need conv, weights, bias and requant set.
void compute_reference_outputs(QuantizedNetwork& q);

// ------------------------------------------------------------------ lowering

// Returns the DRAM address of a fresh buffer of `bytes` bytes.
using DramAllocator = std::function<std::uint64_t(std::uint64_t bytes)>;

struct LoweringOptions {
  firmware::DataflowChoice dataflow = firmware::DataflowChoice::kHybridLatency;  // of every kConv2d
};

struct DramRegion {
  std::uint64_t addr = 0;
  std::uint64_t bytes = 0;
};

// Bytes the host must write to DRAM before the commands run.
struct DramBlock {
  std::uint64_t addr = 0;
  std::vector<std::uint8_t> bytes;
};

struct LoweredLayer {
  std::size_t first_command = 0;  // into LoweredNetwork::commands
  std::size_t command_count = 0;  // 0 for the input, flatten and fused activations
  DramRegion output;              // where the layer's output tensor lives (HWC, packed)
};

struct LoweredNetwork {
  std::vector<firmware::LayerCommand> commands;  // in execution order
  std::vector<LoweredLayer> layers;              // one per IR layer
  std::vector<DramBlock> initial_data;           // the network input and every parameter block
  std::uint64_t allocated_bytes = 0;
};

LoweredNetwork lower_network(const QuantizedNetwork& q, const DramAllocator& alloc,
                             const LoweringOptions& options = {});

// The commands of a Shift layer: a depthwise conv of kernel 2r+1 (3x3 for the
// unit shifts of DiracDeltaNet) whose one-hot OHWI weights select each
// channel's source tap, with zero bias and the exact unit requantization
// (multiplier 2^30, shift 1, same zero point in and out). Exposed for tests.
struct ShiftAsConv {
  ConvParams conv;
  std::vector<std::int8_t> weights;
  Requantization requant;
};
ShiftAsConv shift_as_depthwise_conv(const std::vector<ChannelShift>& shifts, std::int32_t zero_point);

// The uniform average pool an adaptive average pool reduces to at input
// `in`, or throws std::invalid_argument naming the layer and the resolution.
PoolParams adaptive_pool_as_uniform(const Layer& layer, TensorShape in);

}  // namespace npuvp::runtime
