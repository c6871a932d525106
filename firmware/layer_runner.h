#pragma once
// One layer command as the firmware runs it: validation, planning, the tile
// loops, and the DMA chains and cluster jobs they program. Internal to the
// firmware library; layer_runner.cpp holds the loops, layer_dma.cpp the DMA
// chains, cluster_jobs.cpp the cluster jobs.

#include <algorithm>
#include <cstdint>
#include <map>
#include <type_traits>
#include <vector>

#include "contract/cluster_regs.h"
#include "contract/dma_regs.h"
#include "contract/npu_regs.h"
#include "firmware/firmware.h"
#include "firmware/layer_geometry.h"
#include "firmware/layer_plan.h"

namespace npuvp::firmware {

inline constexpr unsigned kLoadChannel = 0;
inline constexpr unsigned kStoreChannel = 1;

struct FirmwareError {
  npu::NpuError code;
  std::uint32_t info;
};

// The address of register `reg` of each of clusters 0 to `clusters` - 1.
inline std::vector<std::uint64_t> cluster_registers(const NpuLayout& npu, unsigned clusters, std::uint32_t reg) {
  std::vector<std::uint64_t> regs(clusters);
  for (unsigned c = 0; c < clusters; ++c) regs[c] = npu.cluster_regs_base + c * pe_array::kClusterStride + reg;
  return regs;
}

// Waits until the `jobs` jobs of a job table (the status word of cluster c's
// job at `table` + 4c) are done, then clears the clusters' IRQs with one
// multicast. Throws FirmwareError (kClusterFault, the cluster) for a job that
// failed or a cluster that raised an error.
void wait_cluster_jobs(Hal& hal, std::uint64_t table, unsigned jobs);

// The weights the SRAM and the clusters hold after a convolution that fitted
// one K block: the next command of the buffer with the same weights (the next
// image of a batch) needs neither the DMA load nor the clusters' weight fetch.
struct ResidentWeights {
  bool valid = false;
  std::uint64_t weights_addr = 0, bias_addr = 0, requant_addr = 0;
  std::uint64_t bytes = 0;
};

// The decisions the firmware made, by what each depends on: a command like
// one planned before takes its decision (ResNet-50: 55 decisions, 37 keys).
using PlannedDecisions = std::map<PlanKey, LayerDecision>;

// A byte range [lo, hi) of DRAM or SRAM.
struct Span {
  std::uint64_t lo = 0, hi = 0;
  bool overlaps(const Span& o) const { return lo < o.hi && o.lo < hi; }
};

// What the runner of one layer prepared during its last step for the next
// command of the buffer, as a command processor that knows the next command
// does: the command read ahead, its batch table and segments, its plan, and
// which parts of its first load chain are already on the load channel.
struct Lookahead {
  bool read = false;  // `command` holds the next command
  LayerCommand command{};
  bool after_read = false;  // `after` holds the command after it
  LayerCommand after{};
  bool prepared = false;  // and images, segments and decision its run
  std::vector<BatchImage> images;
  std::vector<std::vector<InputSegment>> segments;
  LayerDecision decision;
  bool weights_loading = false, inputs_loading = false;
  // The first weight buffer's offset when its own place was still in use by
  // the layer before (0: where the plan put it).
  std::uint64_t weights_offset = 0;
};

// The commands a layer's command belongs to, in DRAM one after another.
struct CommandBuffer {
  std::uint64_t base = 0;
  std::uint32_t count = 0;  // 0: the layer is run alone, nothing after it known
  // The DRAM address of command `index`, 0 past the last.
  std::uint64_t command(std::uint32_t index) const {
    return index < count ? base + std::uint64_t{index} * sizeof(LayerCommand) : 0;
  }
};

class LayerRunner {
 public:
  // The layer is command `index` of `buffer`; `ahead` carries what one layer
  // prepared for the next.
  LayerRunner(Hal& hal, const LayerCommand& layer, std::uint32_t index, ResidentWeights& resident, Lookahead& ahead,
              const CommandBuffer& buffer, PlannedDecisions& planned)
      : hal_(hal),
        npu_(hal.layout()),
        l_(layer),
        index_(index),
        op_(opcode_of(layer)),
        resident_(resident),
        ahead_(ahead),
        buffer_(buffer),
        planned_(planned) {}

  void run();

 private:
  // The first step's loads: the weights (none when resident) and the inputs.
  struct FirstLoads {
    std::vector<dma::Descriptor> weights, inputs;
  };
  FirstLoads first_loads(bool weights_resident) const;
  // Starts what the layer before did not and waits for all of it.
  void load_first(const FirstLoads& loads);
  bool weights_resident() const;
  ResidentWeights wanted_weights() const;

  // Called at the start of the layer's last step, its jobs running and the
  // load channel idle for good: reads and plans the next command and starts
  // the parts of its first loads that neither overwrite SRAM this step still
  // uses nor read DRAM this layer has yet to write (layer_prefetch.cpp).
  // `tile` and `weights` are the step's tile and weight buffer, `stores` the
  // stores of this step and the one before, the last DRAM writes of the layer.
  void prefetch_next(std::uint32_t tile, unsigned weights, const std::vector<dma::Descriptor>& stores);
  // Once the last step's jobs have ended and its store (`store`) started: the
  // next layer's first inputs that this store writes to DRAM are copied from
  // the output buffer instead, beside the store, if they are all there or
  // already in DRAM.
  void forward_next(const dma::Descriptor& store);
  // Validates, reads the images of and plans a command run later; false for
  // a copy or fill or a command that would fail (its run reports it).
  bool prepare(LayerDecision& decision);
  // What the layer's last step still reads or writes in SRAM.
  std::vector<Span> sram_in_use(std::uint32_t tile, unsigned weights) const;
  // Moves the first weight buffer as high in SRAM as it fits below the
  // spans of `busy` above it, if that is in the room this layer's plan leaves.
  bool relocate_first_weights(const std::vector<Span>& busy);

  // Loading tile n+1 and storing tile n-1 overlap computing tile n; a K
  // block's weights load before its first tile. The tiles of all images of a
  // batch pass one K block's weights before the next block loads. With a job
  // queue, tile n+1's jobs start as soon as its inputs are in and tile n-1's
  // outputs are stored, so the clusters go from one tile to the next without
  // waiting for the command processor.
  void run_weight_blocks_outer(bool weights_resident, const FirstLoads& first);

  // Each step computes one K block of one row tile (row_tiles_outer_steps)
  // while the next step's weights (at a pass boundary) and inputs (at an
  // input buffer boundary) load and the previous step's outputs store. A
  // batch of whole images shares each pass of the weights among as many
  // images as an input buffer holds.
  void run_row_tiles_outer(const FirstLoads& first);

  [[noreturn]] void bad() const { throw FirmwareError{npu::NpuError::kBadCommand, index_}; }

  void validate() const;

  std::uint32_t images() const { return static_cast<std::uint32_t>(images_.size()); }

  void read_dram(std::uint64_t addr, void* dst, std::size_t bytes);

  // Where each image of the command reads and writes (the batch table, read
  // from DRAM like the command) and each one's input segments.
  void read_images();

  // A gathered input's segments; they must cover the input's channels exactly.
  void read_segments(std::uint64_t addr, std::vector<InputSegment>& segments);

  // The dataflow the command asks for, or the one the cost model prefers,
  // and the tiling that goes with it. A convolution's costs are estimated
  // either way so that the report can show both.
  LayerDecision decide() const;
  // decide()'s planning, for a command not planned before.
  LayerDecision plan(const Neighbours& around) const;
  // The next command's first loads, which the estimate prices beside this
  // layer's last stores, as the next command's plan has them (planned
  // without the command after it); none for the buffer's last command or
  // one that would fail.
  DmaStream next_loads() const;
  // The next command in ahead_.command and, `with_after`, the one after it in
  // ahead_.after, each read from DRAM unless it is there already (a command
  // is read once); false for the buffer's last command or one that cannot be
  // read.
  bool read_ahead(bool with_after) const;
  // Records the decision and takes its dataflow and tiling.
  void adopt(const LayerDecision& d);

  std::uint64_t sram(std::uint64_t offset) const { return npu_.sram_base + offset; }

  // Writes a chain of descriptors into the channel's slots and starts it.
  void start_dma(unsigned channel, std::vector<dma::Descriptor> chain);

  static dma::Descriptor linear(std::uint64_t src, std::uint64_t dst, std::uint32_t bytes) {
    return dma::Descriptor{src, dst, bytes, 1, 1, 0, 0, 0, 0, 0, 0, 0};
  }

  void wait_dma(unsigned channel);

  void run_copy();

  // A K block's weights, bias and requantization into SRAM buffer `buffer`,
  // or (`streamed`) the weights into the clusters' streamed slot `buffer`.
  // `chunk`: the run of input channels (LayerTiling::reduction_chunks).
  std::vector<dma::Descriptor> weight_loads(std::uint32_t k0, std::uint32_t kb, unsigned buffer, bool streamed = false,
                                            std::uint32_t chunk = 0) const;

  // Tiles count on from one image to the next (TileGrid).
  std::uint32_t image_of(std::uint32_t tile) const { return grid_.image(tile); }
  std::uint32_t first_row(std::uint32_t tile) const { return grid_.first_row(tile); }
  std::uint32_t tile_rows(std::uint32_t tile) const { return grid_.rows(tile); }
  // The input buffer a tile's inputs go to, and where in it (several whole
  // images share one with LayerTiling::images_per_tile).
  unsigned input_buffer(std::uint32_t tile) const { return tile / t_.images_per_tile % 2; }
  std::uint64_t input_at(std::uint32_t tile, unsigned buffer) const {
    return sram(t_.input_offset[buffer] + tile % t_.images_per_tile * t_.input_slot_bytes);
  }
  // Where its second operand (kAdd) or fused residual goes.
  std::uint64_t input2_at(std::uint32_t tile, unsigned buffer) const {
    return sram(t_.input2_offset[buffer] + tile % t_.images_per_tile * t_.input2_slot_bytes);
  }

  std::vector<dma::Descriptor> input_loads(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb,
                                           unsigned buffer) const;

  // Input rows [lo, hi) of the channels [first, first + channels), gathered
  // from the segments into a packed tile at `dst`: per segment, the part whose
  // shifted source lies in the image is copied and the strips around it are
  // filled with the input zero point.
  std::vector<dma::Descriptor> gathered_loads(const std::vector<InputSegment>& segments, std::uint32_t lo,
                                              std::uint32_t hi, std::uint32_t first, std::uint32_t channels,
                                              std::uint64_t dst) const;

  // A fused add's residual for the tile's outputs, channels [k0, k0 + kb).
  dma::Descriptor residual_load(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb, unsigned buffer) const;

  dma::Descriptor output_store(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb, unsigned buffer) const;
  void store_output(std::uint32_t tile, std::uint32_t k0, std::uint32_t kb, unsigned buffer) {
    start_dma(kStoreChannel, {output_store(tile, k0, kb, buffer)});
  }

  pe_array::ClusterJob job_template() const;
  // A fused pool's job: the convolution rows output rows [row0, row0 + rows) pool.
  void set_pool_epilogue(pe_array::ClusterJob& job, std::uint32_t row0, std::uint32_t rows) const;

  // Which SRAM buffers a tile's jobs use, and whether the clusters fetch the
  // weights or still hold them from the previous tile.
  struct JobBuffers {
    bool load_weights;
    unsigned weights;
    unsigned output;
    std::uint32_t k0 = 0;          // the K block's first channel
    bool streamed = false;         // the weights come into the clusters' streamed slot `weights`
    std::uint32_t kept_after = 0;  // slices_keeping_rows: the step before's K slices, or 0
    BlockChunk chunk{0, 0, true};  // the run of input channels the jobs reduce
  };

  // A tile's jobs, started from job table `table`.
  struct Issued {
    unsigned table = 0;
    std::uint32_t jobs = 0;
  };

  // The order of waits around one step of a tile loop: the step's jobs were
  // issued before it; the next step's are issued once its loads (started by
  // the caller) are in and the output buffer it writes is stored, before or
  // (without a job queue) after this step's jobs end. `follow` starts the
  // loads of the step after next, whose buffers this step's jobs free: at
  // once if they have already ended when the next step's loads are in (the
  // DMA, not the clusters, is then what the layer waits for, and it should
  // not idle while jobs are issued), else as soon as they end. With `early`
  // (the next step's weights stream into the clusters, each of which waits
  // for its own slot) the next step's jobs are issued while its loads still
  // run, and the step after next's loads follow once those are in.
  class TileLoop {
   public:
    explicit TileLoop(LayerRunner& r) : r_(r) {}
    void first(Issued issued) { running_ = issued; }
    template <typename Issue, typename Store, typename Follow>
    void step(bool has_next, Issue&& issue_next, Store&& store, bool loading, Follow&& follow, bool early = false) {
      loading = loading && has_next;
      early = early && loading && r_.pipelined();
      Issued next;
      bool followed = false;
      if (has_next && r_.pipelined()) {
        if (loading && !early) r_.wait_dma(kLoadChannel);
        if (store_pending_) r_.wait_dma(kStoreChannel);
        store_pending_ = false;
        if (!early && r_.jobs_ended(running_)) {
          follow();
          followed = true;
        }
        next = issue_next();
      }
      r_.wait_jobs(running_);
      if (early) r_.wait_dma(kLoadChannel);
      if (!followed && r_.pipelined()) follow();
      if (store_pending_) r_.wait_dma(kStoreChannel);
      store_pending_ = false;
      start_store(store);
      if (has_next && !r_.pipelined()) {
        if (loading) r_.wait_dma(kLoadChannel);
        follow();
        next = issue_next();
      }
      running_ = next;
    }
    template <typename Issue, typename Store>
    void step(bool has_next, Issue&& issue_next, Store&& store, bool loading = true) {
      step(has_next, issue_next, store, loading, [] {});
    }
    // `store` returns whether it started a store (a step of a K block's
    // chunks before its last writes none), or nothing when it always does.
    template <typename Store>
    void start_store(Store&& store) {
      if constexpr (std::is_void_v<std::invoke_result_t<Store>>) {
        store();
        store_pending_ = true;
      } else {
        store_pending_ = store();
      }
    }
    void drain() {
      if (store_pending_) r_.wait_dma(kStoreChannel);
    }

   private:
    LayerRunner& r_;
    Issued running_;
    bool store_pending_ = false;
  };

  std::uint64_t job_table(unsigned table) const {
    return sram(job_tables_offset(l_, npu_) + table * job_table_bytes(npu_));
  }
  // With a job queue, the next tile's jobs can be started while this one's run.
  bool pipelined() const { return npu_.job_queue_depth >= 2; }

  // Writes the tile's jobs, one per cluster, into the next job table with
  // their completion words cleared, and starts them all with two multicast
  // writes (JOB_ADDR, START_TABLE): a cluster still busy queues its job.
  Issued issue(std::uint32_t tile, std::uint32_t kb, JobBuffers buffers);

  // Until every job of the tile has written its completion word. A cluster
  // whose IRQ line is high without one failed before it could write it (its
  // job could not be fetched). The DONE bits are cleared with one multicast
  // once all are in; a cluster that finished a queued job meanwhile has its
  // completion word to tell.
  void wait_jobs(const Issued& issued);
  // Whether every job of the tile has written its completion word, without waiting.
  bool jobs_ended(const Issued& issued);

  Hal& hal_;
  const NpuLayout& npu_;
  const LayerCommand& l_;
  const std::uint32_t index_;
  const Opcode op_;
  ResidentWeights& resident_;
  Lookahead& ahead_;
  const CommandBuffer buffer_;
  PlannedDecisions& planned_;
  std::vector<dma::Descriptor> next_inputs_;         // the next layer's first inputs, not loaded ahead
  std::vector<BatchImage> images_;                   // image 0: the command's own addresses
  std::vector<std::vector<InputSegment>> segments_;  // per image
  LayerTiling t_;
  TileGrid grid_;  // the tiling's tiles
  pe_array::Dataflow dataflow_ = pe_array::Dataflow::kWeightStationary;
  unsigned next_table_ = 0;
  // The estimated tail of this layer's plan (LayerCost::tail_cycles), and of
  // the layer before's when it planned this one ahead: the time this layer's
  // first weights load behind.
  std::uint64_t tail_cycles_ = 0, ahead_cycles_ = 0;
};

}  // namespace npuvp::firmware
