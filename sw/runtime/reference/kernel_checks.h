#pragma once
// Argument checks and window arithmetic the int8 and float reference kernels
// share. Every check throws std::invalid_argument starting with the kernel
// name (`where`) and naming the offending parameter.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime::kernel_checks {

[[noreturn]] void fail(const char* where, const std::string& what);
std::string to_string(TensorShape s);
void require_positive(const char* where, const char* name, int v);
void require_non_negative(const char* where, const char* name, int v);
void require_int8(const char* where, const char* name, std::int32_t v);
void require_shape(const char* where, const char* name, TensorShape s);
void require_size(const char* where, const char* name, std::size_t actual, std::size_t expected,
                  const std::string& because);
void require_act_range(const char* where, std::int32_t act_min, std::int32_t act_max);
void require_multiplier(const char* where, const char* name, FixedPointMultiplier m);

// Everything of a convolution that does not depend on the data vectors; the output shape.
TensorShape validate_conv(const char* where, TensorShape in, const ConvParams& p);
std::size_t conv_weight_count(TensorShape in, const ConvParams& p);

template <class T, class B>
void validate_conv_data(const char* where, const std::vector<T>& input, TensorShape in, const std::vector<T>& weights,
                        const std::vector<B>& bias, const ConvParams& p) {
  require_size(where, "input", input.size(), in.size(), "in_shape " + to_string(in));
  require_size(where, "weights", weights.size(), conv_weight_count(in, p),
               "OHWI: out_channels * kernel_h * kernel_w * in_shape.c / groups");
  if (!bias.empty()) require_size(where, "bias", bias.size(), static_cast<std::size_t>(p.out_channels), "out_channels");
}

// Kernel taps k in [lo, hi) whose input coordinate origin + k * dilation lies in [0, extent).
void valid_taps(int origin, int extent, int dilation, int kernel, int& lo, int& hi);

// Everything of a pooling window that does not depend on the data; the output shape.
TensorShape validate_pool(const char* where, TensorShape in, const PoolParams& p);

}  // namespace npuvp::runtime::kernel_checks
