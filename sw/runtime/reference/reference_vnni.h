#pragma once
// The int8 reference convolution on AVX-512 VNNI, where the CPU has it:
// vpdpbusd sums four unsigned 8-bit by signed 8-bit products into each int32
// lane, so the inputs are offset by 128 to unsigned (the caller subtracts
// 128 times the weight sums of the valid taps, as it does the zero point)
// and the weights are reordered to 16 output channels by 4 input channels
// per vector. Integer sums: the same bits as the portable dot products
// (reference_dots.h). Written for the reference alone; it shares nothing with
// the cluster kernel (models/pe_array), which it checks.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime::reference_vnni {

// The instruction set of the reference convolutions that are not depthwise.
enum class Isa { kPortable, kAvx512Vnni };

// The widest this CPU has.
Isa best_isa();
// best_isa(), unless force_isa chose another.
Isa active_isa();
// A test seam: the convolutions use `isa` from now on; throws
// std::invalid_argument if this CPU does not have it.
void force_isa(Isa isa);

// A convolution that is not depthwise, prepared once: its weights as
// [group][16-channel block][tap][4-channel quad][16][4] (zero beyond the
// group's channels) and its input offset to unsigned, padded by a quad so
// that a window's last quad may read past the tensor.
class DenseConv {
 public:
  DenseConv(const std::vector<std::int8_t>& input, TensorShape in, const std::vector<std::int8_t>& weights,
            const ConvParams& p, TensorShape out);

  // raw[ox * out_channels + k] = sum over the valid taps of output pixel
  // (oy, ox) of (x + 128) * w, for every pixel of output row oy.
  void row(int oy, std::int32_t* raw) const;

 private:
  TensorShape in_, out_;
  ConvParams p_;
  int ocg_, blocks_, quads_;
  std::vector<std::uint8_t> x_;
  std::vector<std::int8_t> w_;
};

}  // namespace npuvp::runtime::reference_vnni
