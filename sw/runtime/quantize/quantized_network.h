#pragma once
// A float network IR annotated with its int8 quantization: what the network
// quantizer (network_quantizer.h) or an importer with its own scales produces,
// what the reference executor fills with expected outputs and what the
// lowering turns into LayerCommands.

#include <cstdint>
#include <vector>

#include "sw/runtime/ir/network.h"
#include "sw/runtime/quantize/quantization.h"
#include "sw/runtime/quantize/tensor_digest.h"

namespace npuvp::runtime {

// One IR layer after quantization. Layers that only move data leave the
// conv-like fields empty.
struct QuantizedLayer {
  QuantParams output;  // parameters of this layer's output tensor
  // Conv2d, FullyConnected and a BatchNorm left after folding (run as a 1x1
  // depthwise conv): ConvParams with the input zero point (FC: a 1x1 conv
  // over the {C*H*W, 1, 1} flattening of its input), OHWI int8 weights, their
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
  // The reference executor's output of this layer (HWC int8); empty for a
  // fused ReLU, whose output is its producer's (QuantizedNetwork::expected):
  // a copy would double the memory the reference outputs hold. Empty too
  // once released to its digest (release_reference_output): a run checks
  // the NPU's outputs against digests, and holds only the values its
  // reference executor still reads (MobileNet v1 at 1080x1920: 200 MB less).
  std::vector<std::int8_t> expected;
  // The released values' digest; zero while they are held.
  TensorDigest expected_digest;
  // 4, 8 or 16: a conv-like layer's arithmetic (weights and both tensors),
  // any other layer's output tensor type. int16 weights and tensors (expected
  // outputs included) are held as stored, two bytes per value (int16_values.h).
  int bits = 8;
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
  // The layer holding layer i's expected output: a fused ReLU's producer, else i.
  int expected_holder(int i) const {
    const int producer = layers[static_cast<std::size_t>(i)].fused_into;
    return producer >= 0 ? producer : i;
  }
  // Layer i's expected output, a fused ReLU's its producer's; empty when released.
  const std::vector<std::int8_t>& expected(int i) const {
    return layers[static_cast<std::size_t>(expected_holder(i))].expected;
  }
  // Whether layer i's expected output was released to its digest.
  bool expected_released(int i) const {
    const QuantizedLayer& l = layers[static_cast<std::size_t>(expected_holder(i))];
    return l.expected.empty() && l.expected_digest.bytes != 0;
  }
  // Layer i's expected output's digest, held or released.
  TensorDigest expected_digest(int i) const {
    const QuantizedLayer& l = layers[static_cast<std::size_t>(expected_holder(i))];
    return l.expected.empty() ? l.expected_digest : digest_of(l.expected);
  }
};

// Frees every layer's int8 weights, for a further image of a batch: it
// shares the first image's (run_batch_on_npu), and its reference outputs are
// computed before (ResNet-50 at --batch 8: 178 MB of copies otherwise).
inline void drop_weights(QuantizedNetwork& q) {
  for (QuantizedLayer& l : q.layers) std::vector<std::int8_t>().swap(l.weights);
}

// Layers with weights, computed as a convolution (FC and an unfolded BatchNorm too).
inline bool is_conv_like(LayerType t) {
  return t == LayerType::kConv2d || t == LayerType::kFullyConnected || t == LayerType::kBatchNorm;
}

// The clamp of a standalone or fused ReLU / ReLU6 layer.
inline Activation activation_of(LayerType t) { return t == LayerType::kReLU6 ? Activation::kRelu6 : Activation::kRelu; }

}  // namespace npuvp::runtime
