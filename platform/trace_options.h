#pragma once
// The trace controls of `npuvp run`: which trace files a run writes, which
// VCD signals and what time window. Each overrides its simulation.* key of the
// platform file (vcd, vcd_include), which remains their config-file form.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "platform/platform_config.h"

namespace npuvp::platform {

struct TraceFiles {
  bool vcd = true;       // trace.vcd
  bool timeline = true;  // timeline.json
  bool power = true;     // power.csv
  bool fst = false;      // trace.vcd converted to trace.fst (and removed)
  bool packets = false;  // noc_packets.csv
};

struct TraceOptions {
  std::optional<TraceFiles> files;                     // --traces
  std::vector<std::string> include;                    // --trace-include, replaces vcd_include when given
  bool dram_commands = false;                          // --trace-dram-commands, sets vcd_dram_commands
  bool noc_links = false;                              // --trace-noc-links, sets vcd_noc_links
  std::optional<std::pair<double, double>> window_ns;  // --trace-window
};

// --traces: "all", "none" or a comma-separated list of vcd, timeline, power,
// fst (the VCD converted to FST by GTKWave's vcd2fst), packets (every NoC
// packet; not in "all").
// Throws std::invalid_argument naming the option and what it expects.
TraceFiles parse_traces(const std::string& value);

// --trace-window: "START_NS:END_NS", 0 <= START < END. Throws
// std::invalid_argument naming the option and what it expects.
std::pair<double, double> parse_trace_window(const std::string& value);

// Refuses a run whose VCD could outgrow the space left where it is written:
// `bound_bytes` (VcdRecorder::size_bound) against `available_bytes`. Throws
// std::invalid_argument naming the sizes and the options that shrink the
// bound; the check runs before simulation, so no result is lost to a full disk.
void check_trace_space(std::uint64_t bound_bytes, std::uint64_t available_bytes, const std::string& dir,
                       std::size_t max_changes);

// The platform's trace settings with the command line's on top.
TraceConfig with_trace_options(TraceConfig trace, const TraceOptions& options);

}  // namespace npuvp::platform
