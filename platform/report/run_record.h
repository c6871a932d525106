#pragma once
// What one `npuvp run` produced, handed to the writers of the output files.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace npuvp::report {

// Average power of each component over one window [time_ns, time_ns + window_ns).
struct PowerSample {
  double time_ns = 0;
  double window_ns = 0;
  std::map<std::string, double> component_mw;  // mac, rf, buffer, sram, noc, dram, leakage
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
