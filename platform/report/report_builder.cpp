#include "platform/report/report_builder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <set>

#include "models/common/cpu_profile.h"
#include "platform/report/report_writer.h"

namespace npuvp::report {
namespace {

const char* order_name(firmware::LoopOrder order) {
  return order == firmware::LoopOrder::kRowTilesOuter ? "row_tiles_outer" : "weight_blocks_outer";
}

const char* dataflow_name(pe_array::Dataflow d) { return pe_array::kDataflowNames[static_cast<std::size_t>(d)]; }

nlohmann::json cost_json(const firmware::LayerCost& c) {
  return {{"latency_cycles", c.latency_cycles},
          {"compute_cycles", c.compute_cycles},
          {"dram_bytes", c.dram_bytes},
          {"sram_bytes", c.sram_bytes},
          {"noc_bytes", c.noc_bytes},
          {"rf_accesses", c.rf_accesses},
          {"buffer_bytes", c.weight_buffer_bytes + c.input_buffer_bytes},
          {"energy_pj", c.energy_pj}};
}

// Why the hybrid objective picked the dataflow it did, from every candidate's estimate.
std::string hybrid_reason(const firmware::LayerDecision& d) {
  const auto& c = d.costs;
  const bool energy = c.objective == firmware::Objective::kEnergy;
  const auto figure = [&](const firmware::LayerCost& cost) {
    char buf[48];
    if (energy)
      std::snprintf(buf, sizeof buf, "%.3f uJ", cost.energy_pj * 1e-6);
    else
      std::snprintf(buf, sizeof buf, "%llu cycles", static_cast<unsigned long long>(cost.latency_cycles));
    return std::string(buf);
  };
  const auto& win = c.plan(d.dataflow).cost;
  std::string out =
      std::string("hybrid on ") + (energy ? "energy: " : "latency: ") + dataflow_name(d.dataflow) + " " + figure(win);
  std::string others;
  for (unsigned i = 0; i < pe_array::kDataflows; ++i) {
    const auto other = static_cast<pe_array::Dataflow>(i);
    if (other == d.dataflow || !c.plan(other).candidate) continue;
    others += std::string(dataflow_name(other)) + " " + figure(c.plan(other).cost) + ", ";
  }
  return out + " (" + others + "estimates)";
}

// Why the firmware ran a layer as it did: the tiling it chose and, for a
// convolution, both dataflows' estimated costs and the reason for the choice.
// `width`: the layer's output width, what a tiling of whole rows has per tile.
nlohmann::json decision_json(const firmware::LayerDecision* d, const platform::RunOptions& options,
                             std::uint32_t width) {
  if (d == nullptr) return {{"tiling", nullptr}, {"dataflow_costs", nullptr}};
  const firmware::LayerTiling& t = d->tiling;
  nlohmann::json out;
  out["tiling"] = {{"order", order_name(t.order)},
                   {"k_block", t.k_block},
                   {"rows_per_tile", t.rows_per_tile},
                   {"cols_per_tile", t.cols_per_tile != 0 ? t.cols_per_tile
                                     : d->out_w != 0      ? d->out_w
                                                          : width},
                   {"images_per_tile", t.images_per_tile},
                   {"stream_weights", t.stream_weights},
                   {"stream_first_step", t.stream_first_step},
                   {"reduction_chunks", t.reduction_chunks},
                   {"cluster_split", "rows into " + std::to_string(t.row_groups) + " groups, output channels into " +
                                         std::to_string(t.k_groups) + " slices of " + std::to_string(t.k_slice)}};
  if (!d->costed) {
    out["dataflow_costs"] = nullptr;
    return out;
  }
  const auto& c = d->costs;
  const bool hybrid =
      d->asked == firmware::DataflowChoice::kHybridLatency || d->asked == firmware::DataflowChoice::kHybridEnergy;
  const bool energy = c.objective == firmware::Objective::kEnergy;
  const std::string reason =
      hybrid
          ? hybrid_reason(*d)
          : std::string("forced by ") + (options.dataflow == "hybrid" ? "the layer's dataflow setting" : "--dataflow");
  out["dataflow_costs"] = {{"objective", hybrid ? nlohmann::json(energy ? "energy" : "latency") : nlohmann::json()},
                           {"chosen", dataflow_name(d->dataflow)},
                           {"reason", reason}};
  // One entry per dataflow the array supports and that fits, with its loop
  // order and, where there is one, the order not taken and what it would cost.
  for (unsigned i = 0; i < pe_array::kDataflows; ++i) {
    const firmware::DataflowPlan& p = c.plans[i];
    if (!p.candidate) continue;
    nlohmann::json entry = cost_json(p.cost);
    entry["order"] = order_name(p.tiling.order);
    if (p.has_other_order) {
      nlohmann::json other = cost_json(p.other);
      other["order"] = order_name(p.other_tiling.order);
      entry["other_order"] = other;
    }
    out["dataflow_costs"][dataflow_name(static_cast<pe_array::Dataflow>(i))] = entry;
  }
  return out;
}

// What the firmware ran: "ws", "os", "os2d", or e.g. "ws+os" if it changed within a layer.
std::string used_dataflow(const std::array<std::uint64_t, pe_array::kDataflows>& jobs) {
  std::string out;
  for (unsigned i = 0; i < pe_array::kDataflows; ++i)
    if (jobs[i] != 0) out += (out.empty() ? "" : "+") + std::string(dataflow_name(static_cast<pe_array::Dataflow>(i)));
  return out.empty() ? "none" : out;
}

nlohmann::json energy_json(const power::EnergyBreakdown& e) {
  return {{"mac", e.mac}, {"rf", e.rf},     {"buffer", e.buffer},   {"sram", e.sram},
          {"noc", e.noc}, {"dram", e.dram}, {"leakage", e.leakage}, {"total", e.total()}};
}

double latency_ns(const LayerFigures& f, const platform::PlatformConfig& config) {
  return static_cast<double>(f.cycles) / (config.npu.clock_mhz * 1e6) * 1e9;
}

// Each of the workload's layers as last run; layers that ran no command (the
// input, activations fused into their producer, reshapes) take no time.
std::vector<LayerFigures> per_layer(const RunFigures& figures, std::size_t layers) {
  std::vector<LayerFigures> out(layers);
  for (const auto& f : figures.layers)
    if (f.layer_id >= 0 && static_cast<std::size_t>(f.layer_id) < layers) out[f.layer_id] = f;
  return out;
}

nlohmann::json layer_row(const RunInputs& in, const RunFigures& figures, std::size_t i, const LayerFigures& f) {
  const auto& l = in.work.layers[i];
  const auto decision = figures.decisions.find(static_cast<std::int32_t>(i));
  const nlohmann::json out_shape = l.value("out_shape", nlohmann::json::array());
  const std::uint32_t width = out_shape.size() >= 3 ? out_shape.back().get<std::uint32_t>() : 1;
  const nlohmann::json plan =
      decision_json(decision == figures.decisions.end() ? nullptr : &decision->second, in.options, width);
  const double lane_macs = mac_lanes(in.config.npu.cluster.int4_packing, l.value("datatype", "int8"));
  // The batch's MACs over the batch's DRAM bytes.
  const double macs = static_cast<double>(l["macs"].get<std::uint64_t>()) * in.options.batch;
  const std::uint64_t dram_bytes = f.dram_read_bytes + f.dram_write_bytes;
  nlohmann::json row = l;
  row.merge_patch({
      {"dataflow", used_dataflow(f.jobs_by_dataflow)},
      {"dataflow_mode", in.options.dataflow},
      {"datatype", l.value("datatype", "int8")},
      {"dataflow_costs", plan["dataflow_costs"]},
      {"tiling", plan["tiling"]},
      {"compute_cycles", f.compute_cycles},
      {"stall_cycles", f.stall_cycles},
      {"stall_cycles_by_cause",
       {{"dram", f.stalls.dram},
        {"noc", f.stalls.noc},
        {"sram_conflict", f.stalls.sram_conflict},
        {"buffer_port", f.stalls.buffer_port},
        {"dependency", f.stalls.dependency}}},
      {"cycles", f.cycles},
      {"performed_macs", f.array_macs},
      {"latency_ns", latency_ns(f, in.config)},
      // MACs the array performed over those it could have: packed int4 lanes do two per cycle.
      {"utilization", f.cycles == 0 ? 0.0
                                    : static_cast<double>(f.array_macs) /
                                          (static_cast<double>(f.cycles) * in.config.npu.mac_units() * lane_macs)},
      {"dram_read_bytes", f.dram_read_bytes},
      {"dram_write_bytes", f.dram_write_bytes},
      {"arithmetic_intensity", arithmetic_intensity(macs, static_cast<double>(dram_bytes)).value_or(0.0)},
      {"sram_conflict_cycles", f.sram_conflict_cycles},
      {"buffer_bytes",
       {{"weight_read", f.buffer_bytes.weight_read},
        {"weight_written", f.buffer_bytes.weight_written},
        {"input_read", f.buffer_bytes.input_read},
        {"input_written", f.buffer_bytes.input_written}}},
      // Reads + writes at each level of the hierarchy; the NoC's bytes as
      // injected, and times the routers they crossed beside them.
      {"traffic_bytes",
       {{"rf", f.traffic.rf},
        {"buffer", f.buffer_bytes.weight_read + f.buffer_bytes.weight_written + f.buffer_bytes.input_read +
                       f.buffer_bytes.input_written},
        {"sram", f.traffic.sram},
        {"noc", f.traffic.noc},
        {"dram", dram_bytes}}},
      {"noc_byte_hops", f.traffic.noc_byte_hops},
      {"energy_pj", energy_json(f.energy_pj)},
      {"verified", static_cast<bool>(in.work.verdicts->verified[i])},
      {"mismatches", in.work.verdicts->mismatches[i]},
  });
  if (!in.work.verdicts->onnx_spec_mismatches.empty())
    row["onnx_spec_mismatches"] = in.work.verdicts->onnx_spec_mismatches[i];
  if (!in.work.verdicts->sqnr_db.empty()) {
    // JSON has no infinity: an output equal to the float model's is null.
    const double db = in.work.verdicts->sqnr_db[i];
    row["sqnr_db"] = std::isfinite(db) ? nlohmann::json(db) : nlohmann::json(nullptr);
  }
  const auto& not_fused = in.work.verdicts->not_fused;
  if (i < not_fused.size() && !not_fused[i].empty()) row["not_fused"] = not_fused[i];
  const auto& folded = in.work.verdicts->folded_into;
  if (i < folded.size() && !folded[i].empty()) {
    // Its work went into other layers' addressing: it ran no command.
    nlohmann::json names = nlohmann::json::array();
    for (int k : folded[i]) names.push_back(in.work.layers.at(static_cast<std::size_t>(k))["name"]);
    row["folded_into"] = names;
    row["dataflow"] = "folded";
  }
  return row;
}

// An interrupted run's layers: whether each ran to its end before the stop. A
// layer that runs no command of its own (the input, an activation fused into
// its producer, a concatenation folded into addressing) counts as completed
// once a later layer has.
void mark_completed(nlohmann::json& rows, const RunFigures& figures) {
  std::set<std::int32_t> finished;
  std::int32_t last = -1;
  for (const auto& f : figures.layers) {
    finished.insert(f.layer_id);
    last = std::max(last, f.layer_id);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto id = static_cast<std::int32_t>(i);
    rows[i]["completed"] = finished.count(id) != 0 || (figures.decisions.count(id) == 0 && id < last);
  }
}

RooflineInput roofline_input(const RunInputs& in, const std::vector<LayerFigures>& layers) {
  const auto& npu = in.config.npu;
  RooflineInput r;
  r.macs_per_cycle = static_cast<double>(npu.mac_units());
  r.clock_hz = npu.clock_mhz * 1e6;
  r.dram_bytes_per_s = in.config.dram.peak_gbps() * 1e9;
  r.dram_bandwidth_source = "report.dram.peak_gbps";
  r.ideal_memory = in.options.ideal_memory;
  // Every bank delivers one word per port per cycle when accesses spread
  // across banks: the SRAM's ceiling, not what conflicts leave of it.
  r.sram_bytes_per_s =
      static_cast<double>(npu.sram_banks) * npu.sram_bank.word_bytes * npu.sram_bank.ports * r.clock_hz;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = in.work.layers[i];
    const std::string datatype = l.value("datatype", "int8");
    r.layers.push_back({l.value("name", ""), l.value("type", ""),
                        needed_macs(static_cast<double>(l["macs"].get<std::uint64_t>()) * in.options.batch,
                                    static_cast<double>(layers[i].array_macs)),
                        static_cast<double>(layers[i].dram_read_bytes + layers[i].dram_write_bytes),
                        latency_ns(layers[i], in.config), mac_lanes(in.config.npu.cluster.int4_packing, datatype),
                        datatype});
  }
  return r;
}

nlohmann::json network_json(const RunInputs& in) {
  std::uint64_t total_macs = 0, total_params = 0;
  for (const auto& l : in.work.layers) {
    total_macs += l["macs"].get<std::uint64_t>();
    total_params += l["params"].get<std::uint64_t>();
  }
  const auto& o = in.options;
  return {{"name", in.work.name},
          {"input_shape", in.work.input_shape},
          {"batch", o.batch},
          {"ideal_memory", o.ideal_memory},
          {"dataflow", o.dataflow},
          {"objective", o.dataflow == "hybrid" ? nlohmann::json(o.objective) : nlohmann::json()},
          {"total_macs", total_macs},
          {"total_params", total_params}};
}

// The layers' energy: the span every other total covers.
power::EnergyBreakdown layers_energy(const std::vector<LayerFigures>& layers) {
  power::EnergyBreakdown energy;
  for (const auto& l : layers) energy += l.energy_pj;
  return energy;
}

nlohmann::json totals_json(const RunInputs& in, const RunFigures& figures, const std::vector<LayerFigures>& layers) {
  std::uint64_t cycles = 0;
  const power::EnergyBreakdown energy = layers_energy(layers);
  bool all_verified = true;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    cycles += layers[i].cycles;
    all_verified = all_verified && in.work.verdicts->verified[i];
  }
  const double latency_s = static_cast<double>(cycles) / (in.config.npu.clock_mhz * 1e6);
  nlohmann::json totals = {{"cycles", cycles},
                           {"latency_ms", latency_s * 1e3},
                           {"fps", latency_s > 0 ? in.options.batch / latency_s : 0.0},
                           {"energy_uj", energy.total() * 1e-6},
                           {"energy_pj", energy_json(energy)},
                           {"avg_power_mw", latency_s > 0 ? energy.total() * 1e-12 / latency_s * 1e3 : 0.0},
                           {"peak_power_mw", figures.peak_power_mw},
                           {"peak_power_window_ns", figures.peak_power_window_ns},
                           {"simulation_energy_uj", figures.simulation_energy_pj.total() * 1e-6},
                           {"all_verified", all_verified}};
  const auto& spec = in.work.verdicts->onnx_spec_mismatches;
  if (!spec.empty()) totals["onnx_spec_mismatches"] = std::accumulate(spec.begin(), spec.end(), std::size_t{0});
  return totals;
}

nlohmann::json counters_json(const stats::Counters& counters) {
  nlohmann::json out = nlohmann::json::object();
  for (std::size_t i = 0; i < stats::kCounterCount; ++i) {
    const auto c = static_cast<stats::Counter>(i);
    out[stats::info(c).name] = {{"value", counters[c]}, {"unit", stats::unit_name(stats::info(c).unit)}};
  }
  return out;
}

}  // namespace

nlohmann::json write_run_report(const RunInputs& in, RunFigures figures) {
  const std::vector<LayerFigures> layers = per_layer(figures, in.work.layers.size());
  nlohmann::json report;
  report["platform"] = in.config.resolved;
  report["network"] = network_json(in);
  report["layers"] = nlohmann::json::array();
  for (std::size_t i = 0; i < layers.size(); ++i) report["layers"].push_back(layer_row(in, figures, i, layers[i]));
  const bool interrupted = !figures.interrupted_by.empty();
  if (interrupted) mark_completed(report["layers"], figures);
  report["totals"] = totals_json(in, figures, layers);
  report["dram"] = std::move(figures.dram_stats);
  // The DRAM's energy over each span the report covers: its own energy_pj and
  // power.csv span the whole run, the totals the layers.
  report["dram"]["layers_energy_pj"] = layers_energy(layers).dram;
  report["dram"]["simulation_energy_pj"] = figures.simulation_energy_pj.dram;
  report["noc"] = std::move(figures.noc_stats);
  report["units"] = std::move(figures.unit_stats);
  report["counters"] = counters_json(figures.counters);
  report["totals"].update(derived_totals(report));
  const auto& npu = in.config.npu;
  report["totals"]["roofline_attainment"] = roofline_attainment(
      report["layers"],
      {static_cast<double>(npu.mac_units()) * npu.clock_mhz * 1e6, in.config.dram.peak_gbps() * 1e9,
       npu.clock_mhz * 1e6, npu.cluster.int4_packing, static_cast<double>(in.options.batch), in.options.ideal_memory});
  report["roofline"] = roofline(roofline_input(in, layers));
  // peak_rss_mb is measured once every other output is written.
  report["sim"] = {
      {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - in.wall_start).count()},
      {"simulated_ns", figures.simulated_ns},
      {"simulator", platform::version_string()},
      {"seed", in.options.seed},
      {"files", figures.traces.files},
      {"trace_changes", figures.traces.changes},
      {"trace_late_changes", figures.traces.late_changes},
      {"trace_truncated", figures.traces.truncated},
      {"trace_timeline_truncated", figures.traces.timeline_truncated},
      {"trace_vcd_complete_until_ns", figures.traces.vcd_complete_until_ns >= 0
                                          ? nlohmann::json(figures.traces.vcd_complete_until_ns)
                                          : nlohmann::json()},
      {"command_line", in.options.command_line},
      {"overrides", in.options.overrides},
      {"interrupted", interrupted},
      {"prepared_from_cache", in.work.prepared_from_cache},
      {"threads", in.options.threads},
      // Host CPU seconds by phase so far (models/common/cpu_profile.h); the
      // outputs written after this report are not in it.
      {"cpu_seconds",
       {{"prepare", profile::seconds(profile::Phase::kPrepare)},
        {"reference", profile::seconds(profile::Phase::kReference)},
        {"simulate", profile::seconds(profile::Phase::kSimulate)},
        {"compute", profile::seconds(profile::Phase::kCompute)}}}};
  if (interrupted) report["sim"]["interrupted_by"] = figures.interrupted_by;
  if (!in.options.dump_dir.empty()) report["sim"]["dump_dir"] = in.options.dump_dir;

  RunRecord record;
  record.report = std::move(report);
  record.power = std::move(figures.power);
  OutputOptions outputs;
  outputs.power_csv = false;      // the monitor streamed it
  outputs.timeline_json = false;  // the platform streamed it, if asked for
  outputs.measure_peak_rss = true;
  return write_run_outputs(record, in.options.out_dir, outputs);
}

}  // namespace npuvp::report
