#pragma once
// The reference executor: an IR network run layer by layer on the reference
// kernels, in float (the quantizer's calibration pass, see float_layer) and in
// int8 (every layer's expected output, see compute_reference_outputs). Also
// the kernel parameters of IR layers that the quantizer and the lowering share
// with it, with the checks of what the int8 kernels and the NPU support.

#include <string>
#include <utility>
#include <vector>

#include "sw/runtime/ir/network.h"
#include "sw/runtime/quantize/quantized_network.h"
#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime {

// Pool parameters of the max/avg pool layer `index` at input `in`; throws
// std::invalid_argument naming the layer for windows the kernels do not support.
PoolParams pool_params(const Network& n, int index, TensorShape in);

// The uniform average pool an adaptive average pool reduces to at input
// `in`, or throws std::invalid_argument naming the layer and the resolution.
PoolParams adaptive_pool_as_uniform(const Layer& layer, TensorShape in);

// A conv-like layer (is_conv_like) as the reference convolution sees it: its
// ConvParams (input zero point left 0), the input shape it convolves (FC: the
// {C*H*W, 1, 1} flattening) and its float weights OHWI + bias (an unfolded
// BatchNorm: a 1x1 depthwise conv of scale and shift).
struct ConvForm {
  ConvParams params;
  TensorShape in;
  const std::vector<float>* weights = nullptr;  // the layer's own, or bn_* below
  const std::vector<float>* bias = nullptr;
  std::vector<float> bn_weights, bn_bias;
};
ConvForm conv_form(const Network& n, int index);

// The clamp of a ReLU / ReLU6 applied to a float tensor (none: unchanged).
void apply_activation(std::vector<float>& x, Activation act);
// Its bounds, as conv2d_float's act_min and act_max (none: unbounded).
std::pair<float, float> activation_bounds(Activation act);

// The float output of layer `index` (not the input) from the outputs of its
// inputs (`act`, indexed by layer), with the activation `fused` into it; a
// convolution's in `storage`'s memory, its range into `stored` (conv2d_float).
std::vector<float> float_layer(const Network& n, int index, const std::vector<std::vector<float>>& act,
                               Activation fused, std::vector<float> storage = {}, StoredRange* stored = nullptr);

// Computes layers[i].expected (i > 0) from the expected outputs of its inputs
// and the quantization of i and its inputs (conv-like: conv, weights, bias and
// requant set): one step of compute_reference_outputs, for a caller that
// quantizes layer by layer.
void compute_reference_output(QuantizedNetwork& q, int i);

// Recomputes every layers[i].expected (except the input's, which it keeps)
// from the quantization in `q`. Conv-like layers need conv, weights, bias and
// requant set.
void compute_reference_outputs(QuantizedNetwork& q);

// Per layer, the last layer whose reference output reads its expected output
// (a fused ReLU's readers read its producer's), -1 for none; `fused_into` as
// QuantizedLayer::fused_into, per layer.
std::vector<int> last_reference_readers(const Network& n, const std::vector<int>& fused_into);

// Replaces layer i's expected output by its digest (expected_digest),
// freeing its memory; for a caller that only compares outputs with it.
void release_reference_output(QuantizedNetwork& q, int i);

// Releases every expected output but the network input's (the NPU's input)
// and the network output's.
void release_reference_outputs(QuantizedNetwork& q);

// Whether layer i's expected output stays when the others are released.
bool reference_output_kept(const QuantizedNetwork& q, int i);

}  // namespace npuvp::runtime
