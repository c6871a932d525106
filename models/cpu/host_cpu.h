#pragma once
// The host CPU: runs host software natively in an SC_THREAD. The software
// sees the platform only through the HostHal, implemented here over one TLM
// initiator socket and the interrupt input. Accesses run ahead of simulated
// time up to the global quantum (loosely timed, tlm_quantumkeeper).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>
#include <systemc>
#include <tlm>

#include "models/common/payload_pool.h"
#include "models/common/stats_source.h"
#include "sw/hal/host_hal.h"

namespace npuvp::cpu {

struct HostCpuConfig {
  double clock_mhz = 1500;
  unsigned mmio_cycles = 20;  // core-side cost of an uncached access, on top of the bus
};

struct HostCpuStats {
  std::uint64_t mmio_reads = 0;
  std::uint64_t mmio_writes = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_written = 0;
  std::uint64_t interrupts = 0;
};

class HostCpu : public sc_core::sc_module, public stats::StatsSource, private sw::HostHal {
 public:
  using Program = std::function<void(sw::HostHal&)>;

  tlm_utils::simple_initiator_socket<HostCpu> initiator_socket;
  sc_core::sc_in<bool> irq;

  // `program` runs once; when it returns (or throws) the simulation stops.
  HostCpu(const sc_core::sc_module_name& name, const HostCpuConfig& config, Program program);
  HostCpu(const HostCpu&) = delete;
  HostCpu& operator=(const HostCpu&) = delete;

  const HostCpuStats& stats() const { return stats_; }
  bool finished() const { return finished_; }
  // What the program threw, if anything (empty when it returned normally).
  const std::string& failure() const { return failure_; }

  // stats::StatsSource: report.json's units."soc.host". The host is no part
  // of the NPU's energy, so it adds no counters.
  std::string stats_name() const override { return name(); }
  void sample(stats::Counters&, const sc_core::sc_time&) override {}
  nlohmann::json stats_json() const override;

 private:
  std::uint32_t mmio_read32(std::uint64_t addr) override;
  void mmio_write32(std::uint64_t addr, std::uint32_t value) override;
  void memory_read(std::uint64_t addr, void* dst, std::size_t bytes) override;
  void memory_write(std::uint64_t addr, const void* src, std::size_t bytes) override;
  bool wait_for_interrupt(std::uint64_t timeout_ns) override;
  std::uint64_t now_ns() const override;

  void run();
  std::string line_name() const;  // the signal the irq port is bound to
  void transfer(tlm::tlm_command cmd, std::uint64_t addr, void* data, std::size_t bytes, unsigned core_cycles);

  const HostCpuConfig config_;
  const sc_core::sc_time clock_period_;
  Program program_;
  tlm_utils::tlm_quantumkeeper quantum_;
  HostCpuStats stats_;
  tlmx::PayloadPool payloads_;
  // Consecutive wait_for_interrupt() calls that found the line already high.
  static constexpr unsigned kMaxWaitsWithoutAccess = 1000;
  unsigned waits_without_access_ = 0;
  bool finished_ = false;
  std::string failure_;
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace npuvp::cpu
