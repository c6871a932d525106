#pragma once
// Helpers shared by the report writers (not part of the library's API):
// tolerant reading of report.json, the per-layer figures every output derives
// the same way, and number/markup formatting.

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "platform/report/run_record.h"

namespace npuvp::report::detail {

// A number at `key` of an object, or `fallback` when absent or not a number:
// reports from older runs lack newer fields, and that must not stop a render.
double number(const nlohmann::json& object, const char* key, double fallback = 0.0);
// The report's layers, or an empty array: json's value("layers", ...) would
// copy the whole table, every layer's objects and strings, at each use.
const nlohmann::json& layers_of(const nlohmann::json& report);
std::string text(const nlohmann::json& object, const char* key, const std::string& fallback = "");

// Energy components in report order (mac, rf, buffer, sram, noc, dram, leakage), then
// any others the report carries, alphabetically; "total" excluded.
std::vector<std::string> energy_components(const nlohmann::json& layers_or_totals);
// Stall causes found in layers[].stall_cycles_by_cause, in a fixed order
// (dram, noc, sram_conflict, buffer_port, dependency), then others alphabetically.
std::vector<std::string> stall_causes(const nlohmann::json& layers);

// "by SIGINT: 80 of 123 layers completed" for a run a signal stopped
// (sim.interrupted, layers[].completed), else nothing.
std::optional<std::string> interruption(const nlohmann::json& report);

double layer_dram_bytes(const nlohmann::json& layer);  // read + write
// arithmetic_intensity() of a report's layer.
std::optional<double> arithmetic_intensity(const nlohmann::json& layer);

// The totals every output shows, read or derived once.
struct Summary {
  std::string network, platform, description;
  double total_macs = 0;  // the network's, one image's
  // The MACs the totals' latency and energy did, one image's: the network's,
  // or the completed layers' of an interrupted run (layers[].completed).
  double done_macs = 0;
  double cycles = 0;
  double latency_ms = 0;
  double fps = 0;
  double energy_uj = 0;
  double avg_power_mw = 0;
  double peak_power_mw = 0;
  double peak_power_window_ns = 0;  // the width of the windows peak_power_mw is the highest of; 0 if unknown
  // --ideal-memory: the windows are of the simulated run, longer than the
  // latency reported, so the peak may read below the average.
  bool ideal_memory = false;
  double effective_tops = 0;  // done_macs, skipped ones included: can pass the array's peak
  double performed_tops = 0;  // the MACs the array performed (layers[].performed_macs)
  double tops_per_w = 0;
  double area_mm2 = 0;  // 0 for reports from before the area model
  double tops_per_mm2 = 0;
  std::optional<bool> all_verified;
};
Summary summarize(const nlohmann::json& report);
// "<peak> mW (highest <window> ns window)", the window left out when unknown.
std::string peak_power_text(const Summary& s);

// A text table: columns sized to their widest cell, so long layer names
// never shear it; a dashed rule under the header.
class Table {
 public:
  void column(std::string header, bool left = false);
  void row(std::vector<std::string> cells);
  void print(std::ostream& os) const;
  bool empty() const { return rows_.empty(); }

 private:
  std::vector<std::string> headers_;
  std::vector<bool> left_;
  std::vector<std::vector<std::string>> rows_;
};

std::string fixed(double value, int decimals);
// Compact engineering form with an SI prefix: si(1.5e12) is "1.5T",
// si(3.4e10, "B/s") is "34 GB/s".
std::string si(double value, const std::string& unit = "");
std::string escape_xml(std::string_view text);  // also right for HTML text and attributes
std::string escape_csv(std::string_view field);

// The platform as report.json's platform section says it ran: clusters, PE
// array, MACs, clock, SRAM banks and DRAM, e.g. "16 clusters of 16x8 PEs
// = 2048 MACs @ 800 MHz, 16 x 32 KiB SRAM banks, 4ch lpddr4x-4266".
std::string platform_as_run(const nlohmann::json& platform);
// Shortest round-tripping form is overkill for reports; 10 significant digits
// keep integrals exact to ~1e-10 and the files readable.
std::string csv_number(double value);

}  // namespace npuvp::report::detail
