#pragma once
// `npuvp compare A B`: what changed between two runs' report.json.

#include <string>

#include <nlohmann/json.hpp>

namespace npuvp::report {

struct ReportComparison {
  std::string text;         // as printed
  std::size_t differences;  // figures that differ (sim.* aside); 0: the reports are identical
};

// Compares the platform and network sections (each differing value, A -> B),
// every numeric total (with the ratio B/A) and the layers matched by name
// (cycles, energy, DRAM traffic with their ratios, dataflow, verdict); layers
// only one report has are listed. sim.* (wall time, command line, overrides,
// ...) is shown for orientation but never counted as a difference.
ReportComparison compare_reports(const nlohmann::json& a, const nlohmann::json& b, const std::string& name_a,
                                 const std::string& name_b);

}  // namespace npuvp::report
