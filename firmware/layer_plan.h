#pragma once
// How the firmware plans a convolution, pooling or add layer before running
// it: the cut into K blocks (output channels per weight load) and row tiles
// that fits the SRAM and the cluster buffers, the order it walks them in, the
// split of a tile over the clusters, and what each dataflow would cost. Pure
// logic: the firmware runs it, the report and the tests call it.

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "contract/cluster_regs.h"
#include "contract/command_format.h"
#include "firmware/dma_model.h"
#include "firmware/hal.h"
#include "firmware/layer_geometry.h"

namespace npuvp::firmware {

// Which operand stays in SRAM while the other streams past, where the two
// differ (a dense convolution needing several K blocks). Weight-stationary
// keeps its weights there too; output-stationary takes the cheaper order.
enum class LoopOrder : std::uint32_t {
  // A K block's weights are loaded once and every row tile streams past
  // them. A dense convolution reads its input once per K block. In a batched
  // command the row tiles of all images pass each block: its weights are
  // read once per batch.
  kWeightBlocksOuter = 0,
  // A row tile's inputs stay while every K block's weights stream past
  // (double-buffered), finishing the tile's outputs before the next tile.
  // Inputs are read once; weights once per row tile and image.
  kRowTilesOuter = 1,
};

// Offsets are from the start of SRAM; every buffer is double-buffered, the
// weights only in kRowTilesOuter (index 1 unused otherwise).
struct LayerTiling {
  LoopOrder order = LoopOrder::kWeightBlocksOuter;
  std::uint32_t k_block = 0;        // output channels per weight load
  std::uint32_t rows_per_tile = 0;  // output rows per tile
  // Output columns per tile, 0 for the whole width: a row tile is then cut
  // into column strips (TileGrid), so that a wide map keeps its K block
  // whole and its pixels' channels together in DRAM (docs/firmware.md,
  // "Column strips").
  std::uint32_t cols_per_tile = 0;
  std::uint32_t row_groups = 0;  // clusters split a tile's rows into this many groups...
  std::uint32_t k_groups = 0;    // ...and a K block into this many channel slices
  std::uint32_t k_slice = 0;     // channels per slice (a multiple of the channels per group)
  std::uint64_t weights_offset[2] = {0, 0}, bias_offset[2] = {0, 0}, requant_offset[2] = {0, 0};
  std::uint64_t input_offset[2] = {0, 0};
  std::uint64_t input2_offset[2] = {0, 0};  // kAdd's second operand
  std::uint64_t output_offset[2] = {0, 0};
  std::uint64_t bytes_used = 0;
  // kRowTilesOuter on a batch whose row tile is a whole image: each input
  // buffer holds this many images' inputs, input_slot_bytes apart (their
  // second operands or residuals input2_slot_bytes apart), and every K
  // block's weights pass all of them. When that is the whole batch, the two
  // input buffers are one (offsets [0] and [1] equal).
  std::uint32_t images_per_tile = 1;
  std::uint64_t input_slot_bytes = 0;
  std::uint64_t input2_slot_bytes = 0;
  // kRowTilesOuter with one tile of one row group (a batch-1 fully connected
  // layer: every weight used by one job): each step after the first has the
  // DMA write its K block's weights straight into the clusters' weight-fill
  // windows, slice k into cluster k's streamed slot pass % 2
  // (streams_step); its bias and requantization still go into SRAM.
  bool stream_weights = false;
  // The first step's weights stream too (KBlockCap::kStreamedSlots): no
  // weight passes the global buffer, so the K block is bounded by the
  // clusters' streamed slots rather than by the SRAM, and the layer before
  // cannot load it ahead (its jobs still use the buffers the slots are).
  bool stream_first_step = false;
  // A streamed tiling whose filters a slot holds too few of to fill the
  // array's columns may split each filter's input channels into this many
  // runs (a fully connected layer of long filters): the walk's steps are a
  // K block's chunks in turn, its jobs holding their sums from one to the
  // next (contract/cluster_regs.h, kJobHoldSums), the last one writing the
  // results (block_chunk, chunk_channels).
  std::uint32_t reduction_chunks = 1;
};

// Every field: the estimate reads each of them, offsets included (which
// banks a buffer spans, where its bursts start).
inline bool operator==(const LayerTiling& a, const LayerTiling& b) {
  const auto fields = [](const LayerTiling& t) {
    return std::tie(t.order, t.k_block, t.rows_per_tile, t.cols_per_tile, t.row_groups, t.k_groups, t.k_slice,
                    t.weights_offset[0], t.weights_offset[1], t.bias_offset[0], t.bias_offset[1], t.requant_offset[0],
                    t.requant_offset[1], t.input_offset[0], t.input_offset[1], t.input2_offset[0], t.input2_offset[1],
                    t.output_offset[0], t.output_offset[1], t.bytes_used, t.images_per_tile, t.input_slot_bytes,
                    t.input2_slot_bytes, t.stream_weights, t.stream_first_step, t.reduction_chunks);
  };
  return fields(a) == fields(b);
}
// A field added to LayerTiling belongs in operator== (a memoized estimate
// keyed on fewer would be another tiling's).
static_assert(sizeof(LayerTiling) == 168);

// Step `block` of a kRowTilesOuter walk (RowTilesStep::block) as its K
// block and the run of that block's input channels it reduces
// (LayerTiling::reduction_chunks).
struct BlockChunk {
  std::uint32_t k_block_index, chunk;
  bool last_chunk;
};
inline BlockChunk block_chunk(const LayerTiling& t, std::uint32_t block) {
  const std::uint32_t chunks = std::max(1u, t.reduction_chunks);
  return {block / chunks, block % chunks, block % chunks + 1 == chunks};
}
// The input channels each chunk reduces (the last: what is left).
inline std::uint32_t chunk_channels(const LayerCommand& l, const LayerTiling& t) {
  return ceil_div(l.in_c, std::max(1u, t.reduction_chunks));
}
// The input channels chunk `chunk` reduces, and the bytes of a (1 x 1)
// filter's run of them: the whole filter's without chunks.
inline std::uint32_t chunk_channel_count(const LayerCommand& l, const LayerTiling& t, std::uint32_t chunk) {
  return std::min(chunk_channels(l, t), l.in_c - chunk * chunk_channels(l, t));
}
inline std::uint64_t filter_run_bytes(const LayerCommand& l, const LayerTiling& t, std::uint32_t chunk) {
  return t.reduction_chunks > 1 ? input_bytes(l, chunk_channel_count(l, t, chunk)) : filter_bytes(l);
}

// How a tiling cuts the output into tiles, as the firmware and the estimate
// count them: row tiles of rows_per_tile rows, each cut into strips of
// cols_per_tile columns (one strip of the whole width when 0); tile by tile
// along a row tile's strips, then the next row tile, and on from one image
// of a batch to the next.
class TileGrid {
 public:
  TileGrid() = default;
  TileGrid(const LayerCommand& l, const LayerTiling& t)
      : out_h_(l.out_h),
        out_w_(l.out_w),
        in_w_(l.in_w),
        rows_(t.rows_per_tile),
        cols_(t.cols_per_tile == 0 ? l.out_w : t.cols_per_tile),
        strips_(ceil_div(l.out_w, cols_)),
        per_image_(ceil_div(l.out_h, rows_) * strips_) {}

  std::uint32_t per_image() const { return per_image_; }
  std::uint32_t image(std::uint32_t tile) const { return tile / per_image_; }
  std::uint32_t first_row(std::uint32_t tile) const { return tile % per_image_ / strips_ * rows_; }
  std::uint32_t rows(std::uint32_t tile) const { return std::min(rows_, out_h_ - first_row(tile)); }
  std::uint32_t first_col(std::uint32_t tile) const { return tile % strips_ * cols_; }
  std::uint32_t cols(std::uint32_t tile) const { return std::min(cols_, out_w_ - first_col(tile)); }
  bool whole_width() const { return strips_ == 1; }
  // The input columns the tile loads: the whole width's, or its strip's.
  std::pair<std::uint32_t, std::uint32_t> input_cols(const LayerCommand& l, std::uint32_t tile) const {
    if (whole_width()) return {0, in_w_};
    return input_col_range(l, first_col(tile), cols(tile));
  }

 private:
  std::uint32_t out_h_ = 0, out_w_ = 0, in_w_ = 0;
  std::uint32_t rows_ = 1, cols_ = 1, strips_ = 1, per_image_ = 1;
};

// Whether step `step` of a kRowTilesOuter walk streams its weights into the
// clusters. The first step's weights go into SRAM, where the layer before
// loads them during its last step (layer_prefetch.cpp), unless the tiling
// streams them too.
inline bool streams_step(const LayerTiling& t, std::size_t step) {
  return t.stream_weights && (step > 0 || t.stream_first_step);
}

// The most a cluster's streamed slot holds: half its weight buffer, within
// the slot's window (contract/cluster_regs.h).
inline std::uint64_t streamed_slot_bytes(const NpuLayout& npu) {
  return std::min<std::uint64_t>(pe_array::kFillStreamSlotBytes,
                                 npu.cluster_weight_buffer_bytes / pe_array::kFillStreamSlots);
}

// Whether the jobs of a step of `rows` output rows form operand groups
// (contract/cluster_regs.h): the clusters take them, the step loads weights
// and more than one row group shares each K slice's, which fit the fill
// window. Then each slice's weights are read from the banks once and
// multicast to its row groups' clusters.
inline bool groups_operands(const LayerCommand& l, const NpuLayout& npu, const LayerTiling& t, std::uint32_t rows,
                            bool load_weights) {
  return npu.operand_multicast && load_weights && opcode_of(l) == Opcode::kConv2d &&
         ceil_div(rows, ceil_div(rows, t.row_groups)) >= 2 &&
         std::uint64_t{t.k_slice} * filter_bytes(l) <= pe_array::kFillWeightBytes;
}

// One step of kRowTilesOuter: K block `block` of tile `tile` (tiles counted on
// from one image of a batch to the next). A pass is one K block's weights
// over one input buffer's tiles; the step that begins a pass loads its
// weights, the one that begins an input buffer its tiles' inputs.
struct RowTilesStep {
  std::uint32_t tile, block, pass;
  bool loads_weights, loads_inputs;
};
std::vector<RowTilesStep> row_tiles_outer_steps(std::uint32_t tiles, std::uint32_t blocks,
                                                std::uint32_t images_per_tile);

// Step `i` of a kRowTilesOuter walk follows a step of the same tile (its K
// block before) when a pass holds one tile: then each cluster whose row
// group stays keeps the input rows its job before loaded (kJobKeepInput).
// Returns the K slices of the step before, 0 when no job keeps its rows.
inline std::uint32_t slices_keeping_rows(const LayerCommand& l, const NpuLayout& npu, const LayerTiling& t,
                                         const std::vector<RowTilesStep>& steps, std::size_t i) {
  if (!npu.keep_input_rows || i == 0 || steps[i - 1].tile != steps[i].tile) return 0;
  const std::uint32_t k0 = block_chunk(t, steps[i - 1].block).k_block_index * t.k_block;
  return ceil_div(std::min(t.k_block, l.out_c - k0), t.k_slice);
}
// Whether job `c` of a step of `slices` K slices keeps its rows after a step
// of `slices_before` (slices_keeping_rows; 0: none): job c of a step is row
// group c / slices, so its cluster's row group stays when the two agree.
inline bool keeps_rows(std::uint32_t c, std::uint32_t slices, std::uint32_t slices_before) {
  return slices_before != 0 && c / slices == c / slices_before;
}

// Chooses a tiling walked in `order` for a convolution run in `dataflow`, or
// returns false when none fits. kRowTilesOuter applies only to a dense
// convolution that needs several K blocks and falls back to
// kWeightBlocksOuter otherwise (tiling.order says which it got). The
// dataflow shapes the tiling: weight-stationary reserves input-buffer room
// for the partial sums it spills (contract/operand_fetches.h); spatial
// output-stationary gives each cluster whole patches of rows (at least the
// array's rows each) and splits the output channels over the rest.
bool plan_layer_tiling(const LayerCommand& layer, const NpuLayout& npu, LoopOrder order, LayerTiling& tiling,
                       pe_array::Dataflow dataflow = pe_array::Dataflow::kOutputStationary);

// What bounds a K block's weights besides a quarter of the global buffer.
// Each cluster holds only its channel slice of the block, so the slices
// must each fit one cluster's weight buffer; the block as a whole may then
// span every cluster's. The larger blocks pay where a row tile leaves most
// clusters to the K slices (a batch-1 fully connected layer: two output
// channels per cluster keep 2 of its 64 MACs busy) and cost elsewhere (fewer
// blocks to overlap the first load with), so the planner prices both.
enum class KBlockCap {
  kOneCluster,     // the whole block within one cluster's weight buffer
  kClusterSlices,  // each slice within one, the block within all of them
  // Every step's weights streamed into the clusters (a kRowTilesOuter tiling
  // of one row tile of one row group): each slice within a streamed slot,
  // the block within all clusters' slots, and only the block's bias and
  // requantization in SRAM. A batch-1 fully connected layer with large
  // filters otherwise gets blocks of a quarter of the SRAM, one or two
  // filters a cluster (AlexNet's classifier.1: 9 KiB filters, 8 clusters of
  // 16 busy with one each; docs/memory.md, "Blocks past the global buffer").
  kStreamedSlots,
};

// The planner cuts a row tile into at most this many column strips (a power
// of two, and no more than the output's columns).
inline constexpr std::uint32_t kMaxColumnStrips = 64;
inline std::uint32_t most_column_strips(const LayerCommand& l) {
  std::uint32_t strips = 1;
  while (2 * strips <= std::min(kMaxColumnStrips, l.out_w)) strips *= 2;
  return strips;
}

// Whether a layer's row tiles may be cut into column strips: a convolution
// without a fused pool, whose input is one tensor, walked weight blocks
// outer. (A fused pool's windows and an average pool's padded count would
// cross the strips; a gathered input would load as descriptors per row.)
inline bool cuts_columns(const LayerCommand& l, LoopOrder order) {
  return opcode_of(l) == Opcode::kConv2d && !fuses_pool(l) && l.input_segment_count == 0 &&
         order == LoopOrder::kWeightBlocksOuter;
}

// The tiling plan_layer_tiling would choose with only the first `sram_bytes`
// of the global buffer (the same banks and interleave), K blocks capped by
// `cap` (plan_layer_tiling: kOneCluster) and each row tile cut into `strips`
// column strips of equal width (the last may be narrower); false where the
// layer may not be cut so (cuts_columns).
// With kStreamedSlots, `chunks` splits each filter's input channels
// (LayerTiling::reduction_chunks): a slice then holds its filters' chunks.
bool plan_layer_tiling_within(const LayerCommand& layer, const NpuLayout& npu, std::uint64_t sram_bytes,
                              LoopOrder order, LayerTiling& tiling, pe_array::Dataflow dataflow,
                              KBlockCap cap = KBlockCap::kOneCluster, std::uint32_t strips = 1,
                              std::uint32_t chunks = 1);

struct LayerCost;

// What the layers on either side do to a layer's estimate: the firmware
// loads each layer's first weights during the last step of the layer before
// (layer_prefetch.cpp), behind that layer's last step and stores and beside
// them at the DRAM.
struct Neighbours {
  // The layer before's estimated tail (LayerCost::tail_cycles), behind which
  // this layer's first weights load; 0 where the layer loads them itself.
  std::uint64_t ahead_cycles = 0;
  // The next layer's first loads (next_first_loads), as its plan has them
  // when this layer's tail is taken to hide them whole; none for the last
  // command of a buffer.
  DmaStream next_loads;
};

// The tiling, walked weight blocks outer, that the estimate finds fastest
// among those plan_layer_tiling chooses within the global buffer, its half,
// its quarter and so on; false when none fits. For the layers that are not
// convolutions (one dataflow, one loop order). `cost`, if given, gets its estimate.
bool plan_fastest_tiling(const LayerCommand& layer, const NpuLayout& npu, LayerTiling& tiling,
                         LayerCost* cost = nullptr, const Neighbours& around = {});

// Steps of a tiling in tiles of `rows` output rows, `cols` output columns (0:
// the whole width) and `kb` output channels: row tiles × column strips × K
// blocks × images. A command may take at most kMaxLayerSteps.
std::uint64_t tiling_steps(const LayerCommand& layer, std::uint32_t rows, std::uint32_t cols, std::uint32_t kb);

// What the smallest tiling of a layer needs (one group of output channels,
// one output row, one weight buffer): bytes of the global buffer, of a
// cluster's weight buffer and of a cluster's input buffer. A platform that
// cannot give one of them cannot run the layer.
struct TileNeeds {
  std::uint64_t sram_bytes = 0;
  std::uint64_t weight_buffer_bytes = 0;
  std::uint64_t input_buffer_bytes = 0;
  std::uint32_t cols = 0;  // the tile's output columns: its narrowest strip's, 0 for a whole row
  // Steps of a tiling of such tiles (tiling_steps): above kMaxLayerSteps the
  // planner needs larger tiles, which the sizes above do not describe.
  std::uint64_t steps = 0;
};
TileNeeds smallest_tile_needs(const LayerCommand& layer, const NpuLayout& npu);

// The firmware's estimate of running a layer with one plan: the tile loop
// walked step by step with the systolic schedule of every cluster's job, the
// bytes each step moves, and the DMA overlapping loads and stores of the
// neighbouring steps with compute. Zero skipping is not foreseen (the
// weights are not looked at).
struct LayerCost {
  std::uint64_t compute_cycles = 0;  // the busiest cluster's array cycles, summed over the steps
  std::uint64_t latency_cycles = 0;  // the whole layer, with exposed loads and operand fetches
  std::uint64_t dram_bytes = 0;      // loaded and stored by the DMA
  std::uint64_t sram_bytes = 0;      // in and out of the banks (DMA and clusters)
  std::uint64_t noc_bytes = 0;       // between the banks and the DMA or the clusters
  std::uint64_t rf_accesses = 0;     // PE register files
  // In and out of the clusters' buffers: filled from SRAM, read on register-file misses.
  std::uint64_t weight_buffer_bytes = 0, input_buffer_bytes = 0;
  std::uint64_t macs = 0;
  double energy_pj = 0;  // every term of the CostTable, leakage over latency_cycles
  // The last step and the last store: while they run, the firmware loads the
  // next layer's first weights (layer_prefetch.cpp).
  std::uint64_t tail_cycles = 0;
};

LayerCost estimate_layer_cost(const LayerCommand& layer, const NpuLayout& npu, const LayerTiling& tiling,
                              pe_array::Dataflow dataflow, const Neighbours& around = {});
// The same, or nothing where the latency is `latency_bound` cycles or more:
// the walk stops where it reaches the bound (a planner's best so far).
std::optional<LayerCost> estimate_layer_cost_below(const LayerCommand& layer, const NpuLayout& npu,
                                                   const LayerTiling& tiling, pe_array::Dataflow dataflow,
                                                   const Neighbours& around, std::uint64_t latency_bound);
// The DMA chain that loads the layer's first weights, bias and
// requantization words under `tiling` (none for a layer without weights):
// what the layer before's last stores share the DRAM with.
DmaStream next_first_loads(const LayerCommand& layer, const NpuLayout& npu, const LayerTiling& tiling);

enum class Objective { kLatency, kEnergy };

// Whether `a` is cheaper than `b` on the objective.
inline bool cheaper(const LayerCost& a, const LayerCost& b, Objective objective) {
  return objective == Objective::kLatency ? a.latency_cycles < b.latency_cycles : a.energy_pj < b.energy_pj;
}

// One dataflow's plan: the loop order cheaper on the objective (a tie goes
// to kWeightBlocksOuter), and the other order where there is one, kept for
// the report.
struct DataflowPlan {
  bool candidate = false;  // the array supports the dataflow and a tiling fits
  LayerTiling tiling;
  LayerCost cost;
  bool has_other_order = false;
  LayerTiling other_tiling;
  LayerCost other;
};

// Every dataflow's plan behind a hybrid choice, by pe_array::Dataflow. The
// candidate cheaper on the objective runs; a tie goes to the lower-numbered
// dataflow (weight-stationary first).
struct DataflowCosts {
  Objective objective = Objective::kLatency;
  std::array<DataflowPlan, pe_array::kDataflows> plans;
  const DataflowPlan& plan(pe_array::Dataflow d) const { return plans[static_cast<std::size_t>(d)]; }
  pe_array::Dataflow cheapest() const;
};

// Fills `costs` with each dataflow in `npu.dataflows`, or returns false when
// none has a tiling that fits. Each dataflow's plan (and its other loop order)
// is the cheapest of the tilings plan_layer_tiling chooses within the global
// buffer, its half, its quarter and so on (docs/firmware.md).
bool plan_dataflows(const LayerCommand& layer, const NpuLayout& npu, Objective objective, DataflowCosts& costs,
                    const Neighbours& around = {});

// What planning a command (plan_dataflows, plan_fastest_tiling) reads of it,
// with its neighbours: on one platform, commands of equal keys plan
// alike, so the firmware plans each key once (ResNet-50's bottleneck blocks
// repeat their layers). Left out: the layer's id, its arithmetic (zero
// points, clamps, the add's and the copy's parameters), where its segment
// and batch tables lie, and of each DRAM address all but its offset within a
// DMA burst, all the estimate's bursts depend on (DmaModel; the addresses
// lie far below 2^64, so no offset wraps).
using PlanKey = std::array<unsigned char, sizeof(LayerCommand) + 5 * sizeof(std::uint64_t) + sizeof(double)>;
PlanKey plan_key(const LayerCommand& layer, const NpuLayout& npu, const Neighbours& around);

// The dataflow a command forces, or nothing for a hybrid choice.
inline bool forced_dataflow(DataflowChoice choice, pe_array::Dataflow& dataflow) {
  switch (choice) {
    case DataflowChoice::kWeightStationary:
      dataflow = pe_array::Dataflow::kWeightStationary;
      return true;
    case DataflowChoice::kOutputStationary:
      dataflow = pe_array::Dataflow::kOutputStationary;
      return true;
    case DataflowChoice::kSpatialOutputStationary:
      dataflow = pe_array::Dataflow::kSpatialOutputStationary;
      return true;
    default:
      return false;
  }
}

// What the firmware decided for one tiled layer command, for reports.
struct LayerDecision {
  std::int32_t layer_id = -1;
  DataflowChoice asked = DataflowChoice::kWeightStationary;
  pe_array::Dataflow dataflow = pe_array::Dataflow::kWeightStationary;
  LayerTiling tiling;
  bool costed = false;  // a convolution: every supported dataflow's costs (objective: latency unless asked for energy)
  DataflowCosts costs;
  std::uint64_t tail_cycles = 0;  // the estimated LayerCost::tail_cycles of the plan that runs
  // The command's output width: a batch run as one row of pixels (a fully
  // connected layer's images side by side) has the images' count.
  std::uint32_t out_w = 0;
};

}  // namespace npuvp::firmware
