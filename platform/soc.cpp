#include "platform/soc.h"

#include "contract/address_map.h"

namespace npuvp::platform {

Soc::Soc(const sc_core::sc_module_name& name, const PlatformConfig& config, cpu::HostCpu::Program program)
    : sc_module(name),
      config_(config),
      vcd_(trace::VcdOptions{config.simulation.trace.vcd_include, config.simulation.trace.vcd_max_changes}),
      npu_irq_("npu_irq"),
      current_layer_("current_layer", -1) {
  tlm::tlm_global_quantum::instance().set(sc_core::sc_time(config.simulation.quantum_ns, sc_core::SC_NS));
  host_ = std::make_unique<cpu::HostCpu>("host", config.host, std::move(program));
  interconnect::SystemBusConfig bus_config;
  bus_config.initiators = 3;
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

  if (config.simulation.trace.vcd) {
    npu_->attach_trace(vcd_);
    dram_->attach_trace(vcd_);
  }
  npu_->attach_timeline(timeline_);
}

std::vector<stats::StatsSource*> Soc::stats_sources() {
  std::vector<stats::StatsSource*> out = npu_->stats_sources();
  out.push_back(dram_.get());
  return out;
}

}  // namespace npuvp::platform
