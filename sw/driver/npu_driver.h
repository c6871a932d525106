#pragma once
// Register-level driver of the NPU. It reaches the hardware only through the
// HostHal, so the same code would run on a board.
//
// Usage: probe() once; alloc() DRAM buffers and fill them through the HAL;
// submit() command buffers (LayerCommand arrays in DRAM); wait() for each.
// Errors the NPU reports come back as NpuFault with its code and info.

#include <cstdint>
#include <stdexcept>
#include <string>

#include "contract/address_map.h"
#include "contract/command_format.h"
#include "sw/hal/host_hal.h"

namespace npuvp::sw {

struct DriverConfig {
  std::uint64_t npu_regs_base = address_map::kNpuRegsBase;
  std::uint64_t dram_base = address_map::kDramBase;
  std::uint64_t dram_bytes = 256ull << 20;
  std::uint32_t ring_entries = 64;
  // The watchdog, simulated: the NPU is taken as hung when, a wait for its
  // interrupt having timed out, it raises none and completes no layer
  // (LAYERS_DONE) for this long again, so a long network is never cut short
  // while its layers complete.
  std::uint64_t timeout_ns = 1'000'000'000;
};

// what(): "NPU error in layer 3: cluster 8: a job failed (...) (ERROR_CODE 5,
// ERROR_INFO 0x8, ERROR_LAYER 3)": the unit and the cause in words
// (npu::describe_error), the raw registers after them.
class NpuFault : public std::runtime_error {
 public:
  static constexpr std::uint32_t kNoLayer = 0xFFFFFFFF;
  NpuFault(const std::string& what, std::uint32_t code, std::uint32_t info, std::uint32_t layer = kNoLayer)
      : std::runtime_error(what), code_(code), info_(info), layer_(layer) {}
  std::uint32_t code() const { return code_; }
  std::uint32_t info() const { return info_; }
  // The layer_id of the failing command (ERROR_LAYER), kNoLayer if none ran.
  std::uint32_t layer() const { return layer_; }

 private:
  std::uint32_t code_, info_, layer_;
};

struct NpuCapabilities {
  std::uint32_t version = 0;
  std::uint32_t clusters = 0;
  std::uint32_t array_rows = 0, array_cols = 0;
  std::uint32_t sram_kb = 0;
};

struct NpuCounters {
  std::uint64_t cycles = 0;
  std::uint64_t busy_cycles = 0;
  std::uint32_t layers_done = 0;
  std::uint32_t command_buffers_done = 0;
};

class NpuDriver {
 public:
  NpuDriver(HostHal& hal, const DriverConfig& config);

  // Checks the ID register, resets the ring, enables the NPU and its IRQs.
  // Throws std::runtime_error when no NPU answers at the configured address.
  NpuCapabilities probe();

  // A DRAM buffer, 64-byte aligned; throws std::bad_alloc-like runtime_error
  // when DRAM is exhausted. free_all() releases everything.
  std::uint64_t alloc(std::uint64_t bytes);
  void free_all();

  // Queues a command buffer; returns its ring index. Blocks (sleeping on the
  // IRQ) while the ring is full.
  std::uint32_t submit(std::uint64_t command_buffer, std::uint32_t layer_count);
  // Sleeps until every submitted buffer completed. Throws NpuFault on an NPU
  // error and std::runtime_error on timeout.
  void wait_idle();

  NpuCounters counters();
  HostHal& hal() { return hal_; }

 private:
  std::uint32_t read(std::uint32_t reg);
  void write(std::uint32_t reg, std::uint32_t value);
  void service_interrupt();

  HostHal& hal_;
  const DriverConfig config_;
  std::uint64_t ring_base_ = 0;
  std::uint64_t heap_next_ = 0;
  std::uint64_t heap_start_ = 0;
  std::uint32_t tail_ = 0;
  std::uint32_t head_ = 0;
};

}  // namespace npuvp::sw
