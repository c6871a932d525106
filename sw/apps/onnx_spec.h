#pragma once
// The ONNX operator specification's arithmetic for a quantized layer, to say
// where the NPU's fixed-point requantizer differs from it. QLinearConv and
// QLinearMatMul define y = saturate(round_half_to_even(acc * M) + y_zero_point)
// with M = x_scale * w_scale / y_scale evaluated in float32; the NPU applies M
// as a 31-bit multiplier and a shift with gemmlowp's two roundings (ties away
// from zero), so an element whose accumulator lands on or next to a rounding
// tie can come out one code apart.

#include <cstdint>
#include <vector>

#include "sw/runtime/quantize/quantized_network.h"

namespace npuvp::apps {

// The ONNX spec's output of conv-like layer `index` (conv, FC, an unfolded
// BatchNorm) from `input`, its input tensor (HWC int8), with the layer's
// weights, bias, zero points and clamp.
std::vector<std::int8_t> onnx_spec_output(const runtime::QuantizedNetwork& q, int index,
                                          const std::vector<std::int8_t>& input);

// Per layer, how many elements of `outputs` (every layer's output as the NPU
// wrote it, HWC) differ from the spec's result computed from the NPU's own
// input to that layer. Only conv-like layers are counted; others get 0.
std::vector<std::size_t> onnx_spec_mismatches(const runtime::QuantizedNetwork& q,
                                              const std::vector<std::vector<std::int8_t>>& outputs);

}  // namespace npuvp::apps
