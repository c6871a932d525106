#pragma once
// The cluster kernel's integer convolutions on the host's vector units.
// The arithmetic is the scalar kernel's, reordered only where a sum modulo
// 2^32 does not care: every product is exact and every accumulation wraps.

#include <cstddef>
#include <cstdint>
#include <limits>

#include "models/pe_array/cluster_kernel.h"

namespace npuvp::pe_array {

// TFLite ADD of int8 elements, as cluster_kernel.cpp's add_channels: each
// input less its zero point, shifted left and requantized, the two summed,
// requantized, put around out_zero and clamped to [lo, hi].
struct AddTerms {
  RequantEntry in1, in2, out;
  std::int32_t in1_zero, in2_zero, out_zero, lo, hi;
  std::int32_t left_shift;
};

// One ISA's inner loops. Operand rows are `bytes` long, a multiple of
// kRowAlign, zero-filled past their elements.
struct VectorIsa {
  // acc[j] += patch · filters[j] for j < count, filters[j] at j × bytes:
  // unsigned × signed bytes (null when the ISA has no such instruction)
  void (*dot_u8s8)(const std::uint8_t* patch, const std::uint8_t* filters, std::size_t bytes, std::size_t count,
                   std::uint32_t* acc);
  // int16 × int16
  void (*dot_s16)(const std::uint8_t* patch, const std::uint8_t* filters, std::size_t bytes, std::size_t count,
                  std::uint32_t* acc);
  // Depthwise: acc[k] += Σ_v (x_v[k] − zp) × weights[tap_index[v] × stride + k]
  // for k < k_count, x_v the int8 or int16 elements at taps[v]; acc and each
  // weight row hold stride ≥ k_count rounded up to kLanes entries.
  void (*depthwise)(const std::int8_t* const* taps, const int* tap_index, int valid, unsigned element_bytes,
                    const std::int32_t* weights, std::size_t stride, std::uint32_t k_count, std::int32_t zp,
                    std::uint32_t* acc);
  // One byte per result: out[k] = clamp(requantize(acc[k], rq[k]) + zp, lo,
  // hi) for k < count (cluster_kernel.h's requantize), for |zp| at most
  // kVectorZeroPointLimit and [lo, hi] within int8 (null: the scalar loop).
  void (*requantize_bytes)(const std::uint32_t* acc, const RequantEntry* rq, std::uint32_t count, std::int32_t zp,
                           std::int32_t lo, std::int32_t hi, std::int8_t* out);
  // out[k] = a[k] + b[k] as AddTerms says, for k < count, for the terms
  // vector_add_fits() admits (null: the scalar loop). out may be a.
  void (*add_bytes)(const std::int8_t* a, const std::int8_t* b, std::size_t count, const AddTerms& terms,
                    std::int8_t* out);
};

// The zero points requantize_bytes takes: a result is clamped to ±2^24
// before the zero point is added, which changes no clamped output while
// |zp| stays far below that (int8 zero points are within ±128).
inline constexpr std::int32_t kVectorZeroPointLimit = 1 << 16;

// The adds add_bytes takes: no input less its zero point overflows 32 bits
// when shifted (the scalar's arithmetic is then defined and the lanes' the
// same), and the output stage's zero point and clamp as requantize_bytes's.
inline bool vector_add_fits(const AddTerms& t) {
  const auto fits = [&](std::int32_t zero) {
    return zero >= -kVectorZeroPointLimit && zero <= kVectorZeroPointLimit &&
           (std::int64_t{128} + (zero < 0 ? -std::int64_t{zero} : std::int64_t{zero})) << t.left_shift <=
               std::numeric_limits<std::int32_t>::max();
  };
  return t.left_shift >= 0 && t.left_shift <= 22 && fits(t.in1_zero) && fits(t.in2_zero) &&
         t.out_zero >= -kVectorZeroPointLimit && t.out_zero <= kVectorZeroPointLimit && t.lo >= -128 && t.hi <= 127 &&
         t.lo <= t.hi;
}

inline constexpr std::size_t kRowAlign = 64;
inline constexpr std::size_t kLanes = 16;

// The ISA of a vector path, or nullptr (the scalar path, or a host that is not x86-64).
const VectorIsa* vector_isa(KernelPath path);

// An int8, int4 or int16 convolution job, as the scalar kernel computes it.
void conv_vector(const ClusterJob& job, const JobOperands& in, std::int8_t* out, const VectorIsa& isa);

}  // namespace npuvp::pe_array
