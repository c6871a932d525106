#pragma once
// What the run monitor measured over one run, typed: the report builder turns
// it into report.json and the output files.

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <systemc>

#include "firmware/layer_plan.h"
#include "models/common/stats_source.h"
#include "models/power/energy_model.h"
#include "platform/report/run_record.h"

namespace npuvp::report {

// Why a layer's clusters were not computing, in NPU cycles; sums to its stall cycles.
struct StallCauses {
  std::uint64_t dram = 0;  // the firmware waited for DMA alone
  std::uint64_t noc = 0;   // the clusters' operands late, not for bank conflicts
  std::uint64_t sram_conflict = 0;
  std::uint64_t buffer_port = 0;  // a cluster buffer delivered the array's operands more slowly than it used them
  std::uint64_t dependency = 0;   // firmware, idle clusters on partial tiles
};

// One layer, between the firmware's marks of its start and of the next layer.
struct LayerFigures {
  std::int32_t layer_id = -1;
  sc_core::sc_time begin, end;
  std::uint64_t cycles = 0;          // NPU cycles (the compute cycles with ideal memory)
  std::uint64_t compute_cycles = 0;  // per cluster
  std::uint64_t stall_cycles = 0;
  StallCauses stalls;
  power::EnergyBreakdown energy_pj;
  std::uint64_t array_macs = 0;  // MACs the array performed (fewer than the layer's with zero skipping)
  std::uint64_t dram_read_bytes = 0, dram_write_bytes = 0;
  std::uint64_t sram_conflict_cycles = 0;  // summed over banks
  // Bytes read from and written into the clusters' buffers, summed over clusters.
  struct BufferBytes {
    std::uint64_t weight_read = 0, weight_written = 0, input_read = 0, input_written = 0;
  } buffer_bytes;
  std::array<std::uint64_t, pe_array::kDataflows> jobs_by_dataflow{};  // convolution jobs, by pe_array::Dataflow
  // Bytes moved at the levels not counted above: register files (operands at
  // their width, partial sums at four bytes), SRAM banks (whole words), NoC
  // payloads injected and times the routers they crossed.
  struct Traffic {
    std::uint64_t rf = 0, sram = 0, noc = 0, noc_byte_hops = 0;
  } traffic;
};

// What the trace files hold, for report.json's sim section.
struct TraceFigures {
  std::vector<std::string> files;  // every output file written, traces or not
  std::size_t changes = 0;         // VCD value changes recorded
  std::size_t late_changes = 0;    // recorded for a time already written (clamped)
  bool truncated = false;          // a change or slice cap was reached
  // trace.vcd reached its change cap: every signal's changes before this are
  // in the file, none after; negative when it did not.
  double vcd_complete_until_ns = -1;
  bool timeline_truncated = false;  // timeline.json reached its slice cap
};

struct RunFigures {
  std::vector<LayerFigures> layers;                           // every finished layer, in order of start
  std::map<std::int32_t, firmware::LayerDecision> decisions;  // the firmware's first per layer
  power::EnergyBreakdown simulation_energy_pj;                // over every power window: the whole run
  double peak_power_mw = 0;                                   // the highest whole window's
  double peak_power_window_ns = 0;
  std::vector<PowerSample> power;  // every window, for the timeline and the page
  TraceFigures traces;
  stats::Counters counters;  // summed over the models at the end of the run
  nlohmann::json dram_stats, noc_stats;
  nlohmann::json unit_stats = nlohmann::json::object();  // the NPU's other units and the host CPU, by name
  double simulated_ns = 0;
  // The signal that stopped the run before its program finished ("SIGINT"),
  // empty for a run to its end.
  std::string interrupted_by;
};

}  // namespace npuvp::report
