// The next layer's first loads started during the current layer's last step
// (docs/firmware.md, "The next layer's first loads"). Only what cannot race
// the current layer is loaded early: its weights, bias and requantization
// words and the inputs of rows already stored, into SRAM this step no longer
// touches.
#include <algorithm>

#include "firmware/layer_runner.h"

namespace npuvp::firmware {
namespace {

// The bytes a descriptor reads (source) or writes (destination).
Span span(std::uint64_t base, const dma::Descriptor& d, std::int32_t row_pitch, std::int32_t plane_pitch) {
  const std::int64_t rows = std::int64_t{d.rows > 0 ? d.rows - 1 : 0} * row_pitch;
  const std::int64_t planes = std::int64_t{d.planes > 0 ? d.planes - 1 : 0} * plane_pitch;
  const auto at = static_cast<std::int64_t>(base);
  return {static_cast<std::uint64_t>(at + std::min<std::int64_t>(0, rows) + std::min<std::int64_t>(0, planes)),
          static_cast<std::uint64_t>(at + std::max<std::int64_t>(0, rows) + std::max<std::int64_t>(0, planes) +
                                     d.row_bytes)};
}
Span source(const dma::Descriptor& d) { return span(d.src, d, d.src_row_pitch, d.src_plane_pitch); }
Span destination(const dma::Descriptor& d) { return span(d.dst, d, d.dst_row_pitch, d.dst_plane_pitch); }

bool overlaps_any(const std::vector<Span>& spans, const Span& s) {
  return std::any_of(spans.begin(), spans.end(), [&](const Span& o) { return o.overlaps(s); });
}

}  // namespace

bool LayerRunner::prepare(LayerDecision& decision) {
  try {
    validate();
    if (op_ == Opcode::kCopy || op_ == Opcode::kFill) return false;
    read_images();
    decision = decide();
  } catch (const FirmwareError&) {
    return false;
  }
  dataflow_ = decision.dataflow;
  t_ = decision.tiling;
  grid_ = TileGrid(l_, t_);
  return true;
}

std::vector<Span> LayerRunner::sram_in_use(std::uint32_t tile, unsigned weights) const {
  const unsigned b = input_buffer(tile);
  // The two buffers of each kind lie side by side, in either order.
  const auto distance = [](const std::uint64_t(&o)[2]) { return std::max(o[0], o[1]) - std::min(o[0], o[1]); };
  // A batch held whole in one buffer has both at one place.
  const bool held = t_.images_per_tile > 1;
  const std::uint64_t input = held ? t_.images_per_tile * t_.input_slot_bytes : distance(t_.input_offset);
  const std::uint64_t input2 = held ? t_.images_per_tile * t_.input2_slot_bytes : distance(t_.input2_offset);
  const std::uint64_t params = op_ == Opcode::kConv2d ? t_.k_block : 0;
  const std::uint64_t control_end = job_tables_offset(l_, npu_) + 2 * job_table_bytes(npu_);
  // The load channel's slots are free: the layer loads nothing more.
  return {{sram(dma_slots(l_) * sizeof(dma::Descriptor)), sram(control_end)},
          {sram(t_.weights_offset[weights]), sram(t_.requant_offset[weights] + align64(params * 8))},
          {sram(t_.input_offset[b]), sram(t_.input_offset[b] + input)},
          {sram(t_.input2_offset[b]), sram(t_.input2_offset[b] + input2)},
          {sram(t_.output_offset[0]), sram(t_.bytes_used)}};
}

bool LayerRunner::relocate_first_weights(const std::vector<Span>& busy) {
  const std::uint64_t bytes = t_.requant_offset[0] + align64(std::uint64_t{t_.k_block} * 8) - t_.weights_offset[0];
  if (bytes > npu_.sram_bytes) return false;
  // As high as it goes below what the current step uses: the top itself may
  // hold the current layer's own relocated first weights.
  std::uint64_t at = (npu_.sram_bytes - bytes) & ~std::uint64_t{63};
  for (;;) {
    const auto hit = std::find_if(busy.begin(), busy.end(), [&](const Span& o) {
      return o.overlaps({sram(at), sram(at + bytes)});
    });
    if (hit == busy.end()) break;
    if (hit->lo < sram(bytes)) return false;
    at = (hit->lo - sram(bytes)) & ~std::uint64_t{63};
  }
  if (at < t_.bytes_used) return false;
  const std::uint64_t delta = at - t_.weights_offset[0];
  t_.weights_offset[0] += delta;
  t_.bias_offset[0] += delta;
  t_.requant_offset[0] += delta;
  return true;
}

void LayerRunner::prefetch_next(std::uint32_t tile, unsigned weights, const std::vector<dma::Descriptor>& stores) {
  if (!read_ahead(true)) return;
  // The command after next, if read with it, is what the next layer's plan
  // reads for its own next loads.
  Lookahead unused;
  unused.read = ahead_.after_read;
  unused.command = ahead_.after;
  LayerRunner next(hal_, ahead_.command, index_ + 1, resident_, unused, buffer_, planned_);
  next.ahead_cycles_ = tail_cycles_;
  if (!next.prepare(ahead_.decision)) return;
  const std::vector<Span> busy = sram_in_use(tile, weights);
  std::vector<Span> written;  // DRAM the layer has yet to write
  for (const dma::Descriptor& d : stores) written.push_back(destination(d));
  // A chain may start only if it writes no SRAM the step uses and reads
  // neither that nor DRAM still to be written.
  const auto clear = [&](const std::vector<dma::Descriptor>& chain) {
    return !chain.empty() && std::all_of(chain.begin(), chain.end(), [&](const dma::Descriptor& d) {
      const bool reads = (d.flags & dma::kDescFill) == 0;
      return !overlaps_any(busy, destination(d)) &&
             !(reads && (overlaps_any(busy, source(d)) || overlaps_any(written, source(d))));
    });
  };
  FirstLoads loads = next.first_loads(next.weights_resident());
  // Weights streamed into the clusters would land in the weight buffers
  // this step's jobs compute from: they wait for the next layer's run.
  if (next.t_.stream_first_step) loads.weights.clear();
  bool weights_clear = clear(loads.weights);
  if (!weights_clear && !loads.weights.empty() && next.relocate_first_weights(busy)) {
    loads.weights = next.first_loads(false).weights;
    weights_clear = clear(loads.weights);
    if (weights_clear) ahead_.weights_offset = next.t_.weights_offset[0];
  }
  bool inputs_clear = clear(loads.inputs);
  std::vector<dma::Descriptor> chain;
  if (weights_clear) chain = loads.weights;
  if (inputs_clear) chain.insert(chain.end(), loads.inputs.begin(), loads.inputs.end());
  // The chain goes into the load channel's slots, which must not reach the store channel's.
  if (chain.size() > dma_slots(l_) && inputs_clear) {
    inputs_clear = false;
    chain.resize(weights_clear ? loads.weights.size() : 0);
  }
  if (chain.size() > dma_slots(l_)) {
    weights_clear = false;
    chain.clear();
  }
  if (!weights_clear) ahead_.weights_offset = 0;
  if (!chain.empty()) next.start_dma(kLoadChannel, chain);
  ahead_.prepared = true;
  ahead_.images = std::move(next.images_);
  ahead_.segments = std::move(next.segments_);
  ahead_.weights_loading = weights_clear;
  ahead_.inputs_loading = inputs_clear;
  if (!inputs_clear) next_inputs_ = loads.inputs;
}

void LayerRunner::forward_next(const dma::Descriptor& store) {
  std::vector<dma::Descriptor> chain = std::move(next_inputs_);
  next_inputs_.clear();
  // Only a store of one run of bytes maps DRAM back to the buffer one to one.
  if (chain.empty() || chain.size() > dma_slots(l_) || store.rows != 1 || store.planes != 1) return;
  const Span written = destination(store);
  const std::uint64_t control_end = job_tables_offset(l_, npu_) + 2 * job_table_bytes(npu_);
  // What the store still reads and where its descriptor is.
  const std::vector<Span> busy{{sram(dma_slots(l_) * sizeof(dma::Descriptor)), sram(control_end)},
                               {sram(t_.output_offset[0]), sram(t_.bytes_used)}};
  bool forwarded = false;
  for (dma::Descriptor& d : chain) {
    if (overlaps_any(busy, destination(d))) return;
    if (d.flags & dma::kDescFill) continue;
    const Span from = source(d);
    if (!from.overlaps(written)) {
      if (overlaps_any(busy, from)) return;
      continue;  // in DRAM since an earlier store
    }
    if (from.lo < written.lo || from.hi > written.hi) return;
    d.src = store.src + (d.src - store.dst);
    forwarded = true;
  }
  if (!forwarded) return;
  // One chain at a time on the channel: the weights loaded ahead end first.
  const bool weights = ahead_.weights_loading;
  ahead_.weights_loading = false;
  if (weights) wait_dma(kLoadChannel);
  ahead_.weights_loading = weights;
  start_dma(kLoadChannel, chain);
  ahead_.inputs_loading = true;
}

}  // namespace npuvp::firmware
