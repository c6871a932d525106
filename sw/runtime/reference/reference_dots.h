#pragma once
// The int8 reference convolution's inner loops: dot products of int16 copies of
// int8 activations and weights, written as plain loops that the compiler
// vectorizes (int16 products summed pairwise into int32 lanes: pmaddwd), each
// compiled for several x86 ISAs and picked when the program loads, so that one
// binary runs on any x86-64 (and on other CPUs without the clones). They share
// nothing with the cluster kernel (models/pe_array), which they check.

#include <cstddef>
#include <cstdint>

namespace npuvp::runtime::reference_dots {

// out_p[j] += sum over i < n of x_p[i] * w_j[i], for the two pixels p and the four
// weight rows j: each activation and weight loaded is used two or four times.
void dot_2x4(const std::int16_t* x0, const std::int16_t* x1, const std::int16_t* const w[4], int n, std::int32_t* out0,
             std::int32_t* out1);

// The same for one pixel.
void dot_1x4(const std::int16_t* x, const std::int16_t* const w[4], int n, std::int32_t* out);

// One dot product.
std::int32_t dot_1x1(const std::int16_t* x, const std::int16_t* w, int n);

// acc[i] += x[i] * w[i] for i < n: a depthwise tap over contiguous channels.
void multiply_accumulate(const std::int8_t* x, const std::int8_t* w, int n, std::int32_t* acc);

// out[k] = requantize(acc[k], {multiplier[k], shift[k]}, rq) for k < n (quantization.h),
// each step written without branches or 64-bit shifts by a variable so that
// the loop vectorizes: one output pixel's channels.
void requantize_channels(const std::int32_t* acc, const std::int32_t* multiplier, const std::int32_t* shift, int n,
                         std::int32_t zero_point, std::int32_t act_min, std::int32_t act_max, std::int8_t* out);

// The residual add's steps (AddParams, reference_kernels.h): the multipliers
// and shifts of input 1, input 2 and the output.
struct AddSteps {
  int left_shift;
  std::int32_t input1_offset, input2_offset, output_offset;
  std::int32_t multiplier[3], shift[3];
  std::int32_t act_min, act_max;
};

// out[i] = the add of x1[i] and x2[i] for i < n, written as requantize_channels.
void add_elements(const std::int8_t* x1, const std::int8_t* x2, std::size_t n, const AddSteps& p, std::int8_t* out);

}  // namespace npuvp::runtime::reference_dots
