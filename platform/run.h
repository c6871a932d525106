#pragma once
// `npuvp run`: builds the platform, runs a network on it through the host
// software stack, and turns what the models counted into the report and the
// trace files. A run is a pure function of (platform config, options).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/platform_config.h"
#include "platform/trace_options.h"
#include "sw/apps/workloads.h"

namespace npuvp::platform {

// What to run (apps::WorkloadOptions: network, dataflow, seed, ...) and how.
struct RunOptions : apps::WorkloadOptions {
  std::string out_dir = "traces/run";
  // Operands always on time (SCALE-Sim's compute view): a layer's cycles are
  // its array schedule alone; memory traffic still happens and costs energy.
  bool ideal_memory = false;
  bool quiet = false;  // no progress line on the terminal
  // A run that makes no progress for this long (simulated) fails, saying who
  // waits on whom (RunMonitor::watchdog). No wait of the platform's own comes
  // near it: a layer's longest wait is one tile's transfer or job.
  double watchdog_ns = 10e6;
  TraceOptions trace;  // over the platform's simulation.* trace settings
  // --dump: every layer's output, output.npy and manifest.json go here
  // (tensor_io.h); empty: no dump.
  std::string dump_dir;
  // What report.json records of how the run was asked for (sim.command_line,
  // sim.overrides): the arguments as given and the --set overrides.
  std::vector<std::string> command_line;
  std::vector<std::string> overrides;
};

// Thrown by run() when outputs could not be written, each named with its
// cause in what(); the others were written, and report() is report.json's
// content, so the results still reach the terminal.
class OutputError : public std::runtime_error {
 public:
  OutputError(const std::string& what, nlohmann::json report) : std::runtime_error(what), report_(std::move(report)) {}
  const nlohmann::json& report() const { return report_; }

 private:
  nlohmann::json report_;
};

// Runs and writes report.json, layers.csv, report.html, roofline.svg and the
// trace files asked for (trace.vcd, timeline.json, power.csv) into
// options.out_dir, and the tensors into options.dump_dir when given;
// report.json's sim.files lists what was written. Each file is whole or
// absent (io::OutputFile); options.out_dir is checked before anything is
// simulated. A SIGINT or SIGTERM stops the simulation at the next power
// window and the run writes what it measured so far (sim.interrupted).
// Returns report.json's content. Throws std::invalid_argument for an unknown
// network or bad options, std::runtime_error for an out_dir that cannot hold
// files, OutputError for outputs that could not be written.
nlohmann::json run(const PlatformConfig& config, const RunOptions& options);

// Runs a host program of one's own (work.program, given a probed NpuDriver)
// and writes the same outputs as run(): the workload names the layers the
// report lists (apps::describe_conv_layer describes a convolution), and the
// program records per layer whether its output checked out (work.verdicts,
// one entry per layer) and gives each LayerCommand's layer_id as the index
// into work.layers. work.commands, if given, are checked to fit the NPU
// before simulation. options' workload fields (network, seed, ...) are only
// recorded. examples/layer_on_npu shows it; throws as run() does, and
// std::invalid_argument for a workload without program, layers or verdicts.
nlohmann::json run(const PlatformConfig& config, const RunOptions& options, const apps::Workload& work);

// "npuvp <version> (SystemC <major.minor.patch>)", as `npuvp --version` prints
// it and report.json's sim.simulator records it.
std::string version_string();

// The per-layer table and totals, as printed on the terminal.
std::string format_report(const nlohmann::json& report, bool layer_table = true);

}  // namespace npuvp::platform
