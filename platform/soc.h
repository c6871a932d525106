#pragma once
// The SoC top: host CPU stub, system bus, LPDDR4 subsystem and NPU, wired per
// the address map, plus the observers that turn the models' counters into
// per-layer figures and power over time. Built from a PlatformConfig; nothing
// global, so the top can be built by tests and by the CLI alike.

#include <array>
#include <cstdint>
#include <functional>
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
#include "models/power/energy_model.h"
#include "platform/platform_config.h"

namespace npuvp::platform {

// Everything the power and per-layer reports are computed from, at one time.
struct Snapshot {
  sc_core::sc_time at;
  power::Activity activity;
  std::uint64_t compute_cycles = 0;  // summed over clusters
  std::uint64_t stall_cycles = 0;
  std::uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
  std::uint64_t sram_conflict_cycles = 0;
  std::uint64_t dma_wait_cycles = 0;  // firmware idle on DMA alone
  std::uint64_t ws_jobs = 0, os_jobs = 0;
};

// The platform's record of one layer, between the firmware's layer marks.
struct LayerMark {
  std::int32_t layer_id;
  Snapshot begin, end;
  bool finished = false;
};

class Soc : public sc_core::sc_module {
 public:
  // With a trace_dir, the traces config.simulation.trace asks for are
  // written there as the simulation runs (trace.vcd, timeline.json) and
  // completed by close_traces(); without one, nothing is traced.
  Soc(const sc_core::sc_module_name& name, const PlatformConfig& config, cpu::HostCpu::Program program,
      const std::string& trace_dir = {});
  Soc(const Soc&) = delete;
  Soc& operator=(const Soc&) = delete;

  // Counters as of now; cluster work is prorated over each job's interval.
  Snapshot snapshot();
  const std::vector<LayerMark>& layers() const { return layers_; }
  const std::vector<Snapshot>& power_windows() const { return windows_; }
  const trace::VcdRecorder& vcd() const { return vcd_; }
  const trace::TimelineRecorder& timeline() const { return timeline_; }
  trace::TimelineRecorder& timeline() { return timeline_; }
  // Writes what the trace files still lack; nothing may be recorded after.
  void close_traces();

  const cpu::HostCpu& host() const { return *host_; }
  const npu::Npu& npu() const { return *npu_; }
  const dram::Lpddr4& dram() const { return *dram_; }
  const PlatformConfig& config() const { return config_; }
  // Called with each layer id the firmware starts (for a progress display).
  void on_layer_start(std::function<void(std::int32_t)> callback) { layer_callback_ = std::move(callback); }

 private:
  void on_layer_change();
  void on_power_window();

  const PlatformConfig config_;
  trace::VcdRecorder vcd_;
  trace::TimelineRecorder timeline_;
  std::unique_ptr<cpu::HostCpu> host_;
  std::unique_ptr<interconnect::SystemBus> bus_;
  std::unique_ptr<dram::Lpddr4> dram_;
  std::unique_ptr<npu::Npu> npu_;
  sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> npu_irq_;  // raised by the NPU, cleared by host writes
  sc_core::sc_signal<std::int32_t> current_layer_;
  std::vector<LayerMark> layers_;
  std::vector<Snapshot> windows_;
  // Power per component over the last window: mac, rf, sram, noc, dram, leakage, total.
  std::array<trace::RealWire, 7> power_traces_;
  std::function<void(std::int32_t)> layer_callback_;
};

}  // namespace npuvp::platform
