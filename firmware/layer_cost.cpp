// The planner's latency and energy estimate of a tiling: the firmware's tile
// loop walked step by step (docs/firmware.md, "The latency estimate").
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "contract/dma_regs.h"
#include "firmware/dma_model.h"
#include "firmware/layer_plan.h"
#include "firmware/layer_shape.h"

namespace npuvp::firmware {
namespace {

// An estimate in whole cycles. A command may describe a layer of more than
// 2^64 cycles (the decoder checks shapes and sizes, not run time): it
// saturates rather than wrapping to a small, attractive figure.
std::uint64_t whole_cycles(double cycles) {
  if (!(cycles > 0)) return 0;
  return cycles < 0x1p64 ? static_cast<std::uint64_t>(cycles + 0.5) : std::numeric_limits<std::uint64_t>::max();
}

// One step of the tile loop (a row tile of a K block) as the clusters see it.
struct StepCost {
  std::uint64_t cycles = 0;         // setup, job issue, weight fetches queuing at the banks, the slowest job
  std::uint64_t array_cycles = 0;   // the slowest job's systolic schedule
  std::uint64_t cluster_bytes = 0;  // operands fetched and results written by all jobs
  std::uint64_t rf_accesses = 0;
  std::uint64_t weight_buffer_bytes = 0, input_buffer_bytes = 0;  // filled and read, all jobs
  std::uint64_t macs = 0;
  // The slowest job's weight fetch over its link, and the wait at the weight
  // buffer's banks while they serve the other jobs' weights.
  double weight_fetch = 0, weight_wait = 0;
};

class CostWalker {
 public:
  CostWalker(const LayerCommand& l, const NpuLayout& npu, const LayerTiling& t, pe_array::Dataflow dataflow,
             const Neighbours& around)
      : l_(l),
        npu_(npu),
        t_(t),
        dataflow_(dataflow),
        op_(opcode_of(l)),
        e_(element_bytes(l)),
        inputs_(op_ == Opcode::kAdd ? 2 : 1),
        grid_(l, t),
        tiles_(grid_.per_image() * std::max(1u, l.batch_count)),
        blocks_(ceil_div(l.out_c, t.k_block) * std::max(1u, t.reduction_chunks)),
        load_(npu, false),
        store_(npu, true),
        jobs_per_step_(std::uint64_t{t.row_groups} * t.k_groups),
        ahead_cycles_(double(around.ahead_cycles)),
        next_loads_(around.next_loads) {}

  // The cost, or nothing once the latency reaches `bound` cycles (none:
  // the whole walk) or the steps still to walk must take it there: every
  // term the walk adds is a time, never negative, so the rest of the walk
  // cannot bring it back below.
  std::optional<LayerCost> run(std::optional<std::uint64_t> bound = std::nullopt) {
    // Each step but the last adds at least issue_cycles() (step()), so with
    // `left` steps to go the walk ends that much later at least: it stops as
    // soon as that reaches the bound. The walk adds its terms one at a time,
    // each sum rounded, and may come out a few parts in 2^53 per step below
    // the product: the floor is taken a part in 2^16 lower.
    const auto reached = [&](std::uint64_t left) {
      if (!bound) return false;
      const double floor = left > 1 ? (latency_ + double(left - 1) * issue_cycles()) * (1 - 0x1p-16) : latency_;
      return whole_cycles(floor) >= *bound;
    };
    if (t_.order == LoopOrder::kWeightBlocksOuter) {
      if (reached(std::uint64_t{blocks_} * tiles_)) return std::nullopt;
      for (std::uint32_t b = 0; b < blocks_; ++b) {
        const std::uint32_t k0 = b * t_.k_block, kb = block_channels(b);
        // The block's weights and first tile load while nothing computes, after
        // the previous block's last store.
        wait_for_store();
        DmaStream first = weight_loads(k0, kb, 0);
        const double ahead = b == 0 ? loaded_ahead(first) : 0;
        add_inputs(first, 0, k0, kb);
        expose(first, ahead);
        for (std::uint32_t tile = 0; tile < tiles_; ++tile) {
          step(tile, k0, kb, tile == 0, tile + 1 < tiles_ ? tile_inputs(tile + 1, k0, kb) : DmaStream{}, tile % 2);
          if (reached(std::uint64_t{blocks_ - b} * tiles_ - tile - 1)) return std::nullopt;
        }
      }
    } else {
      const auto steps = row_tiles_outer_steps(tiles_, blocks_, t_.images_per_tile);
      const auto loads = [&](std::size_t i) {
        DmaStream chain;
        if (i >= steps.size()) return chain;
        const RowTilesStep& s = steps[i];
        const BlockChunk bc = block_chunk(t_, s.block);
        if (s.loads_weights)
          chain = weight_loads(bc.k_block_index * t_.k_block, block_channels(bc.k_block_index), s.pass % 2,
                               streams_step(t_, i), bc.chunk);
        if (s.loads_inputs)
          for (std::uint32_t tile = s.tile; tile < std::min(tiles_, s.tile + t_.images_per_tile); ++tile)
            add_inputs(chain, tile, 0, l_.out_c);
        return chain;
      };
      if (reached(steps.size())) return std::nullopt;
      expose(loads(0), t_.stream_first_step ? 0.0 : loaded_ahead(weight_loads(0, block_channels(0), 0)));
      for (std::size_t i = 0; i < steps.size(); ++i) {
        const bool next_into_banks = i + 1 < steps.size() && steps[i + 1].loads_weights && !streams_step(t_, i + 1);
        chunk_ = block_chunk(t_, steps[i].block);
        step(steps[i].tile, chunk_.k_block_index * t_.k_block, block_channels(chunk_.k_block_index),
             steps[i].loads_weights, loads(i + 1), static_cast<unsigned>(i % 2),
             steps[i].loads_weights && streams_step(t_, i), next_into_banks,
             slices_keeping_rows(l_, npu_, t_, steps, i));
        if (reached(steps.size() - i - 1)) return std::nullopt;
      }
    }
    wait_for_store(next_left_);
    if (reached(0)) return std::nullopt;
    return finish();
  }

  // The chain that loads the first step's weights, bias and requantization
  // while the layer before runs: none when they stream into the clusters.
  DmaStream first_weight_loads() const {
    return t_.stream_first_step ? DmaStream{} : weight_loads(0, block_channels(0), 0);
  }

 private:
  std::uint32_t block_channels(std::uint32_t block) const {
    return std::min(t_.k_block, l_.out_c - block * t_.k_block);
  }
  std::uint32_t first_row(std::uint32_t tile) const { return grid_.first_row(tile); }
  std::uint32_t tile_rows(std::uint32_t tile) const { return grid_.rows(tile); }
  // Bytes of one input row of the tile (its strip's columns) in SRAM.
  std::uint64_t input_row_bytes(std::uint32_t tile, std::uint32_t kb) const {
    const auto [x0, x1] = grid_.input_cols(l_, tile);
    return std::uint64_t{x1 - x0} * firmware::input_bytes(l_, block_input_channels(l_, kb));
  }
  std::uint64_t weight_bytes(std::uint32_t kb) const {
    return op_ == Opcode::kConv2d ? kb * (filter_bytes(l_) + kParamBytesPerChannel) : 0;
  }
  std::uint64_t sram(std::uint64_t offset) const { return npu_.sram_base + offset; }

  // The chains the firmware's layer_dma.cpp programs, as the DMA cuts them
  // (the first image's addresses stand for every image's).
  DmaStream weight_loads(std::uint32_t k0, std::uint32_t kb, unsigned buffer, bool streamed = false,
                         std::uint32_t chunk = 0) const {
    DmaStream s;
    if (op_ != Opcode::kConv2d) return s;
    const std::uint64_t filter = filter_bytes(l_);
    const std::uint64_t src = l_.weights_addr + k0 * filter;
    load_.add(s, 1, kb * 4ull, l_.bias_addr + k0 * 4ull, 0, sram(t_.bias_offset[buffer]), 0);
    load_.add(s, 1, kb * 8ull, l_.requant_addr + k0 * 8ull, 0, sram(t_.requant_offset[buffer]), 0);
    if (!streamed) {
      load_.add(s, 1, kb * filter, src, 0, sram(t_.weights_offset[buffer]), 0);
      return s;
    }
    const std::uint64_t slices = kb / t_.k_slice, row = t_.k_slice * filter;
    if (t_.reduction_chunks > 1) {
      // Each slice a plane of its filters' chunks (layer_dma.cpp).
      const std::uint64_t c0 = std::uint64_t{chunk} * chunk_channels(l_, t_), run = filter_run_bytes(l_, t_, chunk);
      for (std::uint64_t j = 0; j * t_.k_slice < kb; ++j)
        load_.add(s, std::min<std::uint64_t>(t_.k_slice, kb - j * t_.k_slice), run,
                  src + j * row + firmware::input_bytes(l_, static_cast<std::uint32_t>(c0)), filter,
                  streamed_weights_addr(j, buffer), run);
      return s;
    }
    load_.add(s, slices, row, src, row, streamed_weights_addr(0, buffer), address_map::kClusterFillStride);
    load_.add(s, 1, kb % t_.k_slice * filter, src + slices * row, 0, streamed_weights_addr(slices, buffer), 0);
    return s;
  }
  void add_inputs(DmaStream& s, std::uint32_t tile, std::uint32_t k0, std::uint32_t kb) const {
    const auto [lo, hi] = input_row_range(l_, first_row(tile), tile_rows(tile));
    const auto [x0, x1] = grid_.input_cols(l_, tile);
    const std::uint64_t pixel = firmware::input_bytes(l_, l_.in_c);
    const std::uint64_t pitch = l_.input_row_pitch != 0 ? l_.input_row_pitch : l_.in_w * pixel;
    const std::uint64_t channels = block_input_channels(l_, kb);
    const std::uint64_t run = firmware::input_bytes(l_, channels);
    const unsigned buffer = tile / t_.images_per_tile % 2;
    const std::uint64_t dst = sram(t_.input_offset[buffer] + tile % t_.images_per_tile * t_.input_slot_bytes);
    const std::uint64_t src = l_.input_addr + lo * pitch + x0 * pixel +
                              (channels == l_.in_c ? 0 : firmware::input_bytes(l_, block_input_channels(l_, k0)));
    for (unsigned i = 0; i < inputs_; ++i) {
      if (grid_.whole_width() && (l_.input_segment_count > 1 || channels != l_.in_c)) {
        // Each pixel's channels of a segment (or of the block) are a run of
        // their own.
        const std::uint32_t runs = std::max(1u, l_.input_segment_count);
        for (std::uint32_t g = 0; g < runs; ++g)
          load_.add(s, std::uint64_t{hi - lo} * l_.in_w, run / runs, src + g * run / runs,
                    firmware::input_bytes(l_, l_.in_c), dst + g * run / runs, run);
      } else {
        const auto cols = static_cast<std::uint32_t>(x1 - x0), bytes = static_cast<std::uint32_t>(run);
        load_.add(s, PixelBlock{src, dst, bytes, cols, hi - lo, static_cast<std::uint32_t>(pixel), bytes,
                                static_cast<std::uint32_t>(pitch), cols * bytes});
      }
    }
    if (fuses_add(l_)) {
      // The residual pixels the outputs add: the block's channels of each.
      const std::uint64_t pixels = std::uint64_t{tile_rows(tile)} * l_.out_w;
      const std::uint64_t from =
          l_.input2_addr + (std::uint64_t{first_row(tile)} * l_.out_w + grid_.first_col(tile)) * l_.out_c + k0;
      const std::uint64_t to = sram(t_.input2_offset[buffer] + tile % t_.images_per_tile * t_.input2_slot_bytes);
      const std::uint32_t cols = grid_.cols(tile);
      if (!grid_.whole_width())
        load_.add(s, PixelBlock{from, to, kb, cols, tile_rows(tile), l_.out_c, kb, l_.out_w * l_.out_c, cols * kb});
      else if (kb == l_.out_c)
        load_.add(s, 1, pixels * kb, from, 0, to, 0);
      else
        load_.add(s, pixels, kb, from, l_.out_c, to, kb);
    }
  }
  // A tile's inputs alone in a chain. add_inputs reads `k0` only for a block
  // of the input's channels and for a residual: otherwise every K block of
  // a size reads the same, and each tile's chain is cut once for all of them
  // (ResNet-50's layer4 1x1 convolutions at 2 filters a block: 7 tiles each
  // of 1,024 blocks).
  const DmaStream& tile_inputs(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb) {
    const bool by_block = block_input_channels(l_, kb) != l_.in_c || fuses_add(l_);
    if (kb != inputs_kb_ || (by_block && k0 != inputs_k0_)) {
      tile_inputs_.assign(tiles_, std::nullopt);
      inputs_kb_ = kb;
      inputs_k0_ = k0;
    }
    std::optional<DmaStream>& s = tile_inputs_[tile];
    if (!s) add_inputs(s.emplace(), tile, k0, kb);
    return *s;
  }
  DmaStream store(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb, unsigned buffer) const {
    DmaStream s;
    const std::uint64_t pixels = std::uint64_t{tile_rows(tile)} * l_.out_w;
    const std::uint64_t block = output_bytes(l_, kb);
    const std::uint64_t pitch = l_.output_pixel_pitch != 0 ? l_.output_pixel_pitch : output_bytes(l_, l_.out_c);
    const std::uint64_t src = sram(t_.output_offset[buffer]);
    const std::uint64_t dst = l_.output_addr +
                              (std::uint64_t{first_row(tile)} * l_.out_w + grid_.first_col(tile)) * pitch +
                              output_bytes(l_, k0);
    const auto b = static_cast<std::uint32_t>(block), p = static_cast<std::uint32_t>(pitch), cols = grid_.cols(tile);
    if (!grid_.whole_width())
      store_.add(s, PixelBlock{src, dst, b, cols, tile_rows(tile), b, p, cols * b, l_.out_w * p});
    else if (block == pitch)
      store_.add(s, 1, pixels * block, src, 0, dst, 0);
    else
      store_.add(s, pixels, block, src, block, dst, pitch);
    return s;
  }

  // The time of the first step's weights, bias and requantization words that
  // the layer before's tail hides: the firmware loads them while its last
  // step's jobs run and its last store follows (layer_prefetch.cpp; the
  // layer before never writes them, so only their SRAM destination can hold
  // them back). The rest of that load shows in this layer's cycles.
  double loaded_ahead(const DmaStream& weights) const {
    return std::min(ahead_cycles_, load_.cycles(weights) + control_cycles(weights));
  }
  void expose(const DmaStream& loads, double ahead) {
    dram_bytes_ += loads.bytes;
    latency_ += load_.cycles(loads) + control_cycles(loads) - ahead + issue_cycles();
  }
  // `beside`: what of the next layer's first loads still streams then.
  void wait_for_store(const DmaStream& beside = {}) {
    latency_ += store_.ends(beside, pending_store_).store + control_cycles(pending_store_);
    pending_store_ = DmaStream{};
  }
  // The command processor's work per DMA chain: writing its descriptors
  // over its NoC port, starting the channel and servicing its IRQ.
  double control_cycles(const DmaStream& chain) const {
    return chain.bursts == 0 ? 0.0
                             : npu_.costs.dma_control_cycles + double(chain.descriptors * sizeof(dma::Descriptor)) /
                                                                   npu_.costs.link_bytes_per_cycle;
  }
  // The command processor's work per step: deciding, writing the job table
  // (a job per cluster over its NoC port) and the register round trips of
  // the two multicast STARTs, the completion read and the IRQ clear.
  double issue_cycles() const {
    return double(kTileSetupCycles) + npu_.costs.job_issue_cycles +
           double(jobs_per_step_ * sizeof(pe_array::ClusterJob)) / npu_.costs.link_bytes_per_cycle;
  }

  // A step computes while the DMA stores the previous step's outputs and
  // loads the next step's operands. With a job queue the next step's jobs
  // are issued once those transfers are done, while this step's jobs still
  // run; without one, after they ended.
  // `next_into_banks`: the prefetch writes the next K block's weights into
  // the banks this step's jobs read theirs from. `kept_after`: the jobs
  // that keep their input rows (slices_keeping_rows).
  void step(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb, bool clusters_load_weights,
            const DmaStream& prefetch, unsigned out_buffer, bool streamed = false, bool next_into_banks = false,
            std::uint32_t kept_after = 0) {
    const StepCost s = priced_step(tile, kb, clusters_load_weights, out_buffer, streamed, kept_after);
    if (streamed) streamed_bytes_ += kb * filter_run_bytes(l_, t_, chunk_.chunk);
    last_step_start_ = latency_;
    // While the jobs fetch their weights, the next block's bursts into the
    // same banks queue behind those reads as the last job served does: the
    // bursts of that phase of the chain each wait the jobs' bank time.
    double queued = 0;
    if (next_into_banks && clusters_load_weights && !streamed && prefetch.bursts > 0)
      queued = s.weight_wait * std::min(1.0, (s.weight_fetch + s.weight_wait) / load_.cycles(prefetch));
    const bool last = prefetch.bytes == 0 && tile + 1 >= tiles_ && k0 + kb >= l_.out_c;
    double dma = load_.concurrent_cycles(prefetch, pending_store_, queued) + control_cycles(prefetch) +
                 control_cycles(pending_store_);
    if (last && next_loads_.bursts > 0) {
      // The firmware starts the next layer's first loads as the last step
      // begins (layer_prefetch.cpp): the step's store shares the DRAM with
      // them, and so does the last store while they still stream.
      const DmaModel::Ends ends = load_.ends(next_loads_, pending_store_);
      dma = ends.store + control_cycles(pending_store_);
      const double step = std::max(double(s.cycles), dma);
      next_left_ = rest_of(next_loads_, ends.load > step ? step / ends.load : 1);
    }
    const double issue = last ? 0.0 : issue_cycles();
    latency_ +=
        npu_.job_queue_depth >= 2 ? std::max(double(s.cycles), dma + issue) : std::max(double(s.cycles), dma) + issue;
    dram_bytes_ += prefetch.bytes;
    pending_store_ = chunk_.last_chunk ? store(tile, k0, kb, out_buffer) : DmaStream{};
    dram_bytes_ += pending_store_.bytes;
    compute_cycles_ += s.array_cycles;
    cluster_bytes_ += s.cluster_bytes;
    rf_accesses_ += s.rf_accesses;
    weight_buffer_bytes_ += s.weight_buffer_bytes;
    input_buffer_bytes_ += s.input_buffer_bytes;
    macs_ += s.macs;
  }

  // The clusters start a step together and the banks serve them in the
  // same order every step (ResNet-50's layer3.1.conv3: jobs priced alike
  // take 10.5 k cycles on cluster 15 and 15.2 k on cluster 0): the last one
  // served waits at each buffer's banks while they move every other job's
  // bytes there, the weights at the K block's banks, the input rows and the
  // residual spans at the tile's, the results at the output buffer's.
  double bank_waits(std::uint32_t tile, std::uint32_t kb, unsigned out_buffer, bool streamed,
                    const std::array<std::uint64_t, 4>& banked, const std::array<std::uint64_t, 4>& slowest_banked,
                    StepCost& s) const {
    const std::uint32_t rows = tile_rows(tile);
    const unsigned in_buffer = tile / t_.images_per_tile % 2;
    const auto [lo, hi] = input_row_range(l_, first_row(tile), rows);
    const std::uint64_t tile_pixels = std::uint64_t{rows} * grid_.cols(tile);
    const std::array<std::pair<std::uint64_t, std::uint64_t>, 4> regions{
        {{t_.weights_offset[0], streamed ? kb * kParamBytesPerChannel : weight_bytes(kb)},
         {t_.input_offset[in_buffer], inputs_ * (hi - lo) * input_row_bytes(tile, kb)},
         {t_.input2_offset[in_buffer],
          fuses_add(l_) ? tile_pixels * residual_channels(l_, t_.order == LoopOrder::kRowTilesOuter, kb) : 0},
         {t_.output_offset[out_buffer], tile_pixels * output_bytes(l_, kb)}}};
    const contract::BankInterleave map = sram_map(npu_);
    double others = 0;
    for (std::size_t b = 0; b < regions.size(); ++b) {
      const double wait = double(banked[b] - slowest_banked[b]) /
                          (std::max(1u, map.banks_touched(npu_.sram_base + regions[b].first, regions[b].second)) *
                           npu_.costs.bank_bytes_per_cycle);
      if (b == 0) s.weight_wait = wait;
      others += wait;
    }
    return others;
  }

  // step_cost reads of a tile only the row counts of its input rows and
  // of each job's output, input and convolution rows, and which buffers it
  // uses: steps alike in those cost alike, so a layer's interior tiles are
  // priced once (the last few kept).
  StepCost priced_step(std::uint32_t tile, std::uint32_t kb, bool load_weights, unsigned out_buffer, bool streamed,
                       std::uint32_t kept_after) {
    const std::uint32_t rows = tile_rows(tile), rows_per_group = ceil_div(rows, t_.row_groups);
    const auto [lo, hi] = input_row_range(l_, first_row(tile), rows);
    const auto [x0, x1] = grid_.input_cols(l_, tile);
    key_.assign({kb, rows, hi - lo, grid_.cols(tile), x1 - x0, tile / t_.images_per_tile % 2, out_buffer,
                 2u * streamed + load_weights, kept_after, chunk_.chunk, chunk_.last_chunk});
    for (std::uint32_t my0 = 0; my0 < rows; my0 += rows_per_group) {
      const std::uint32_t my_rows = std::min(rows_per_group, rows - my0);
      const auto [in0, in1] = input_row_range(l_, first_row(tile) + my0, my_rows);
      const auto [c0, c1] = conv_row_range(l_, first_row(tile) + my0, my_rows);
      key_.push_back(in1 - in0);
      key_.push_back(c1 - c0);
    }
    for (const Priced& p : priced_)
      if (p.key == key_) return p.cost;
    Priced& p = priced_[next_priced_++ % priced_.size()];
    p.key = key_;
    p.cost = step_cost(tile, kb, load_weights, out_buffer, streamed, kept_after);
    return p.cost;
  }

  // `streamed`: the DMA wrote the weights into the clusters, which fetch
  // only the bias and requantization from SRAM.
  StepCost step_cost(std::uint32_t tile, std::uint32_t kb, bool load_weights, unsigned out_buffer, bool streamed,
                     std::uint32_t kept_after) const {
    StepCost s;
    const pe_array::ArrayShape array{npu_.array_rows, npu_.array_cols};
    const std::uint32_t rows = tile_rows(tile), cols = grid_.cols(tile);
    const std::uint32_t rows_per_group = ceil_div(rows, t_.row_groups);
    const double link = npu_.costs.link_bytes_per_cycle;
    double slowest = 0, fold_cycles = 0;  // a column fold's, of the job being priced
    // Bytes the step's jobs move through the banks of the weight, input,
    // residual and output buffers, all jobs' and the slowest one's.
    std::array<std::uint64_t, 4> banked{}, slowest_banked{};
    // In an operand group only the leader's read reaches the banks; every
    // member waits for it as the leader does (the tree adds no link time).
    const bool grouped = groups_operands(l_, npu_, t_, rows, load_weights);
    const std::uint32_t slices = ceil_div(kb, t_.k_slice);
    std::uint32_t job_index = 0;
    for (std::uint32_t my0 = 0; my0 < rows; my0 += rows_per_group) {
      const std::uint32_t my_rows = std::min(rows_per_group, rows - my0);
      const auto [lo, hi] = input_row_range(l_, first_row(tile) + my0, my_rows);
      const std::uint64_t pixels = std::uint64_t{my_rows} * cols;
      const auto [c0, c1] = conv_row_range(l_, first_row(tile) + my0, my_rows);
      const std::uint32_t conv_rows = c1 - c0;
      for (std::uint32_t ks = 0; ks < kb; ks += t_.k_slice, ++job_index) {
        const std::uint32_t k_count = std::min(t_.k_slice, kb - ks);
        // A job that keeps its rows fetches none: it starts once its first
        // weights are in, with nothing behind them.
        const bool kept = keeps_rows(job_index, slices, kept_after);
        const std::uint64_t inputs = kept ? 0 : inputs_ * (hi - lo) * input_row_bytes(tile, kb);
        const std::uint64_t filled = load_weights ? k_count * (filter_run_bytes(l_, t_, chunk_.chunk) +
                                                               (filter_bytes(l_) != 0 ? kParamBytesPerChannel : 0))
                                                  : 0;
        const std::uint64_t weights = streamed ? k_count * kParamBytesPerChannel : filled;
        // A chunk that holds its sums writes nothing.
        const std::uint64_t result_bytes = chunk_.last_chunk ? pixels * output_bytes(l_, kb) : 0;
        const std::uint64_t written = chunk_.last_chunk ? pixels * output_bytes(l_, k_count) : 0;
        // The schedule, with the buffer ports' limit; the weights the array
        // starts with (all of them when the DMA wrote them into the cluster).
        std::uint64_t array_cycles = 0, job_cycles = 0, first_weights = weights, folds = 1;
        if (op_ == Opcode::kConv2d) {
          LayerCommand reduced = l_;  // the job reduces its chunk's channels
          if (t_.reduction_chunks > 1) reduced.in_c = chunk_channel_count(l_, t_, chunk_.chunk);
          const pe_array::ConvJobShape shape = job_shape(reduced, conv_rows, k_count, grid_.whole_width() ? 0 : cols);
          const pe_array::ConvJobWork w =
              pe_array::conv_job_work(dataflow_, array, features(npu_), shape, packed_int4(l_, npu_), npu_.rf_entries,
                                      e_, npu_.buffer_port_bytes);
          array_cycles = w.array_cycles;
          job_cycles = w.cycles;
          const pe_array::WeightStream stream =
              pe_array::weight_stream(dataflow_, array, shape, features(npu_), npu_.weights_by_fold);
          folds = stream.column_folds(), fold_cycles = double(w.cycles) / double(folds);
          if (weights != 0 && !streamed)
            first_weights = stream.fold(0).second * filter_bytes(l_) + k_count * kParamBytesPerChannel;
          s.macs += w.macs;
          s.rf_accesses += w.rf.reads + w.rf.writes;
          s.weight_buffer_bytes += w.fetches.weight_words * e_ + filled;
          // Partial sums are written to the input buffer and read back.
          s.input_buffer_bytes += w.fetches.input_words * e_ + 2 * w.fetches.psum_words * pe_array::kAccumulatorBytes;
          if (fuses_add(l_)) {
            // The epilogue reads the residual and adds one tap per output.
            const pe_array::PostProcessWork add = pe_array::postprocess_work(array, pixels * k_count, 1);
            array_cycles += add.cycles;
            job_cycles += add.cycles;
            s.rf_accesses += add.rf.reads + add.rf.writes;
            s.cluster_bytes += pixels * k_count;
          }
          if (fuses_pool(l_)) {
            // The epilogue pools the results the lanes hold.
            const pe_array::PostProcessWork pool =
                pe_array::postprocess_work(array, pixels * k_count, std::uint64_t{l_.pool_kernel_h} * l_.pool_kernel_w);
            array_cycles += pool.cycles;
            job_cycles += pool.cycles;
            s.rf_accesses += pool.rf.reads + pool.rf.writes;
          }
        } else {
          const std::uint64_t taps = op_ == Opcode::kAdd ? 2 : std::uint64_t{l_.kernel_h} * l_.kernel_w;
          const pe_array::PostProcessWork work = pe_array::postprocess_work(array, pixels * k_count, taps);
          array_cycles = work.cycles;
          job_cycles = pe_array::port_limited_cycles(array_cycles, {work.rf.reads, 0}, 1, npu_.buffer_port_bytes);
          s.rf_accesses += work.rf.reads + work.rf.writes;
          s.input_buffer_bytes += work.rf.reads;
        }
        s.input_buffer_bytes += inputs;
        // A job fetches its first column fold's weights, the parameters and its
        // first input row; the array then computes while the other rows, a fused
        // add's residual and the other folds' weights stream in (a group's second
        // fold goes down its followers' links as they fetch their rows, which
        // wait behind it), and its results leave after. A K slice reads each
        // residual row and writes each result row as one span of the tile's
        // pixels, the other slices' channels included (their bytes masked).
        const std::uint64_t first_row = kept ? 0 : input_row_bytes(tile, kb);
        const std::uint64_t residual =
            fuses_add(l_)
                ? my_rows *
                      ((cols - 1) * std::uint64_t{residual_channels(l_, t_.order == LoopOrder::kRowTilesOuter, kb)} +
                       k_count)
                : 0;
        const double rest = double(inputs - first_row + residual) / link,
                     by_fold = double(weights - first_weights) / link,
                     behind = grouped && my0 != 0 && folds >= 2 && !kept ? by_fold / double(folds - 1) : 0;
        const double job =
            double(first_weights + first_row) / link + behind +
            std::max(double(job_cycles) + pe_array::streamed_weights_late(folds, fold_cycles, by_fold, rest), rest) +
            double(result_bytes) / link;
        const std::array<std::uint64_t, 4> moved{weights, inputs, residual, result_bytes};
        const std::uint64_t weights_read = grouped && my0 != 0 ? 0 : weights;
        if (job > slowest) {
          slowest_banked = moved;
          s.weight_fetch = double(weights) / link;
        }
        for (std::size_t b = 0; b < moved.size(); ++b) banked[b] += b == 0 ? weights_read : moved[b];
        slowest = std::max(slowest, job);
        s.array_cycles = std::max(s.array_cycles, array_cycles);
        s.cluster_bytes += inputs + weights_read + written;
      }
    }
    s.cycles = whole_cycles(bank_waits(tile, kb, out_buffer, streamed, banked, slowest_banked, s) + slowest);
    return s;
  }

  LayerCost finish() const {
    const CostTable& c = npu_.costs;
    LayerCost cost;
    cost.compute_cycles = compute_cycles_;
    cost.latency_cycles = whole_cycles(latency_);
    cost.tail_cycles = whole_cycles(latency_ - last_step_start_);
    cost.dram_bytes = dram_bytes_;
    // The DMA writes what it loads into the banks (streamed weights aside)
    // and reads what it stores.
    cost.sram_bytes = dram_bytes_ + cluster_bytes_ - streamed_bytes_;
    cost.noc_bytes = dram_bytes_ + cluster_bytes_;
    cost.rf_accesses = rf_accesses_;
    cost.weight_buffer_bytes = weight_buffer_bytes_;
    cost.input_buffer_bytes = input_buffer_bytes_;
    cost.macs = macs_;
    const std::size_t datatype = op_ == Opcode::kConv2d ? std::min<std::size_t>(l_.datatype, 3) : 0;
    cost.energy_pj =
        double(dram_bytes_) * c.dram_pj_per_byte + double(cost.sram_bytes) * c.sram_pj_per_byte +
        (double(dram_bytes_) * c.dma_hops + double(cluster_bytes_) * c.cluster_hops) * c.noc_pj_per_byte_hop +
        double(rf_accesses_) * c.rf_pj_per_access + double(weight_buffer_bytes_) * c.weight_buffer_pj_per_byte +
        double(input_buffer_bytes_) * c.input_buffer_pj_per_byte + double(macs_) * c.mac_pj[datatype] +
        double(cost.latency_cycles) * c.static_pj_per_cycle;
    return cost;
  }

  const LayerCommand& l_;
  const NpuLayout& npu_;
  const LayerTiling& t_;
  const pe_array::Dataflow dataflow_;
  const Opcode op_;
  const std::uint32_t e_;
  const unsigned inputs_;
  const TileGrid grid_;
  const std::uint32_t tiles_, blocks_;  // tiles_: of all images
  const DmaModel load_, store_;
  const std::uint64_t jobs_per_step_;
  const double ahead_cycles_;
  const DmaStream next_loads_;
  DmaStream next_left_;  // of next_loads_, once the last step has ended
  struct Priced {
    std::vector<std::uint32_t> key;  // empty: none yet
    StepCost cost;
  };
  std::array<Priced, 4> priced_;
  unsigned next_priced_ = 0;
  std::vector<std::optional<DmaStream>> tile_inputs_;  // by tile, for K blocks of inputs_kb_ from inputs_k0_
  std::uint32_t inputs_kb_ = 0, inputs_k0_ = 0;
  std::vector<std::uint32_t> key_;
  BlockChunk chunk_{0, 0, true};  // the step being walked's (LayerTiling::reduction_chunks)
  double latency_ = 0, last_step_start_ = 0;
  DmaStream pending_store_;
  std::uint64_t dram_bytes_ = 0, cluster_bytes_ = 0, compute_cycles_ = 0, rf_accesses_ = 0, macs_ = 0;
  std::uint64_t weight_buffer_bytes_ = 0, input_buffer_bytes_ = 0;
  std::uint64_t streamed_bytes_ = 0;  // weights the DMA wrote into the clusters, not the banks
};

}  // namespace

LayerCost estimate_layer_cost(const LayerCommand& l, const NpuLayout& npu, const LayerTiling& t,
                              pe_array::Dataflow dataflow, const Neighbours& around) {
  return *CostWalker(l, npu, t, dataflow, around).run();
}

std::optional<LayerCost> estimate_layer_cost_below(const LayerCommand& l, const NpuLayout& npu, const LayerTiling& t,
                                                   pe_array::Dataflow dataflow, const Neighbours& around,
                                                   std::uint64_t latency_bound) {
  return CostWalker(l, npu, t, dataflow, around).run(latency_bound);
}

DmaStream next_first_loads(const LayerCommand& l, const NpuLayout& npu, const LayerTiling& t) {
  if (opcode_of(l) != Opcode::kConv2d) return {};
  return CostWalker(l, npu, t, pe_array::Dataflow::kOutputStationary, {}).first_weight_loads();
}

}  // namespace npuvp::firmware
