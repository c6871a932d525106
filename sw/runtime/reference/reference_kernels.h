#pragma once
// Independent reference kernels of the host runtime: every NPU output is checked
// bit-exactly against these. Plain C++ (no SystemC), batch 1, activations int8 in
// HWC layout (see tensor_shape.h), conv weights int8 OHWI = [out_ch][kh][kw][in_ch/groups]
// as TFLite, bias int32 per output channel, int32 accumulation, and the TFLite
// int8 requantization of quantization.h.
//
// Every kernel validates its arguments first and throws std::invalid_argument with a
// message that starts with the kernel name and names the offending parameter.
// Kernels allocate only their output and O(channels) scratch per call.

#include <cstdint>
#include <limits>
#include <vector>

#include "contract/conv_params.h"
#include "sw/runtime/ir/tensor_shape.h"
#include "sw/runtime/quantize/quantization.h"

namespace npuvp::runtime {

using contract::ConvWindow;
using contract::Padding;
using contract::Window;

// Convolution of any kernel, stride, padding, dilation and group count. Depthwise
// is groups == in_ch == out_ch (weights [ch][kh][kw][1]). The input zero point is
// subtracted from every input element; padded positions are the zero point (real 0),
// i.e. contribute nothing. out_channels must be set.
struct ConvParams : ConvWindow {
  std::int32_t input_zero_point = 0;
  int out_channels = 0;
};

// out.h = (h + pad.top + pad.bottom - dilation_h * (kernel_h - 1) - 1) / stride_h + 1,
// likewise out.w; out.c = out_channels. Throws if the parameters are invalid or
// the output would be empty.
TensorShape conv_output_shape(TensorShape in, const ConvParams& p);

// int8 conv: per output element acc = bias[k] + sum (x - input_zero_point) * w, then
// requantized with rq (per output channel). `bias` may be empty (all zero).
std::vector<std::int8_t> conv2d(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias,
                                const ConvParams& p, const Requantization& rq);

// The same convolution stopped before requantization: the int32 accumulators
// (bias included) in HWC layout, for checking partial sums.
std::vector<std::int32_t> conv2d_accumulators(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                              const std::vector<std::int8_t>& weights,
                                              const std::vector<std::int32_t>& bias, const ConvParams& p);

// Fully connected on the input flattened in its HWC order (as TFLite), weights
// [out_features][c*h*w]; output shape {out_features, 1, 1}. `bias` may be empty.
struct FullyConnectedParams {
  int out_features = 0;
  std::int32_t input_zero_point = 0;
};

std::vector<std::int8_t> fully_connected(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                         const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias,
                                         const FullyConnectedParams& p, const Requantization& rq);

// Pooling windows; input and output share quantization parameters (TFLite), the
// fused activation is the clamp. Padded positions are skipped (max, and average
// unless count_include_pad, when they count as the zero point in the divisor and
// sum, as PyTorch's default AvgPool2d). PyTorch's ceil_mode is extra bottom/right
// padding. Every window must overlap the input.
struct PoolParams : Window {
  bool count_include_pad = false;
  std::int32_t zero_point = 0;  // only used with count_include_pad
  std::int32_t act_min = -128, act_max = 127;
  // Average: an exact half rounds to even (the ONNX operators' rounding)
  // instead of away from zero (TFLite's, the NPU's).
  bool ties_to_even = false;
};

TensorShape pool_output_shape(TensorShape in, const PoolParams& p);

std::vector<std::int8_t> max_pool(const std::vector<std::int8_t>& input, TensorShape in_shape, const PoolParams& p);

// Window sum divided by the window count rounded half away from zero, as TFLite's
// int8 AVERAGE_POOL_2D: (sum +/- count/2) / count.
std::vector<std::int8_t> average_pool(const std::vector<std::int8_t>& input, TensorShape in_shape, const PoolParams& p);

// Average pool over the whole h x w map (output {c, 1, 1}), same rounding.
std::vector<std::int8_t> global_average_pool(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                             ActivationRange act = {});

// TFLite int8 ADD: both inputs offset by their zero points, shifted left by
// left_shift (20; int16 output parameters: 15, TFLite's int16 ADD), scaled to a common scale 2 * max(s1, s2), summed,
// rescaled to the output and clamped. Build it with make_add_params.
struct AddParams {
  int left_shift = 20;
  std::int32_t input1_offset = 0, input2_offset = 0, output_offset = 0;
  FixedPointMultiplier input1_multiplier{0, 0}, input2_multiplier{0, 0}, output_multiplier{0, 0};
  std::int32_t act_min = -128, act_max = 127;
};

AddParams make_add_params(QuantParams input1, QuantParams input2, QuantParams output,
                          Activation act = Activation::kNone);

// Element-wise residual add of two tensors of the same shape.
std::vector<std::int8_t> add(const std::vector<std::int8_t>& input1, const std::vector<std::int8_t>& input2,
                             TensorShape shape, const AddParams& p);

// A tensor rescaled from `in` to `out` quantization (TFLite int8 -> int8 QUANTIZE):
// out_zp + MultiplyByQuantizedMultiplier(x - in_zp, in.scale / out.scale), clamped.
std::vector<std::int8_t> requantize_tensor(const std::vector<std::int8_t>& input, QuantParams in, QuantParams out);

// A read-only view on one tensor, for kernels with a variable number of inputs.
struct TensorView {
  const std::vector<std::int8_t>* data;
  TensorShape shape;
};

// Concatenation along channels of tensors with equal h, w and the same
// quantization parameters, in the given order.
TensorShape concat_output_shape(const std::vector<TensorShape>& shapes);
std::vector<std::int8_t> concat_channels(const std::vector<TensorView>& inputs);

// ShuffleNet channel shuffle: channels viewed as [groups][c / groups], transposed
// to [c / groups][groups]: input channel g * (c / groups) + j goes to output
// channel j * groups + g. Shuffling with `groups` then with c / groups restores
// the input.
std::vector<std::int8_t> channel_shuffle(const std::vector<std::int8_t>& input, TensorShape shape, int groups);

// Shift of ShiftNet / DiracDeltaNet: channel k is moved by (dy, dx), i.e.
// out(y, x, k) = in(y - dy, x - dx, k), positions from outside the map read as
// `zero_point` (real 0). One entry per channel.
struct ChannelShift {
  int dy = 0, dx = 0;
};

std::vector<std::int8_t> shift_channels(const std::vector<std::int8_t>& input, TensorShape shape,
                                        const std::vector<ChannelShift>& shifts, std::int32_t zero_point);

// The grouped shift of ShiftNet for a kernel_size x kernel_size shift kernel: the
// channels are split into kernel_size^2 equal groups of c / kernel_size^2 channels,
// group i moved by (i / kernel_size - kernel_size / 2, i % kernel_size - kernel_size / 2)
// in raster order; the c % kernel_size^2 remaining channels are not moved.
// kernel_size must be odd and positive.
std::vector<ChannelShift> grouped_shifts(int channels, int kernel_size);

// Element-wise clamp to [act.min, act.max]: a standalone ReLU/ReLU6 on a tensor
// whose input and output share quantization parameters.
std::vector<std::int8_t> clamp(const std::vector<std::int8_t>& input, ActivationRange act);
std::vector<std::int8_t> relu(const std::vector<std::int8_t>& input, QuantParams q);
std::vector<std::int8_t> relu6(const std::vector<std::int8_t>& input, QuantParams q);

// Float references for quantization-error tests and the quantizer's
// calibration: input and weights as the int8 kernels, p.input_zero_point
// ignored, output clamped to [act_min, act_max], `bias` may be empty. They
// accumulate in float in a fixed order (bias first, then tap by tap): the
// calibrated ranges, hence every quantized network, depend on these bits.
// `storage`, if given, is a vector whose memory the output reuses (its
// values are ignored): a pass over a network hands each layer a freed one
// rather than fault in fresh pages for every output.
// `stored`, if given, receives the least and greatest value stored (NaNs
// passed over), which the calibration would otherwise read the output again
// for: at 1080x1920 a layer's output is up to 133 MB.
struct StoredRange {
  bool seen = false;  // set by the kernel that filled it
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
};
std::vector<float> conv2d_float(const std::vector<float>& input, TensorShape in_shape,
                                const std::vector<float>& weights, const std::vector<float>& bias, const ConvParams& p,
                                float act_min = -std::numeric_limits<float>::infinity(),
                                float act_max = std::numeric_limits<float>::infinity(), std::vector<float> storage = {},
                                StoredRange* stored = nullptr);

// The vector registers conv2d_float's convolutions that are not depthwise
// are written for: 16 floats (AVX-512), 8 (AVX2) or 4 (any CPU). Every one
// gives the same bits.
enum class FloatIsa { kPortable, kAvx2, kAvx512 };
// The widest this CPU has.
FloatIsa best_float_isa();
// best_float_isa(), unless force_float_isa chose another.
FloatIsa float_isa();
// A test seam: conv2d_float uses `isa` from now on; throws
// std::invalid_argument if this CPU does not have it.
void force_float_isa(FloatIsa isa);

std::vector<float> fully_connected_float(const std::vector<float>& input, TensorShape in_shape,
                                         const std::vector<float>& weights, const std::vector<float>& bias,
                                         int out_features, float act_min = -std::numeric_limits<float>::infinity(),
                                         float act_max = std::numeric_limits<float>::infinity());

// Max (average == false) or average pooling of a float tensor with the int8
// kernels' window rules, accumulating in double.
std::vector<float> pool_float(const std::vector<float>& input, TensorShape in_shape, const PoolParams& p, bool average);

}  // namespace npuvp::runtime
