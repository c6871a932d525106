// The firmware's tiling: every plan fits the SRAM and the cluster buffers,
// buffers do not overlap, and layers too large for any tiling are refused.
#include <gtest/gtest.h>

#include "firmware/firmware.h"

namespace npuvp::firmware {
namespace {

NpuLayout edge_ip() {
  NpuLayout l;
  l.clusters = 16;
  l.array_rows = l.array_cols = 8;
  l.cluster_weight_buffer_bytes = 64 * 1024;
  l.cluster_input_buffer_bytes = 128 * 1024;
  l.sram_base = 0x1000'0000;
  l.sram_bytes = 512 * 1024;
  return l;
}

LayerCommand conv(std::uint32_t c, std::uint32_t h, std::uint32_t w, std::uint32_t k, std::uint8_t kernel,
                  std::uint8_t stride, std::uint16_t pad) {
  LayerCommand l{};
  l.opcode = static_cast<std::uint32_t>(Opcode::kConv2d);
  l.groups = 1;
  l.in_c = c, l.in_h = h, l.in_w = w, l.out_c = k;
  l.kernel_h = l.kernel_w = kernel;
  l.stride_h = l.stride_w = stride;
  l.dilation_h = l.dilation_w = 1;
  l.pad_top = l.pad_left = l.pad_bottom = l.pad_right = pad;
  l.out_h = (h + 2 * pad - kernel) / stride + 1;
  l.out_w = (w + 2 * pad - kernel) / stride + 1;
  return l;
}

void expect_consistent(const LayerCommand& l, const NpuLayout& npu, const LayerTiling& t) {
  EXPECT_LE(t.bytes_used, npu.sram_bytes);
  EXPECT_LE(std::uint64_t{t.k_block} * l.kernel_h * l.kernel_w * l.in_c, npu.cluster_weight_buffer_bytes);
  EXPECT_GE(t.rows_per_tile, 1u);
  EXPECT_LE(t.rows_per_tile, l.out_h);
  EXPECT_LE(t.row_groups * t.k_groups, npu.clusters);
  EXPECT_GE(t.k_slice * t.k_groups, t.k_block);
  EXPECT_LT(t.weights_offset, t.bias_offset);
  EXPECT_LT(t.bias_offset, t.requant_offset);
  EXPECT_LT(t.requant_offset, t.input_offset[0]);
  EXPECT_LT(t.input_offset[0], t.input_offset[1]);
  EXPECT_LT(t.input_offset[1], t.output_offset[0]);
  EXPECT_LT(t.output_offset[0], t.output_offset[1]);
}

TEST(LayerTiling, TheSliceFitsWithWholeLayerWeights) {
  const auto l = conv(64, 56, 56, 64, 3, 1, 1);
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), t));
  expect_consistent(l, edge_ip(), t);
  EXPECT_EQ(t.k_block, 64u);
  EXPECT_EQ(t.rows_per_tile % 16, 0u);  // whole rows for every cluster
}

TEST(LayerTiling, WideLayersSplitOutputChannelsIntoBlocks) {
  const auto l = conv(512, 14, 14, 512, 3, 1, 1);  // 2.3 MB of weights
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), t));
  expect_consistent(l, edge_ip(), t);
  EXPECT_LT(t.k_block, 512u);
  EXPECT_EQ(t.k_block % 8, 0u);
}

TEST(LayerTiling, RefusesALayerNoTilingFits) {
  auto npu = edge_ip();
  npu.cluster_weight_buffer_bytes = 1024;
  const auto l = conv(512, 14, 14, 64, 3, 1, 1);  // one filter is 4.6 KB
  LayerTiling t;
  EXPECT_FALSE(plan_layer_tiling(l, npu, t));
  npu = edge_ip();
  npu.sram_bytes = 64 * 1024;
  const auto wide = conv(64, 2000, 2000, 64, 3, 1, 1);  // one input row is 128 KB
  EXPECT_FALSE(plan_layer_tiling(wide, npu, t));
}

}  // namespace
}  // namespace npuvp::firmware
