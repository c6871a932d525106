#pragma once
// What one `npuvp run` produced, handed to the writers of the output files.

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace npuvp::report {

// The components power is split into, in the order of the report's energy
// tables: a fixed set, so that a window's figures are an array (one per
// window of a long run) rather than a map of names.
inline constexpr std::array<const char*, 7> kPowerComponents = {"mac", "rf",   "buffer", "sram",
                                                                "noc", "dram", "leakage"};

// Average power of each component over one window [time_ns, time_ns + window_ns).
struct PowerSample {
  double time_ns = 0;
  double window_ns = 0;
  std::array<double, kPowerComponents.size()> component_mw{};  // in kPowerComponents' order
  double total_mw = 0;
};

// One slice of the timeline: a layer, a tile of a cluster, a DMA transfer.
struct TimelineSlice {
  std::string name;
  std::string category;  // "layer", "cluster", "dma", ...
  std::string track;     // the row it is drawn on, e.g. "npu.cluster3"
  double start_ns = 0;
  double duration_ns = 0;
};

// report.json's fields beyond DESIGN.md that the writers understand:
//   layers[].stall_cycles_by_cause  {"dram": n, "noc": n, "sram_conflict": n, "buffer_port": n, "dependency": n}
//                                   splits stall_cycles; shown as one column per cause when present
//   roofline                        as returned by roofline(); computed by the writers when absent
struct RunRecord {
  nlohmann::json report;  // report.json's content (DESIGN.md fields)
  std::vector<PowerSample> power;
  std::vector<TimelineSlice> timeline;
};

}  // namespace npuvp::report
