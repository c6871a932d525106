#include "platform/run.h"

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "firmware/firmware.h"
#include "platform/report/progress_line.h"
#include "platform/report/report_writer.h"
#include "platform/soc.h"
#include "platform/trace_options.h"
#include "sw/apps/workloads.h"
#include "sw/driver/npu_driver.h"

namespace npuvp::platform {
namespace {

const char* order_name(firmware::LoopOrder order) {
  return order == firmware::LoopOrder::kRowTilesOuter ? "row_tiles_outer" : "weight_blocks_outer";
}

const char* dataflow_name(pe_array::Dataflow d) { return d == pe_array::Dataflow::kOutputStationary ? "os" : "ws"; }

nlohmann::json cost_json(const firmware::LayerCost& c) {
  return {{"latency_cycles", c.latency_cycles},
          {"compute_cycles", c.compute_cycles},
          {"dram_bytes", c.dram_bytes},
          {"sram_bytes", c.sram_bytes},
          {"noc_bytes", c.noc_bytes},
          {"rf_accesses", c.rf_accesses},
          {"energy_pj", c.energy_pj}};
}

// Why the firmware ran a layer as it did: the tiling it chose and, for a
// convolution, both dataflows' estimated costs and the reason for the choice.
nlohmann::json decision_json(const firmware::LayerDecision* d, const RunOptions& options) {
  if (d == nullptr) return {{"tiling", nullptr}, {"dataflow_costs", nullptr}};
  const firmware::LayerTiling& t = d->tiling;
  nlohmann::json out;
  out["tiling"] = {{"order", order_name(t.order)},
                   {"k_block", t.k_block},
                   {"rows_per_tile", t.rows_per_tile},
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
  const char* chosen = dataflow_name(d->dataflow);
  std::string reason;
  if (!hybrid) {
    reason = std::string("forced by ") + (options.dataflow == "hybrid" ? "the layer's dataflow setting" : "--dataflow");
  } else {
    const bool os = d->dataflow == pe_array::Dataflow::kOutputStationary;
    const auto& win = os ? c.os : c.ws;
    const auto& lose = os ? c.ws : c.os;
    char buf[160];
    if (energy)
      std::snprintf(buf, sizeof buf, "hybrid on energy: %s %.3f uJ %s %s %.3f uJ (estimates)", chosen,
                    win.energy_pj * 1e-6, win.energy_pj < lose.energy_pj ? "<" : "=", os ? "ws" : "os",
                    lose.energy_pj * 1e-6);
    else
      std::snprintf(buf, sizeof buf, "hybrid on latency: %s %llu %s %s %llu cycles (estimates)", chosen,
                    static_cast<unsigned long long>(win.latency_cycles),
                    win.latency_cycles < lose.latency_cycles ? "<" : "=", os ? "ws" : "os",
                    static_cast<unsigned long long>(lose.latency_cycles));
    reason = buf;
  }
  out["dataflow_costs"] = {{"objective", hybrid ? nlohmann::json(energy ? "energy" : "latency") : nlohmann::json()},
                           {"chosen", chosen},
                           {"reason", reason},
                           {"ws", cost_json(c.ws)},
                           {"os", cost_json(c.os)}};
  if (c.os_has_other_order) {
    // Output-stationary's loop order not taken, and what it would have cost.
    nlohmann::json other = cost_json(c.os_other);
    other["order"] = order_name(c.os_other_tiling.order);
    out["dataflow_costs"]["os_other_order"] = other;
  }
  return out;
}

// What the firmware ran: "ws", "os", or "ws+os" if it changed within a layer.
std::string used_dataflow(std::uint64_t ws_jobs, std::uint64_t os_jobs) {
  if (ws_jobs != 0 && os_jobs != 0) return "ws+os";
  if (os_jobs != 0) return "os";
  return ws_jobs != 0 ? "ws" : "none";
}

nlohmann::json energy_json(const power::EnergyBreakdown& e) {
  return {{"mac", e.mac},   {"rf", e.rf},           {"sram", e.sram},    {"noc", e.noc},
          {"dram", e.dram}, {"leakage", e.leakage}, {"total", e.total()}};
}

// Adds what only the end of the run knows to the streamed timeline (the layers
// by name, the power counters), completes the trace files and returns sim.*'s
// figures about them.
nlohmann::json close_traces(Soc& soc, const apps::Workload& work, const std::vector<report::PowerSample>& power) {
  for (const auto& m : soc.layers()) {
    if (m.finished)
      soc.timeline().slice("npu.layers",
                           work.layers.at(static_cast<std::size_t>(m.layer_id))["name"].get<std::string>(), "layer",
                           m.begin.at, m.end.at);
  }
  report::add_power_counters(soc.timeline(), power);
  soc.close_traces();
  const TraceConfig& trace = soc.config().simulation.trace;
  std::vector<std::string> files = {"report.json", "layers.csv", "report.html", "roofline.svg"};
  if (trace.vcd) files.push_back("trace.vcd");
  if (trace.timeline) files.push_back("timeline.json");
  if (trace.power) files.push_back("power.csv");
  return {{"files", files},
          {"trace_changes", soc.vcd().change_count()},
          {"trace_late_changes", soc.vcd().late_changes()},
          {"trace_truncated", soc.vcd().truncated() || soc.timeline().truncated()}};
}

}  // namespace

nlohmann::json run(const PlatformConfig& config, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const apps::Workload work = apps::make_workload(options);

  sw::DriverConfig driver_config;
  driver_config.npu_regs_base = kNpuRegsBase;
  driver_config.dram_base = kDramBase;
  driver_config.dram_bytes = config.dram.backing_bytes;
  auto program = [&](sw::HostHal& hal) {
    sw::NpuDriver driver(hal, driver_config);
    driver.probe();
    work.program(driver);
  };
  PlatformConfig traced = config;
  traced.simulation.trace = with_trace_options(config.simulation.trace, options.trace);
  std::filesystem::create_directories(options.out_dir);
  Soc soc("soc", traced, program, options.out_dir);
  report::ProgressLine progress = report::ProgressLine::for_stderr(options.quiet);
  soc.on_layer_start([&](std::int32_t id) {
    const auto index = static_cast<std::size_t>(id);
    if (index < work.layers.size())
      progress.update(index + 1, work.layers.size(), sc_core::sc_time_stamp().to_seconds() * 1e9,
                      work.layers[index]["name"].get<std::string>());
  });
  sc_core::sc_start();
  progress.finish();
  if (!soc.host().finished()) throw std::runtime_error("simulation ended before the host program finished");
  if (!soc.host().failure().empty()) throw std::runtime_error("host software failed: " + soc.host().failure());

  const double clock_hz = config.npu.clock_mhz * 1e6;
  const std::uint64_t mac_units =
      std::uint64_t{config.npu.clusters} * config.npu.cluster.array.rows * config.npu.cluster.array.cols;
  const power::PricedSizes sizes = priced_sizes(config);
  nlohmann::json report;
  report["platform"] = config.resolved;
  std::uint64_t total_macs = 0, total_params = 0;
  for (const auto& l : work.layers) {
    total_macs += l["macs"].get<std::uint64_t>();
    total_params += l["params"].get<std::uint64_t>();
  }
  report["network"] = {
      {"name", work.name},
      {"input_shape", work.input_shape},
      {"batch", options.batch},
      {"dataflow", options.dataflow},
      {"objective", options.dataflow == "hybrid" ? nlohmann::json(options.objective) : nlohmann::json()},
      {"total_macs", total_macs},
      {"total_params", total_params}};
  nlohmann::json layer_rows = nlohmann::json::array();
  std::uint64_t total_cycles = 0;
  power::EnergyBreakdown total_energy;
  bool all_verified = true;
  double peak_power_mw = 0;
  // Layers that ran no command (the input, activations fused into their
  // producer, reshapes) take no time; their outputs are still checked.
  const LayerMark idle{};
  const auto& decisions = soc.npu().command_processor().decisions();
  for (std::size_t i = 0; i < work.layers.size(); ++i) {
    const auto& l = work.layers[i];
    const std::uint64_t macs = l["macs"].get<std::uint64_t>();
    const LayerMark* mark = &idle;
    for (const auto& m : soc.layers())
      if (m.layer_id == static_cast<std::int32_t>(i) && m.finished) mark = &m;
    const double seconds = (mark->end.at - mark->begin.at).to_seconds();
    const std::uint64_t compute = (mark->end.compute_cycles - mark->begin.compute_cycles) / config.npu.clusters;
    const auto cycles = options.ideal_memory ? compute : static_cast<std::uint64_t>(seconds * clock_hz + 0.5);
    const auto energy = power::price(config.energy, mark->end.activity - mark->begin.activity, sizes,
                                     static_cast<double>(cycles) / clock_hz);
    const std::uint64_t dram_rd = mark->end.dram_read_bytes - mark->begin.dram_read_bytes;
    const std::uint64_t dram_wr = mark->end.dram_write_bytes - mark->begin.dram_write_bytes;
    // Stall causes: the array idled on DRAM while the firmware waited for DMA
    // alone; the clusters' own stalls (operands late) split into SRAM bank
    // conflicts and NoC; the rest (firmware, idle clusters on partial tiles)
    // is dependency.
    const std::uint64_t stall = cycles > compute ? cycles - compute : 0;
    const std::uint64_t dram_stall = std::min(stall, mark->end.dma_wait_cycles - mark->begin.dma_wait_cycles);
    const std::uint64_t cluster_stall =
        std::min(stall - dram_stall, (mark->end.stall_cycles - mark->begin.stall_cycles) / config.npu.clusters);
    const std::uint64_t sram_stall = std::min(
        cluster_stall, (mark->end.sram_conflict_cycles - mark->begin.sram_conflict_cycles) / config.npu.clusters);
    const nlohmann::json stall_causes = {{"dram", dram_stall},
                                         {"noc", cluster_stall - sram_stall},
                                         {"sram_conflict", sram_stall},
                                         {"dependency", stall - dram_stall - cluster_stall}};
    const bool verified = work.verdicts->verified[i];
    const double lane_macs = config.npu.cluster.int4_packing && l.value("datatype", "int8") == "int4" ? 2.0 : 1.0;
    all_verified = all_verified && verified;
    total_cycles += cycles;
    total_energy.mac += energy.mac;
    total_energy.rf += energy.rf;
    total_energy.sram += energy.sram;
    total_energy.noc += energy.noc;
    total_energy.dram += energy.dram;
    total_energy.leakage += energy.leakage;
    nlohmann::json row = l;
    const auto decision = decisions.find(static_cast<std::int32_t>(i));
    const nlohmann::json plan = decision_json(decision == decisions.end() ? nullptr : &decision->second, options);
    row.merge_patch({
        {"dataflow", used_dataflow(mark->end.ws_jobs - mark->begin.ws_jobs, mark->end.os_jobs - mark->begin.os_jobs)},
        {"dataflow_mode", options.dataflow},
        {"datatype", l.value("datatype", "int8")},
        {"dataflow_costs", plan["dataflow_costs"]},
        {"tiling", plan["tiling"]},
        {"compute_cycles", compute},
        {"stall_cycles", stall},
        {"stall_cycles_by_cause", stall_causes},
        {"cycles", cycles},
        {"latency_ns", static_cast<double>(cycles) / clock_hz * 1e9},
        // MACs the array performed (fewer than the layer's with zero skipping)
        // over those it could have: packed int4 lanes do two per cycle.
        {"utilization", cycles == 0 ? 0.0
                                    : static_cast<double>(mark->end.activity.macs - mark->begin.activity.macs) /
                                          (static_cast<double>(cycles) * mac_units * lane_macs)},
        {"dram_read_bytes", dram_rd},
        {"dram_write_bytes", dram_wr},
        {"arithmetic_intensity",
         dram_rd + dram_wr == 0 ? 0.0 : 2.0 * static_cast<double>(macs) / static_cast<double>(dram_rd + dram_wr)},
        {"sram_conflict_cycles", mark->end.sram_conflict_cycles - mark->begin.sram_conflict_cycles},
        {"energy_pj", energy_json(energy)},
        {"verified", verified},
        {"mismatches", work.verdicts->mismatches[i]},
    });
    layer_rows.push_back(std::move(row));
  }
  report::RunRecord record;
  // Everything power.csv covers: the layers and the host's setup around them.
  double simulation_energy_pj = 0;
  const auto& windows = soc.power_windows();
  for (std::size_t i = 1; i < windows.size(); ++i) {
    const double s = (windows[i].at - windows[i - 1].at).to_seconds();
    if (s <= 0) continue;
    const auto e = power::price(config.energy, windows[i].activity - windows[i - 1].activity, sizes, s);
    const double to_mw = 1e-12 / s * 1e3;
    report::PowerSample sample;
    sample.time_ns = windows[i - 1].at.to_seconds() * 1e9;
    sample.window_ns = s * 1e9;
    sample.component_mw = {{"mac", e.mac * to_mw}, {"rf", e.rf * to_mw},     {"sram", e.sram * to_mw},
                           {"noc", e.noc * to_mw}, {"dram", e.dram * to_mw}, {"leakage", e.leakage * to_mw}};
    sample.total_mw = e.total() * to_mw;
    peak_power_mw = std::max(peak_power_mw, sample.total_mw);
    simulation_energy_pj += e.total();
    record.power.push_back(std::move(sample));
  }
  report["layers"] = layer_rows;
  const double latency_s = static_cast<double>(total_cycles) / clock_hz;
  report["totals"] = {{"cycles", total_cycles},
                      {"latency_ms", latency_s * 1e3},
                      {"fps", latency_s > 0 ? options.batch / latency_s : 0.0},
                      {"energy_uj", total_energy.total() * 1e-6},
                      {"energy_pj", energy_json(total_energy)},
                      {"avg_power_mw", latency_s > 0 ? total_energy.total() * 1e-12 / latency_s * 1e3 : 0.0},
                      {"peak_power_mw", peak_power_mw},
                      {"simulation_energy_uj", simulation_energy_pj * 1e-6},
                      {"all_verified", all_verified}};
  report["dram"] = soc.dram().stats_json();
  report["noc"] = soc.npu().noc().stats_json();
  report["totals"].update(report::derived_totals(report));
  report["roofline"] = report::roofline(report);
  const nlohmann::json trace_figures = close_traces(soc, work, record.power);
  report["sim"] = {
      {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count()},
      {"simulated_ns", sc_core::sc_time_stamp().to_seconds() * 1e9},
      {"simulator", "npuvp 0.1.0 (SystemC 2.3.4)"},
      {"seed", options.seed}};
  report["sim"].update(trace_figures);
  record.report = std::move(report);
  return report::write_run_outputs(record, options.out_dir, {traced.simulation.trace.power, false, true});
}

std::string format_report(const nlohmann::json& r) { return report::format_text_report(r); }

}  // namespace npuvp::platform
