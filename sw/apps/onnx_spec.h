#pragma once
// The ONNX operator specification's arithmetic for a quantized layer, to say
// where the NPU's fixed-point arithmetic differs from it. QLinearConv and
// QLinearMatMul define y = saturate(round_half_to_even(acc * M) + y_zero_point)
// with M = x_scale * w_scale / y_scale evaluated in float32; the NPU applies M
// as a 31-bit multiplier and a shift with gemmlowp's two roundings (ties away
// from zero), so an element whose accumulator lands on or next to a rounding
// tie can come out one code apart.

#include <cstdint>
#include <optional>
#include <vector>

#include "sw/runtime/quantize/quantized_network.h"

namespace npuvp::apps {

// The ONNX specification's output of layer `index` from `outputs` (every
// layer's output as the NPU wrote it, HWC), or nothing for a layer it does
// not count:
// - conv, FC, an unfolded BatchNorm: QLinearConv / QLinearMatMul as above;
// - add: DequantizeLinear of both inputs, Add and QuantizeLinear, in float32
//   (the QDQ form; the NPU adds as TFLite's int8 ADD does, in fixed point);
// - average pools (windowed, adaptive, global): the real values' average
//   quantized with the input's parameters, i.e. the codes' window average
//   rounded half to even (the NPU rounds half away from zero).
// A fused activation clamps each result as it clamps the NPU's.
std::optional<std::vector<std::int8_t>> onnx_spec_output(const runtime::QuantizedNetwork& q, int index,
                                                         const std::vector<std::vector<std::int8_t>>& outputs);

// Per layer, how many elements of `outputs` differ from the spec's result
// computed from the NPU's own inputs to that layer; 0 for layers not counted
// (max pool, concat, reshapes: they move codes without arithmetic).
std::vector<std::size_t> onnx_spec_mismatches(const runtime::QuantizedNetwork& q,
                                              const std::vector<std::vector<std::int8_t>>& outputs);

}  // namespace npuvp::apps
