#pragma once
// The int8 reference convolutions that are not depthwise, on the host's
// vector units where it has them. Both paths sum (x + 128) × w, the inputs
// offset by 128 to unsigned (the caller subtracts 128 times the weight sums
// of the valid taps, as it does the zero point), with the weights reordered
// once per layer to a block of output channels by a group of input channels
// per vector, and an input group broadcast to every lane:
//  - AVX-512 VNNI: vpdpbusd sums four unsigned 8-bit by signed 8-bit products
//    into each int32 lane, 16 output channels by 4 input channels a vector;
//  - AVX2: vpmaddwd sums two int16 products into each int32 lane, the inputs
//    and weights widened to int16, 8 output channels by 2 input channels a
//    vector.
// Integer sums modulo 2^32: the same bits as the portable dot products
// (reference_dots.h). Written for the reference alone; it shares nothing with
// the cluster kernel (models/pe_array), which it checks.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime::reference_simd {

// The instruction set of the reference convolutions that are not depthwise.
enum class Isa { kPortable, kAvx2, kAvx512Vnni };

// The widest this CPU has.
Isa best_isa();
// best_isa(), unless force_isa chose another.
Isa active_isa();
// A test seam: the convolutions use `isa` from now on; throws
// std::invalid_argument if this CPU does not have it.
void force_isa(Isa isa);

// A convolution that is not depthwise, prepared once for an instruction set
// other than kPortable: its weights as [group][channel block][tap][input
// group][lane][input group's values] (zero beyond the group's channels) and
// its input offset to unsigned (widened to int16 for AVX2), padded by an
// input group so that a window's last group may read past the tensor.
class DenseConv {
 public:
  DenseConv(Isa isa, const std::vector<std::int8_t>& input, TensorShape in, const std::vector<std::int8_t>& weights,
            const ConvParams& p, TensorShape out);

  // raw[ox * out_channels + k] = sum over the valid taps of output pixel
  // (oy, ox) of (x + 128) * w, for every pixel of output row oy.
  void row(int oy, std::int32_t* raw) const;

 private:
  Isa isa_;
  TensorShape in_, out_;
  ConvParams p_;
  int lanes_, group_;  // output channels a block holds, input channels a lane sums per instruction
  int ocg_, blocks_, groups_per_tap_;
  std::vector<std::uint8_t> x_;  // AVX-512 VNNI: bytes; AVX2: int16 values, two bytes each
  std::vector<std::uint8_t> w_;  // AVX-512 VNNI: int8 values; AVX2: int16 values
};

}  // namespace npuvp::runtime::reference_simd
