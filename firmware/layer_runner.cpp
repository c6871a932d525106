#include "firmware/layer_runner.h"

#include <algorithm>
#include <limits>

namespace npuvp::firmware {

void LayerRunner::run() {
  validate();
  Lookahead own = std::move(ahead_);  // what the layer before prepared for this one
  ahead_ = Lookahead{};
  // The command after this one, if the layer before read it.
  ahead_.read = own.after_read;
  ahead_.command = own.after;
  if (op_ == Opcode::kCopy || op_ == Opcode::kFill) {
    run_copy();
    return;
  }
  if (own.prepared) {
    images_ = std::move(own.images);
    segments_ = std::move(own.segments);
    adopt(own.decision);
  } else {
    read_images();
    adopt(decide());
  }
  if (own.weights_offset != 0) {
    const std::uint64_t delta = own.weights_offset - t_.weights_offset[0];
    t_.weights_offset[0] += delta;
    t_.bias_offset[0] += delta;
    t_.requant_offset[0] += delta;
  }
  grid_ = TileGrid(l_, t_);
  const bool resident = weights_resident();
  // Pooling and add reuse the SRAM where weights were; anything else replaces them.
  resident_ = wanted_weights();
  // A chain the layer before started is this layer's first: it waits for it
  // (its IRQ is still high if it has ended) before starting the rest.
  FirstLoads first = first_loads(resident);
  if (own.weights_loading) first.weights.clear();
  if (own.inputs_loading) first.inputs.clear();
  if (own.weights_loading || own.inputs_loading) wait_dma(kLoadChannel);
  if (t_.order == LoopOrder::kRowTilesOuter)
    run_row_tiles_outer(first);
  else
    run_weight_blocks_outer(resident, first);
}

ResidentWeights LayerRunner::wanted_weights() const {
  return {op_ == Opcode::kConv2d && t_.k_block == l_.out_c, l_.weights_addr, l_.bias_addr, l_.requant_addr,
          filter_bytes(l_) * l_.out_c};
}

bool LayerRunner::weights_resident() const {
  const ResidentWeights wanted = wanted_weights();
  return wanted.valid && resident_.valid && resident_.weights_addr == wanted.weights_addr &&
         resident_.bias_addr == wanted.bias_addr && resident_.requant_addr == wanted.requant_addr &&
         resident_.bytes == wanted.bytes;
}

LayerRunner::FirstLoads LayerRunner::first_loads(bool weights_resident) const {
  FirstLoads loads;
  const std::uint32_t kb = std::min(t_.k_block, l_.out_c);
  if (op_ == Opcode::kConv2d && !weights_resident) loads.weights = weight_loads(0, kb, 0, streams_step(t_, 0));
  if (t_.order == LoopOrder::kWeightBlocksOuter) {
    loads.inputs = input_loads(0, 0, kb, 0);
    return loads;
  }
  const std::uint32_t tiles = grid_.per_image() * images();
  for (std::uint32_t tile = 0; tile < std::min(tiles, t_.images_per_tile); ++tile) {
    const auto inputs = input_loads(tile, 0, l_.out_c, input_buffer(tile));
    loads.inputs.insert(loads.inputs.end(), inputs.begin(), inputs.end());
  }
  return loads;
}

void LayerRunner::load_first(const FirstLoads& loads) {
  std::vector<dma::Descriptor> chain = loads.weights;
  chain.insert(chain.end(), loads.inputs.begin(), loads.inputs.end());
  if (chain.empty()) return;
  start_dma(kLoadChannel, chain);
  wait_dma(kLoadChannel);
}

void LayerRunner::run_weight_blocks_outer(bool weights_resident, const FirstLoads& first) {
  const std::uint32_t tiles = grid_.per_image() * images();
  for (std::uint32_t k0 = 0; k0 < l_.out_c; k0 += t_.k_block) {
    const std::uint32_t kb = std::min(t_.k_block, l_.out_c - k0);
    if (k0 == 0) {
      load_first(first);
    } else {
      std::vector<dma::Descriptor> chain;
      if (op_ == Opcode::kConv2d) chain = weight_loads(k0, kb, 0);
      const auto inputs = input_loads(0, k0, kb, 0);
      chain.insert(chain.end(), inputs.begin(), inputs.end());
      start_dma(kLoadChannel, chain);
      wait_dma(kLoadChannel);
    }
    TileLoop loop(*this);
    loop.first(issue(0, kb, {!weights_resident, 0, 0}));
    for (std::uint32_t tile = 0; tile < tiles; ++tile) {
      const bool prefetch = tile + 1 < tiles;
      if (prefetch) start_dma(kLoadChannel, input_loads(tile + 1, k0, kb, (tile + 1) % 2));
      if (!prefetch && k0 + kb == l_.out_c) {
        std::vector<dma::Descriptor> stores{output_store(tile, k0, kb, tile % 2)};
        if (tile > 0) stores.push_back(output_store(tile - 1, k0, kb, (tile - 1) % 2));
        prefetch_next(tile, 0, stores);
      }
      loop.step(
          prefetch,
          [&] {
            return issue(tile + 1, kb, {false, 0, (tile + 1) % 2});
          },
          [&] { store_output(tile, k0, kb, tile % 2); });
    }
    if (k0 + kb == l_.out_c) forward_next(output_store(tiles - 1, k0, kb, (tiles - 1) % 2));
    loop.drain();
  }
}

void LayerRunner::run_row_tiles_outer(const FirstLoads& first) {
  // A K block's chunks are steps of their own (LayerTiling::reduction_chunks).
  const std::uint32_t blocks = ceil_div(l_.out_c, t_.k_block) * t_.reduction_chunks;
  const std::uint32_t tiles = grid_.per_image() * images();
  const auto steps = row_tiles_outer_steps(tiles, blocks, t_.images_per_tile);
  const auto first_channel = [&](const RowTilesStep& s) { return block_chunk(t_, s.block).k_block_index * t_.k_block; };
  const auto loads = [&](std::size_t i) {
    const RowTilesStep& s = steps[i];
    const std::uint32_t k0 = first_channel(s);
    std::vector<dma::Descriptor> chain;
    if (s.loads_weights)
      chain = weight_loads(k0, std::min(t_.k_block, l_.out_c - k0), s.pass % 2, streams_step(t_, i),
                           block_chunk(t_, s.block).chunk);
    for (std::uint32_t tile = s.tile; s.loads_inputs && tile < std::min(tiles, s.tile + t_.images_per_tile); ++tile) {
      const auto inputs = input_loads(tile, 0, l_.out_c, input_buffer(tile));
      chain.insert(chain.end(), inputs.begin(), inputs.end());
    }
    return chain;
  };
  const auto issue_step = [&](std::size_t i) {
    const RowTilesStep& s = steps[i];
    const std::uint32_t k0 = first_channel(s);
    return issue(s.tile, std::min(t_.k_block, l_.out_c - k0),
                 {s.loads_weights, s.pass % 2, static_cast<unsigned>(i % 2), k0, s.loads_weights && streams_step(t_, i),
                  slices_keeping_rows(l_, npu_, t_, steps, i), block_chunk(t_, s.block)});
  };
  load_first(first);
  TileLoop loop(*this);
  loop.first(issue_step(0));
  const auto loading = [&](std::size_t i) {
    return i < steps.size() && (steps[i].loads_weights || steps[i].loads_inputs);
  };
  if (loading(1)) start_dma(kLoadChannel, loads(1));
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const RowTilesStep& s = steps[i];
    const std::uint32_t k0 = first_channel(s);
    const std::uint32_t kb = std::min(t_.k_block, l_.out_c - k0);
    if (i + 1 == steps.size()) {
      std::vector<dma::Descriptor> stores{output_store(s.tile, k0, kb, static_cast<unsigned>(i % 2))};
      if (i > 0) {
        const RowTilesStep& p = steps[i - 1];
        const std::uint32_t p0 = first_channel(p);
        stores.push_back(
            output_store(p.tile, p0, std::min(t_.k_block, l_.out_c - p0), static_cast<unsigned>((i - 1) % 2)));
      }
      prefetch_next(s.tile, s.pass % 2, stores);
    }
    // Step i + 2 reads the buffers step i's jobs read; without a job queue
    // its loads start only once step i + 1's are in (one load chain at a time).
    loop.step(
        i + 1 < steps.size(), [&] { return issue_step(i + 1); },
        [&] {
          // A K block's chunks before its last hold their sums: nothing to store.
          if (!block_chunk(t_, s.block).last_chunk) return false;
          store_output(s.tile, k0, kb, static_cast<unsigned>(i % 2));
          return true;
        },
        loading(i + 1),
        [&] {
          if (loading(i + 2)) start_dma(kLoadChannel, loads(i + 2));
        },
        // Jobs issued early wait for their streamed weights, not for input
        // rows the same chain writes into SRAM (a new column strip's).
        i + 1 < steps.size() && steps[i + 1].loads_weights && streams_step(t_, i + 1) && !steps[i + 1].loads_inputs);
  }
  const RowTilesStep& last = steps.back();
  const std::uint32_t last_k0 = first_channel(last);
  forward_next(output_store(last.tile, last_k0, std::min(t_.k_block, l_.out_c - last_k0),
                            static_cast<unsigned>((steps.size() - 1) % 2)));
  loop.drain();
}

void LayerRunner::validate() const {
  if (op_ == Opcode::kCopy || op_ == Opcode::kFill) {
    if (l_.copy.row_bytes == 0 || l_.copy.rows == 0 || l_.copy.planes == 0 || l_.batch_count > 1) bad();
    return;
  }
  if (!is_tiled(op_)) bad();
  const contract::ConvWindow w = read_window(l_);
  if (w.kernel_h == 0 || w.kernel_w == 0 || w.stride_h == 0 || w.stride_w == 0 || w.dilation_h == 0 ||
      w.dilation_w == 0 || l_.in_c == 0 || l_.out_c == 0 || l_.in_h == 0 || l_.in_w == 0 || l_.act_min > l_.act_max)
    bad();
  if (std::max({l_.in_c, l_.in_h, l_.in_w, l_.out_c, l_.out_h, l_.out_w}) > kMaxLayerDim) bad();
  if (op_ == Opcode::kConv2d) {
    if (l_.groups == 0 || l_.in_c % l_.groups != 0 || l_.out_c % l_.groups != 0) bad();
    if (l_.dataflow > static_cast<std::uint32_t>(DataflowChoice::kSpatialOutputStationary)) bad();
    if (l_.datatype > static_cast<std::uint32_t>(Datatype::kFp16)) bad();
  } else if (l_.out_c != l_.in_c || (l_.datatype != static_cast<std::uint32_t>(Datatype::kInt8) &&
                                     l_.datatype != static_cast<std::uint32_t>(Datatype::kInt16))) {
    bad();  // pooling and add keep the channels and are int8 or int16
  }
  if (op_ == Opcode::kAdd && (w.kernel_h != 1 || w.kernel_w != 1 || w.stride_h != 1 || w.stride_w != 1 || w.pad.any() ||
                              l_.add.left_shift < 0 || l_.add.left_shift > 22))
    bad();
  const auto out_dim = [](std::uint32_t in, int pad_a, int pad_b, int k, int d, int s) -> std::int64_t {
    return (std::int64_t{in} + pad_a + pad_b - std::int64_t{d} * (k - 1) - 1) / s + 1;
  };
  if (out_dim(l_.in_h, w.pad.top, w.pad.bottom, w.kernel_h, w.dilation_h, w.stride_h) != conv_height(l_) ||
      out_dim(l_.in_w, w.pad.left, w.pad.right, w.kernel_w, w.dilation_w, w.stride_w) != conv_width(l_) ||
      l_.out_h == 0 || l_.out_w == 0)
    bad();
  if (fuses_pool(l_)) {
    const contract::Window p = read_pool_window(l_);
    if (p.kernel_h == 0 || p.kernel_w == 0 || p.stride_h == 0 || p.stride_w == 0 ||
        out_dim(l_.conv_out_h, p.pad.top, p.pad.bottom, p.kernel_h, 1, p.stride_h) != l_.out_h ||
        out_dim(l_.conv_out_w, p.pad.left, p.pad.right, p.kernel_w, 1, p.stride_w) != l_.out_w)
      bad();
  }
  if (l_.input_row_pitch != 0 && l_.input_row_pitch < l_.in_w * input_bytes(l_, l_.in_c)) bad();
  if (l_.output_pixel_pitch != 0 && l_.output_pixel_pitch < output_bytes(l_, l_.out_c)) bad();
  if (l_.input_segment_count > kMaxInputSegments ||
      (l_.input_segment_count != 0 && (op_ == Opcode::kAdd || element_bytes(l_) != 1 || packed_input(l_))))
    bad();
  // Packed int4 holds int4 values: an int4 convolution's or int8 pooling's and add's.
  if ((packed_input(l_) || packed_output(l_)) && element_bytes(l_) != 1) bad();
  if (l_.batch_count > kMaxBatchImages) bad();
  // Output conversion: int8 to int16 or back, of a convolution's plain output.
  const auto is = [&](Datatype d) { return l_.datatype == static_cast<std::uint32_t>(d); };
  if (((l_.flags & kInt16Output) && (op_ != Opcode::kConv2d || !is(Datatype::kInt8))) ||
      ((l_.flags & kInt8Output) && (op_ != Opcode::kConv2d || !is(Datatype::kInt16))) ||
      ((l_.flags & (kInt16Output | kInt8Output)) && (packed_output(l_) || l_.fuse != 0)))
    bad();
  if (l_.fuse > static_cast<std::uint32_t>(Fuse::kAvgPool) ||
      (l_.fuse != 0 && (op_ != Opcode::kConv2d || l_.datatype != static_cast<std::uint32_t>(Datatype::kInt8) ||
                        l_.fused_act_min > l_.fused_act_max)) ||
      (fuses_add(l_) && (l_.add.left_shift < 0 || l_.add.left_shift > 22)) || (fuses_pool(l_) && packed_output(l_)))
    bad();
}

void LayerRunner::read_dram(std::uint64_t addr, void* dst, std::size_t bytes) {
  try {
    hal_.read(addr, dst, bytes);
  } catch (const BusError& e) {
    throw FirmwareError{npu::NpuError::kRingAccess, static_cast<std::uint32_t>(e.address())};
  }
}

void LayerRunner::read_images() {
  images_.assign(1, BatchImage{l_.input_addr, l_.input2_addr, l_.output_addr, l_.input_segments_addr});
  if (l_.batch_count > 1) {
    images_.resize(l_.batch_count);
    read_dram(l_.batch_table_addr, &images_[1], (images_.size() - 1) * sizeof(BatchImage));
  }
  segments_.assign(images_.size(), {});
  for (std::size_t b = 0; b < images_.size(); ++b) read_segments(images_[b].input_segments_addr, segments_[b]);
}

void LayerRunner::read_segments(std::uint64_t addr, std::vector<InputSegment>& segments) {
  if (l_.input_segment_count == 0) return;
  segments.resize(l_.input_segment_count);
  read_dram(addr, segments.data(), segments.size() * sizeof(InputSegment));
  std::uint32_t channels = 0;
  for (const InputSegment& g : segments) {
    // A row of the segment's pixels is one signed 32-bit DMA pitch.
    if (g.channels == 0 || g.pixel_pitch < g.channels ||
        std::uint64_t{g.pixel_pitch} * l_.in_w > std::numeric_limits<std::int32_t>::max())
      bad();
    channels += g.channels;
  }
  if (channels != l_.in_c) bad();
}

LayerDecision LayerRunner::decide() const {
  const Neighbours around{ahead_cycles_, next_loads()};
  const PlanKey key = plan_key(l_, npu_, around);
  auto planned = planned_.find(key);
  if (planned == planned_.end()) planned = planned_.emplace(key, plan(around)).first;
  LayerDecision d = planned->second;
  d.layer_id = static_cast<std::int32_t>(l_.layer_id);
  d.out_w = l_.out_w;
  return d;
}

DmaStream LayerRunner::next_loads() const {
  if (!read_ahead(false)) return {};
  Lookahead unused;
  LayerRunner next(hal_, ahead_.command, index_ + 1, resident_, unused, CommandBuffer{}, planned_);
  // Its plan depends on this layer's tail, which depends on its loads: it is
  // planned as if this layer's tail hid them whole, the case the firmware
  // loads them ahead for.
  next.ahead_cycles_ = std::numeric_limits<std::uint64_t>::max();
  // Planning reads the command alone: its batch table and segments wait for
  // its run (prepare).
  try {
    next.validate();
    if (next.op_ == Opcode::kCopy || next.op_ == Opcode::kFill) return {};
    return next_first_loads(ahead_.command, npu_, next.decide().tiling);
  } catch (const FirmwareError&) {
    return {};  // its run reports it
  }
}

bool LayerRunner::read_ahead(bool with_after) const {
  const std::uint64_t next = buffer_.command(index_ + 1);
  const std::uint64_t after = with_after ? buffer_.command(index_ + 2) : 0;
  try {
    if (!ahead_.read && next != 0) {
      // Both in one read where both are wanted.
      LayerCommand both[2];
      hal_.read(next, both, (after != 0 ? 2 : 1) * sizeof(LayerCommand));
      ahead_.command = both[0];
      ahead_.read = true;
      ahead_.after = both[1];
      ahead_.after_read = after != 0;
    } else if (ahead_.read && !ahead_.after_read && after != 0) {
      hal_.read(after, &ahead_.after, sizeof ahead_.after);
      ahead_.after_read = true;
    }
  } catch (const BusError&) {
    // Each command's own read reports it.
  }
  return ahead_.read;
}

LayerDecision LayerRunner::plan(const Neighbours& around) const {
  LayerDecision d;
  d.asked = op_ == Opcode::kConv2d ? static_cast<DataflowChoice>(l_.dataflow) : DataflowChoice::kWeightStationary;
  bool fits = false;
  if (op_ == Opcode::kConv2d) {
    fits = plan_dataflows(l_, npu_, d.asked == DataflowChoice::kHybridEnergy ? Objective::kEnergy : Objective::kLatency,
                          d.costs, around);
    d.costed = fits;
    if (!forced_dataflow(d.asked, d.dataflow))
      d.dataflow = d.costs.cheapest();
    else if ((npu_.dataflows >> static_cast<unsigned>(d.dataflow) & 1u) == 0)
      bad();  // the arrays cannot run it
    // A forced dataflow may have no tiling that fits where another has.
    fits = fits && d.costs.plan(d.dataflow).candidate;
    if (fits) {
      d.tiling = d.costs.plan(d.dataflow).tiling;
      d.tail_cycles = d.costs.plan(d.dataflow).cost.tail_cycles;
    }
  } else {
    LayerCost cost;
    fits = plan_fastest_tiling(l_, npu_, d.tiling, &cost, around);
    d.tail_cycles = cost.tail_cycles;
  }
  if (!fits) throw FirmwareError{npu::NpuError::kLayerTooLarge, index_};
  return d;
}

void LayerRunner::adopt(const LayerDecision& d) {
  dataflow_ = d.dataflow;
  t_ = d.tiling;
  tail_cycles_ = d.tail_cycles;
  hal_.record_decision(d);
}

void LayerRunner::start_dma(unsigned channel, std::vector<dma::Descriptor> chain) {
  const std::uint64_t slot = sram(channel * dma_slots(l_) * sizeof(dma::Descriptor));
  for (std::size_t i = 0; i < chain.size(); ++i) {
    chain[i].next = slot + (i + 1) * sizeof(dma::Descriptor);
    if (i + 1 == chain.size()) chain[i].flags |= dma::kDescLast;
  }
  hal_.write(slot, chain.data(), chain.size() * sizeof(dma::Descriptor));
  const std::uint64_t regs = npu_.dma_regs_base + channel * dma::kChannelStride;
  hal_.write32(regs + dma::reg::kDescLo, static_cast<std::uint32_t>(slot));
  hal_.write32(regs + dma::reg::kDescHi, static_cast<std::uint32_t>(slot >> 32));
  hal_.write32(regs + dma::reg::kCtrl, dma::kCtrlStart);
}

void LayerRunner::wait_dma(unsigned channel) {
  hal_.wait_events(std::uint64_t{1} << channel);
  const std::uint64_t regs = npu_.dma_regs_base + channel * dma::kChannelStride;
  const std::uint32_t irq = hal_.read32(regs + dma::reg::kIrq);
  hal_.write32(regs + dma::reg::kIrq, irq);
  if (irq & dma::kIrqError) {
    const std::uint32_t addr = hal_.read32(regs + dma::reg::kErrorAddrLo);
    throw FirmwareError{npu::NpuError::kDmaFault, addr};
  }
}

void LayerRunner::run_copy() {
  const CopyParams& c = l_.copy;
  dma::Descriptor d{l_.input_addr,   l_.output_addr,    c.row_bytes,       c.rows, c.planes, 0, c.src_row_pitch,
                    c.dst_row_pitch, c.src_plane_pitch, c.dst_plane_pitch, 0,      0};
  if (op_ == Opcode::kFill) {
    d.flags = dma::kDescFill;
    d.reserved = static_cast<std::uint8_t>(c.fill_value);
  }
  start_dma(kLoadChannel, {d});
  wait_dma(kLoadChannel);
}

}  // namespace npuvp::firmware
