#include "platform/run_monitor.h"

#include <algorithm>

#include "models/common/sim_control.h"

namespace npuvp::platform {

using report::kPowerComponents;

report::PowerSample window_power(const power::EnergyBreakdown& e, const sc_core::sc_time& start,
                                 const sc_core::sc_time& end) {
  const double to_mw = 1e-12 / (end - start).to_seconds() * 1e3;
  report::PowerSample p;
  // Ratios of whole ticks: the nearest double to the exact figure, which
  // prints as it (1000, not the 1000.0000000000001 of to_seconds() * 1e9).
  const sc_core::sc_time ns(1, sc_core::SC_NS);
  p.time_ns = start / ns;
  p.window_ns = (end - start) / ns;
  const double values[] = {e.mac, e.rf, e.buffer, e.sram, e.noc, e.dram, e.leakage};
  static_assert(std::size(values) == kPowerComponents.size());
  for (std::size_t i = 0; i < kPowerComponents.size(); ++i) p.component_mw[i] = values[i] * to_mw;
  p.total_mw = e.total() * to_mw;
  return p;
}

RunMonitor::RunMonitor(const sc_core::sc_module_name& name, const RunMonitorConfig& config,
                       std::vector<stats::StatsSource*> sources)
    : sc_module(name), current_layer("current_layer"), config_(config), sources_(std::move(sources)) {
  SC_HAS_PROCESS(RunMonitor);
  SC_METHOD(layer_changed);
  sensitive << current_layer;
  dont_initialize();
  SC_METHOD(window_elapsed);
}

void RunMonitor::trace_power(trace::VcdRecorder& recorder, const std::string& scope) {
  for (std::size_t i = 0; i < kPowerComponents.size(); ++i)
    power_traces_[i].bind(recorder, scope + ".power." + kPowerComponents[i] + "_mw");
  power_traces_.back().bind(recorder, scope + ".power.total_mw");
}

void RunMonitor::record_layers(trace::TimelineRecorder& recorder, std::function<std::string(std::int32_t)> layer_name) {
  layer_track_.bind(recorder, "npu.layers");
  layer_name_ = std::move(layer_name);
}

void RunMonitor::on_power_window(std::function<void(const report::PowerSample&)> sink) {
  window_sinks_.push_back(std::move(sink));
}

void RunMonitor::on_layer_start(std::function<void(std::int32_t)> sink) {
  layer_start_sinks_.push_back(std::move(sink));
}

void RunMonitor::record_decision(const firmware::LayerDecision& decision) {
  decisions_.emplace(decision.layer_id, decision);
}

void RunMonitor::stop_when(std::function<bool()> requested) { stop_requested_ = std::move(requested); }

report::RunFigures RunMonitor::figures() {
  report::RunFigures f;
  f.layers = layers_;
  f.decisions = decisions_;
  f.simulation_energy_pj = simulation_energy_pj_;
  f.peak_power_mw = peak_power_mw_;
  f.peak_power_window_ns = config_.power_window / sc_core::sc_time(1, sc_core::SC_NS);
  f.counters = sample().counters;
  f.simulated_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
  return f;
}

RunMonitor::Sample RunMonitor::sample() {
  Sample s;
  s.at = sc_core::sc_time_stamp();
  for (stats::StatsSource* source : sources_) source->sample(s.counters, s.at);
  s.activity = power::activity(s.counters);
  return s;
}

void RunMonitor::layer_changed() {
  sim::guard([this] {
    const Sample now = sample();
    if (open_layer_) {
      const auto& [id, begin] = *open_layer_;
      layers_.push_back(layer_figures(id, begin, now));
      if (layer_track_.bound()) {
        const report::LayerFigures& f = layers_.back();
        layer_track_.slice(layer_name_(id), "layer", begin.at, now.at,
                           {{"layer", id},
                            {"cycles", static_cast<std::int64_t>(f.cycles)},
                            {"dram_read_bytes", static_cast<std::int64_t>(f.dram_read_bytes)},
                            {"dram_write_bytes", static_cast<std::int64_t>(f.dram_write_bytes)}});
      }
      open_layer_.reset();
    }
    const std::int32_t id = current_layer.read();
    if (id < 0) return;
    open_layer_.emplace(id, now);
    for (const auto& sink : layer_start_sinks_) sink(id);
  });
}

void RunMonitor::window_elapsed() {
  sim::guard([this] {
    Sample now = sample();
    if (last_window_) close_window(now);
    if (watchdog_) check_progress(now);
    last_window_ = std::move(now);
    if (stop_requested_ && stop_requested_()) {
      stopped_ = true;
      sim::stop();
      return;
    }
    next_trigger(config_.power_window);
  });
}

void RunMonitor::watchdog(const sc_core::sc_time& limit, std::function<std::uint64_t()> activity) {
  watchdog_ = Watchdog{limit, std::move(activity), std::nullopt, sc_core::SC_ZERO_TIME};
}

void RunMonitor::check_progress(const Sample& now) {
  using stats::Counter;
  const std::array<double, 9> progress{now.counters[Counter::kMacs],
                                       now.counters[Counter::kRfAccesses],
                                       now.counters[Counter::kSramBytes],
                                       now.counters[Counter::kNocFlitHops],
                                       now.counters[Counter::kDmaSystemBytes],
                                       now.counters[Counter::kDmaLocalBytes],
                                       now.counters[Counter::kDramReadBytes],
                                       now.counters[Counter::kDramWriteBytes],
                                       static_cast<double>(watchdog_->activity())};
  if (progress != watchdog_->progress) {
    watchdog_->progress = progress;
    watchdog_->since = now.at;
    return;
  }
  if (now.at - watchdog_->since < watchdog_->limit) return;
  sim::fail("watchdog: no progress for " + (now.at - watchdog_->since).to_string() + " of simulated time since " +
            watchdog_->since.to_string() + "; " + sim::waits());
}

void RunMonitor::finish() {
  if (!last_window_) return;
  Sample now = sample();
  close_window(now);
  last_window_ = std::move(now);
}

void RunMonitor::close_window(const Sample& now) {
  const double seconds = (now.at - last_window_->at).to_seconds();
  if (seconds <= 0) return;
  const auto energy = power::price(config_.energy, now.activity - last_window_->activity, config_.sizes, seconds);
  const report::PowerSample p = window_power(energy, last_window_->at, now.at);
  for (std::size_t i = 0; i < kPowerComponents.size(); ++i) power_traces_[i].set(last_window_->at, p.component_mw[i]);
  power_traces_.back().set(last_window_->at, p.total_mw);
  if (now.at - last_window_->at >= config_.power_window) peak_power_mw_ = std::max(peak_power_mw_, p.total_mw);
  simulation_energy_pj_ += energy;
  for (const auto& sink : window_sinks_) sink(p);
}

report::LayerFigures RunMonitor::layer_figures(std::int32_t id, const Sample& begin, const Sample& end) const {
  // Counters other than work spread over time are whole numbers.
  auto delta = [&](stats::Counter c) {
    return static_cast<std::uint64_t>(end.counters[c]) - static_cast<std::uint64_t>(begin.counters[c]);
  };
  report::LayerFigures f;
  f.layer_id = id;
  f.begin = begin.at;
  f.end = end.at;
  f.compute_cycles = delta(stats::Counter::kComputeCycles) / config_.clusters;
  f.cycles = config_.ideal_memory
                 ? f.compute_cycles
                 : static_cast<std::uint64_t>((end.at - begin.at).to_seconds() * config_.clock_hz + 0.5);
  // Leakage and the DRAM's background accrue over the time the layer reports,
  // which with ideal memory is shorter than the one simulated.
  const double seconds = static_cast<double>(f.cycles) / config_.clock_hz;
  power::Activity activity = end.activity - begin.activity;
  if (config_.ideal_memory) activity = activity.over(seconds, (end.at - begin.at).to_seconds());
  f.energy_pj = power::price(config_.energy, activity, config_.sizes, seconds);
  // Stall causes: the array idled on DRAM while the firmware waited for DMA
  // alone; the clusters' own stalls (operands late) split into SRAM bank
  // conflicts, the buffer ports and NoC; the rest (firmware, idle clusters on partial tiles)
  // is dependency.
  f.stall_cycles = f.cycles > f.compute_cycles ? f.cycles - f.compute_cycles : 0;
  f.stalls.dram = std::min(f.stall_cycles, delta(stats::Counter::kDmaWaitCycles));
  const std::uint64_t cluster_stall =
      std::min(f.stall_cycles - f.stalls.dram, delta(stats::Counter::kStallCycles) / config_.clusters);
  f.stalls.buffer_port = std::min(cluster_stall, delta(stats::Counter::kBufferPortStallCycles) / config_.clusters);
  f.stalls.sram_conflict =
      std::min(cluster_stall - f.stalls.buffer_port, delta(stats::Counter::kSramConflictCycles) / config_.clusters);
  f.stalls.noc = cluster_stall - f.stalls.buffer_port - f.stalls.sram_conflict;
  f.stalls.dependency = f.stall_cycles - f.stalls.dram - cluster_stall;
  f.array_macs = end.activity.macs - begin.activity.macs;
  f.dram_read_bytes = delta(stats::Counter::kDramReadBytes);
  f.dram_write_bytes = delta(stats::Counter::kDramWriteBytes);
  f.sram_conflict_cycles = delta(stats::Counter::kSramConflictCycles);
  f.buffer_bytes = {delta(stats::Counter::kWeightBufferReadBytes), delta(stats::Counter::kWeightBufferWriteBytes),
                    delta(stats::Counter::kInputBufferReadBytes), delta(stats::Counter::kInputBufferWriteBytes)};
  f.jobs_by_dataflow = {delta(stats::Counter::kWsJobs), delta(stats::Counter::kOsJobs),
                        delta(stats::Counter::kOs2dJobs)};
  f.traffic = {delta(stats::Counter::kRfBytes), delta(stats::Counter::kSramBytes), delta(stats::Counter::kNocBytes),
               delta(stats::Counter::kNocByteHops)};
  return f;
}

}  // namespace npuvp::platform
