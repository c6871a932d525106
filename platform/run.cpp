#include "platform/run.h"

#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>

#include "contract/address_map.h"
#include "models/common/cpu_profile.h"
#include "models/common/output_file.h"
#include "models/common/sim_control.h"
#include "platform/layer_fit.h"
#include "platform/report/power_csv.h"
#include "platform/report/progress_line.h"
#include "platform/report/report_builder.h"
#include "platform/report/report_writer.h"
#include "platform/run_monitor.h"
#include "platform/soc.h"
#include "platform/stop_signal.h"
#include "platform/trace_gtkw.h"
#include "platform/vcd2fst.h"
#include "sw/driver/npu_driver.h"

namespace npuvp::platform {
namespace {

RunMonitorConfig monitor_config(const PlatformConfig& config, const RunOptions& options) {
  RunMonitorConfig m;
  m.energy = config.energy;
  m.sizes = priced_sizes(config);
  m.clock_hz = config.npu.clock_mhz * 1e6;
  m.clusters = config.npu.clusters;
  m.power_window = sc_core::sc_time(config.simulation.power_window_ns, sc_core::SC_NS);
  m.ideal_memory = options.ideal_memory;
  return m;
}

// The models' own descriptions: the DRAM's and the NoC's have their places in
// report.json, the NPU's other units and the host CPU are listed by name.
void collect_model_stats(Soc& soc, report::RunFigures& figures) {
  for (stats::StatsSource* s : soc.stats_sources()) {
    if (s == &soc.dram())
      figures.dram_stats = s->stats_json();
    else if (s == &soc.npu().noc())
      figures.noc_stats = s->stats_json();
    else
      figures.unit_stats[s->stats_name()] = s->stats_json();
  }
}

// Completes one output; a failure is kept, so that the others are still
// written, and the file is left out of the list of those written.
void complete(report::TraceFigures& figures, std::vector<std::string>& failures, const std::string& file,
              const std::function<void()>& close) {
  try {
    close();
    figures.files.push_back(file);
  } catch (const std::runtime_error& e) {
    failures.push_back(e.what());
  }
}

// Adds what only the end of the run knows to the streamed timeline (the power
// counters), completes the trace files and says what they hold.
report::TraceFigures close_traces(Soc& soc, const std::string& dir, const std::vector<std::string>& layer_names,
                                  const std::vector<report::PowerSample>& power, report::PowerCsvWriter* power_csv,
                                  std::vector<std::string>& failures) {
  const TraceConfig& trace = soc.config().simulation.trace;
  report::TraceFigures figures;
  figures.files = {"report.json", "layers.csv", "report.html", "roofline.svg"};
  if (trace.vcd) {
    const std::string dump = trace.fst ? "trace.fst" : "trace.vcd";
    complete(figures, failures, dump, [&] {
      soc.vcd().close();
      if (trace.fst) convert_to_fst(dir + "/trace.vcd", dir + "/trace.fst");
    });
    // GTKWave's view of the trace, once there is one to view.
    if (figures.files.back() == dump) {
      try {
        for (auto& f : write_gtkwave_files(soc, dir, dump, layer_names)) figures.files.push_back(std::move(f));
      } catch (const std::runtime_error& e) {
        failures.push_back(e.what());
      }
    }
  }
  if (trace.timeline)
    complete(figures, failures, "timeline.json", [&] {
      report::add_power_counters(soc.timeline(), power);
      soc.timeline().close();
    });
  if (power_csv != nullptr) complete(figures, failures, "power.csv", [&] { power_csv->close(); });
  if (soc.noc_packets() != nullptr) complete(figures, failures, "noc_packets.csv", [&] { soc.noc_packets()->close(); });
  figures.changes = soc.vcd().change_count();
  figures.late_changes = soc.vcd().late_changes();
  figures.truncated = soc.vcd().truncated() || soc.timeline().truncated();
  figures.timeline_truncated = soc.timeline().truncated();
  if (soc.vcd().truncated() && soc.vcd().complete_before() != sc_core::sc_max_time())
    figures.vcd_complete_until_ns = soc.vcd().complete_before().to_seconds() * 1e9;
  return figures;
}

// A workload of one's own must say what the report lists about each layer.
void check_workload(const apps::Workload& work) {
  const std::size_t n = work.layers.size();
  if (!work.program) throw std::invalid_argument("workload '" + work.name + "': no program to run");
  if (!work.layers.is_array() || n == 0)
    throw std::invalid_argument("workload '" + work.name + "': layers must list at least one layer");
  if (!work.verdicts || work.verdicts->verified.size() != n || work.verdicts->mismatches.size() != n)
    throw std::invalid_argument("workload '" + work.name + "': verdicts must hold one entry per layer (" +
                                std::to_string(n) + ")");
}

// The driver names the layer by its layer_id; the user knows it by name.
std::string name_layer(const sw::NpuFault& fault, const nlohmann::json& layers) {
  if (fault.layer() >= layers.size()) return fault.what();
  return "layer '" + layers[fault.layer()]["name"].get<std::string>() + "': " + fault.what();
}

using WallClock = std::chrono::steady_clock;

nlohmann::json run_workload(const PlatformConfig& config, const RunOptions& options, const apps::Workload& work,
                            WallClock::time_point wall_start) {
  const StopOnSignal stop;

  check_layers_fit(work.commands, work.layers, npu::Npu::firmware_layout(config.npu));
  sw::DriverConfig driver_config;
  driver_config.npu_regs_base = address_map::kNpuRegsBase;
  driver_config.dram_base = address_map::kDramBase;
  driver_config.dram_bytes = config.dram.backing_bytes;
  PlatformConfig traced = config;
  traced.simulation.trace = with_trace_options(config.simulation.trace, options.trace);
  if (traced.simulation.trace.vcd && traced.simulation.trace.fst) require_vcd2fst();
  Soc soc(
      "soc", traced,
      [&](sw::HostHal& hal) {
        sw::NpuDriver driver(hal, driver_config);
        driver.probe();
        try {
          work.program(driver);
        } catch (const sw::NpuFault& f) {
          throw std::runtime_error(name_layer(f, work.layers));
        }
      },
      options.out_dir);
  if (traced.simulation.trace.vcd)
    check_trace_space(soc.vcd().size_bound(), std::filesystem::space(options.out_dir).available, options.out_dir,
                      traced.simulation.trace.vcd_max_changes);

  std::vector<report::PowerSample> power;
  std::unique_ptr<report::PowerCsvWriter> power_csv;
  if (traced.simulation.trace.power)
    power_csv = std::make_unique<report::PowerCsvWriter>(options.out_dir + "/power.csv");
  report::ProgressLine progress = report::ProgressLine::for_stderr(options.quiet);
  auto layer_name = [&](std::int32_t id) {
    if (static_cast<std::size_t>(id) >= work.layers.size())
      throw std::out_of_range("the NPU ran a LayerCommand with layer_id " + std::to_string(id) + ", but workload '" +
                              work.name + "' lists " + std::to_string(work.layers.size()) + " layers");
    return work.layers[static_cast<std::size_t>(id)]["name"].get<std::string>();
  };
  RunMonitor monitor("monitor", monitor_config(config, options), soc.stats_sources());
  monitor.current_layer(soc.current_layer());
  soc.npu().command_processor().on_decision([&](const auto& d) { monitor.record_decision(d); });
  if (traced.simulation.trace.vcd) monitor.trace_power(soc.vcd(), soc.name());
  if (traced.simulation.trace.timeline) monitor.record_layers(soc.timeline(), layer_name);
  monitor.on_power_window([&](const report::PowerSample& p) {
    if (power_csv) power_csv->append(p);
    power.push_back(p);
    soc.flush_traces();
  });
  monitor.on_layer_start([&](std::int32_t id) {
    progress.update(static_cast<std::size_t>(id) + 1, work.layers.size(), sc_core::sc_time_stamp().to_seconds() * 1e9,
                    layer_name(id));
  });

  monitor.stop_when([&] { return stop.received() != 0; });
  monitor.watchdog(sc_core::sc_time(options.watchdog_ns, sc_core::SC_NS), [&] {
    const cpu::HostCpuStats& host = soc.host().stats();
    return host.mmio_writes + host.bytes_written + host.interrupts +
           soc.npu().command_processor().stats().mmio_accesses;
  });

  try {
    const profile::Scope cpu(profile::Phase::kSimulate);
    sim::run_to_end();
  } catch (...) {
    progress.finish();
    throw;
  }
  progress.finish();
  if (!monitor.stopped()) {
    if (!soc.host().finished()) throw std::runtime_error("simulation ended before the host program finished");
    if (!soc.host().failure().empty()) throw std::runtime_error("host software failed: " + soc.host().failure());
  }

  // The reference beside the simulation fills the verdicts the report reads
  // (an interrupted program did not wait for it).
  if (work.background.valid()) work.background.get();
  const profile::Scope cpu(profile::Phase::kOutputs);
  monitor.finish();
  report::RunFigures figures = monitor.figures();
  if (monitor.stopped()) figures.interrupted_by = signal_name(stop.received());
  collect_model_stats(soc, figures);
  std::vector<std::string> failures;
  // An interrupted program left its tensors half computed. The dump and the
  // trace files are independent writers: with a second thread, side by side.
  const bool dump = work.tensors && !monitor.stopped();
  const auto write_dump = [&] { apps::write_tensor_dump(options.dump_dir, *work.tensors); };
  std::future<void> dumped;
  if (dump && options.threads >= 2) dumped = std::async(std::launch::async, write_dump);
  std::vector<std::string> layer_names;
  for (const auto& l : work.layers) layer_names.push_back(l["name"].get<std::string>());
  figures.traces = close_traces(soc, options.out_dir, layer_names, power, power_csv.get(), failures);
  figures.power = std::move(power);
  if (dumped.valid())
    dumped.get();
  else if (dump)
    write_dump();
  nlohmann::json report = report::write_run_report({config, options, work, wall_start}, std::move(figures));
  if (!failures.empty()) {
    std::string message;
    for (const auto& f : failures) message += (message.empty() ? "" : "; ") + f;
    throw OutputError(message + " (the run's other outputs were written)", std::move(report));
  }
  return report;
}

}  // namespace

nlohmann::json run(const PlatformConfig& config, const RunOptions& run_options) {
  const auto wall_start = WallClock::now();
  // Before anything takes time: a run must not end unable to write its results.
  io::prepare_output_directory(run_options.out_dir);
  RunOptions options = run_options;
  options.keep_outputs = !options.dump_dir.empty();
  options.fold_data_movement = config.firmware.fold_data_movement;
  options.fuse_layers = config.firmware.fuse_layers;
  options.tile_fits = [npu = npu::Npu::firmware_layout(config.npu)](const firmware::LayerCommand& c) {
    return smallest_tile_fits(c, npu);
  };
  options.dram_access_bytes = config.dram.memspec.burst_bytes();
  options.dram_bytes = config.dram.backing_bytes;
  return run_workload(config, options, apps::make_workload(options), wall_start);
}

nlohmann::json run(const PlatformConfig& config, const RunOptions& options, const apps::Workload& work) {
  const auto wall_start = WallClock::now();
  check_workload(work);
  io::prepare_output_directory(options.out_dir);
  return run_workload(config, options, work, wall_start);
}

std::string format_report(const nlohmann::json& r, bool layer_table) {
  return report::format_text_report(r, layer_table);
}

std::string version_string() {
  return std::string("npuvp ") + NPUVP_VERSION + " (SystemC " + std::to_string(SC_VERSION_MAJOR) + "." +
         std::to_string(SC_VERSION_MINOR) + "." + std::to_string(SC_VERSION_PATCH) + ")";
}

}  // namespace npuvp::platform
