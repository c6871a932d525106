#pragma once
// The arithmetic a PE cluster performs on one job, as the hardware does it:
// int8 × int8 products accumulated in int32 with the input zero point folded
// into a per-filter correction, then the post-processing unit's per-channel
// fixed-point requantization and clamp. Written independently of the host
// reference kernels, which check it.

#include <cstdint>
#include <vector>

#include "models/pe_array/cluster_regs.h"

namespace npuvp::pe_array {

struct RequantEntry {
  std::int32_t multiplier;
  std::int32_t shift;  // > 0 shifts left, < 0 right (TFLite convention)
};

// TFLite's int8 requantization: a saturating rounding doubling high multiply
// followed by a rounding right shift, exactly as the reference defines it.
std::int32_t requantize(std::int32_t acc, RequantEntry rq);

// Computes a job's outputs (out_h × out_w × k_count, HWC, packed) from a tile
// (in_h rows of in_w × in_c, packed) and its operands.
void run_conv_job(const ClusterJob& job, const std::int8_t* tile, const std::int8_t* weights,
                  const std::int32_t* bias, const RequantEntry* requant, std::int8_t* out);

}  // namespace npuvp::pe_array
