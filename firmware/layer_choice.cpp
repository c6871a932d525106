// The firmware's choice among the tilings it could run: each dataflow's and
// loop order's tilings within the global buffer, its half, its quarter and so
// on, priced by the estimate (docs/firmware.md, "The latency estimate").
#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "firmware/dma_model.h"
#include "firmware/layer_plan.h"

namespace npuvp::firmware {
namespace {

// Fewer, larger tiles expose more of the first load and the last store and
// overlap less of the DMA with compute, so the largest tiling that fits is
// not always the fastest: a larger buffer offers every tiling a smaller one
// would choose and the estimate picks. `plan(budget)` returns false when
// nothing fits in that budget, and then nothing fits in a smaller one either.
template <class Plan>
void for_each_sram_budget(const NpuLayout& npu, Plan plan) {
  for (std::uint64_t budget = npu.sram_bytes; budget > 0; budget /= 2)
    if (!plan(budget) || !npu.smaller_tilings) return;
}

// A smaller budget's tiling is offered only where it does not split a K
// block over more clusters than the whole buffer's: clusters sharing a row
// tile as K slices read the same input rows from the same banks at once,
// which the estimate does not price (ResNet-50's layer1.1.conv3 at one row
// per tile: estimated 71 k cycles, 281 k measured).
// (Fewer row groups alone split nothing: a pool's 14 rows in 14 groups
// beside the whole buffer's 27 in 16 are still one slice each.)
bool offered(const LayerTiling& candidate, std::uint32_t whole_k_groups) {
  return candidate.k_groups <= whole_k_groups;
}

bool same_tiling(const LayerTiling& a, const LayerTiling& b) {
  return a.order == b.order && a.k_block == b.k_block && a.rows_per_tile == b.rows_per_tile &&
         a.cols_per_tile == b.cols_per_tile && a.images_per_tile == b.images_per_tile && a.k_slice == b.k_slice &&
         a.row_groups == b.row_groups && a.stream_weights == b.stream_weights &&
         a.stream_first_step == b.stream_first_step;
}

// Whether a tiling's K blocks after the first may stream their weights into
// the clusters (LayerTiling::stream_weights): each weight is used by one job
// (one row tile of one image, one row group), so the global buffer keeps it
// for nothing, and each slice fits one of the two streamed slots of a
// cluster's weight buffer.
bool may_stream(const LayerCommand& l, const NpuLayout& npu, const LayerTiling& t) {
  return npu.stream_weights && opcode_of(l) == Opcode::kConv2d && t.order == LoopOrder::kRowTilesOuter &&
         t.row_groups == 1 && t.rows_per_tile == l.out_h && std::max(1u, l.batch_count) == 1 && t.k_block < l.out_c &&
         std::uint64_t{t.k_slice} * filter_run_bytes(l, t, 0) <= streamed_slot_bytes(npu);
}

// The tilings of the whole global buffer that one cluster's weight buffer
// of a half, a quarter, ... of its size would give the layer, each K block
// once and none of them the whole weight buffer's `whole_block`, down to
// blocks narrower than the array's columns, which leave columns idle. A
// smaller K block loads less before its first step and leaves the SRAM more
// room for rows, so a larger weight buffer offers the blocks a smaller one
// would choose, as a larger global buffer offers its budgets' tilings:
// offered only each order's largest block, 128 KiB per cluster took
// MobileNet v1 from 1,112,942 to 1,210,918 cycles (conv_pw_7: 128 filters a
// block, rows outer, 77,588 cycles; 248, blocks outer, 95,085). Offered
// within the halves of the global buffer as well, they left the cycles of
// SqueezeNet 1.1, MobileNet v1 and v2, ResNet-18 and -50 and ShuffleNet v2
// as they are and cost more walks (MobileNet v1: 5 % more instructions
// than without the smaller blocks, against 2 %).
template <class Offer>
void for_each_smaller_weight_block(const LayerCommand& l, const NpuLayout& npu, LoopOrder order,
                                   pe_array::Dataflow dataflow, std::uint32_t whole_block, Offer offer) {
  NpuLayout smaller = npu;
  std::uint32_t last_block = whole_block;
  while ((smaller.cluster_weight_buffer_bytes /= 2) > 0) {
    LayerTiling t;
    if (!plan_layer_tiling_within(l, smaller, npu.sram_bytes, order, t, dataflow) || t.k_block < npu.array_cols) return;
    if (t.k_block == last_block) continue;
    last_block = t.k_block;
    offer(t);
  }
}

// The cheapest tiling of each loop order for one dataflow, by LoopOrder.
struct OrderChoice {
  std::array<bool, 2> found{};
  std::array<LayerTiling, 2> tiling;
  std::array<LayerCost, 2> cost;
};

// Into how many runs a streamed block's filters split their input channels
// so that a slice of the array's columns' filters fills a slot (1: none):
// where a slot holds fewer whole filters, a one-pixel job leaves columns
// idle (VGG-16's classifier.0: 24.5 KiB filters, one a slot). The sums stay
// between a filter's chunks where the dataflow keeps them (output
// stationary: its PEs; weight stationary: its partial-sum spill), so only
// those two split, a dense 1 x 1 integer convolution with nothing fused,
// each element a whole byte or two.
std::uint32_t reduction_chunks(const LayerCommand& l, const NpuLayout& npu, pe_array::Dataflow dataflow) {
  const auto datatype = static_cast<Datatype>(l.datatype);
  const std::uint64_t slot = streamed_slot_bytes(npu), filter = filter_bytes(l);
  if (filter == 0 ||
      (dataflow != pe_array::Dataflow::kOutputStationary && dataflow != pe_array::Dataflow::kWeightStationary) ||
      l.kernel_h != 1 || l.kernel_w != 1 || l.groups != 1 || fuses_add(l) || fuses_pool(l) ||
      (datatype != Datatype::kInt8 && datatype != Datatype::kInt16) || slot / filter >= npu.array_cols)
    return 1;
  const std::uint64_t chunk = slot / npu.array_cols / element_bytes(l);  // channels a chunk may hold
  return chunk == 0 ? 1 : ceil_div(l.in_c, static_cast<std::uint32_t>(chunk));
}

// Blocks that never pass the SRAM (KBlockCap::kStreamedSlots), streamed
// from the first step on, in the fewest column strips whose pixels fit a
// cluster's input buffer (a batch folded into one row). They give the
// clusters more filters a step, which pays only where the array, not the
// DRAM, bounds the best plan so far (`best`: its compute beyond its DRAM
// bytes at the DRAM's rate); elsewhere they would only give up loading the
// first block during the layer before (ResNet-50's fc, DRAM-bound: 63,281 ->
// 71,710 cycles, estimated 81,528 and 80,484). Offered only where the
// blocks are larger than the best plan's; `chunks` splits the filters'
// input channels (reduction_chunks), offered after the whole filters, so
// only where those too leave the array the bound.
bool streamed_blocks(const LayerCommand& l, const NpuLayout& npu, pe_array::Dataflow dataflow, const OrderChoice& c,
                     Objective objective, std::uint32_t chunks, LayerTiling& t) {
  const std::size_t o = c.found[1] && (!c.found[0] || cheaper(c.cost[1], c.cost[0], objective)) ? 1 : 0;
  if (!c.found[o] || double(c.cost[o].compute_cycles) <= double(c.cost[o].dram_bytes) / npu.costs.dram_bytes_per_cycle)
    return false;
  for (std::uint32_t strips = 1; strips <= most_column_strips(l); strips *= 2)
    if (plan_layer_tiling_within(l, npu, npu.sram_bytes, LoopOrder::kRowTilesOuter, t, dataflow,
                                 KBlockCap::kStreamedSlots, strips, chunks) &&
        (chunks == 1 || dataflow != pe_array::Dataflow::kOutputStationary ||
         std::uint64_t{t.rows_per_tile} * (t.cols_per_tile == 0 ? l.out_w : t.cols_per_tile) <= npu.array_rows)) {
      t.stream_weights = t.stream_first_step = true;
      return may_stream(l, npu, t) && t.k_block > c.tiling[o].k_block;
    }
  return false;
}

// The whole filters' streamed blocks, then their chunks' (where those too
// leave the array the bound), each to `consider`.
template <class Consider>
void offer_streamed_blocks(const LayerCommand& l, const NpuLayout& npu, pe_array::Dataflow dataflow,
                           Objective objective, const OrderChoice& c, Consider consider) {
  LayerTiling streamed;
  for (const std::uint32_t chunks : {1u, reduction_chunks(l, npu, dataflow)})
    if (streamed_blocks(l, npu, dataflow, c, objective, chunks, streamed)) consider(streamed);
}

OrderChoice cheapest_tilings(const LayerCommand& l, const NpuLayout& npu, pe_array::Dataflow dataflow,
                             Objective objective, const Neighbours& around = {}) {
  OrderChoice c;
  std::uint32_t k_groups = ~0u;  // the fewest of the whole buffer's tilings
  std::uint32_t k_block = 0;     // the largest K block of the whole buffer's tilings
  // Budgets often plan the same tiling (the clusters' buffers bound its K
  // block and rows), whose estimate is a function of the tiling here: each
  // is walked once (ResNet-50: 27 of 340 walks repeats, 47 % of the steps).
  // On latency, a walk stops at its order's best so far, which only falls:
  // such a tiling is kept as never cheaper (nothing for its cost).
  std::vector<std::pair<LayerTiling, std::optional<LayerCost>>> walked;
  const auto estimate = [&](const LayerTiling& t) {
    for (const auto& w : walked)
      if (w.first == t) return w.second;
    const auto o = static_cast<std::size_t>(t.order);
    walked.emplace_back(t, objective == Objective::kLatency && c.found[o]
                               ? estimate_layer_cost_below(l, npu, t, dataflow, around, c.cost[o].latency_cycles)
                               : estimate_layer_cost(l, npu, t, dataflow, around));
    return walked.back().second;
  };
  const auto consider = [&](const LayerTiling& t) {
    const auto o = static_cast<std::size_t>(t.order);
    if (c.found[o] && same_tiling(t, c.tiling[o])) return;
    const std::optional<LayerCost> cost = estimate(t);
    if (!cost || (c.found[o] && !cheaper(*cost, c.cost[o], objective))) return;
    c.found[o] = true;
    c.tiling[o] = t;
    c.cost[o] = *cost;
  };
  // Each tiling also streamed, where it may: the estimate prices both.
  const auto offer = [&](const LayerTiling& t) {
    consider(t);
    if (!may_stream(l, npu, t)) return;
    LayerTiling streamed = t;
    streamed.stream_weights = true;
    consider(streamed);
  };
  for_each_sram_budget(npu, [&](std::uint64_t budget) {
    bool fits = false;
    for (const LoopOrder order : {LoopOrder::kWeightBlocksOuter, LoopOrder::kRowTilesOuter}) {
      LayerTiling one_cluster;
      if (!plan_layer_tiling_within(l, npu, budget, order, one_cluster, dataflow)) {
        // No whole row fits: where the layer may be cut so, its tiles are
        // column strips, the narrowest a most_column_strips()th of the width
        // (smallest_tile_needs).
        if (npu.column_strips && cuts_columns(l, order))
          for (std::uint32_t strips = 2; strips <= most_column_strips(l); strips *= 2) {
            LayerTiling stripped;
            if (!plan_layer_tiling_within(l, npu, budget, order, stripped, dataflow, KBlockCap::kOneCluster, strips) ||
                !offered(stripped, k_groups))
              continue;
            offer(stripped);
            fits = true;
          }
        continue;
      }
      fits = true;
      // The whole buffer's fewest K slices come from the blocks one cluster
      // holds; the larger blocks are offered beside those, never in their
      // place, where they fill array columns one cluster's block leaves idle
      // (a slice of fewer output channels than the array has columns) and
      // one tile's rows leave every cluster to the K slices (a batch-1 fully
      // connected layer); unlike a smaller budget's, in more slices than that
      // block where it leaves clusters idle too (AlexNet's classifier.1: 7 of
      // 16 busy; docs/memory.md, "Output channels per cluster"). With several row
      // groups the estimate underprices them (ResNet-50's layer4.1.conv2 at
      // 24 filters a block: 280,647 cycles estimated, 340,507 measured); with
      // the columns full the larger first load slows the layer before
      // (ResNet-18's fc at 248 filters a block: 1,339 cycles faster, its
      // avgpool 1,851 slower), which the estimate of one layer cannot see.
      if (budget == npu.sram_bytes) {
        k_groups = std::min(k_groups, one_cluster.k_groups);
        k_block = std::max(k_block, one_cluster.k_block);
      }
      if (budget == npu.sram_bytes || offered(one_cluster, k_groups)) offer(one_cluster);
      if (npu.smaller_tilings && budget == npu.sram_bytes)
        for_each_smaller_weight_block(l, npu, order, dataflow, one_cluster.k_block, [&](const LayerTiling& t) {
          if (offered(t, k_groups)) offer(t);
        });
      // Whole rows cost some layers their shape. A channelwise layer whose
      // rows fit only a part of its channels loads each pixel's channels of
      // the block as a run of their own, a burst each from DRAM (MobileNet
      // v1's conv_dw_1 at 1080 x 1920: 16 bytes, the DRAM 12 % busy). A tile
      // of fewer rows than K slices has most clusters read the same input
      // rows as slices, from the same banks at once, which the estimate does
      // not price (above). Column strips keep the block whole or give the
      // clusters rows of their own: there the estimate prices strips of a
      // half, a quarter, ... of the width beside whole rows. Two floors keep
      // out the strips it ranks wrongly: a strip's input row fills at least
      // a DMA burst (narrower, each row is a burst round trip and a NoC
      // packet of its own: MobileNet v1's conv_pw_2 in strips of 2 columns
      // ran 42,403 -> 67,748 cycles), and its K block is no smaller than the
      // whole buffer's whole rows' (each block reads a dense layer's input
      // again: ResNet-50's layer2.0.conv1 at 120 filters a block, 192,895 ->
      // 213,448 cycles).
      const bool block_cut = channelwise(l) && one_cluster.k_block < l.out_c;
      if (npu.column_strips && cuts_columns(l, order) && (block_cut || one_cluster.k_groups > one_cluster.row_groups))
        for (std::uint32_t strips = 2; strips <= most_column_strips(l); strips *= 2) {
          LayerTiling stripped;
          if (plan_layer_tiling_within(l, npu, budget, order, stripped, dataflow, KBlockCap::kOneCluster, strips) &&
              std::uint64_t{input_cols_for(l, stripped.cols_per_tile)} *
                      input_bytes(l, block_input_channels(l, stripped.k_block)) >=
                  dma_burst_bytes(npu.costs) &&
              stripped.k_block >= std::max(one_cluster.k_block, k_block) &&
              (stripped.k_block > one_cluster.k_block || stripped.row_groups > one_cluster.row_groups) &&
              offered(stripped, k_groups))
            offer(stripped);
        }
      if (one_cluster.row_groups != 1 || one_cluster.k_slice >= npu.array_cols) continue;
      LayerTiling sliced;
      if (plan_layer_tiling_within(l, npu, budget, order, sliced, dataflow, KBlockCap::kClusterSlices) &&
          sliced.k_block > one_cluster.k_block)
        offer(sliced);
    }
    if (budget == npu.sram_bytes) offer_streamed_blocks(l, npu, dataflow, objective, c, consider);
    return fits;
  });
  return c;
}

}  // namespace

pe_array::Dataflow DataflowCosts::cheapest() const {
  std::size_t best = plans.size();
  for (std::size_t d = 0; d < plans.size(); ++d)
    if (plans[d].candidate && (best == plans.size() || cheaper(plans[d].cost, plans[best].cost, objective))) best = d;
  return static_cast<pe_array::Dataflow>(best);
}

bool plan_dataflows(const LayerCommand& l, const NpuLayout& npu, Objective objective, DataflowCosts& costs,
                    const Neighbours& around) {
  costs = DataflowCosts{};
  costs.objective = objective;
  bool any = false;
  for (unsigned d = 0; d < pe_array::kDataflows; ++d) {
    if ((npu.dataflows >> d & 1u) == 0) continue;
    const auto dataflow = static_cast<pe_array::Dataflow>(d);
    const OrderChoice c = cheapest_tilings(l, npu, dataflow, objective, around);
    if (!c.found[0]) continue;
    DataflowPlan& p = costs.plans[d];
    p.candidate = any = true;
    p.tiling = c.tiling[0];
    p.cost = c.cost[0];
    if (!c.found[1]) continue;
    p.has_other_order = true;
    p.other_tiling = c.tiling[1];
    p.other = c.cost[1];
    if (cheaper(p.other, p.cost, objective)) {
      std::swap(p.tiling, p.other_tiling);
      std::swap(p.cost, p.other);
    }
  }
  return any;
}

PlanKey plan_key(const LayerCommand& l, const NpuLayout& npu, const Neighbours& around) {
  // Its bytes are its fields: equal keys are equal commands.
  static_assert(std::has_unique_object_representations_v<LayerCommand>);
  LayerCommand k = l;
  k.layer_id = 0;
  k.input_zero_point = k.output_zero_point = k.act_min = k.act_max = 0;
  k.add = AddParams{};
  k.copy = CopyParams{};
  k.fused_output_zero_point = k.fused_act_min = k.fused_act_max = 0;
  k.input_segments_addr = k.batch_table_addr = 0;
  const std::uint64_t burst = dma_burst_bytes(npu.costs);
  for (std::uint64_t* addr :
       {&k.input_addr, &k.output_addr, &k.weights_addr, &k.bias_addr, &k.requant_addr, &k.input2_addr})
    *addr %= burst;
  const DmaStream& next = around.next_loads;
  const std::uint64_t words[] = {around.ahead_cycles, next.bytes, next.bursts, next.flits, next.descriptors};
  static_assert(sizeof k + sizeof words + sizeof next.round_trips == std::tuple_size_v<PlanKey>);
  PlanKey key;
  std::memcpy(key.data(), &k, sizeof k);
  std::memcpy(key.data() + sizeof k, words, sizeof words);
  std::memcpy(key.data() + sizeof k + sizeof words, &next.round_trips, sizeof next.round_trips);
  return key;
}

bool plan_fastest_tiling(const LayerCommand& l, const NpuLayout& npu, LayerTiling& t, LayerCost* cost,
                         const Neighbours& around) {
  const OrderChoice c = cheapest_tilings(l, npu, pe_array::Dataflow::kOutputStationary, Objective::kLatency, around);
  if (c.found[0]) t = c.tiling[0];
  if (c.found[0] && cost != nullptr) *cost = c.cost[0];
  return c.found[0];
}

}  // namespace npuvp::firmware
