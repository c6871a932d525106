#pragma once
// `npuvp run`: builds the platform, runs a network on it through the host
// software stack, and turns what the models counted into the report and the
// trace files. A run is a pure function of (platform config, options).

#include <cstdint>
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
  TraceOptions trace;  // over the platform's simulation.* trace settings
  // --dump: every layer's output, output.npy and manifest.json go here
  // (tensor_io.h); empty: no dump.
  std::string dump_dir;
  // What report.json records of how the run was asked for (sim.command_line,
  // sim.overrides): the arguments as given and the --set overrides.
  std::vector<std::string> command_line;
  std::vector<std::string> overrides;
};

// Runs and writes report.json, layers.csv, report.html, roofline.svg and the
// trace files asked for (trace.vcd, timeline.json, power.csv) into
// options.out_dir, and the tensors into options.dump_dir when given;
// report.json's sim.files lists what was written. Returns
// report.json's content. Throws std::invalid_argument
// for an unknown network or bad options.
nlohmann::json run(const PlatformConfig& config, const RunOptions& options);

// "npuvp <version> (SystemC <major.minor.patch>)", as `npuvp --version` prints
// it and report.json's sim.simulator records it.
std::string version_string();

// The per-layer table and totals, as printed on the terminal.
std::string format_report(const nlohmann::json& report, bool layer_table = true);

}  // namespace npuvp::platform
