#pragma once
// What the NPU firmware may do to the hardware around it. The command
// processor model implements it over TLM sockets and IRQ lines; nothing in the
// firmware reaches the platform any other way.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace npuvp::firmware {

// What the firmware's cost model prices a plan with, per NPU cycle and per
// byte or action. The platform derives it from its DRAM part, NoC and energy
// table; zeros leave a term out.
struct CostTable {
  double dram_bytes_per_cycle = 32;  // sustained DRAM bandwidth
  // With reads and writes mixed, the data bus's time per burst grows by this
  // share of a burst's per write burst: the read/write turnarounds.
  double dram_turnaround_per_write = 0;
  double link_bytes_per_cycle = 32;  // one NoC link: what a cluster's port moves per cycle
  double bank_bytes_per_cycle = 32;  // one SRAM bank, all its ports
  // Command processor time to hand a cluster its job (job slot, START, IRQ
  // service: NoC round trips).
  double job_issue_cycles = 0;
  // A DMA channel's stream (models/dma): bursts of at most dma_burst_bytes,
  // cut at multiples of it on both sides; dma_outstanding of them in flight;
  // each burst's round trip without its data's serialization, DRAM read or
  // write and the NoC and bank access on the other side (0: not limiting);
  // and the fetch of a chain's first descriptor.
  double dma_burst_bytes = 1024;
  double dma_outstanding = 8;
  double dma_load_latency_cycles = 0, dma_store_latency_cycles = 0;
  double dma_descriptor_cycles = 0;
  // Command processor time to start a chain (its descriptors written, the
  // channel's registers) and service its IRQ, besides the descriptors' data.
  double dma_control_cycles = 0;
  double dram_pj_per_byte = 0;  // commands, row activations and I/O of streaming access
  double sram_pj_per_byte = 0;
  double noc_pj_per_byte_hop = 0;
  double dma_hops = 0;      // mean hops between the DMA and an SRAM bank
  double cluster_hops = 0;  // mean hops between a cluster and an SRAM bank
  double rf_pj_per_access = 0;
  double weight_buffer_pj_per_byte = 0, input_buffer_pj_per_byte = 0;  // a cluster's buffers
  double mac_pj[4] = {0, 0, 0, 0};                                     // by Datatype
  double static_pj_per_cycle = 0;                                      // leakage and DRAM background while a layer runs
};

// Facts about the NPU the firmware runs on (its "device tree").
struct NpuLayout {
  unsigned clusters = 16;
  unsigned array_rows = 8, array_cols = 8;
  bool int4_packing = false;                // the arrays do two int4 MACs per lane and cycle
  bool preload_overlap = false;             // the arrays preload the next fold's weights while computing
  bool depthwise_channel_parallel = false;  // a depthwise job spreads its channels over the columns
  // The dataflows the arrays can run: bit d for pe_array::Dataflow d.
  std::uint32_t dataflows = 0b011;
  std::uint32_t cluster_weight_buffer_bytes = 0;
  std::uint32_t cluster_input_buffer_bytes = 0;
  unsigned rf_entries = 1;         // per PE: the stationary operands it holds (contract/operand_fetches.h)
  unsigned buffer_port_bytes = 0;  // per cluster buffer and cycle; 0: never limits
  // Jobs a cluster holds (running and queued): 2 or more lets the firmware
  // start a tile's jobs while the previous tile's still run.
  unsigned job_queue_depth = 1;
  // The clusters take operand groups (pe_array.operand_multicast): the jobs
  // of one K slice share one multicast read of its weights.
  bool operand_multicast = false;
  // A job's later column folds' weights stream in while the array computes
  // (pe_array.weights_by_fold).
  bool weights_by_fold = false;
  std::uint64_t sram_base = 0, sram_bytes = 0;
  unsigned sram_banks = 16;  // equal banks
  // Consecutive chunks of this many bytes go to consecutive banks
  // (contract/sram_interleave.h); sram_bytes / sram_banks: back to back.
  std::uint64_t sram_interleave_bytes = 1024;
  std::uint64_t dma_regs_base = 0;
  unsigned dma_channels = 2;
  std::uint64_t cluster_regs_base = 0;
  // IRQ lines seen by wait_events(): DMA channel c is line c, cluster k is
  // line cluster_irq_base + k.
  unsigned cluster_irq_base = 16;
  CostTable costs;
  // The planner also offers the tilings of the global buffer's half, quarter,
  // ... and the estimate picks (firmware/layer_choice.cpp); false: the
  // largest tiling that fits runs.
  bool smaller_tilings = true;
  // The planner also offers K blocks whose weights the DMA writes straight
  // into the clusters' weight-fill windows (contract/cluster_regs.h, streamed
  // weights) where each is used once, and the estimate picks; false: every
  // weight goes through the global buffer.
  bool stream_weights = false;
  // The planner also offers column strips of a layer's row tiles where whole
  // rows split its channels or its clusters (firmware/layer_choice.cpp), and
  // the estimate picks; false: whole rows only.
  bool column_strips = true;
  // A cluster's job of a row tile's next K block, walked rows outer, keeps
  // the input rows its job of the block before loaded (kJobKeepInput); false:
  // it fetches them again.
  bool keep_input_rows = true;
};

// A bus access that came back with an error response.
class BusError : public std::runtime_error {
 public:
  BusError(const char* what, std::uint64_t address) : std::runtime_error(what), address_(address) {}
  std::uint64_t address() const { return address_; }

 private:
  std::uint64_t address_;
};

struct LayerDecision;

class Hal {
 public:
  virtual ~Hal() = default;

  virtual const NpuLayout& layout() const = 0;

  // NPU-local addresses (SRAM, DMA and cluster registers) go over the NoC;
  // anything else to system memory. Errors throw BusError.
  virtual std::uint32_t read32(std::uint64_t addr) = 0;
  virtual void write32(std::uint64_t addr, std::uint32_t value) = 0;
  virtual void read(std::uint64_t addr, void* dst, std::size_t bytes) = 0;
  virtual void write(std::uint64_t addr, const void* src, std::size_t bytes) = 0;
  // One NoC packet writing the same bytes at every NPU-local address listed.
  virtual void write_multicast(const std::vector<std::uint64_t>& addrs, const void* src, std::size_t bytes) = 0;

  // Blocks until one of the IRQ lines in `mask` is high; returns all high lines
  // of the mask. Lines are cleared at their source (W1C IRQ registers).
  virtual std::uint64_t wait_events(std::uint64_t mask) = 0;

  // Host interface: the ring registers of the NPU's register block.
  struct Ring {
    std::uint64_t base;
    std::uint32_t size, head, tail;
  };
  virtual void wait_for_work() = 0;  // returns when enabled and head != tail
  virtual Ring ring() const = 0;
  virtual void complete_entry(std::uint32_t new_head) = 0;                // moves HEAD, raises COMPLETE
  virtual void report_error(std::uint32_t code, std::uint32_t info) = 0;  // raises ERROR

  // Observability: which layer the firmware is on (-1 when idle).
  virtual void mark_layer(std::int32_t layer_index) = 0;
  // The dataflow, tiling and costs chosen for the layer being run.
  virtual void record_decision(const LayerDecision& decision) = 0;
  // Time the firmware itself spends (tiling decisions, descriptor building).
  virtual void spend_cycles(std::uint64_t cycles) = 0;
};

}  // namespace npuvp::firmware
