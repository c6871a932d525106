// The firmware's tiling: every plan fits the SRAM and the cluster buffers,
// buffers do not overlap, and layers too large for any tiling are refused.
#include <array>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "contract/address_map.h"
#include "firmware/firmware.h"
#include "firmware/layer_geometry.h"

namespace npuvp::firmware {
namespace {

constexpr auto kWs = pe_array::Dataflow::kWeightStationary;
constexpr auto kOs = pe_array::Dataflow::kOutputStationary;
constexpr auto kOs2d = pe_array::Dataflow::kSpatialOutputStationary;
constexpr auto kBlocksOuter = LoopOrder::kWeightBlocksOuter;
constexpr auto kTilesOuter = LoopOrder::kRowTilesOuter;

NpuLayout edge_ip() {
  NpuLayout l;
  l.clusters = 16;
  l.array_rows = l.array_cols = 8;
  l.cluster_weight_buffer_bytes = 64 * 1024;
  l.cluster_input_buffer_bytes = 64 * 1024;
  l.sram_base = address_map::kSramBase;
  l.sram_bytes = 512 * 1024;
  l.depthwise_channel_parallel = true;
  // edge-ip's prices (firmware_cost_table of configs/platforms/edge-ip.yaml, rounded).
  l.costs.dram_bytes_per_cycle = 38.4;
  l.costs.link_bytes_per_cycle = 32;
  l.costs.dram_pj_per_byte = 38;
  l.costs.sram_pj_per_byte = 4.95;
  l.costs.noc_pj_per_byte_hop = 0.5;
  l.costs.dma_hops = 3;
  l.costs.cluster_hops = 2.5;
  l.costs.rf_pj_per_access = 0.12;
  l.costs.weight_buffer_pj_per_byte = 5.0;
  l.costs.input_buffer_pj_per_byte = 5.5;
  l.costs.mac_pj[0] = 0.3;
  l.costs.static_pj_per_cycle = 255;
  return l;
}

// The neighbours of a layer whose first weights load behind `ahead` cycles
// of the layer before's tail.
Neighbours behind(std::uint64_t ahead) {
  Neighbours n;
  n.ahead_cycles = ahead;
  return n;
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
  // Each cluster holds its slice of the K block (the block may span several).
  EXPECT_LE(std::uint64_t{t.k_slice} * l.kernel_h * l.kernel_w * l.in_c, npu.cluster_weight_buffer_bytes);
  EXPECT_GE(t.rows_per_tile, 1u);
  EXPECT_LE(t.rows_per_tile, l.out_h);
  EXPECT_LE(t.row_groups * t.k_groups, npu.clusters);
  EXPECT_GE(t.k_slice * t.k_groups, t.k_block);
  const unsigned weight_buffers = t.order == LoopOrder::kRowTilesOuter ? 2 : 1;
  for (unsigned b = 0; b < weight_buffers; ++b) {
    EXPECT_LT(t.weights_offset[b], t.bias_offset[b]);
    EXPECT_LT(t.bias_offset[b], t.requant_offset[b]);
  }
  // The second weight buffer begins an interleave chunk of its own (with the
  // banks back to back, a bank of its own, so that the DMA never writes into
  // a bank the clusters read the first one from).
  if (weight_buffers == 2) {
    EXPECT_EQ(t.weights_offset[1] % npu.sram_interleave_bytes, 0u);
    EXPECT_LT(t.requant_offset[0], t.weights_offset[1]);
  }
  EXPECT_LT(t.requant_offset[weight_buffers - 1], t.input_offset[0]);
  // A batch held whole in one input buffer has no second one.
  if (t.images_per_tile == std::max(1u, l.batch_count) && t.images_per_tile > 1)
    EXPECT_EQ(t.input_offset[0], t.input_offset[1]);
  else
    EXPECT_LT(t.input_offset[0], t.input_offset[1]);
  EXPECT_LT(t.input_offset[1], t.output_offset[0]);
  EXPECT_LT(t.output_offset[0], t.output_offset[1]);
}

TEST(LayerTiling, TheSliceFitsWithWholeLayerWeights) {
  const auto l = conv(64, 56, 56, 64, 3, 1, 1);
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kBlocksOuter, t));
  expect_consistent(l, edge_ip(), t);
  EXPECT_EQ(t.k_block, 64u);
  EXPECT_EQ(t.rows_per_tile % 16, 0u);  // whole rows for every cluster
}

TEST(LayerTiling, WideLayersSplitOutputChannelsIntoBlocks) {
  const auto l = conv(512, 14, 14, 512, 3, 1, 1);  // 2.3 MB of weights
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kBlocksOuter, t));
  expect_consistent(l, edge_ip(), t);
  EXPECT_LT(t.k_block, 512u);
  EXPECT_EQ(t.k_block % 8, 0u);
}

TEST(LayerTiling, RefusesALayerNoTilingFits) {
  auto npu = edge_ip();
  npu.cluster_weight_buffer_bytes = 1024;
  const auto l = conv(512, 14, 14, 64, 3, 1, 1);  // one filter is 4.6 KB
  LayerTiling t;
  EXPECT_FALSE(plan_layer_tiling(l, npu, kBlocksOuter, t));
  npu = edge_ip();
  npu.sram_bytes = 64 * 1024;
  const auto wide = conv(64, 2000, 2000, 64, 3, 1, 1);  // one input row is 128 KB
  EXPECT_FALSE(plan_layer_tiling(wide, npu, kBlocksOuter, t));
}

TEST(LayerTiling, HugeOutputRowsShrinkTheKBlock) {
  // One output row of all 4096 channels (458 KB, double-buffered) cannot fit.
  const auto l = conv(16, 112, 112, 4096, 1, 1, 0);
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kBlocksOuter, t));
  expect_consistent(l, edge_ip(), t);
  EXPECT_LT(t.k_block, 4096u);
}

// A 65535-pixel-wide row of one channel leaves room for one row per tile, so
// 65535 row tiles; two output channels fit one K block, eight need four. The
// cost walk of such plans took minutes (the command_stream fuzzer's timeouts).
TEST(LayerTiling, RefusesAPlanOfMoreThanTheMaximumSteps) {
  LayerTiling t;
  const auto two = conv(1, 65535, 65535, 2, 1, 1, 0);
  ASSERT_TRUE(plan_layer_tiling(two, edge_ip(), kBlocksOuter, t));
  EXPECT_EQ(t.rows_per_tile, 1u);
  EXPECT_EQ(t.k_block, 2u);  // 65535 steps: within kMaxLayerSteps
  const auto eight = conv(1, 65535, 65535, 8, 1, 1, 0);
  EXPECT_FALSE(plan_layer_tiling(eight, edge_ip(), kBlocksOuter, t));  // 4 × 65535 steps
  DataflowCosts costs;
  EXPECT_FALSE(plan_dataflows(eight, edge_ip(), Objective::kLatency, costs));
  auto two_images = two;
  two_images.batch_count = 2;
  EXPECT_FALSE(plan_layer_tiling(two_images, edge_ip(), kBlocksOuter, t));  // 2 × 65535 steps
}

// A batch-1 fully connected layer's whole-buffer tilings on edge-ip, row
// tiles outer, output stationary: its K block capped by one cluster's weight
// buffer (`one`) and by all the clusters' slices (`sliced`).
void plan_fc_blocks(const LayerCommand& fc, LayerTiling& one, LayerTiling& sliced) {
  ASSERT_TRUE(
      plan_layer_tiling_within(fc, edge_ip(), edge_ip().sram_bytes, kTilesOuter, one, kOs, KBlockCap::kOneCluster));
  ASSERT_TRUE(plan_layer_tiling_within(fc, edge_ip(), edge_ip().sram_bytes, kTilesOuter, sliced, kOs,
                                       KBlockCap::kClusterSlices));
  expect_consistent(fc, edge_ip(), one);
  expect_consistent(fc, edge_ip(), sliced);
}

// Batch-1 fully connected layers as the firmware runs them (a 1x1
// convolution of a 1x1 map): one row, so the clusters split each K block into
// slices, one per cluster, each holding its slice's filters.
// - ResNet-50's fc (2 KiB filters): capped by one cluster's 64 KiB, a block
//   is 32 filters, 16 slices of 2: 2 of a cluster's 64 MACs busy. Capped by
//   the slices, it grows to a quarter of the SRAM, 56 filters in 14 slices of
//   4 (8 KiB each, the block past one cluster's buffer).
// - AlexNet's classifier.1 (9 KiB filters): one cluster's 64 KiB holds 7, so
//   the one-cluster block is 7 slices of 1 and leaves 9 clusters idle. The
//   block capped by the slices holds 8, in 8 slices: more slices than the
//   one-cluster block's, which the rule for smaller budgets' tilings (no more
//   slices than the whole buffer's) had kept it from being offered; the run
//   measures 5,504,141 → 4,818,912 cycles.
// The estimate takes the larger block in both.
TEST(LayerTiling, AFullyConnectedBlockMaySpanTheClustersWeightBuffers) {
  struct Case {
    std::uint32_t in_c, out_c, one_block, one_slices, block, slices, slice;
  };
  for (const Case& c : {Case{2048, 1000, 32, 16, 56, 14, 4}, Case{9216, 4096, 7, 7, 8, 8, 1}}) {
    SCOPED_TRACE(c.in_c);
    const auto fc = conv(c.in_c, 1, 1, c.out_c, 1, 1, 0);
    LayerTiling one, sliced;
    plan_fc_blocks(fc, one, sliced);
    EXPECT_EQ(one.k_block, c.one_block);
    EXPECT_EQ(one.k_groups, c.one_slices);
    EXPECT_EQ(sliced.k_block, c.block);
    EXPECT_EQ(sliced.k_groups, c.slices);
    EXPECT_EQ(sliced.k_slice, c.slice);
    DataflowCosts costs;
    ASSERT_TRUE(plan_dataflows(fc, edge_ip(), Objective::kLatency, costs));
    const DataflowPlan& os = costs.plan(kOs);
    ASSERT_TRUE(os.candidate);
    EXPECT_EQ(os.tiling.k_block, c.block);
    EXPECT_EQ(os.tiling.k_groups, c.slices);
    EXPECT_LT(os.cost.latency_cycles, estimate_layer_cost(fc, edge_ip(), one, kOs).latency_cycles);
  }
  EXPECT_GT(std::uint64_t{56} * 2048, edge_ip().cluster_weight_buffer_bytes);
}

// A slice over one cluster's weight buffer is refused, not run: with a
// 16 KiB buffer the 2 KiB filters fit 8 to a slice, so the 16 slices of the
// one row's block hold at most 128 filters.
TEST(LayerTiling, NoSliceExceedsOneClustersWeightBuffer) {
  auto npu = edge_ip();
  npu.cluster_weight_buffer_bytes = 16 * 1024;
  const auto fc = conv(2048, 1, 1, 1000, 1, 1, 0);
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling_within(fc, npu, npu.sram_bytes, kTilesOuter, t, kOs, KBlockCap::kClusterSlices));
  expect_consistent(fc, npu, t);
  EXPECT_EQ(t.k_block, 56u);  // the SRAM's quarter binds first
  npu.clusters = 4;           // 4 slices of at most 8 filters
  ASSERT_TRUE(plan_layer_tiling_within(fc, npu, npu.sram_bytes, kTilesOuter, t, kOs, KBlockCap::kClusterSlices));
  expect_consistent(fc, npu, t);
  EXPECT_EQ(t.k_block, 32u);
  EXPECT_EQ(t.k_slice, 8u);
}

// Blocks streamed into the clusters from the first step on
// (KBlockCap::kStreamedSlots) hold no weight in SRAM, so the SRAM's quarter
// no longer bounds them: each slice fills a streamed slot, half a cluster's
// 64 KiB weight buffer.
// - AlexNet's classifier.1 (9 KiB filters): 3 filters a slot, 16 slices of
//   3. Its best SRAM-bound plan is the array's (8 filters a block, one a
//   cluster: about 9,216 cycles a step against 1,900 for the block's bytes
//   at the DRAM's rate), so the planner offers the streamed blocks, and the
//   estimate takes them (the run: 4,818,912 -> 1,235,706 cycles).
// - ResNet-50's fc (2 KiB filters): its best plan is the DRAM's, so none
//   is offered: the larger blocks would only give up loading the first one
//   during the layer before (63,281 -> 71,710 cycles, measured).
// - Eight images of AlexNet's classifier.1 folded into one row (the
//   runtime's fold of a batch, docs/memory.md): 8 x 9,216 input bytes pass a
//   cluster's 64 KiB input buffer, so the row goes in two strips of 4.
TEST(LayerTiling, AStreamedBlockIsBoundByTheClustersSlotsNotTheGlobalBuffer) {
  auto npu = edge_ip();
  npu.stream_weights = true;
  const auto alexnet = conv(9216, 1, 1, 4096, 1, 1, 0);
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling_within(alexnet, npu, npu.sram_bytes, kTilesOuter, t, kOs, KBlockCap::kStreamedSlots));
  EXPECT_EQ(t.k_block, 48u);
  EXPECT_EQ(t.k_slice, 3u);
  EXPECT_EQ(t.k_groups, 16u);
  EXPECT_EQ(t.row_groups, 1u);
  EXPECT_EQ(t.cols_per_tile, 0u);
  EXPECT_LE(std::uint64_t{t.k_slice} * 9216, npu.cluster_weight_buffer_bytes / 2);
  EXPECT_EQ(t.bias_offset[0], t.weights_offset[0]);  // no weight byte in SRAM
  EXPECT_EQ(t.bias_offset[1], t.weights_offset[1]);
  EXPECT_LE(t.bytes_used, npu.sram_bytes);
  EXPECT_GT(std::uint64_t{t.k_block} * 9216, npu.sram_bytes / 4);
  DataflowCosts costs;
  ASSERT_TRUE(plan_dataflows(alexnet, npu, Objective::kLatency, costs));
  EXPECT_TRUE(costs.plan(kOs).tiling.stream_first_step);
  EXPECT_TRUE(costs.plan(kOs).tiling.stream_weights);
  EXPECT_EQ(costs.plan(kOs).tiling.k_block, 48u);

  const auto resnet50 = conv(2048, 1, 1, 1000, 1, 1, 0);
  ASSERT_TRUE(plan_dataflows(resnet50, npu, Objective::kLatency, costs));
  EXPECT_FALSE(costs.plan(kOs).tiling.stream_first_step);
  EXPECT_EQ(costs.plan(kOs).tiling.k_block, 56u);
  ASSERT_TRUE(plan_layer_tiling_within(resnet50, npu, npu.sram_bytes, kTilesOuter, t, kOs, KBlockCap::kStreamedSlots));
  EXPECT_EQ(t.k_block, 256u);  // 16 slots of 16 filters: offered it would have been larger

  // VGG-16's classifier.0 (24.5 KiB filters): a slot holds one whole, and
  // the whole filters' streamed plan is still the array's, so their input
  // channels split into 7 runs of 3,584, 8 filters' runs to a slot.
  const auto vgg16 = conv(25088, 1, 1, 4096, 1, 1, 0);
  ASSERT_TRUE(plan_dataflows(vgg16, npu, Objective::kLatency, costs));
  EXPECT_EQ(costs.plan(kOs).tiling.reduction_chunks, 7u);
  EXPECT_EQ(costs.plan(kOs).tiling.k_block, 128u);
  EXPECT_EQ(costs.plan(kOs).tiling.k_slice, 8u);
  EXPECT_LE(8u * chunk_channels(vgg16, costs.plan(kOs).tiling), npu.cluster_weight_buffer_bytes / 2);
  ASSERT_TRUE(plan_dataflows(alexnet, npu, Objective::kLatency, costs));
  EXPECT_EQ(costs.plan(kOs).tiling.reduction_chunks, 1u);  // its whole filters' blocks are the DRAM's

  const auto eight = conv(9216, 1, 8, 4096, 1, 1, 0);
  EXPECT_FALSE(plan_layer_tiling_within(eight, npu, npu.sram_bytes, kTilesOuter, t, kOs, KBlockCap::kStreamedSlots));
  ASSERT_TRUE(plan_layer_tiling_within(eight, npu, npu.sram_bytes, kTilesOuter, t, kOs, KBlockCap::kStreamedSlots, 2));
  EXPECT_EQ(t.cols_per_tile, 4u);
  EXPECT_EQ(t.k_block, 48u);
  ASSERT_TRUE(plan_dataflows(eight, npu, Objective::kLatency, costs));
  EXPECT_TRUE(costs.plan(kOs).tiling.stream_first_step);
  EXPECT_EQ(costs.plan(kOs).tiling.cols_per_tile, 4u);
}

std::uint64_t weight_bytes(const LayerCommand& l) {
  return std::uint64_t{l.out_c} * (std::uint64_t{l.kernel_h} * l.kernel_w * l.in_c + 12);
}
std::uint64_t tensor_bytes(std::uint32_t c, std::uint32_t h, std::uint32_t w) { return std::uint64_t{c} * h * w; }

TEST(DataflowCost, RowTilesOuterReadsTheInputOnceAndTheWeightsPerTile) {
  const auto l = conv(256, 14, 14, 512, 3, 1, 1);  // 1.2 MB of weights: several K blocks
  LayerTiling blocks_outer, tiles_outer;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kBlocksOuter, blocks_outer));
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kTilesOuter, tiles_outer));
  expect_consistent(l, edge_ip(), blocks_outer);
  expect_consistent(l, edge_ip(), tiles_outer);
  EXPECT_EQ(blocks_outer.order, LoopOrder::kWeightBlocksOuter);
  EXPECT_EQ(tiles_outer.order, LoopOrder::kRowTilesOuter);
  ASSERT_EQ(tiles_outer.rows_per_tile, 14u);  // one tile: the whole image
  const std::uint64_t blocks = (l.out_c + blocks_outer.k_block - 1) / blocks_outer.k_block;
  ASSERT_GT(blocks, 1u);
  const std::uint64_t in = tensor_bytes(256, 14, 14), out = tensor_bytes(512, 14, 14);
  const auto ws = estimate_layer_cost(l, edge_ip(), blocks_outer, kWs);
  const auto os = estimate_layer_cost(l, edge_ip(), tiles_outer, kOs);
  // Blocks outer reads the input once per K block, tiles outer once; both
  // read every weight once (one tile).
  EXPECT_EQ(ws.dram_bytes, weight_bytes(l) + blocks * in + out);
  EXPECT_EQ(os.dram_bytes, weight_bytes(l) + in + out);
  EXPECT_EQ(ws.macs, os.macs);
  EXPECT_EQ(ws.macs, std::uint64_t{14} * 14 * 512 * 9 * 256);
}

TEST(DataflowCost, ABatchPassesEachWeightBlockOnceForAllImagesTheBuffersHold) {
  auto l = conv(256, 14, 14, 512, 3, 1, 1);
  l.batch_count = 8;
  LayerTiling blocks_outer, tiles_outer;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kBlocksOuter, blocks_outer));
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kTilesOuter, tiles_outer));
  expect_consistent(l, edge_ip(), tiles_outer);
  ASSERT_EQ(tiles_outer.rows_per_tile, 14u);
  const std::uint64_t blocks = (l.out_c + blocks_outer.k_block - 1) / blocks_outer.k_block;
  ASSERT_GT(blocks, 1u);
  const std::uint64_t in = tensor_bytes(256, 14, 14), out = tensor_bytes(512, 14, 14);
  // Tiles outer: each input buffer holds whole images, 2 × 3 × 49 KiB next to
  // two 1.2 MB / blocks weight buffers and two output buffers in 512 KiB
  // (eight images would not fit in one).
  EXPECT_EQ(tiles_outer.images_per_tile, 3u);
  EXPECT_EQ(tiles_outer.input_slot_bytes, in);
  EXPECT_EQ(tiles_outer.input_offset[1] - tiles_outer.input_offset[0], 3 * in);
  EXPECT_LE(tiles_outer.bytes_used, edge_ip().sram_bytes);
  const auto ws = estimate_layer_cost(l, edge_ip(), blocks_outer, kWs);
  const auto os = estimate_layer_cost(l, edge_ip(), tiles_outer, kOs);
  // Blocks outer: each K block's weights once for the eight images, every
  // image's input once per block. Tiles outer: the weights once per input
  // buffer (images 0-2, 3-5, then 6-7), every input once.
  EXPECT_EQ(ws.dram_bytes, weight_bytes(l) + 8 * blocks * in + 8 * out);
  EXPECT_EQ(os.dram_bytes, 3 * weight_bytes(l) + 8 * in + 8 * out);
  EXPECT_EQ(ws.macs, 8 * std::uint64_t{14} * 14 * 512 * 9 * 256);
  EXPECT_EQ(os.macs, ws.macs);
}

TEST(DataflowCost, ABatchOneInputBufferHoldsTakesOnePassOfTheWeights) {
  auto l = conv(256, 14, 14, 512, 3, 1, 1);
  l.batch_count = 4;
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kTilesOuter, t));
  expect_consistent(l, edge_ip(), t);
  // 4 × 49 KiB fit in the room of the two buffers: no group follows, so one
  // buffer holds them all.
  EXPECT_EQ(t.images_per_tile, 4u);
  EXPECT_EQ(t.input_offset[0], t.input_offset[1]);
  const std::uint64_t in = tensor_bytes(256, 14, 14), out = tensor_bytes(512, 14, 14);
  EXPECT_EQ(t.output_offset[0], t.input_offset[0] + 4 * in);
  EXPECT_EQ(estimate_layer_cost(l, edge_ip(), t, kOs).dram_bytes, weight_bytes(l) + 4 * in + 4 * out);
}

// The firmware loads a layer's first K block's weights during the layer
// before's last step (layer_prefetch.cpp): the estimate takes their load's
// time off, up to the layer before's tail, and still counts their bytes.
TEST(DataflowCost, TheFirstWeightsLoadBehindTheLayerBeforesTail) {
  const auto l = conv(256, 14, 14, 512, 3, 1, 1);
  for (const LoopOrder order : {kBlocksOuter, kTilesOuter}) {
    LayerTiling t;
    ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), order, t));
    const LayerCost alone = estimate_layer_cost(l, edge_ip(), t, kOs);
    const LayerCost behind_short = estimate_layer_cost(l, edge_ip(), t, kOs, behind(100));
    const LayerCost behind_long = estimate_layer_cost(l, edge_ip(), t, kOs, behind(alone.latency_cycles));
    EXPECT_EQ(alone.latency_cycles - behind_short.latency_cycles, 100u);
    const std::uint64_t weights_load = alone.latency_cycles - behind_long.latency_cycles;
    EXPECT_GT(weights_load, 100u);
    EXPECT_LT(weights_load, alone.latency_cycles / 2);
    EXPECT_EQ(estimate_layer_cost(l, edge_ip(), t, kOs, behind(weights_load)).latency_cycles,
              behind_long.latency_cycles);
    EXPECT_EQ(behind_long.dram_bytes, alone.dram_bytes);
    EXPECT_GT(alone.tail_cycles, 0u);
    EXPECT_LT(alone.tail_cycles, alone.latency_cycles);
  }
}

TEST(DataflowCost, AHeldGroupOfImagesLoadsInOneChainTheLoadChannelsSlotsHold) {
  // ResNet-18's layer4.1.conv2, its residual fused: two descriptors an image.
  auto l = conv(512, 7, 7, 512, 3, 1, 1);
  l.fuse = static_cast<std::uint32_t>(Fuse::kAdd);
  l.batch_count = 8;
  EXPECT_EQ(image_load_descriptors(l), 2u);
  EXPECT_EQ(dma_slots(l), 3u + 2 * 8);
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kTilesOuter, t));
  expect_consistent(l, edge_ip(), t);
  const std::uint64_t image = tensor_bytes(512, 7, 7);
  EXPECT_EQ(t.images_per_tile, 8u);
  EXPECT_EQ(t.input_slot_bytes, image);
  EXPECT_EQ(t.input2_slot_bytes, image);  // every channel of the residual
  EXPECT_EQ(t.input2_offset[0], t.input_offset[0] + 8 * image);
  // A gathered input's chain holds one image (five descriptors a segment):
  // its images go one at a time.
  l.fuse = 0;
  l.input_segment_count = 2;
  EXPECT_EQ(dma_slots(l), 3u + 5 * 2);
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kTilesOuter, t));
  EXPECT_EQ(t.images_per_tile, 1u);
  // One image, a plain input: the eight slots there always were.
  l.input_segment_count = 0;
  l.batch_count = 1;
  EXPECT_EQ(dma_slots(l), 8u);
}

TEST(DataflowCost, RowTilesOuterStepsShareAPassOfTheWeightsAmongAnInputBuffersTiles) {
  const auto steps = row_tiles_outer_steps(5, 2, 3);
  const std::vector<std::array<std::uint32_t, 5>> expected{
      {0, 0, 0, 1, 1}, {1, 0, 0, 0, 0}, {2, 0, 0, 0, 0}, {0, 1, 1, 1, 0}, {1, 1, 1, 0, 0},
      {2, 1, 1, 0, 0}, {3, 0, 2, 1, 1}, {4, 0, 2, 0, 0}, {3, 1, 3, 1, 0}, {4, 1, 3, 0, 0}};
  ASSERT_EQ(steps.size(), expected.size());
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& s = steps[i];
    EXPECT_EQ((std::array<std::uint32_t, 5>{s.tile, s.block, s.pass, s.loads_weights, s.loads_inputs}), expected[i])
        << i;
  }
}

// Which jobs keep their input rows (kJobKeepInput): a step after a step of
// the same tile, a job whose cluster keeps its row group. 200 output
// channels in K blocks of 96 are slices of 32: 3, 3 and 1 (the last block's
// 8 channels). Two tiles, one a pass: each tile's first step keeps nothing.
// Three images a pass: consecutive steps are other images' tiles.
TEST(DataflowCost, AJobKeepsItsRowsAfterAStepOfItsTileThatGaveItsClusterTheSameRows) {
  const auto l = conv(64, 8, 8, 200, 1, 1, 0);
  LayerTiling t;
  t.k_block = 96, t.k_slice = 32;
  const auto steps = row_tiles_outer_steps(2, 3, 1);
  std::vector<std::uint32_t> before;
  for (std::size_t i = 0; i < steps.size(); ++i) before.push_back(slices_keeping_rows(l, edge_ip(), t, steps, i));
  EXPECT_EQ(before, (std::vector<std::uint32_t>{0, 3, 3, 0, 3, 3}));
  auto off = edge_ip();
  off.keep_input_rows = false;
  for (std::size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(slices_keeping_rows(l, off, t, steps, i), 0u) << i;
  const auto batch = row_tiles_outer_steps(3, 3, 3);
  for (std::size_t i = 0; i < batch.size(); ++i) EXPECT_EQ(slices_keeping_rows(l, edge_ip(), t, batch, i), 0u) << i;
  // Job c of a step of s slices is row group c / s.
  EXPECT_TRUE(keeps_rows(4, 3, 3));
  EXPECT_FALSE(keeps_rows(4, 3, 0));
  // Last block, one slice a row group, after three: job 0 stays row group 0,
  // job 1 was row group 0's second slice and is now row group 1.
  EXPECT_TRUE(keeps_rows(0, 1, 3));
  EXPECT_FALSE(keeps_rows(1, 1, 3));
  EXPECT_TRUE(keeps_rows(3, 3, 3));
}

// A layer's last step and last store run while the DMA loads the next
// layer's first weights (layer_prefetch.cpp). SqueezeNet 1.1's
// fire9.expand1x1 (64 -> 256 channels, 13 x 13, its outputs 256 of each
// pixel's 512 bytes in the concatenation), walked rows outer in two blocks
// of 128, stores block 0's results in 128-byte runs beside the first 112
// filters of fire9.expand3x3 (3 x 3 x 64 bytes, bias and requantization
// each: the next layer's plan behind this one's tail), and block 1's after
// them. With DMA round trips of 60 cycles (edge-ip's are about that) the
// step's store then outlasts its jobs, and both its tail and its latency
// grow by the same 576 cycles; its DRAM bytes are its own. The one block of
// 256 walked blocks outer computes for longer than the loads take: it pays
// nothing.
TEST(DataflowCost, TheNextLayersFirstLoadsShareTheDramWithTheLastStores) {
  NpuLayout npu = edge_ip();
  npu.costs.dma_load_latency_cycles = npu.costs.dma_store_latency_cycles = 60;
  npu.costs.dma_descriptor_cycles = 30;
  auto l = conv(64, 13, 13, 256, 1, 1, 0);
  l.output_pixel_pitch = 512;
  const auto next = conv(64, 13, 13, 256, 3, 1, 1);
  DataflowCosts alone;
  ASSERT_TRUE(plan_dataflows(l, npu, Objective::kLatency, alone));
  const DataflowPlan& p = alone.plan(kOs);
  ASSERT_EQ(p.tiling.order, kTilesOuter);
  ASSERT_EQ(p.tiling.k_block, 128u);
  DataflowCosts next_plan;
  ASSERT_TRUE(plan_dataflows(next, npu, Objective::kLatency, next_plan, behind(p.cost.tail_cycles)));
  ASSERT_EQ(next_plan.plan(kOs).tiling.k_block, 112u);
  const DmaStream loads = next_first_loads(next, npu, next_plan.plan(kOs).tiling);
  EXPECT_EQ(loads.bytes, 112u * (576 + 4 + 8));
  const LayerCost beside = estimate_layer_cost(l, npu, p.tiling, kOs, Neighbours{0, loads});
  EXPECT_EQ(beside.latency_cycles, p.cost.latency_cycles + 576);
  EXPECT_EQ(beside.tail_cycles, p.cost.tail_cycles + 576);
  EXPECT_EQ(beside.dram_bytes, p.cost.dram_bytes);
  ASSERT_TRUE(p.has_other_order);
  EXPECT_EQ(p.other_tiling.k_block, 256u);
  EXPECT_EQ(estimate_layer_cost(l, npu, p.other_tiling, kOs, Neighbours{0, loads}).latency_cycles,
            p.other.latency_cycles);
  // Pooling has no weights: nothing to load.
  LayerCommand pool = next;
  pool.opcode = static_cast<std::uint32_t>(Opcode::kMaxPool);
  EXPECT_EQ(next_first_loads(pool, npu, next_plan.plan(kOs).tiling).bursts, 0u);
}

// Two chains started at once: the later one ends when concurrent_cycles
// says, the earlier one sooner, and a chain beside nothing as alone.
TEST(DataflowCost, EachOfTwoChainsAtTheDramEndsInItsOwnTime) {
  NpuLayout npu = edge_ip();
  npu.costs.dma_load_latency_cycles = npu.costs.dma_store_latency_cycles = 60;
  const DmaModel load_model(npu, false), store_model(npu, true);
  DmaStream load, store;
  load_model.add(load, 1, 256 * 1024, 0, 0, address_map::kSramBase, 0);
  store_model.add(store, 169, 128, address_map::kSramBase, 128, 0, 512);
  const double both = load_model.concurrent_cycles(load, store);
  const DmaModel::Ends ends = load_model.ends(load, store);
  EXPECT_EQ(ends.load, both);
  EXPECT_LT(ends.store, both);
  EXPECT_GT(ends.store, store_model.cycles(store));
  EXPECT_EQ(load_model.ends(DmaStream{}, store).store, store_model.cycles(store));
  // What is left of a chain: its bursts alike, a chain of its own.
  const DmaStream half = rest_of(load, 0.5);
  EXPECT_EQ(half.bursts, load.bursts / 2);
  EXPECT_EQ(half.bytes, load.bytes / 2);
  EXPECT_EQ(half.descriptors, 1u);
  EXPECT_EQ(rest_of(load, 1).bursts, 0u);
}

TEST(DataflowCost, OneWeightBlockPlansAndMovesTheSameEitherWay) {
  const auto l = conv(64, 56, 56, 64, 3, 1, 1);
  auto largest = edge_ip();  // both dataflows on the largest tiling that fits
  largest.smaller_tilings = false;
  DataflowCosts c;
  ASSERT_TRUE(plan_dataflows(l, largest, Objective::kLatency, c));
  EXPECT_EQ(c.plan(kOs).tiling.order, LoopOrder::kWeightBlocksOuter);
  EXPECT_EQ(c.plan(kOs).tiling.rows_per_tile, c.plan(kWs).tiling.rows_per_tile);
  EXPECT_EQ(c.plan(kWs).cost.dram_bytes, c.plan(kOs).cost.dram_bytes);
  EXPECT_EQ(c.plan(kWs).cost.sram_bytes, c.plan(kOs).cost.sram_bytes);
}

// A larger weight buffer still offers the K blocks a smaller one would
// choose (layer_choice.cpp). MobileNet v1's conv_pw_7 (512 -> 512 channels,
// 14 x 14) with 64 KiB per cluster runs blocks of 64 filters, rows outer,
// its clusters keeping their input rows from block to block (89,672 cycles
// estimated alone; 128 filters at 91,763 before they kept them); with 128
// or 256 KiB only each order's largest block was offered before: 248
// filters, blocks outer, 108,264.
TEST(DataflowCost, ALargerWeightBufferStillOffersTheBlocksASmallerOneChooses) {
  const auto l = conv(512, 14, 14, 512, 1, 1, 0);
  DataflowCosts base;
  ASSERT_TRUE(plan_dataflows(l, edge_ip(), Objective::kLatency, base));
  EXPECT_EQ(base.plan(kOs).tiling.k_block, 64u);
  EXPECT_EQ(base.plan(kOs).tiling.order, kTilesOuter);
  for (const std::uint32_t kib : {128u, 256u}) {
    auto larger = edge_ip();
    larger.cluster_weight_buffer_bytes = kib * 1024;
    DataflowCosts c;
    ASSERT_TRUE(plan_dataflows(l, larger, Objective::kLatency, c));
    EXPECT_TRUE(c.plan(kOs).tiling == base.plan(kOs).tiling) << kib << " KiB";
    EXPECT_EQ(c.plan(kOs).cost.latency_cycles, base.plan(kOs).cost.latency_cycles) << kib << " KiB";
    // Each order's largest block alone, as before.
    larger.smaller_tilings = false;
    ASSERT_TRUE(plan_dataflows(l, larger, Objective::kLatency, c));
    EXPECT_EQ(c.plan(kOs).tiling.k_block, 248u) << kib << " KiB";
    EXPECT_GT(c.plan(kOs).cost.latency_cycles, base.plan(kOs).cost.latency_cycles) << kib << " KiB";
  }
}

TEST(DataflowCost, TheDramBandwidthDecidesOutputStationarysLoopOrder) {
  // 8192 1x1 filters over a 7x7 tile: walking the row tiles outer overlaps
  // each K block's weight load with compute but reads the weights once per
  // tile; walking the K blocks outer reads them once and the small input per
  // block, with each block's load exposed.
  // The whole buffer's tilings only: a smaller weight buffer's blocks (1024
  // filters, not 4096) leave the global buffer room for all 7 rows, one row
  // tile whose weights are read once either way (631,568 DRAM bytes against
  // 860,944 for two tiles of 4 rows).
  const auto l = conv(16, 7, 7, 8192, 1, 1, 0);
  auto npu = edge_ip();
  npu.smaller_tilings = false;
  DataflowCosts c;
  ASSERT_TRUE(plan_dataflows(l, npu, Objective::kLatency, c));
  ASSERT_TRUE(c.plan(kOs).has_other_order);
  EXPECT_EQ(c.plan(kOs).tiling.order, LoopOrder::kRowTilesOuter);
  EXPECT_EQ(c.plan(kOs).other_tiling.order, LoopOrder::kWeightBlocksOuter);
  EXPECT_LT(c.plan(kOs).cost.latency_cycles, c.plan(kOs).other.latency_cycles);
  EXPECT_GT(c.plan(kOs).cost.dram_bytes, c.plan(kOs).other.dram_bytes);
  // A DRAM a tenth as fast makes the bytes count more than the overlap.
  auto slow = npu;
  slow.costs.dram_bytes_per_cycle = 3.84;
  ASSERT_TRUE(plan_dataflows(l, slow, Objective::kLatency, c));
  EXPECT_EQ(c.plan(kOs).tiling.order, LoopOrder::kWeightBlocksOuter);
  EXPECT_LT(c.plan(kOs).cost.dram_bytes, c.plan(kOs).other.dram_bytes);
  // Weight-stationary picks its own order by the same estimate.
  EXPECT_EQ(c.plan(kWs).tiling.order, LoopOrder::kWeightBlocksOuter);
}

TEST(DataflowCost, AStoreOfPixelRunsIsBoundByTheDmaBurstWindow) {
  // One tile of 8 x 8 pixels x 64 channels (4096 bytes) stored after
  // everything else, from SRAM offset 11136 (896 past a kilobyte: 7296 of
  // descriptor slots and job tables, 1792 of weights and parameters, two
  // 1024-byte input buffers). Packed, the DMA reads it in bursts cut at the
  // source's kilobytes (128, 1024, 1024, 1024, 896 bytes) and writes them in
  // 8 pieces cut at the destination's: 136 flits with their headers, round
  // trips 5 x 50 + 128 data flits + 4096 / 38.4 = 484.67 cycles (96.93
  // each); the flits bound it: 136 + 96.93 = 232.93. Into a slice of a
  // 128-channel tensor it is 64 bursts of 64 bytes (192 flits), each round
  // trip 50 + 2 + 64 / 38.4 = 53.67 plus the 7 bursts ahead of it in the
  // window at the DRAM's rate (7 x 64 / 38.4 = 11.67); over 8 in flight they
  // take 64 x 65.33 / 8 = 522.67: the window bounds it, 289.73 cycles more.
  auto npu = edge_ip();
  npu.costs.dma_load_latency_cycles = npu.costs.dma_store_latency_cycles = 50;
  npu.costs.dma_outstanding = 8;
  npu.costs.dma_burst_bytes = 1024;
  auto packed = conv(16, 8, 8, 64, 1, 1, 0);
  packed.output_addr = 0x80000000;
  auto slice = packed;
  slice.output_pixel_pitch = 128;
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(packed, npu, kBlocksOuter, t, kOs));
  ASSERT_EQ(t.output_offset[0], 11136u);
  const LayerCost a = estimate_layer_cost(packed, npu, t, kOs), b = estimate_layer_cost(slice, npu, t, kOs);
  EXPECT_EQ(a.dram_bytes, b.dram_bytes);
  EXPECT_NEAR(double(b.latency_cycles) - double(a.latency_cycles), 522.67 - 232.93, 1.0);
}

TEST(DataflowCost, WithTheDramInThePictureTheRankingCanFlip) {
  // One K block, so both read the same bytes. OS has the shorter schedule
  // and wins with a DRAM that never holds it up; on a one-channel DRAM what
  // counts is how each dataflow's steps hide the tiles' loads and stores,
  // and WS comes out ahead.
  const auto l = conv(8, 112, 112, 32, 5, 1, 2);
  auto one_channel = edge_ip();
  one_channel.smaller_tilings = false;  // both dataflows on the largest tiling that fits
  one_channel.costs.dram_bytes_per_cycle = 9.6;
  DataflowCosts c;
  ASSERT_TRUE(plan_dataflows(l, one_channel, Objective::kLatency, c));
  EXPECT_EQ(c.plan(kWs).cost.dram_bytes, c.plan(kOs).cost.dram_bytes);
  EXPECT_FALSE((c.cheapest() == kOs));
  auto ideal_dram = one_channel;
  ideal_dram.costs.dram_bytes_per_cycle = 1e9;
  ASSERT_TRUE(plan_dataflows(l, ideal_dram, Objective::kLatency, c));
  EXPECT_LT(c.plan(kOs).cost.compute_cycles, c.plan(kWs).cost.compute_cycles);
  EXPECT_TRUE((c.cheapest() == kOs));
}

// A larger buffer offers every tiling its half would choose, so the
// estimate's pick never costs more with it; SqueezeNet 1.1's fire2.expand3x3
// (55x55, 16 to 64 channels, 3x3) takes 16-row tiles from the half of a
// 512 KiB buffer rather than the whole map in one.
TEST(DataflowCost, ALargerBufferOffersTheTilingsOfItsHalf) {
  const auto l = conv(16, 55, 55, 64, 3, 1, 1);
  auto half = edge_ip();
  half.sram_bytes = 256 * 1024;
  auto whole = half;
  whole.sram_bytes = 2 * half.sram_bytes;
  DataflowCosts small, large;
  ASSERT_TRUE(plan_dataflows(l, half, Objective::kLatency, small));
  ASSERT_TRUE(plan_dataflows(l, whole, Objective::kLatency, large));
  EXPECT_LE(large.plan(large.cheapest()).cost.latency_cycles, small.plan(small.cheapest()).cost.latency_cycles);
  auto largest = whole;
  largest.smaller_tilings = false;
  DataflowCosts one;
  ASSERT_TRUE(plan_dataflows(l, largest, Objective::kLatency, one));
  EXPECT_EQ(one.plan(kOs).tiling.rows_per_tile, 55u);
  EXPECT_LT(large.plan(kOs).tiling.rows_per_tile, 55u);
  EXPECT_LT(large.plan(kOs).cost.latency_cycles, one.plan(kOs).cost.latency_cycles);
}

TEST(DataflowCost, TheObjectiveDecides) {
  // The slice at 48x48 on arrays that run all three dataflows: OS has the
  // shortest schedule; spatial OS keeps every partial sum in its PE and
  // broadcasts each weight to a whole patch, and spends the least energy.
  const auto l = conv(64, 48, 48, 64, 3, 1, 1);
  auto npu = edge_ip();
  npu.dataflows = 0b111;
  npu.rf_entries = 16;  // edge-ip's: a PE holds 16 channels' accumulators
  DataflowCosts latency, energy;
  ASSERT_TRUE(plan_dataflows(l, npu, Objective::kLatency, latency));
  ASSERT_TRUE(plan_dataflows(l, npu, Objective::kEnergy, energy));
  EXPECT_LT(latency.plan(kOs).cost.latency_cycles, latency.plan(kOs2d).cost.latency_cycles);
  EXPECT_EQ(latency.cheapest(), kOs);
  EXPECT_LT(energy.plan(kOs2d).cost.energy_pj, energy.plan(kOs).cost.energy_pj);
  EXPECT_EQ(energy.cheapest(), kOs2d);
  // Weight-stationary's 72 row folds on 8 rows spill partial sums 71 times.
  EXPECT_GT(energy.plan(kWs).cost.input_buffer_bytes, 71u * 48u * 48u * 64u * 4u * 2u);
  // The energy is every priced action: MACs, register files, buffers, SRAM, NoC, DRAM, leakage.
  const auto& t = edge_ip().costs;
  const auto& w = energy.plan(kWs).cost;
  const double expected =
      w.macs * t.mac_pj[0] + w.rf_accesses * t.rf_pj_per_access + w.weight_buffer_bytes * t.weight_buffer_pj_per_byte +
      w.input_buffer_bytes * t.input_buffer_pj_per_byte + w.sram_bytes * t.sram_pj_per_byte +
      w.dram_bytes * t.dram_pj_per_byte +
      (w.dram_bytes * t.dma_hops + (w.noc_bytes - w.dram_bytes) * t.cluster_hops) * t.noc_pj_per_byte_hop +
      w.latency_cycles * t.static_pj_per_cycle;
  EXPECT_NEAR(w.energy_pj, expected, 1e-6 * expected);
}

TEST(DataflowCost, EachDataflowSplitsATileItsOwnWay) {
  // 16 output rows on 16 clusters of 8x8 arrays. OS: a row per cluster.
  // os2d: patches of 8 rows, so 2 row groups, and the 64 filters in 8
  // slices over the other clusters.
  const auto l = conv(16, 16, 16, 64, 3, 1, 1);
  LayerTiling os, os2d;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kBlocksOuter, os, kOs));
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kBlocksOuter, os2d, kOs2d));
  expect_consistent(l, edge_ip(), os2d);
  EXPECT_EQ(os.rows_per_tile, 16u);
  EXPECT_EQ(os.row_groups, 16u);
  EXPECT_EQ(os.k_groups, 1u);
  EXPECT_EQ(os2d.rows_per_tile, 16u);
  EXPECT_EQ(os2d.row_groups, 2u);
  EXPECT_EQ(os2d.k_groups, 8u);
  EXPECT_EQ(os2d.k_slice, 8u);
  // WS reserves input-buffer room for a column fold's partial sums (144
  // reduction steps on 8 rows spill). With 1000 bytes of input buffer a
  // cluster's one output row needs 3 input rows x 16 x 16 (768) and, for a
  // slice of k filters, 16 pixels x min(k, 8) x 4 bytes. The largest K block
  // is tried first, with ever fewer rows: at 64 filters even a one-row tile
  // gives each of the 16 clusters 4 filters (768 + 256); at 32, one row in
  // 16 slices of 2 filters fits (768 + 128). OS keeps all 64 filters and 16
  // rows.
  auto tight = edge_ip();
  tight.cluster_input_buffer_bytes = 1000;
  LayerTiling ws, os_tight;
  ASSERT_TRUE(plan_layer_tiling(l, tight, kBlocksOuter, os_tight, kOs));
  ASSERT_TRUE(plan_layer_tiling(l, tight, kBlocksOuter, ws, kWs));
  EXPECT_EQ(os_tight.k_block, 64u);
  EXPECT_EQ(os_tight.rows_per_tile, 16u);
  EXPECT_EQ(ws.k_block, 32u);
  EXPECT_EQ(ws.rows_per_tile, 1u);
  EXPECT_EQ(ws.k_slice, 2u);
}

TEST(LayerTiling, TilingsAreEqualOnlyInEveryField) {
  // The estimates of tilings equal in all fields are shared (layer_choice.cpp):
  // a field the comparison missed would give one tiling another's cost.
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(conv(64, 28, 28, 256, 3, 1, 1), edge_ip(), kTilesOuter, t));
  EXPECT_TRUE(t == LayerTiling(t));
  const std::vector<void (*)(LayerTiling&)> changes = {
      [](LayerTiling& x) { x.order = LoopOrder::kWeightBlocksOuter; },
      [](LayerTiling& x) { ++x.k_block; },
      [](LayerTiling& x) { ++x.rows_per_tile; },
      [](LayerTiling& x) { ++x.row_groups; },
      [](LayerTiling& x) { ++x.k_groups; },
      [](LayerTiling& x) { ++x.k_slice; },
      [](LayerTiling& x) { x.weights_offset[0] += 64; },
      [](LayerTiling& x) { x.weights_offset[1] += 64; },
      [](LayerTiling& x) { x.bias_offset[0] += 64; },
      [](LayerTiling& x) { x.bias_offset[1] += 64; },
      [](LayerTiling& x) { x.requant_offset[0] += 64; },
      [](LayerTiling& x) { x.requant_offset[1] += 64; },
      [](LayerTiling& x) { x.input_offset[0] += 64; },
      [](LayerTiling& x) { x.input_offset[1] += 64; },
      [](LayerTiling& x) { x.input2_offset[0] += 64; },
      [](LayerTiling& x) { x.input2_offset[1] += 64; },
      [](LayerTiling& x) { x.output_offset[0] += 64; },
      [](LayerTiling& x) { x.output_offset[1] += 64; },
      [](LayerTiling& x) { x.bytes_used += 64; },
      [](LayerTiling& x) { ++x.images_per_tile; },
      [](LayerTiling& x) { x.input_slot_bytes += 64; },
      [](LayerTiling& x) { x.input2_slot_bytes += 64; },
      [](LayerTiling& x) { x.stream_weights = !x.stream_weights; },
      [](LayerTiling& x) { x.stream_first_step = !x.stream_first_step; },
      [](LayerTiling& x) { ++x.reduction_chunks; },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    LayerTiling other = t;
    changes[i](other);
    EXPECT_FALSE(t == other) << "change " << i;
  }
}

void expect_same_cost(const LayerCost& a, const LayerCost& b) {
  EXPECT_EQ(a.compute_cycles, b.compute_cycles);
  EXPECT_EQ(a.latency_cycles, b.latency_cycles);
  EXPECT_EQ(a.dram_bytes, b.dram_bytes);
  EXPECT_EQ(a.sram_bytes, b.sram_bytes);
  EXPECT_EQ(a.noc_bytes, b.noc_bytes);
  EXPECT_EQ(a.rf_accesses, b.rf_accesses);
  EXPECT_EQ(a.weight_buffer_bytes, b.weight_buffer_bytes);
  EXPECT_EQ(a.input_buffer_bytes, b.input_buffer_bytes);
  EXPECT_EQ(a.macs, b.macs);
  EXPECT_EQ(a.energy_pj, b.energy_pj);
  EXPECT_EQ(a.tail_cycles, b.tail_cycles);
}

TEST(DataflowCost, EachPlanCostsWhatAFreshWalkOfItsTilingDoes) {
  // Among them layers whose K block and rows the clusters' buffers bound, so
  // that several budgets plan the same tiling and its estimate is shared.
  auto npu = edge_ip();
  npu.dataflows = 0b111;
  npu.cluster_weight_buffer_bytes = 4096;
  npu.cluster_input_buffer_bytes = 16384;
  for (const LayerCommand& l : {conv(512, 7, 7, 2048, 1, 1, 0), conv(256, 14, 14, 256, 3, 1, 1),
                                conv(64, 56, 56, 256, 1, 1, 0), conv(16, 55, 55, 64, 3, 1, 1)}) {
    DataflowCosts costs;
    ASSERT_TRUE(plan_dataflows(l, npu, Objective::kLatency, costs, behind(5000)));
    for (unsigned d = 0; d < pe_array::kDataflows; ++d) {
      const DataflowPlan& p = costs.plans[d];
      if (!p.candidate) continue;
      const auto dataflow = static_cast<pe_array::Dataflow>(d);
      expect_same_cost(p.cost, estimate_layer_cost(l, npu, p.tiling, dataflow, behind(5000)));
      if (p.has_other_order)
        expect_same_cost(p.other, estimate_layer_cost(l, npu, p.other_tiling, dataflow, behind(5000)));
    }
  }
}

// The planner stops a walk once it reaches the best so far: at the bound the
// estimate gives nothing, one cycle above it the whole cost, field for field.
TEST(DataflowCost, AWalkStopsAtItsLatencyBound) {
  const auto npu = edge_ip();
  for (const LayerCommand& l : {conv(64, 56, 56, 256, 1, 1, 0), conv(256, 14, 14, 256, 3, 1, 1)})
    for (const LoopOrder order : {kBlocksOuter, kTilesOuter}) {
      LayerTiling t;
      ASSERT_TRUE(plan_layer_tiling(l, npu, order, t));
      const LayerCost whole = estimate_layer_cost(l, npu, t, kWs, behind(700));
      EXPECT_FALSE(estimate_layer_cost_below(l, npu, t, kWs, behind(700), whole.latency_cycles));
      EXPECT_FALSE(estimate_layer_cost_below(l, npu, t, kWs, behind(700), whole.latency_cycles / 2));
      const auto below = estimate_layer_cost_below(l, npu, t, kWs, behind(700), whole.latency_cycles + 1);
      ASSERT_TRUE(below);
      expect_same_cost(*below, whole);
    }
}

// A walk also stops where the steps it has still to walk must take it to the
// bound, each but the last adding at least a step's issue: never before its
// whole latency would reach the bound. The tilings of shrinking SRAM budgets
// have up to hundreds of steps; with a slow command processor each step is
// little more than its issue, and the last one, which issues nothing, much
// less. With a job queue a step's issue overlaps its transfers.
TEST(DataflowCost, AWalkStopsEarlyOnlyWhereItsLatencyWouldReachTheBound) {
  auto npu = edge_ip();
  std::size_t tilings = 0;
  for (const auto& [depth, job_issue] : {std::pair{1u, 0.0}, {2u, 0.0}, {1u, 20000.0}, {2u, 20000.0}}) {
    npu.job_queue_depth = depth;
    npu.costs.job_issue_cycles = job_issue;
    for (const LayerCommand& l :
         {conv(8, 112, 112, 16, 1, 1, 0), conv(3, 224, 224, 32, 3, 2, 1), conv(32, 56, 56, 64, 3, 1, 1)})
      for (const LoopOrder order : {kBlocksOuter, kTilesOuter})
        for (std::uint64_t budget = npu.sram_bytes; budget >= 4096; budget /= 2) {
          LayerTiling t;
          if (!plan_layer_tiling_within(l, npu, budget, order, t, kWs)) continue;
          ++tilings;
          const LayerCost whole = estimate_layer_cost(l, npu, t, kWs, behind(700));
          EXPECT_FALSE(estimate_layer_cost_below(l, npu, t, kWs, behind(700), whole.latency_cycles));
          const auto above = estimate_layer_cost_below(l, npu, t, kWs, behind(700), whole.latency_cycles + 1);
          ASSERT_TRUE(above) << "budget " << budget << ", " << whole.latency_cycles << " cycles";
          expect_same_cost(*above, whole);
        }
  }
  EXPECT_GE(tilings, 80u);
}

// A convolution with a fused add at DRAM addresses of different offsets
// within a burst, whose plan the firmware keys by plan_key.
LayerCommand keyed_conv() {
  auto l = conv(64, 28, 28, 128, 3, 1, 1);
  l.fuse = static_cast<std::uint32_t>(Fuse::kAdd);
  l.dataflow = static_cast<std::uint32_t>(DataflowChoice::kHybridLatency);
  l.input_addr = address_map::kDramBase + 0x10040;
  l.input2_addr = address_map::kDramBase + 0x20080;
  l.output_addr = address_map::kDramBase + 0x300c0;
  l.weights_addr = address_map::kDramBase + 0x40100;
  l.bias_addr = address_map::kDramBase + 0x50140;
  l.requant_addr = address_map::kDramBase + 0x60180;
  l.layer_id = 7;
  return l;
}

NpuLayout keyed_npu() {
  auto npu = edge_ip();
  npu.dataflows = 0b111;
  npu.costs.dma_burst_bytes = 1024;
  return npu;
}

void expect_same_plans(const DataflowCosts& a, const DataflowCosts& b) {
  for (unsigned d = 0; d < pe_array::kDataflows; ++d) {
    ASSERT_EQ(a.plans[d].candidate, b.plans[d].candidate);
    EXPECT_TRUE(a.plans[d].tiling == b.plans[d].tiling);
    expect_same_cost(a.plans[d].cost, b.plans[d].cost);
    ASSERT_EQ(a.plans[d].has_other_order, b.plans[d].has_other_order);
    EXPECT_TRUE(a.plans[d].other_tiling == b.plans[d].other_tiling);
    expect_same_cost(a.plans[d].other, b.plans[d].other);
  }
}

TEST(PlanKey, CommandsOfOneKeyPlanAlike) {
  // What the key leaves out: a command differing only there takes the plan
  // of the one planned before, which must be its own.
  const LayerCommand base = keyed_conv();
  const NpuLayout npu = keyed_npu();
  DataflowCosts planned;
  ASSERT_TRUE(plan_dataflows(base, npu, Objective::kLatency, planned, behind(3000)));
  const std::vector<void (*)(LayerCommand&)> changes = {
      [](LayerCommand& l) { l.layer_id = 8; },
      [](LayerCommand& l) { l.input_zero_point = -5; },
      [](LayerCommand& l) { l.output_zero_point = 3; },
      [](LayerCommand& l) { l.act_min = -100, l.act_max = 100; },
      [](LayerCommand& l) { l.add.input2_zero_point = 4, l.add.left_shift = 20, l.add.output_multiplier = 12345; },
      [](LayerCommand& l) { l.copy.rows = 3, l.copy.fill_value = 9; },
      [](LayerCommand& l) { l.fused_output_zero_point = 2, l.fused_act_min = -7, l.fused_act_max = 90; },
      [](LayerCommand& l) { l.input_segments_addr = 0x1000; },
      [](LayerCommand& l) { l.batch_table_addr = 0x2000; },
      // Whole bursts further on.
      [](LayerCommand& l) { l.input_addr += 3 * 1024; },
      [](LayerCommand& l) { l.input2_addr += 1024; },
      [](LayerCommand& l) { l.output_addr += 5 * 1024; },
      [](LayerCommand& l) { l.weights_addr += 1024; },
      [](LayerCommand& l) { l.bias_addr += 2 * 1024; },
      [](LayerCommand& l) { l.requant_addr += 1024; },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    LayerCommand other = base;
    changes[i](other);
    EXPECT_TRUE(plan_key(other, npu, behind(3000)) == plan_key(base, npu, behind(3000))) << "change " << i;
    DataflowCosts fresh;
    ASSERT_TRUE(plan_dataflows(other, npu, Objective::kLatency, fresh, behind(3000)));
    expect_same_plans(fresh, planned);
  }
}

TEST(PlanKey, EveryFieldPlanningReadsIsInTheKey) {
  const LayerCommand base = keyed_conv();
  const NpuLayout npu = keyed_npu();
  const std::vector<void (*)(LayerCommand&)> changes = {
      [](LayerCommand& l) { l.opcode = static_cast<std::uint32_t>(Opcode::kMaxPool); },
      [](LayerCommand& l) { l.dataflow = static_cast<std::uint32_t>(DataflowChoice::kHybridEnergy); },
      // Another offset within a burst.
      [](LayerCommand& l) { l.input_addr += 64; },
      [](LayerCommand& l) { l.input2_addr += 64; },
      [](LayerCommand& l) { l.output_addr += 64; },
      [](LayerCommand& l) { l.weights_addr += 64; },
      [](LayerCommand& l) { l.bias_addr += 64; },
      [](LayerCommand& l) { l.requant_addr += 64; },
      [](LayerCommand& l) { ++l.in_c; },
      [](LayerCommand& l) { ++l.in_h; },
      [](LayerCommand& l) { ++l.in_w; },
      [](LayerCommand& l) { ++l.out_c; },
      [](LayerCommand& l) { ++l.out_h; },
      [](LayerCommand& l) { ++l.out_w; },
      [](LayerCommand& l) { ++l.kernel_h; },
      [](LayerCommand& l) { ++l.kernel_w; },
      [](LayerCommand& l) { ++l.stride_h; },
      [](LayerCommand& l) { ++l.stride_w; },
      [](LayerCommand& l) { ++l.dilation_h; },
      [](LayerCommand& l) { ++l.dilation_w; },
      [](LayerCommand& l) { ++l.pad_top; },
      [](LayerCommand& l) { ++l.pad_left; },
      [](LayerCommand& l) { ++l.pad_bottom; },
      [](LayerCommand& l) { ++l.pad_right; },
      [](LayerCommand& l) { l.groups = 2; },
      [](LayerCommand& l) { l.input_row_pitch = 28 * 64 + 64; },
      [](LayerCommand& l) { l.flags = kInt4PackedInput; },
      [](LayerCommand& l) { l.datatype = static_cast<std::uint32_t>(Datatype::kInt16); },
      [](LayerCommand& l) { l.input_segment_count = 2; },
      [](LayerCommand& l) { l.output_pixel_pitch = 256; },
      [](LayerCommand& l) { l.batch_count = 2; },
      [](LayerCommand& l) { l.fuse = static_cast<std::uint32_t>(Fuse::kMaxPool); },
      [](LayerCommand& l) { l.pool_kernel_h = 2; },
      [](LayerCommand& l) { l.pool_kernel_w = 2; },
      [](LayerCommand& l) { l.pool_stride_h = 2; },
      [](LayerCommand& l) { l.pool_stride_w = 2; },
      [](LayerCommand& l) { l.pool_pad_top = 1; },
      [](LayerCommand& l) { l.pool_pad_left = 1; },
      [](LayerCommand& l) { l.pool_pad_bottom = 1; },
      [](LayerCommand& l) { l.pool_pad_right = 1; },
      [](LayerCommand& l) { l.conv_out_h = 56; },
      [](LayerCommand& l) { l.conv_out_w = 56; },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    LayerCommand other = base;
    changes[i](other);
    EXPECT_FALSE(plan_key(other, npu, behind(3000)) == plan_key(base, npu, behind(3000))) << "change " << i;
  }
  EXPECT_FALSE(plan_key(base, npu, behind(3001)) == plan_key(base, npu, behind(3000)));
  // An offset within a burst is no formality: it moves the bursts the
  // estimate prices (here those of the weight-blocks-outer plan, whose last
  // store is exposed; the row-tiles-outer plan chosen hides it).
  LayerCommand moved = base;
  moved.output_addr += 64;
  DataflowCosts a, b;
  ASSERT_TRUE(plan_dataflows(base, npu, Objective::kLatency, a, behind(3000)));
  ASSERT_TRUE(plan_dataflows(moved, npu, Objective::kLatency, b, behind(3000)));
  ASSERT_TRUE(a.plan(kOs).has_other_order && b.plan(kOs).has_other_order);
  ASSERT_TRUE(a.plan(kOs).other_tiling == b.plan(kOs).other_tiling);
  EXPECT_NE(a.plan(kOs).other.latency_cycles, b.plan(kOs).other.latency_cycles);
}

TEST(DataflowCost, ATilesInputsReadAlikeByEveryKBlockArePricedAlike) {
  // Weight blocks outer, two row tiles a block: a dense convolution's
  // blocks read the same inputs, a fused add's residual and a depthwise
  // layer's input channels differ by block. The figures are the walk's
  // before each tile's inputs were priced once per run of like blocks.
  auto npu = edge_ip();
  npu.cluster_weight_buffer_bytes = 4096;
  npu.cluster_input_buffer_bytes = 6144;
  // Short bursts, so that a block's offset changes how its rows cross them,
  // each a long round trip, so that the loads outlast the jobs.
  npu.costs.dma_burst_bytes = 64;
  npu.costs.dma_load_latency_cycles = 2000;
  npu.costs.dma_outstanding = 1;
  auto dense = keyed_conv();
  dense.fuse = static_cast<std::uint32_t>(Fuse::kNone);
  auto depthwise = dense;
  depthwise.in_c = depthwise.out_c = depthwise.groups = 512;
  const struct {
    LayerCommand layer;
    std::uint64_t latency, tail, dram;
    double energy;
  } cases[] = {{dense, 34469844, 3214, 1197056, 9023375199.2000008},
               {keyed_conv(), 65848968, 3231, 1297408, 17030158732.48},
               {depthwise, 27310638, 1574, 842240, 7045142814.8000002}};
  for (const auto& c : cases) {
    LayerTiling t;
    ASSERT_TRUE(plan_layer_tiling(c.layer, npu, kBlocksOuter, t, kOs));
    ASSERT_EQ(ceil_div(c.layer.out_h, t.rows_per_tile), 2u);
    ASSERT_GT(ceil_div(c.layer.out_c, t.k_block), 2u);
    const LayerCost cost = estimate_layer_cost(c.layer, npu, t, kOs, behind(3000));
    EXPECT_EQ(cost.latency_cycles, c.latency);
    EXPECT_EQ(cost.tail_cycles, c.tail);
    EXPECT_EQ(cost.dram_bytes, c.dram);
    EXPECT_EQ(cost.energy_pj, c.energy);
  }
}

TEST(DataflowCost, ChannelwiseLayersKeepTheirWeightBlocksOuter) {
  auto l = conv(512, 28, 28, 512, 3, 1, 1);
  l.groups = 512;  // depthwise: a K block reads only its own channels
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(l, edge_ip(), kTilesOuter, t));
  EXPECT_EQ(t.order, LoopOrder::kWeightBlocksOuter);
}

// MobileNet v1's conv_dw_1 at 1080 x 1920: one output row of all 32 channels
// reads 3 input rows of 960 pixels, 92,160 bytes, more than a cluster's
// 64 KiB input buffer, so whole rows fit a K block of 16 channels (46,080
// bytes), each pixel's 16 a run of its own in DRAM. Strips of an eighth of
// the width (120 columns, 122 input columns with the halo: 3 x 122 x 32 =
// 11,712 bytes a row) keep all 32 channels.
TEST(LayerTiling, ColumnStripsKeepAWideDepthwiseLayersKBlockWhole) {
  auto l = conv(32, 540, 960, 32, 3, 1, 1);
  l.groups = 32;
  const NpuLayout npu = edge_ip();
  LayerTiling whole, strips;
  ASSERT_TRUE(plan_layer_tiling_within(l, npu, npu.sram_bytes, kBlocksOuter, whole, kWs));
  EXPECT_EQ(whole.k_block, 16u);
  EXPECT_EQ(whole.cols_per_tile, 0u);
  ASSERT_TRUE(plan_layer_tiling_within(l, npu, npu.sram_bytes, kBlocksOuter, strips, kWs, KBlockCap::kOneCluster, 8));
  expect_consistent(l, npu, strips);
  EXPECT_EQ(strips.k_block, 32u);
  EXPECT_EQ(strips.cols_per_tile, 120u);
  // As many rows as the double-buffered strips fit: one more would not.
  const auto buffers = [&](std::uint64_t rows) { return 2 * ((rows + 2) * 122 * 32 + rows * 120 * 32); };
  EXPECT_LE(buffers(strips.rows_per_tile), npu.sram_bytes - strips.input_offset[0]);
  EXPECT_GT(buffers(strips.rows_per_tile + 1), npu.sram_bytes - strips.input_offset[0]);
  // A fused pool's windows would cross the strips: refused.
  auto pooled = l;
  pooled.fuse = static_cast<std::uint32_t>(Fuse::kMaxPool);
  EXPECT_FALSE(
      plan_layer_tiling_within(pooled, npu, npu.sram_bytes, kBlocksOuter, strips, kWs, KBlockCap::kOneCluster, 8));
}

// Tiles run along a row tile's strips, then to the next row tile; the last
// strip is what is left of the width. Input columns are the strip's
// windows', the padding clipped.
TEST(TileGrid, CountsStripsWithinRowTiles) {
  auto l = conv(8, 10, 10, 8, 3, 2, 1);  // 5 x 5 outputs, stride 2
  LayerTiling t;
  t.rows_per_tile = 2;
  t.cols_per_tile = 2;
  const TileGrid g(l, t);
  EXPECT_EQ(g.per_image(), 9u);  // 3 row tiles x 3 strips
  EXPECT_EQ(g.first_row(4), 2u);
  EXPECT_EQ(g.first_col(4), 2u);
  EXPECT_EQ(g.cols(5), 1u);
  EXPECT_EQ(g.rows(8), 1u);
  EXPECT_EQ(g.image(9), 1u);
  // Output columns 0-1 read input columns -1..3 (the first is padding).
  EXPECT_EQ(g.input_cols(l, 0), (std::pair<std::uint32_t, std::uint32_t>{0, 4}));
  // Output column 4 reads 7..9.
  EXPECT_EQ(g.input_cols(l, 2), (std::pair<std::uint32_t, std::uint32_t>{7, 10}));
  t.cols_per_tile = 0;  // whole rows: every input column
  EXPECT_EQ(TileGrid(l, t).input_cols(l, 1), (std::pair<std::uint32_t, std::uint32_t>{0, 10}));
}

// A 3x3 depthwise layer of 32 channels, 20 x 300, in 4 strips of 75 columns:
// one row tile of all 20 rows. The strips read input columns [0, 76),
// [74, 151), [149, 226), [224, 300): 306 columns of 20 rows of 32 bytes, the
// halo read twice; the outputs once; the weights, bias and requantization
// 32 x (9 + 4 + 8) bytes.
TEST(DataflowCost, StripsReadTheirHaloColumnsTwice) {
  auto l = conv(32, 20, 300, 32, 3, 1, 1);
  l.groups = 32;
  const NpuLayout npu = edge_ip();
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling_within(l, npu, npu.sram_bytes, kBlocksOuter, t, kWs, KBlockCap::kOneCluster, 4));
  ASSERT_EQ(t.cols_per_tile, 75u);
  ASSERT_EQ(t.rows_per_tile, 20u);
  EXPECT_EQ(estimate_layer_cost(l, npu, t, kWs).dram_bytes, 20u * 306 * 32 + 20 * 300 * 32 + 32 * (9 + 4 + 8));
}

// The firmware does not check addresses against the system's memory (the DMA
// faults on them), so a command may place its output at the top of the
// address space; the estimate cuts its stores by their offset within a burst
// alone, as it does any other address. (Found by the command_stream fuzzer:
// the flits of a store past 2^64 wrapped to 2^64 and the latency overflowed.)
TEST(DataflowCost, AnOutputAtTheTopOfTheAddressSpaceCostsWhatOneAtTheBottomDoes) {
  auto low = conv(16, 28, 28, 32, 3, 1, 1);
  low.output_addr = 0x40;
  auto top = low;
  // The same offset in a DMA burst (1 KiB), 25088 bytes to store from 960 below 2^64.
  top.output_addr = ~std::uint64_t{0} - 0x3ff + 0x40;
  const NpuLayout npu = edge_ip();
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(low, npu, kBlocksOuter, t));
  const LayerCost a = estimate_layer_cost(low, npu, t, kWs), b = estimate_layer_cost(top, npu, t, kWs);
  EXPECT_EQ(b.latency_cycles, a.latency_cycles);
  EXPECT_EQ(b.noc_bytes, a.noc_bytes);
  EXPECT_LT(a.latency_cycles, 100'000u);
}

// A cost table no platform validates (a DRAM of 1e-12 bytes per cycle):
// the estimate saturates rather than converting a double beyond 2^64.
TEST(DataflowCost, AnEstimatePast2To64CyclesSaturates) {
  const auto l = conv(16, 28, 28, 32, 3, 1, 1);
  NpuLayout npu = edge_ip();
  LayerTiling t;
  ASSERT_TRUE(plan_layer_tiling(l, npu, kBlocksOuter, t));
  npu.costs.dram_bytes_per_cycle = 1e-15;
  EXPECT_EQ(estimate_layer_cost(l, npu, t, kWs).latency_cycles, std::numeric_limits<std::uint64_t>::max());
}

}  // namespace
}  // namespace npuvp::firmware
