#pragma once
// The outputs of one `npuvp run`, rendered from its RunRecord. Every figure in
// them is read from report.json's content, so whatever the files show can be
// reproduced from report.json alone.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "models/common/timeline_recorder.h"
#include "platform/report/run_record.h"

namespace npuvp::report {

// Which of the optional files write_run_outputs writes, and how.
struct OutputOptions {
  bool power_csv = true;
  // From record.timeline and record.power; off when the run streamed its own.
  bool timeline_json = true;
  // Sets report.json's sim.peak_rss_mb to the process's peak resident size,
  // read after every other file is written (report.json goes last).
  bool measure_peak_rss = false;
};

// Writes into out_dir (created if missing), each file whole or not at all
// (io::OutputFile):
//   report.json    record.report, pretty-printed
//   layers.csv     one row per layer
//   power.csv      time_ns (window start), window_ns, one <component>_mw column
//                  per component, total_mw; sum(total_mw * window_ns) is energy in pJ
//   timeline.json  Chrome/Perfetto trace events: an "X" slice per TimelineSlice,
//                  "C" power counters, thread/process names
//   roofline.svg   the roofline plot
//   report.html    one self-contained page: tables, breakdowns, power, roofline
// The roofline is record.report["roofline"] when present, else roofline(report).
// Returns report.json's content as written. Throws std::runtime_error naming
// the file that cannot be written.
nlohmann::json write_run_outputs(const RunRecord& record, const std::string& out_dir,
                                 const OutputOptions& options = {});

// Adds power over time to a timeline: per window, a counter of each
// component's and one of the total power, and a last one closing the run.
void add_power_counters(trace::TimelineRecorder& timeline, const std::vector<PowerSample>& power);

// The terminal report: a header naming the platform as run, one row per layer
// (unless `layer_table` is false, as for `npuvp run -q`), then the totals.
std::string format_text_report(const nlohmann::json& report, bool layer_table = true);

// What the roofline is drawn from: the platform's roofs and each layer's work.
struct RooflineInput {
  double macs_per_cycle = 0;  // the PE array's, at one MAC per PE per cycle
  double clock_hz = 0;
  std::string datatype = "int8";
  double dram_bytes_per_s = 0;
  std::string dram_bandwidth_source;
  double sram_bytes_per_s = 0;
  // Operands always on time (--ideal-memory): the DRAM roof does not bound
  // what a layer can attain.
  bool ideal_memory = false;
  struct Layer {
    std::string name, type;
    double macs = 0;        // needed_macs() of the whole batch: what the roofs count
    double dram_bytes = 0;  // read + write
    double latency_ns = 0;
    // MACs a MAC unit does per cycle at the layer's datatype: 2 for int4
    // with pe_array.int4_packing, so its compute roof is twice the int8 one.
    double lanes = 1;
    std::string datatype = "int8";
  };
  std::vector<Layer> layers;
};

// Per layer operational intensity against the preset's roofs. Intensity counts
// ops per byte of DRAM traffic with one MAC = 2 ops; roofs are the peak ops/s
// of the PE array and the DRAM and SRAM bandwidths in bytes/s.
nlohmann::json roofline(const RooflineInput& input);
// The same from a report.json alone (re-rendering a stored report). The DRAM
// bandwidth is report["dram"]["peak_gbps"] when present, else derived from the
// memspec file named by report["platform"]["dram"]["memspec"].
nlohmann::json roofline(const nlohmann::json& report);

// The MACs a layer needs for its roofs: its own, or the fewer the array
// performed when it skipped zero weights (pe_array.zero_skipping). Skipped
// MACs are work the layer does not need; more performed than its own
// (a fused pool's overlapping tiles computed twice) are work its mapping
// added. Counting dense MACs against a skipping array put a run of pruned
// weights at 5.9 times its roofline.
double needed_macs(double macs, double performed_macs);
// MACs a MAC unit performs per cycle at `datatype`: packed int4 lanes
// (pe_array.int4_packing) do two.
double mac_lanes(bool int4_packing, const std::string& datatype);

// How close a network runs to its roofline: Σ over the layers that take time
// (cycles > 0) of max(needed MACs ÷ peak MAC rate, compulsory DRAM bytes ÷ peak DRAM
// bandwidth), over the network's latency (Σ cycles ÷ clock). A layer's
// compulsory bytes are its inputs read once (each named in `inputs`, else
// in_shape), its weights (`params`) read once and its output written once, at
// the layer's element size. `macs_per_s` is the array's rate for int8; with
// `int4_packing` int4 layers get mac_lanes() times it. A batch of `images` does each
// image's MACs and moves each image's inputs and outputs, its weights once
// (layers' `macs` and shapes are one image's; `performed_macs` the batch's).
// With `ideal_memory` the DRAM term is left out: operands were on time. 0
// when no layer takes time.
struct AttainmentPeaks {
  double macs_per_s = 0;
  double dram_bytes_per_s = 0;
  double clock_hz = 0;
  bool int4_packing = false;
  double images = 1;
  bool ideal_memory = false;
};
double roofline_attainment(const nlohmann::json& layers, const AttainmentPeaks& peaks);

// Ops per byte of DRAM traffic, one MAC = 2 ops; empty when no DRAM bytes moved.
std::optional<double> arithmetic_intensity(double macs, double dram_bytes);

// Totals that follow from report.json's figures: effective_tops (2 x MACs per
// second of latency), tops_per_w, energy_per_inference_uj (batch 1), fps.
nlohmann::json derived_totals(const nlohmann::json& report);

// Where report.json's energy figures disagree: each layer's energy_pj.total
// against the sum of its components, totals.energy_pj against the sums over
// layers and over components, totals.energy_uj against totals.energy_pj.total.
// One message per disagreement beyond `relative_tolerance`; empty when consistent.
std::vector<std::string> energy_inconsistencies(const nlohmann::json& report, double relative_tolerance = 1e-9);

}  // namespace npuvp::report
