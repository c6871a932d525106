#include "platform/soc.h"

#include <limits>

#include "contract/address_map.h"

namespace npuvp::platform {

namespace {

sc_core::sc_time ns_or_max(double ns) {
  return ns == std::numeric_limits<double>::infinity() ? sc_core::sc_max_time() : sc_core::sc_time(ns, sc_core::SC_NS);
}

trace::VcdOptions vcd_options(const TraceConfig& t) {
  return {t.vcd_include, t.vcd_max_changes, ns_or_max(t.window_start_ns), ns_or_max(t.window_end_ns)};
}

trace::TimelineOptions timeline_options(const TraceConfig& t) {
  trace::TimelineOptions options;
  options.window_start = ns_or_max(t.window_start_ns);
  options.window_end = ns_or_max(t.window_end_ns);
  return options;
}

}  // namespace

Soc::Soc(const sc_core::sc_module_name& name, const PlatformConfig& config, cpu::HostCpu::Program program,
         const std::string& trace_dir)
    : sc_module(name),
      config_(config),
      vcd_(vcd_options(config.simulation.trace)),
      timeline_(timeline_options(config.simulation.trace)),
      npu_irq_("npu_irq"),
      current_layer_("current_layer", -1) {
  tlm::tlm_global_quantum::instance().set(sc_core::sc_time(config.simulation.quantum_ns, sc_core::SC_NS));
  host_ = std::make_unique<cpu::HostCpu>("host", config.host, std::move(program));
  interconnect::SystemBusConfig bus_config;
  bus_config.initiators = 3;
  bus_config.initiator_names = {"host", "npu_dma", "npu_control"};
  bus_config.clock_mhz = config.npu.clock_mhz;
  bus_config.latency_cycles = config.bus_latency_cycles;
  bus_config.regions = {{"dram", address_map::kDramBase, config.dram.backing_bytes},
                        {"npu_regs", address_map::kNpuRegsBase, address_map::kNpuRegsSize}};
  bus_ = std::make_unique<interconnect::SystemBus>("bus", bus_config);
  dram_ = std::make_unique<dram::Lpddr4>("dram", config.dram);
  npu_ = std::make_unique<npu::Npu>("npu", config.npu);

  host_->initiator_socket.bind(bus_->target_sockets[0]);
  npu_->dma_system_socket.bind(bus_->target_sockets[1]);
  npu_->control_system_socket.bind(bus_->target_sockets[2]);
  bus_->initiator_sockets[0].bind(dram_->target_socket);
  bus_->initiator_sockets[1].bind(npu_->target_socket);
  npu_->host_irq(npu_irq_);
  host_->irq(npu_irq_);
  npu_->current_layer(current_layer_);

  if (!trace_dir.empty() && config.simulation.trace.vcd) {
    // A change may be recorded after the time it describes: power traces one
    // window late (the run monitor prices a window when it ends), and the
    // DRAM controller, run lazily, is brought up to date by each window's
    // sample. The NoC publishes on the recorder's request; a PE cluster,
    // whose stall edges are known once its job's operands are in, holds the
    // flush back to its job's start (VcdRecorder::hold_from); the quantum is
    // margin.
    vcd_.stream_to(trace_dir + "/trace.vcd",
                   sc_core::sc_time(config.simulation.power_window_ns + config.simulation.quantum_ns, sc_core::SC_NS));
    npu_->attach_trace(vcd_, {config.simulation.trace.vcd_noc_links,
                              sc_core::sc_time(config.simulation.power_window_ns, sc_core::SC_NS)});
    bus_->attach_trace(vcd_);
    dram_->attach_trace(vcd_, config.simulation.trace.vcd_dram_commands);
  }
  if (!trace_dir.empty() && config.simulation.trace.packets) {
    noc_packets_ = std::make_unique<NocPacketLog>(trace_dir + "/noc_packets.csv", npu_->noc().config());
    npu_->record_noc_packets(*noc_packets_);
  }
  if (!trace_dir.empty() && config.simulation.trace.timeline) {
    timeline_.stream_to(trace_dir + "/timeline.json");
    timeline_.declare_track("npu.layers");
    npu_->attach_timeline(timeline_);
  }
}

std::vector<stats::StatsSource*> Soc::stats_sources() {
  std::vector<stats::StatsSource*> out = npu_->stats_sources();
  out.push_back(dram_.get());
  out.push_back(host_.get());
  return out;
}

void Soc::flush_traces() { vcd_.flush_final(sc_core::sc_time_stamp()); }

}  // namespace npuvp::platform
