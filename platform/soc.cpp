#include "platform/soc.h"

#include <limits>

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
  bus_config.clock_mhz = config.npu.clock_mhz;
  bus_config.latency_cycles = config.bus_latency_cycles;
  bus_config.regions = {{"dram", kDramBase, config.dram.backing_bytes}, {"npu_regs", kNpuRegsBase, 0x1000}};
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
    // window late, and the DRAM controller, run lazily, is brought up to date
    // by each window's snapshot. No one records later than that (the NoC
    // publishes on the recorder's request); the quantum is margin.
    vcd_.stream_to(trace_dir + "/trace.vcd",
                   sc_core::sc_time(config.simulation.power_window_ns + config.simulation.quantum_ns, sc_core::SC_NS));
    npu_->attach_trace(vcd_);
    dram_->attach_trace(vcd_);
    static constexpr const char* kComponents[] = {"mac", "rf", "sram", "noc", "dram", "leakage", "total"};
    for (std::size_t i = 0; i < power_traces_.size(); ++i)
      power_traces_[i].bind(vcd_, std::string(this->name()) + ".power." + kComponents[i] + "_mw");
  }
  if (!trace_dir.empty() && config.simulation.trace.timeline) {
    timeline_.stream_to(trace_dir + "/timeline.json");
    timeline_.declare_track("npu.layers");
    npu_->attach_timeline(timeline_);
  }

  SC_HAS_PROCESS(Soc);
  SC_METHOD(on_layer_change);
  sensitive << current_layer_;
  dont_initialize();
  SC_METHOD(on_power_window);
}

void Soc::close_traces() {
  vcd_.close();
  timeline_.close();
}

Snapshot Soc::snapshot() {
  Snapshot s;
  s.at = sc_core::sc_time_stamp();
  double macs = 0, rf = 0, int4 = 0, int16 = 0, fp16 = 0;
  for (auto& c : npu_->clusters()) {
    const auto& st = c.stats();
    macs += c.macs_at(s.at);
    int4 += c.macs_at(s.at, pe_array::Datatype::kInt4);
    int16 += c.macs_at(s.at, pe_array::Datatype::kInt16);
    fp16 += c.macs_at(s.at, pe_array::Datatype::kFp16);
    rf += c.rf_accesses_at(s.at);
    s.compute_cycles += st.compute_cycles;
    s.stall_cycles += st.stall_cycles;
    s.ws_jobs += st.weight_stationary_jobs;
    s.os_jobs += st.output_stationary_jobs;
  }
  s.activity.macs = static_cast<std::uint64_t>(macs + 0.5);
  s.activity.int4_macs = static_cast<std::uint64_t>(int4 + 0.5);
  s.activity.int16_macs = static_cast<std::uint64_t>(int16 + 0.5);
  s.activity.fp16_macs = static_cast<std::uint64_t>(fp16 + 0.5);
  s.activity.rf_accesses = static_cast<std::uint64_t>(rf + 0.5);
  for (const auto& b : npu_->sram_banks()) {
    const auto& st = b.stats();
    s.activity.sram_bytes += (st.read_words + st.write_words) * b.config().word_bytes;
    s.sram_conflict_cycles += st.conflict_cycles;
  }
  s.activity.noc_flit_hops = npu_->noc().stats().flit_hops;
  s.dma_wait_cycles = npu_->command_processor().stats().dma_wait_cycles;
  s.activity.dram_pj = dram_->energy_pj();
  s.dram_read_bytes = dram_->stats().read_bytes;
  s.dram_write_bytes = dram_->stats().write_bytes;
  return s;
}

void Soc::on_layer_change() {
  const Snapshot now = snapshot();
  if (!layers_.empty() && !layers_.back().finished) {
    layers_.back().end = now;
    layers_.back().finished = true;
  }
  const std::int32_t id = current_layer_.read();
  if (id >= 0) {
    layers_.push_back(LayerMark{id, now, Snapshot{}, false});
    if (layer_callback_) layer_callback_(id);
  }
}

void Soc::on_power_window() {
  const Snapshot now = snapshot();
  if (!windows_.empty()) {
    const Snapshot& prev = windows_.back();
    const double seconds = (now.at - prev.at).to_seconds();
    if (seconds > 0) {
      const auto e = power::price(config_.energy, now.activity - prev.activity, priced_sizes(config_), seconds);
      const double to_mw = 1e-12 / seconds * 1e3;
      const double values[] = {e.mac, e.rf, e.sram, e.noc, e.dram, e.leakage, e.total()};
      for (std::size_t i = 0; i < power_traces_.size(); ++i) power_traces_[i].set(prev.at, values[i] * to_mw);
    }
  }
  windows_.push_back(now);
  vcd_.flush_final(now.at);
  next_trigger(sc_core::sc_time(config_.simulation.power_window_ns, sc_core::SC_NS));
}

}  // namespace npuvp::platform
