#pragma once
// Watches a run from outside the models: samples every StatsSource at each
// power window and at each layer boundary (the NPU's current_layer signal),
// prices each interval once, and hands the result to every sink: the VCD power
// signals, power.csv (or any other window subscriber), the timeline's layer
// slices and the per-layer figures, together with the firmware's decisions.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <systemc>

#include "firmware/layer_plan.h"
#include "models/common/stats_source.h"
#include "models/common/timeline_recorder.h"
#include "models/common/vcd_recorder.h"
#include "models/power/energy_model.h"
#include "platform/report/run_figures.h"

namespace npuvp::platform {

struct RunMonitorConfig {
  power::EnergyTable energy;
  power::PricedSizes sizes;
  double clock_hz = 800e6;  // the NPU's
  unsigned clusters = 1;    // per-cluster cycle counters are summed over them
  sc_core::sc_time power_window = sc_core::sc_time(1000, sc_core::SC_NS);
  // Operands always on time: a layer takes its compute cycles.
  bool ideal_memory = false;
};

// The average power of each component over [start, end).
report::PowerSample window_power(const power::EnergyBreakdown& energy_pj, const sc_core::sc_time& start,
                                 const sc_core::sc_time& end);

class RunMonitor : public sc_core::sc_module {
 public:
  sc_core::sc_in<std::int32_t> current_layer;  // the layer being run, -1 when idle

  RunMonitor(const sc_core::sc_module_name& name, const RunMonitorConfig& config,
             std::vector<stats::StatsSource*> sources);
  RunMonitor(const RunMonitor&) = delete;
  RunMonitor& operator=(const RunMonitor&) = delete;

  // Sinks; attach before the simulation starts.
  // Power per component over each window as <scope>.power.<component>_mw.
  void trace_power(trace::VcdRecorder& recorder, const std::string& scope);
  // One "layer" slice per layer on track npu.layers, named by `layer_name`.
  void record_layers(trace::TimelineRecorder& recorder, std::function<std::string(std::int32_t)> layer_name);
  void on_power_window(std::function<void(const report::PowerSample&)> sink);
  void on_layer_start(std::function<void(std::int32_t)> sink);
  // The firmware's decisions, as the command processor publishes them.
  void record_decision(const firmware::LayerDecision& decision);
  // Asked at every power window (the monitor's own process, where no model is
  // halfway through anything): when it returns true the window is closed and
  // the simulation stopped with sim::stop().
  void stop_when(std::function<bool()> requested);
  // Ends a run that makes no progress: when over `limit` of simulated time
  // neither the models' work counters (MACs, bytes moved, flit hops; not
  // stalls or background energy, which grow while everything waits) nor
  // `activity` (the host's writes and interrupts, the firmware's accesses)
  // changed, the run fails (sim::fail) saying what each process waits for.
  // Checked at every power window.
  void watchdog(const sc_core::sc_time& limit, std::function<std::uint64_t()> activity);
  // Whether stop_when's request stopped the simulation.
  bool stopped() const { return stopped_; }

  // Closes the power window the end of the run cut short, so that the windows
  // cover the whole run; call once the simulation has stopped.
  void finish();
  // What it measured so far: layers, decisions, energy, peak power, and the
  // models' counters summed as of now.
  report::RunFigures figures();

 private:
  struct Sample {
    sc_core::sc_time at;
    stats::Counters counters;
    power::Activity activity;  // priced counters, each sample rounded alike
  };
  Sample sample();
  void layer_changed();
  void window_elapsed();
  void close_window(const Sample& now);
  report::LayerFigures layer_figures(std::int32_t id, const Sample& begin, const Sample& end) const;

  const RunMonitorConfig config_;
  std::vector<stats::StatsSource*> sources_;
  std::optional<std::pair<std::int32_t, Sample>> open_layer_;
  std::optional<Sample> last_window_;
  std::vector<report::LayerFigures> layers_;
  std::map<std::int32_t, firmware::LayerDecision> decisions_;
  power::EnergyBreakdown simulation_energy_pj_;
  double peak_power_mw_ = 0;  // over whole windows only: a short last one is no window of the stated width
  // mac, rf, buffer, sram, noc, dram, leakage, total
  std::array<trace::RealWire, report::kPowerComponents.size() + 1> power_traces_;
  trace::TimelineTrack layer_track_;
  std::function<std::string(std::int32_t)> layer_name_;
  std::vector<std::function<void(const report::PowerSample&)>> window_sinks_;
  std::vector<std::function<void(std::int32_t)>> layer_start_sinks_;
  std::function<bool()> stop_requested_;
  struct Watchdog {
    sc_core::sc_time limit;
    std::function<std::uint64_t()> activity;
    // The work counters and the activity when they last changed (none before
    // the first window): an array, not a vector grown per power window.
    std::optional<std::array<double, 9>> progress;
    sc_core::sc_time since;  // when that was
  };
  std::optional<Watchdog> watchdog_;
  void check_progress(const Sample& now);
  bool stopped_ = false;
};

}  // namespace npuvp::platform
