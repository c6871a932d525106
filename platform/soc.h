#pragma once
// The SoC top: host CPU, system bus, LPDDR4 subsystem and NPU, wired per
// the address map. Built from a PlatformConfig; nothing global, so the top can
// be built by tests and by the CLI alike. What the models count is read through
// their StatsSources (see RunMonitor).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "models/common/timeline_recorder.h"
#include "models/common/vcd_recorder.h"
#include "models/cpu/host_cpu.h"
#include "models/dram/lpddr4.h"
#include "models/interconnect/system_bus.h"
#include "models/npu/npu.h"
#include "platform/noc_packet_log.h"
#include "platform/platform_config.h"

namespace npuvp::platform {

class Soc : public sc_core::sc_module {
 public:
  // With a trace_dir, the traces config.simulation.trace asks for are
  // written there as the simulation runs (trace.vcd, timeline.json,
  // noc_packets.csv) and completed by vcd().close(), timeline().close() and
  // noc_packets()->close(); without one, nothing is traced.
  Soc(const sc_core::sc_module_name& name, const PlatformConfig& config, cpu::HostCpu::Program program,
      const std::string& trace_dir = {});
  Soc(const Soc&) = delete;
  Soc& operator=(const Soc&) = delete;

  // Every model that counts activity: the NPU's units, the DRAM and the host.
  std::vector<stats::StatsSource*> stats_sources();
  // The layer the NPU runs, -1 when idle.
  const sc_core::sc_signal<std::int32_t>& current_layer() const { return current_layer_; }
  trace::VcdRecorder& vcd() { return vcd_; }
  trace::TimelineRecorder& timeline() { return timeline_; }
  // nullptr unless the packet trace was asked for.
  NocPacketLog* noc_packets() { return noc_packets_.get(); }
  // Writes out the trace changes that can no longer change, so that memory
  // follows the reorder window rather than the run. The run monitor calls it
  // once per power window: a process of the SoC's own would add events, and
  // with them another order among processes due at the same time, so a
  // traced run would time differently from an untraced one.
  void flush_traces();

  const cpu::HostCpu& host() const { return *host_; }
  npu::Npu& npu() { return *npu_; }
  const dram::Lpddr4& dram() const { return *dram_; }
  const PlatformConfig& config() const { return config_; }

 private:
  const PlatformConfig config_;
  trace::VcdRecorder vcd_;
  trace::TimelineRecorder timeline_;
  std::unique_ptr<NocPacketLog> noc_packets_;
  std::unique_ptr<cpu::HostCpu> host_;
  std::unique_ptr<interconnect::SystemBus> bus_;
  std::unique_ptr<dram::Lpddr4> dram_;
  std::unique_ptr<npu::Npu> npu_;
  sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> npu_irq_;  // raised by the NPU, cleared by host writes
  sc_core::sc_signal<std::int32_t> current_layer_;
};

}  // namespace npuvp::platform
