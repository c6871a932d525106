#pragma once
// The NPU's command processor: the host-visible register block (ring,
// doorbell, IRQ, performance counters) and the core that runs the firmware in
// an SC_THREAD behind the firmware HAL.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "contract/address_map.h"
#include "firmware/hal.h"
#include "firmware/layer_plan.h"
#include "models/common/payload_pool.h"
#include "models/common/register_file.h"
#include "models/common/stats_source.h"
#include "models/common/vcd_recorder.h"

namespace npuvp::noc {
struct MulticastExtension;
}

namespace npuvp::npu {

struct CommandProcessorConfig {
  firmware::NpuLayout layout;
  double clock_mhz = 800;
  unsigned event_lines = 32;
};

struct CommandProcessorStats {
  std::uint64_t command_buffers = 0;
  std::uint64_t layers = 0;
  std::uint64_t errors = 0;
  std::uint64_t mmio_accesses = 0;
  std::uint64_t busy_cycles = 0;
  // Cycles the firmware waited for DMA transfers with every cluster idle
  // (no job running or queued): the array idles on memory then.
  std::uint64_t dma_wait_cycles = 0;
};

class CommandProcessor : public sc_core::sc_module, public stats::StatsSource, private firmware::Hal {
 public:
  tlm_utils::simple_target_socket<CommandProcessor> target_socket;     // host MMIO
  tlm_utils::simple_initiator_socket<CommandProcessor> noc_socket;     // SRAM, DMA and cluster registers
  tlm_utils::simple_initiator_socket<CommandProcessor> system_socket;  // ring and command buffers in DRAM
  sc_core::sc_vector<sc_core::sc_in<bool>> event_lines;                // DMA channel and cluster IRQs
  sc_core::sc_out<bool> host_irq;
  sc_core::sc_out<std::int32_t> current_layer;  // layer_id being run, -1 when idle

  CommandProcessor(const sc_core::sc_module_name& name, const CommandProcessorConfig& config);
  CommandProcessor(const CommandProcessor&) = delete;
  CommandProcessor& operator=(const CommandProcessor&) = delete;

  // The layer the firmware runs (its id), -1 between layers.
  std::int32_t layer() const { return layer_; }
  void attach_trace(trace::VcdRecorder& recorder);
  const CommandProcessorStats& stats() const { return stats_; }
  std::uint64_t register_bytes() const { return registers_.size_bytes(); }
  // Called with every decision the firmware records for a layer (how it tiles
  // it, which dataflow it runs and why), as the firmware makes it.
  void on_decision(std::function<void(const firmware::LayerDecision&)> observer) {
    decision_observers_.push_back(std::move(observer));
  }
  // Since when every cluster has been idle (no job running or queued), or
  // nothing while one is busy: the NPU wires it to its clusters.
  using ClustersIdleSince = std::function<std::optional<sc_core::sc_time>()>;
  void watch_clusters(ClustersIdleSince idle_since) { clusters_idle_since_ = std::move(idle_since); }

  // stats::StatsSource
  std::string stats_name() const override { return name(); }
  void sample(stats::Counters& into, const sc_core::sc_time& now) override;
  nlohmann::json stats_json() const override;

 private:
  // firmware::Hal
  const firmware::NpuLayout& layout() const override { return config_.layout; }
  std::uint32_t read32(std::uint64_t addr) override;
  void write32(std::uint64_t addr, std::uint32_t value) override;
  void read(std::uint64_t addr, void* dst, std::size_t bytes) override;
  void write(std::uint64_t addr, const void* src, std::size_t bytes) override;
  void write_multicast(const std::vector<std::uint64_t>& addrs, const void* src, std::size_t bytes) override;
  std::uint64_t wait_events(std::uint64_t mask) override;
  void wait_for_work() override;
  Ring ring() const override;
  void complete_entry(std::uint32_t new_head) override;
  void report_error(std::uint32_t code, std::uint32_t info) override;
  void mark_layer(std::int32_t layer_index) override;
  void record_decision(const firmware::LayerDecision& decision) override;
  void spend_cycles(std::uint64_t cycles) override;

  void firmware_thread();
  // "the IRQ of DMA channel 0, cluster 3" for a wait_events() mask.
  std::string event_lines_named(std::uint64_t mask) const;
  void transfer(tlm::tlm_command cmd, std::uint64_t addr, void* data, std::size_t bytes,
                noc::MulticastExtension* multicast = nullptr);  // owned by the call
  void raise(std::uint32_t irq_bits);
  void update_host_irq();
  std::uint64_t cycles_now() const;

  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& gp);

  const CommandProcessorConfig config_;
  const sc_core::sc_time clock_period_;
  regs::RegisterFile registers_;
  sc_core::sc_event doorbell_;
  sc_core::sc_time busy_since_ = sc_core::SC_ZERO_TIME;
  std::int32_t layer_ = -1;          // the signal's value lags a delta cycle behind
  std::uint32_t accepted_tail_ = 0;  // RING_TAIL as last checked
  std::vector<std::function<void(const firmware::LayerDecision&)>> decision_observers_;
  ClustersIdleSince clusters_idle_since_;
  std::uint32_t latched_hi_cycles_ = 0;
  std::uint32_t latched_hi_busy_ = 0;
  CommandProcessorStats stats_;
  tlmx::PayloadPool payloads_;
  trace::Wire busy_trace_;
  trace::Wire layer_trace_;
  trace::Wire irq_trace_;  // the host interrupt line
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace npuvp::npu
