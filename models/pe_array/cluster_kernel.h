#pragma once
// The arithmetic a PE cluster performs on one job, as the hardware does it:
// integer products (int8, int4; int16) accumulated in int32 modulo 2^32 (int16:
// a 48-bit accumulator modulo 2^48) with
// the input zero point folded into a per-filter correction, fp16 products
// accumulated in fp32, the post-processing unit's per-channel fixed-point
// requantization and clamp, and its pooling and add datapaths.
// Written independently of the host reference kernels, which check it.

#include <cstdint>
#include <limits>

#include "contract/cluster_regs.h"

namespace npuvp::pe_array {

struct RequantEntry {
  std::int32_t multiplier;
  std::int32_t shift;  // > 0 shifts left, < 0 right (TFLite convention)
};

// TFLite's int8 requantization: a saturating rounding doubling high multiply
// followed by a rounding right shift, exactly as the reference defines it.
// Inline: the kernels call it once per output element, and the call cost
// about as much as its arithmetic.
inline std::int32_t requantize(std::int32_t acc, RequantEntry rq) {
  const int left = rq.shift > 0 ? rq.shift : 0;
  const int right = rq.shift > 0 ? 0 : -rq.shift;
  // The 32-bit left shift wraps, as a 32-bit shifter does (TFLite leaves the
  // overflow undefined; its reference wraps on two's-complement machines).
  const auto a32 = static_cast<std::int32_t>(static_cast<std::uint32_t>(acc) << left);
  // Doubling high multiply: round(a*b / 2^31), saturating the one overflow case.
  std::int32_t high;
  if (a32 == std::numeric_limits<std::int32_t>::min() && rq.multiplier == std::numeric_limits<std::int32_t>::min()) {
    high = std::numeric_limits<std::int32_t>::max();
  } else {
    const std::int64_t product = static_cast<std::int64_t>(a32) * rq.multiplier;
    const std::int64_t nudge = product >= 0 ? (std::int64_t{1} << 30) : (1 - (std::int64_t{1} << 30));
    high = static_cast<std::int32_t>((product + nudge) / (std::int64_t{1} << 31));
  }
  if (right == 0) return high;
  // Rounding shift right, ties away from zero.
  const std::int32_t mask = static_cast<std::int32_t>((std::int64_t{1} << right) - 1);
  const std::int32_t remainder = high & mask;
  const std::int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
  return (high >> right) + (remainder > threshold ? 1 : 0);
}
// The int16 requantization of a 48-bit accumulator: TFLite's
// MultiplyByQuantizedMultiplier for int64 (the multiplier rounded to 15 bits,
// one rounding shift of 15 - shift), saturated to int32.
std::int32_t requantize48(std::int64_t acc, RequantEntry rq);

// Tile, weights and results are the bytes of elements of job.datatype
// (little-endian); bias is int32, or the bits of an fp32 for fp16.
struct JobOperands {
  const std::int8_t* tile = nullptr;   // in_h rows of in_row_pitch bytes
  const std::int8_t* tile2 = nullptr;  // kAdd: the second input, same geometry
  const std::int8_t* weights = nullptr;
  const std::int32_t* bias = nullptr;
  const RequantEntry* requant = nullptr;
  // A convolution with kJobFuseAdd: the residual, out_h × out_w × k_count int8, packed.
  const std::int8_t* residual = nullptr;
  // kJobAccumulate: the sums a kJobHoldSums job left (out_h × out_w ×
  // k_count, HWC), which this job's start from instead of the bias.
  const std::int64_t* sums = nullptr;
  // kJobHoldSums: where the job's sums go instead of its results.
  std::int64_t* held = nullptr;
};

// How the integer convolutions are computed on the host: the portable scalar
// code, or the host's vector int8 units. Every path gives the same bits.
enum class KernelPath { kScalar, kAvx2, kAvx512 };

const char* kernel_path_name(KernelPath path);
// Whether this CPU (and OS) can run the path.
bool kernel_path_supported(KernelPath path);
// The path a name (scalar, avx2, avx512) selects; throws std::invalid_argument
// naming NPUVP_KERNEL on an unknown name or one this CPU cannot run.
KernelPath parse_kernel_path(const char* name);
// The environment's NPUVP_KERNEL if set, else the fastest supported path.
// Decided once per process.
KernelPath kernel_path();

// Computes a job's outputs: out_h × out_w × k_count elements, HWC, packed.
void run_job(const ClusterJob& job, const JobOperands& in, std::int8_t* out);
void run_job(const ClusterJob& job, const JobOperands& in, std::int8_t* out, KernelPath path);

}  // namespace npuvp::pe_array
