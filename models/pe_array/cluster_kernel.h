#pragma once
// The arithmetic a PE cluster performs on one job, as the hardware does it:
// int8 × int8 products accumulated in int32 with the input zero point folded
// into a per-filter correction, the post-processing unit's per-channel
// fixed-point requantization and clamp, and its pooling and add datapaths.
// Written independently of the host reference kernels, which check it.

#include <cstdint>

#include "models/pe_array/cluster_regs.h"

namespace npuvp::pe_array {

struct RequantEntry {
  std::int32_t multiplier;
  std::int32_t shift;  // > 0 shifts left, < 0 right (TFLite convention)
};

// TFLite's int8 requantization: a saturating rounding doubling high multiply
// followed by a rounding right shift, exactly as the reference defines it.
std::int32_t requantize(std::int32_t acc, RequantEntry rq);

struct JobOperands {
  const std::int8_t* tile = nullptr;   // in_h rows of in_row_pitch bytes
  const std::int8_t* tile2 = nullptr;  // kAdd: the second input, same geometry
  const std::int8_t* weights = nullptr;
  const std::int32_t* bias = nullptr;
  const RequantEntry* requant = nullptr;
};

// Computes a job's outputs: out_h × out_w × k_count, HWC, packed.
void run_job(const ClusterJob& job, const JobOperands& in, std::int8_t* out);

}  // namespace npuvp::pe_array
