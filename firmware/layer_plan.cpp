// The planner's tilings: the K blocks, row tiles and column strips of a layer
// that fit the global buffer and the clusters' buffers, and how a tile splits
// over the clusters.
#include "firmware/layer_plan.h"

#include <algorithm>
#include <vector>

#include "firmware/layer_geometry.h"
#include "firmware/layer_shape.h"

namespace npuvp::firmware {
namespace {

std::uint64_t control_bytes(const LayerCommand& l, const NpuLayout& npu) {
  return job_tables_offset(l, npu) + 2 * job_table_bytes(npu);
}

// Input-buffer room a cluster's job needs for spilled partial sums.
std::uint64_t psum_room(const LayerCommand& l, const NpuLayout& npu, pe_array::Dataflow dataflow, std::uint32_t rows,
                        std::uint32_t k_count, std::uint32_t width = 0) {
  if (opcode_of(l) != Opcode::kConv2d) return 0;
  return pe_array::psum_footprint_bytes(dataflow, {npu.array_rows, npu.array_cols}, features(npu),
                                        job_shape(l, conv_rows_for(l, rows), k_count, width),
                                        pe_array::reduction_steps(filter_elements(l), packed_int4(l, npu)));
}

// `cols`: output columns per tile, 0 for the whole width. `streamed`: the
// weights go into the clusters' streamed slots, never into SRAM.
bool try_tiling(const LayerCommand& l, const NpuLayout& npu, std::uint64_t sram_bytes, std::uint64_t filter,
                std::uint32_t kb, unsigned weight_buffers, pe_array::Dataflow dataflow, std::uint32_t cols,
                LayerTiling& t, bool streamed = false) {
  const Opcode op = opcode_of(l);
  const std::uint32_t per_group = k_unit(l);
  t.k_block = kb;
  const std::uint64_t param_channels = filter != 0 ? kb : 0;
  const std::uint64_t sram_weights = streamed ? 0 : align64(kb * filter);
  const std::uint64_t weight_buffer = sram_weights + align64(param_channels * 4) + align64(param_channels * 8);
  const auto place = [&](unsigned b, std::uint64_t at) {
    t.weights_offset[b] = at;
    t.bias_offset[b] = t.weights_offset[b] + sram_weights;
    t.requant_offset[b] = t.bias_offset[b] + align64(param_channels * 4);
  };
  place(0, control_bytes(l, npu));
  std::uint64_t at = control_bytes(l, npu) + weight_buffer;
  if (weight_buffers == 2) {
    // The second weight buffer starts on a chunk of its own (with the banks
    // back to back, a bank of its own): the DMA fills it while the clusters
    // read the first one.
    const std::uint64_t chunk = std::max<std::uint64_t>(1, npu.sram_interleave_bytes);
    at = (at + chunk - 1) / chunk * chunk;
    place(1, at);
    at += weight_buffer;
  }
  if (at >= sram_bytes) return false;
  const std::uint64_t remaining = sram_bytes - at;
  t.cols_per_tile = cols;
  const std::uint32_t width = cols == 0 ? l.out_w : cols;
  const std::uint64_t row_bytes =
      std::uint64_t{cols == 0 ? l.in_w : input_cols_for(l, cols)} * input_bytes(l, block_input_channels(l, kb));
  const unsigned inputs = op == Opcode::kAdd ? 2 : 1;
  for (std::uint32_t rows = l.out_h; rows >= 1; --rows) {
    const std::uint64_t in_bytes = std::min<std::uint64_t>(l.in_h, input_rows_for(l, rows)) * row_bytes;
    const std::uint64_t out_bytes = std::uint64_t{rows} * width * output_bytes(l, kb);
    // A fused add's residual tiles take the second input's place.
    const std::uint64_t in2_bytes = inputs == 2 ? in_bytes
                                    : fuses_add(l)
                                        ? std::uint64_t{rows} * width * residual_channels(l, weight_buffers == 2, kb)
                                        : 0;
    if (2 * align64(in_bytes) + 2 * align64(in2_bytes) + 2 * align64(out_bytes) > remaining) continue;
    // Whole rows per cluster keep every cluster equally busy; the spatial
    // dataflow's patches want the array's rows in each.
    const std::uint32_t unit = dataflow == pe_array::Dataflow::kSpatialOutputStationary ? npu.array_rows : 1;
    std::uint32_t chosen = rows;
    if (chosen > npu.clusters * unit && chosen < l.out_h) chosen -= chosen % (npu.clusters * unit);
    // Rows first; clusters left over split the K block into channel slices.
    // Fewer rows only add steps: past the limit no smaller tile will do.
    if (tiling_steps(l, chosen, width, kb) > kMaxLayerSteps) return false;
    const std::uint32_t row_groups = std::min(npu.clusters, ceil_div(chosen, unit));
    const std::uint32_t k_groups = std::max(1u, npu.clusters / row_groups);
    std::uint32_t slice = ceil_div(kb, k_groups);
    slice = ceil_div(slice, per_group) * per_group;
    // A cluster holds its slice's weights whole; fewer rows leave more
    // clusters to split the block into smaller slices.
    if (std::uint64_t{slice} * filter > (streamed ? streamed_slot_bytes(npu) : npu.cluster_weight_buffer_bytes))
      continue;
    const std::uint32_t rows_per_group = ceil_div(chosen, row_groups);
    const std::uint64_t cluster_in =
        inputs * std::min<std::uint64_t>(l.in_h, input_rows_for(l, rows_per_group)) * row_bytes +
        psum_room(l, npu, dataflow, rows_per_group, std::min(slice, kb), cols);
    if (cluster_in > npu.cluster_input_buffer_bytes) continue;
    t.rows_per_tile = chosen;
    t.row_groups = row_groups;
    t.k_slice = slice;
    t.k_groups = ceil_div(kb, slice);
    t.input_offset[0] = at;
    t.input_offset[1] = t.input_offset[0] + align64(in_bytes);
    t.input2_offset[0] = t.input_offset[1] + align64(in_bytes);
    t.input2_offset[1] = t.input2_offset[0] + align64(in2_bytes);
    t.output_offset[0] = t.input2_offset[1] + align64(in2_bytes);
    t.output_offset[1] = t.output_offset[0] + align64(out_bytes);
    t.bytes_used = t.output_offset[1] + align64(out_bytes);
    // A K slice writes each result row as one span from its first channel to
    // the end of the row's last pixel of the block, the other slices' bytes
    // masked: the last buffer's span may reach the block's pixel less a
    // slice's past it, which must still be memory (a strip tiling that filled the
    // SRAM to its last byte failed mid-run with writes past its end).
    if (t.output_offset[1] + out_bytes + output_bytes(l, kb) - output_bytes(l, std::min(slice, kb)) > npu.sram_bytes)
      continue;
    return true;
  }
  return false;
}

// A batch of whole-image row tiles walked with the row tiles outer: as many
// images' inputs (and second operands or residuals) as the SRAM holds share
// each pass of the K blocks' weights, so the weights are read once per that
// many images. The input buffers are double-buffered for the next group of
// images; a batch that one buffer holds whole has no next group and takes
// the room of both.
void hold_whole_images(const LayerCommand& l, std::uint64_t sram_bytes, LayerTiling& t) {
  const std::uint32_t batch = std::max(1u, l.batch_count);
  if (t.order != LoopOrder::kRowTilesOuter || t.rows_per_tile != l.out_h || batch == 1) return;
  const std::uint64_t slot = t.input_offset[1] - t.input_offset[0];
  const std::uint64_t slot2 = t.input2_offset[1] - t.input2_offset[0];
  const std::uint64_t outputs = t.bytes_used - t.output_offset[0];
  const std::uint64_t room = sram_bytes - t.input_offset[0] - outputs;
  // The images of an input buffer load in one chain, which the load channel's slots must hold.
  const std::uint64_t chained = (dma_slots(l) - 3) / image_load_descriptors(l);
  const unsigned buffers = batch <= chained && batch * (slot + slot2) <= room ? 1 : 2;
  const auto images =
      static_cast<std::uint32_t>(std::min({std::uint64_t{batch}, room / (buffers * (slot + slot2)), chained}));
  if (images <= 1) return;
  t.images_per_tile = images;
  t.input_slot_bytes = slot;
  t.input2_slot_bytes = slot2;
  t.input_offset[1] = t.input_offset[0] + (buffers - 1) * images * slot;
  t.input2_offset[0] = t.input_offset[0] + buffers * images * slot;
  t.input2_offset[1] = t.input2_offset[0] + (buffers - 1) * images * slot2;
  const std::uint64_t output_bytes = t.output_offset[1] - t.output_offset[0];
  t.output_offset[0] = t.input2_offset[0] + buffers * images * slot2;
  t.output_offset[1] = t.output_offset[0] + output_bytes;
  t.bytes_used = t.output_offset[0] + outputs;
}

}  // namespace

bool plan_layer_tiling_within(const LayerCommand& l, const NpuLayout& npu, std::uint64_t sram_bytes, LoopOrder order,
                              LayerTiling& t, pe_array::Dataflow dataflow, KBlockCap cap, std::uint32_t strips,
                              std::uint32_t chunks) {
  const Opcode op = opcode_of(l);
  const std::uint64_t control = control_bytes(l, npu);
  if (!is_tiled(op) || npu.clusters == 0 || sram_bytes <= control) return false;
  const bool streamed = cap == KBlockCap::kStreamedSlots;
  if (streamed && (filter_bytes(l) == 0 || order != LoopOrder::kRowTilesOuter || channelwise(l))) return false;
  // Streamed blocks pass each strip in turn (row tiles outer), read again
  // for each: a batch folded into a row whose pixels fill more than a
  // cluster's input buffer (docs/memory.md, "Blocks past the global buffer").
  if (strips > 1 &&
      (!(cuts_columns(l, LoopOrder::kWeightBlocksOuter) && (streamed || cuts_columns(l, order))) || strips > l.out_w))
    return false;
  const std::uint32_t cols = strips > 1 ? ceil_div(l.out_w, strips) : 0;
  if (chunks > 1 && (!streamed || l.kernel_h != 1 || l.kernel_w != 1 || l.groups != 1 || chunks > l.in_c)) return false;
  // A slice holds its filters' chunks: the first chunk is the largest.
  LayerCommand chunked = l;
  chunked.in_c = ceil_div(l.in_c, chunks);
  const std::uint64_t filter = filter_bytes(chunked);
  const std::uint32_t per_group = k_unit(l);
  const std::uint64_t avail = sram_bytes - control;
  std::uint32_t kb = l.out_c;
  if (filter != 0) {
    const std::uint64_t weight_buffers =
        std::uint64_t{npu.cluster_weight_buffer_bytes} * (cap == KBlockCap::kClusterSlices ? npu.clusters : 1);
    // A chunked slice holds no more filters than the array has columns:
    // their sums are held from one chunk to the next (one column fold).
    const std::uint64_t per_slot = streamed_slot_bytes(npu) / filter;
    const std::uint64_t max_k =
        streamed
            ? std::uint64_t{npu.clusters} * (chunks > 1 ? std::min<std::uint64_t>(per_slot, npu.array_cols) : per_slot)
            : std::min<std::uint64_t>(weight_buffers, avail / 4) / filter;
    if (max_k < per_group) return false;
    kb = static_cast<std::uint32_t>(std::min<std::uint64_t>(l.out_c, max_k));
    kb -= kb % per_group;
    const std::uint32_t unit = std::max(per_group, npu.array_cols);
    if (kb < l.out_c && kb >= unit && unit % per_group == 0) kb -= kb % unit;
  }
  // Smaller K blocks until a tiling fits: a channelwise layer then loads fewer
  // input channels, any layer smaller output tiles. Only a dense convolution's
  // K blocks share their input, so only there does the loop order change what
  // is read.
  for (;;) {
    if (order == LoopOrder::kRowTilesOuter && !channelwise(l) && kb < l.out_c) {
      t = LayerTiling{};
      t.order = LoopOrder::kRowTilesOuter;
      if (try_tiling(l, npu, sram_bytes, filter, kb, 2, dataflow, streamed ? cols : 0, t, streamed)) {
        if (!streamed) hold_whole_images(l, sram_bytes, t);
        t.reduction_chunks = chunks;
        return true;
      }
    }
    if (streamed) {
      // Only a walk of the K blocks past one row tile streams them.
      if (kb <= per_group) return false;
      kb = std::max(per_group, kb / 2 - (kb / 2) % per_group);
      continue;
    }
    t = LayerTiling{};
    if (try_tiling(l, npu, sram_bytes, filter, kb, 1, dataflow, cols, t)) return true;
    if (kb <= per_group) return false;
    kb = std::max(per_group, kb / 2 - (kb / 2) % per_group);
  }
}

bool plan_layer_tiling(const LayerCommand& l, const NpuLayout& npu, LoopOrder order, LayerTiling& t,
                       pe_array::Dataflow dataflow) {
  return plan_layer_tiling_within(l, npu, npu.sram_bytes, order, t, dataflow);
}

std::vector<RowTilesStep> row_tiles_outer_steps(std::uint32_t tiles, std::uint32_t blocks,
                                                std::uint32_t images_per_tile) {
  std::vector<RowTilesStep> steps;
  std::uint32_t pass = 0;
  for (std::uint32_t first = 0; first < tiles; first += images_per_tile)
    for (std::uint32_t block = 0; block < blocks; ++block, ++pass)
      for (std::uint32_t tile = first; tile < std::min(tiles, first + images_per_tile); ++tile)
        steps.push_back({tile, block, pass, tile == first, tile == first && block == 0});
  return steps;
}

std::uint64_t tiling_steps(const LayerCommand& l, std::uint32_t rows, std::uint32_t cols, std::uint32_t kb) {
  return std::uint64_t{ceil_div(l.out_h, rows)} * ceil_div(l.out_w, cols == 0 ? l.out_w : cols) *
         ceil_div(l.out_c, kb) * std::max(1u, l.batch_count);
}

TileNeeds smallest_tile_needs(const LayerCommand& l, const NpuLayout& npu) {
  // try_tiling's sums with a K block of one group and a tile of one row, of
  // the narrowest strip where the planner may cut the row into strips.
  const std::uint32_t kb = k_unit(l);
  const std::uint64_t filter = filter_bytes(l);
  const std::uint64_t params = filter != 0 ? kb : 0;
  TileNeeds n;
  if (npu.column_strips && cuts_columns(l, LoopOrder::kWeightBlocksOuter) && most_column_strips(l) > 1)
    n.cols = ceil_div(l.out_w, most_column_strips(l));
  const std::uint64_t row_bytes =
      std::uint64_t{n.cols == 0 ? l.in_w : input_cols_for(l, n.cols)} * input_bytes(l, block_input_channels(l, kb));
  const std::uint64_t in_bytes = std::min<std::uint64_t>(l.in_h, input_rows_for(l, 1)) * row_bytes;
  const std::uint64_t out_bytes = std::uint64_t{n.cols == 0 ? l.out_w : n.cols} * output_bytes(l, kb);
  const unsigned inputs = opcode_of(l) == Opcode::kAdd ? 2 : 1;
  const std::uint64_t residual = fuses_add(l) ? align64(std::uint64_t{n.cols == 0 ? l.out_w : n.cols} * kb) : 0;
  n.weight_buffer_bytes = kb * filter;
  // plan_layer_tiling keeps a K block's weights within a quarter of the SRAM.
  const std::uint64_t weights = align64(kb * filter) + align64(params * 4) + align64(params * 8);
  n.sram_bytes =
      control_bytes(l, npu) +
      std::max(weights + 2 * inputs * align64(in_bytes) + 2 * residual + 2 * align64(out_bytes), 4 * kb * filter);
  // Weight-stationary's spilled partial sums of that one row, where it may run.
  const bool ws = npu.dataflows & (1u << static_cast<unsigned>(pe_array::Dataflow::kWeightStationary));
  n.input_buffer_bytes =
      inputs * in_bytes + (ws ? psum_room(l, npu, pe_array::Dataflow::kWeightStationary, 1, kb, n.cols) : 0);
  n.steps = tiling_steps(l, 1, n.cols, kb);
  return n;
}

}  // namespace npuvp::firmware
