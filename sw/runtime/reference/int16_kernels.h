#pragma once
// The reference kernels of int16 layers: tensors and weights as stored, two
// bytes per value little-endian (sw/runtime/quantize/int16_values.h), HWC,
// weights OHWI. The arithmetic is TFLite's for int16 activations: products
// summed exactly (here modulo 2^48, the NPU's accumulator width; TFLite sums
// in int64) and requantized by multiply_by_quantized_multiplier_int64; pooling
// as the int8 kernels; ADD with left_shift 15. Written apart from the cluster
// kernel, which they check. Arguments are checked as the int8 kernels check
// them (reference_kernels.h); sizes count values, not bytes.

#include <cstdint>
#include <vector>

#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime {

std::vector<std::int8_t> conv2d_int16(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                      const std::vector<std::int8_t>& weights, const std::vector<std::int32_t>& bias,
                                      const ConvParams& p, const Requantization& rq);

std::vector<std::int8_t> max_pool_int16(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                        const PoolParams& p);
std::vector<std::int8_t> average_pool_int16(const std::vector<std::int8_t>& input, TensorShape in_shape,
                                            const PoolParams& p);

// Build p with make_add_params on int16 parameters (left_shift 15).
std::vector<std::int8_t> add_int16(const std::vector<std::int8_t>& input1, const std::vector<std::int8_t>& input2,
                                   TensorShape shape, const AddParams& p);

std::vector<std::int8_t> clamp_int16(const std::vector<std::int8_t>& input, ActivationRange act);

// Channel shuffle and shift as channel_shuffle and shift_channels (zero point 0).
std::vector<std::int8_t> channel_shuffle_int16(const std::vector<std::int8_t>& input, TensorShape shape, int groups);
std::vector<std::int8_t> shift_channels_int16(const std::vector<std::int8_t>& input, TensorShape shape,
                                              const std::vector<ChannelShift>& shifts);

// The view of an int16 tensor of `s` as a tensor of 2·s.c int8 channels: what
// concatenation, slicing and channel padding (with zero point 0) move alike.
inline TensorShape as_byte_channels(TensorShape s) { return {2 * s.c, s.h, s.w}; }

}  // namespace npuvp::runtime
