#pragma once
// How the planner and the estimate see a cluster job of a layer: its shape
// for the contract's cost functions and the array features that shape them.
// Internal to the firmware library (layer_plan.cpp, layer_cost.cpp).

#include <cstdint>

#include "contract/operand_fetches.h"
#include "contract/systolic_timing.h"
#include "firmware/hal.h"
#include "firmware/layer_geometry.h"

namespace npuvp::firmware {

// A cluster job of `rows` output rows of `width` columns (0: the whole
// width) and `k_count` output channels of a convolution, as the contract's
// cost functions see it (convolution rows: with a fused pool, those its
// pooled rows need).
inline pe_array::ConvJobShape job_shape(const LayerCommand& l, std::uint32_t rows, std::uint32_t k_count,
                                        std::uint32_t width = 0) {
  const std::uint64_t group_out = l.groups > 1 ? l.out_c / l.groups : k_count;
  const std::uint64_t group_in = l.in_c / l.groups;
  const std::uint32_t cols = width == 0 ? conv_width(l) : width;
  return {k_count / group_out,
          {std::uint64_t{rows} * cols, group_out, filter_elements(l)},
          group_in == 1 && group_out == 1,
          {rows, cols, l.kernel_h, l.kernel_w, l.stride_h, l.stride_w, l.dilation_h, l.dilation_w}};
}

inline pe_array::ArrayFeatures features(const NpuLayout& npu) {
  return {npu.preload_overlap, npu.depthwise_channel_parallel};
}

inline bool packed_int4(const LayerCommand& l, const NpuLayout& npu) {
  return npu.int4_packing && l.datatype == static_cast<std::uint32_t>(Datatype::kInt4);
}

}  // namespace npuvp::firmware
