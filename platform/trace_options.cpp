#include "platform/trace_options.h"

#include <sstream>
#include <stdexcept>

namespace npuvp::platform {

TraceFiles parse_traces(const std::string& value) {
  if (value == "all") return {};
  if (value == "none") return {false, false, false};
  TraceFiles files{false, false, false};
  std::stringstream list(value);
  for (std::string item; std::getline(list, item, ',');) {
    if (item == "vcd")
      files.vcd = true;
    else if (item == "timeline")
      files.timeline = true;
    else if (item == "power")
      files.power = true;
    else if (item == "fst")
      files.vcd = files.fst = true;
    else if (item == "packets")
      files.packets = true;
    else
      throw std::invalid_argument(
          "--traces: expected all, none or a comma-separated list of vcd, timeline, power, fst, packets; got '" +
          value + "'");
  }
  return files;
}

std::pair<double, double> parse_trace_window(const std::string& value) {
  const std::string expected =
      "--trace-window: expected START_NS:END_NS with 0 <= START_NS < END_NS; got '" + value + "'";
  const auto colon = value.find(':');
  if (colon == std::string::npos) throw std::invalid_argument(expected);
  double start = 0, end = 0;
  try {
    std::size_t used_start = 0, used_end = 0;
    start = std::stod(value.substr(0, colon), &used_start);
    end = std::stod(value.substr(colon + 1), &used_end);
    if (used_start != colon || used_end != value.size() - colon - 1) throw std::invalid_argument("trailing text");
  } catch (const std::exception&) {
    throw std::invalid_argument(expected);
  }
  if (!(start >= 0 && end > start)) throw std::invalid_argument(expected);
  return {start, end};
}

TraceConfig with_trace_options(TraceConfig trace, const TraceOptions& options) {
  if (options.files) {
    trace.vcd = options.files->vcd;
    trace.timeline = options.files->timeline;
    trace.power = options.files->power;
    trace.fst = options.files->fst;
    trace.packets = options.files->packets;
  }
  if (!options.include.empty()) trace.vcd_include = options.include;
  if (options.dram_commands) trace.vcd_dram_commands = true;
  if (options.noc_links) trace.vcd_noc_links = true;
  if (options.window_ns) {
    trace.window_start_ns = options.window_ns->first;
    trace.window_end_ns = options.window_ns->second;
  }
  return trace;
}

void check_trace_space(std::uint64_t bound_bytes, std::uint64_t available_bytes, const std::string& dir,
                       std::size_t max_changes) {
  if (bound_bytes <= available_bytes) return;
  const auto mib = [](std::uint64_t bytes) { return std::to_string((bytes + (1u << 20) - 1) >> 20); };
  throw std::invalid_argument("trace.vcd may take up to " + mib(bound_bytes) +
                              " MiB (simulation.vcd_max_changes = " + std::to_string(max_changes) +
                              " changes), more than the " + mib(available_bytes) + " MiB free in " + dir +
                              ": lower simulation.vcd_max_changes (--set), narrow the trace with --trace-window or "
                              "--trace-include, or leave it out with --traces timeline,power");
}

}  // namespace npuvp::platform
