#pragma once
// ONNX import (Debian's libonnx protobuf definitions): a float ONNX model
// becomes a float Network IR (quantized later by quantize_network), a
// quantized one (QDQ or QLinear* operators) becomes a QuantizedNetwork that
// keeps the model's own scales and zero points.
//
// Layout mapping: ONNX activations are NCHW with batch 1 and become our CHW
// shapes (data HWC, tensor_shape.h); conv weights OIHW become OHWI; FC weights
// over a flattened NCHW tensor are permuted from ONNX's CHW flattening order to
// our HWC order. A 2-D [1, N] tensor is the shape {N, 1, 1}.
//
// Supported operators (float and, between QuantizeLinear/DequantizeLinear,
// quantized): Conv (groups, dilations, pads, strides, auto_pad, bias), Gemm
// (transA 0, alpha = beta = 1, transB 0 or 1), MatMul with a constant [K, N]
// weight (an Add of a constant [N] that is MatMul's only reader becomes its
// bias), Relu, Clip (min 0, max 6 or none: ReLU6 / ReLU; attributes or
// constant inputs), MaxPool, AveragePool (count_include_pad, ceil_mode),
// GlobalAveragePool, Add of two activations, Concat (channel axis), Flatten
// (axis 1), Reshape to [N, -1] (a flatten) or to its input's shape (a no-op),
// the channel shuffle Reshape [1, g, C/g, H, W] -> Transpose (0, 2, 1, 3, 4)
// -> Reshape [1, C, H, W], BatchNormalization (float models), Identity and
// Dropout (inference: pass-through). Quantized models also: QuantizeLinear,
// DequantizeLinear (per-tensor, or per-channel on the output-channel axis of a
// weight), QLinearConv, QLinearMatMul, and com.microsoft QLinearAdd and
// QLinearGlobalAveragePool.
//
// Every error throws std::invalid_argument whose message starts with the file
// path, and for a node names it and its operator type, e.g.
//   "m.onnx: node 'lstm1' (LSTM): operator not supported; supported: Conv, ..."

#include <cstdint>
#include <string>
#include <vector>

#include "sw/runtime/ir/network.h"
#include "sw/runtime/quantize/network_quantizer.h"

namespace npuvp::runtime {

// The float network of an ONNX model without quantization operators. The
// network is named after the file's stem; layers after the ONNX nodes (their
// output tensor's name when a node has none). Initializers become the layers'
// float weights; the graph input's shape (batch 1, NCHW float) becomes the
// network input. The graph must have one input and one output, the output
// being produced by the last imported node.
Network import_onnx_float(const std::string& path);

// A quantized ONNX model (int8; uint8 activations are converted exactly by
// moving the zero point by -128, uint8 weights only when their zero point is
// 128) taken with its own scales and zero points:
// - weights: the model's int8 values and per-channel (or per-tensor) scales,
//   which must have zero point 0 (symmetric, as the NPU's kernels);
// - biases: the model's int32 values when their scale is input_scale *
//   weight_scale (as ONNX requires), otherwise requantized to it; float
//   biases are quantized;
// - activations: the QuantizeLinear parameters of every tensor. A Relu/Clip
//   that is the only reader of a conv/FC/add whose output is not yet quantized
//   is fused into its clamp. Where a tensor is re-quantized with different
//   parameters (e.g. a pool's output, which our int8 pools keep at their
//   input's), a 1x1 depthwise conv "<layer>_requant" with unit weights is
//   inserted; inputs of a Concat with differing parameters are requantized to
//   the concat output's.
// The network input (float_input, HWC) is seeded uniform random over the
// input's representable range; layers[i].expected come from
// compute_reference_outputs. There is no float network: float_output holds
// the reference executor's int8 output, dequantized.
QuantizedNetwork import_onnx_quantized(const std::string& path, std::uint64_t input_seed = 2);

// True when the model holds QuantizeLinear, DequantizeLinear or QLinear*
// operators (import it with import_onnx_quantized).
bool onnx_model_is_quantized(const std::string& path);

// Either import: a quantized model with its own parameters, a float one
// through quantize_network(import_onnx_float(path), options).
QuantizedNetwork import_onnx(const std::string& path, const QuantizationOptions& options = {});

// The operator types import_onnx_float / import_onnx_quantized accept.
std::vector<std::string> onnx_supported_operators(bool quantized);

}  // namespace npuvp::runtime
