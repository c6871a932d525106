#include "platform/run.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <random>
#include <sstream>
#include <stdexcept>

#include <sys/resource.h>

#include "contract/address_map.h"
#include "firmware/firmware.h"
#include "platform/report/progress_line.h"
#include "platform/report/report_writer.h"
#include "platform/soc.h"
#include "sw/driver/npu_driver.h"
#include "sw/runtime/conv_workload.h"
#include "sw/runtime/network_executor.h"
#include "sw/runtime/network_yaml.h"
#include "sw/runtime/onnx_import.h"
#include "sw/runtime/scalesim_topology.h"
#include "sw/runtime/zoo.h"

namespace npuvp::platform {
namespace {

struct NetworkDef {
  std::string name;
  std::string description;
  std::vector<runtime::ConvLayerSpec> layers;
};

// The foundation slice: ConvLayerSpec's defaults are exactly its layer.
runtime::ConvLayerSpec slice_layer() {
  runtime::ConvLayerSpec spec;
  spec.name = "conv3x3";
  return spec;
}

const std::vector<NetworkDef>& networks() {
  static const std::vector<NetworkDef> defs = {
      {"conv_slice",
       "one 3x3 convolution, 56x56x64 -> 64, stride 1, pad 1, ReLU (the foundation slice)",
       {slice_layer()}},
  };
  return defs;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A SCALE-Sim topology: each row a standalone convolution without padding,
// whose last partial window SCALE-Sim keeps (extra bottom/right padding here).
NetworkDef load_scalesim_network(const std::string& file) {
  NetworkDef def{"", "SCALE-Sim topology", {}};
  for (const auto& s : runtime::load_scalesim_topology(file)) {
    runtime::ConvLayerSpec spec;
    spec.name = s.name;
    spec.in_c = s.channels;
    spec.in_h = s.ifmap_h;
    spec.in_w = s.ifmap_w;
    spec.out_c = s.num_filter;
    spec.kernel_h = s.filter_h;
    spec.kernel_w = s.filter_w;
    spec.stride = s.stride;
    spec.pad = 0;
    spec.relu = false;
    spec.extra_pad_bottom =
        (runtime::scalesim_ofmap_dim(s.ifmap_h, s.filter_h, s.stride) - 1) * s.stride + s.filter_h - s.ifmap_h;
    spec.extra_pad_right =
        (runtime::scalesim_ofmap_dim(s.ifmap_w, s.filter_w, s.stride) - 1) * s.stride + s.filter_w - s.ifmap_w;
    def.layers.push_back(spec);
  }
  return def;
}

NetworkDef find_network(const std::string& name) {
  if (ends_with(name, ".csv")) {
    NetworkDef def = load_scalesim_network(name);
    def.name = std::filesystem::path(name).stem().string();
    return def;
  }
  for (const auto& n : networks())
    if (name == n.name) return n;
  std::string known;
  for (const auto& n : networks()) known += std::string(known.empty() ? "" : ", ") + n.name;
  throw std::invalid_argument("unknown network '" + name + "' (known: " + known + ", or a SCALE-Sim *.csv)");
}

firmware::DataflowChoice parse_dataflow(const std::string& d, const std::string& objective) {
  if (objective != "latency" && objective != "energy")
    throw std::invalid_argument("--objective: expected latency or energy, got '" + objective + "'");
  if (d != "hybrid" && objective != "latency")
    throw std::invalid_argument("--objective: only a hybrid dataflow has one (--dataflow hybrid)");
  if (d == "ws") return firmware::DataflowChoice::kWeightStationary;
  if (d == "os") return firmware::DataflowChoice::kOutputStationary;
  if (d == "hybrid")
    return objective == "energy" ? firmware::DataflowChoice::kHybridEnergy : firmware::DataflowChoice::kHybridLatency;
  throw std::invalid_argument("--dataflow: expected ws, os or hybrid, got '" + d + "'");
}

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

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

nlohmann::json energy_json(const power::EnergyBreakdown& e) {
  return {{"mac", e.mac},   {"rf", e.rf},           {"sram", e.sram},    {"noc", e.noc},
          {"dram", e.dram}, {"leakage", e.leakage}, {"total", e.total()}};
}

}  // namespace

nlohmann::json list_networks() {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& n : networks()) {
    std::uint64_t macs = 0, params = 0;
    for (const auto& l : n.layers) {
      const int oh = (l.in_h + 2 * l.pad - l.dilation * (l.kernel_h - 1) - 1) / l.stride + 1;
      const int ow = (l.in_w + 2 * l.pad - l.dilation * (l.kernel_w - 1) - 1) / l.stride + 1;
      macs += std::uint64_t(oh) * ow * l.out_c * l.kernel_h * l.kernel_w * l.in_c;
      params += std::uint64_t(l.out_c) * l.kernel_h * l.kernel_w * l.in_c + l.out_c;
    }
    const auto& first = n.layers.front();
    out.push_back({{"name", n.name},
                   {"description", n.description},
                   {"input", {first.in_c, first.in_h, first.in_w}},
                   {"params", params},
                   {"macs", macs}});
  }
  for (const auto& z : runtime::zoo_listing()) out.push_back(z);
  return out;
}

namespace {

// What a run executes, independent of where it came from: the layers the
// report lists (descriptive fields as report.json carries them), the host
// program that runs them through the driver, and the verdict per layer.
struct Workload {
  std::string name;
  nlohmann::json input_shape;
  nlohmann::json layers = nlohmann::json::array();  // name, type, shapes, kernel, stride, groups, macs, params
  std::vector<std::size_t> mismatches;              // per layer, filled by the program
  std::vector<bool> verified;
  std::function<void(sw::NpuDriver&)> program;
};

Workload conv_workload(const NetworkDef& net, const RunOptions& options, firmware::DataflowChoice dataflow) {
  auto layers = std::make_shared<std::vector<runtime::PreparedConv>>();
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    runtime::ConvLayerSpec spec = net.layers[i];
    if (i == 0 && options.input_h > 0) {
      spec.in_h = options.input_h;
      spec.in_w = options.input_w;
    }
    spec.dataflow = dataflow;
    spec.weight_sparsity = options.weight_sparsity;
    spec.datatype = runtime::parse_datatype(options.datatype);
    layers->push_back(runtime::prepare_conv(spec, options.seed + static_cast<std::uint32_t>(i)));
  }
  Workload w;
  w.name = net.name;
  const auto& first = layers->front();
  w.input_shape = {first.in_shape.c, first.in_shape.h, first.in_shape.w};
  for (const auto& l : *layers)
    w.layers.push_back({{"name", l.spec.name},
                        {"type", "conv2d"},
                        {"in_shape", {l.in_shape.c, l.in_shape.h, l.in_shape.w}},
                        {"out_shape", {l.out_shape.c, l.out_shape.h, l.out_shape.w}},
                        {"kernel", {l.spec.kernel_h, l.spec.kernel_w}},
                        {"stride", l.spec.stride},
                        {"groups", 1},
                        {"datatype", runtime::datatype_name(l.spec.datatype)},
                        {"macs", l.macs()},
                        {"params", l.parameter_count()}});
  runtime::LoweringFaults faults;
  faults.input_row_pitch_delta = options.fault_input_row_pitch_delta;
  w.mismatches.assign(layers->size(), 0);
  w.verified.assign(layers->size(), false);
  w.program = [layers, faults, &w](sw::NpuDriver& driver) {
    for (std::size_t i = 0; i < layers->size(); ++i) {
      const auto r = runtime::run_conv_on_npu(driver, (*layers)[i], static_cast<std::uint32_t>(i), faults);
      w.mismatches[i] = r.mismatches;
      w.verified[i] = r.verified();
    }
  };
  return w;
}

runtime::Network load_ir_network(const std::string& name) {
  if (ends_with(name, ".yaml")) return runtime::load_network_yaml(name);
  return runtime::make_network(name);
}

Workload network_workload(const std::string& name, const RunOptions& options, firmware::DataflowChoice dataflow) {
  runtime::QuantizationOptions qo;
  qo.weight_seed = options.seed;
  qo.input_seed = options.seed + 1;
  std::shared_ptr<runtime::QuantizedNetwork> q;
  if (ends_with(name, ".onnx") && runtime::onnx_model_is_quantized(name)) {
    // A quantized model brings its own scales and zero points.
    if (options.input_h > 0) throw std::invalid_argument(name + ": --input-size cannot change a quantized model");
    q = std::make_shared<runtime::QuantizedNetwork>(runtime::import_onnx_quantized(name, qo.input_seed));
  } else {
    runtime::Network net = ends_with(name, ".onnx") ? runtime::import_onnx_float(name) : load_ir_network(name);
    for (const auto& assignment : options.layer_dataflow) {
      const auto eq = assignment.find('=');
      if (eq == std::string::npos)
        throw std::invalid_argument("--layer-dataflow: expected LAYER=ws|os, got '" + assignment + "'");
      net.set_dataflow(assignment.substr(0, eq), assignment.substr(eq + 1));
    }
    if (options.input_h > 0)
      net.infer_shapes(runtime::TensorShape{net.layer(0).out_shape.c, options.input_h, options.input_w});
    q = std::make_shared<runtime::QuantizedNetwork>(runtime::quantize_network(std::move(net), qo));
  }
  // Further images: the same quantization, their own seeded inputs.
  auto images = std::make_shared<std::vector<runtime::QuantizedNetwork>>();
  std::mt19937 rng(options.seed + 2);
  const auto& in_q = q->layers.front().output;
  const auto lo = static_cast<int>(std::max(-128.0f, std::round(-1.0f / in_q.scale) + in_q.zero_point));
  const auto hi = static_cast<int>(std::min(127.0f, std::round(1.0f / in_q.scale) + in_q.zero_point));
  for (int b = 1; b < options.batch; ++b) {
    runtime::QuantizedNetwork image = *q;
    std::uniform_int_distribution<int> value(lo, hi);
    for (auto& v : image.layers.front().expected) v = static_cast<std::int8_t>(value(rng));
    runtime::compute_reference_outputs(image);
    images->push_back(std::move(image));
  }
  Workload w;
  w.name = q->network.name();
  const auto in = q->network.layer(0).out_shape;
  w.input_shape = {in.c, in.h, in.w};
  w.layers = q->network.layers_json();
  w.mismatches.assign(w.layers.size(), 0);
  w.verified.assign(w.layers.size(), false);
  w.program = [q, images, dataflow, &w](sw::NpuDriver& driver) {
    runtime::ExecutionOptions eo;
    eo.dataflow = dataflow;
    std::vector<const runtime::QuantizedNetwork*> batch{q.get()};
    for (const auto& image : *images) batch.push_back(&image);
    const std::vector<runtime::NetworkRun> runs =
        batch.size() == 1 ? std::vector<runtime::NetworkRun>{runtime::run_network_on_npu(driver, *q, eo)}
                          : runtime::run_batch_on_npu(driver, batch, eo);
    std::fill(w.verified.begin(), w.verified.end(), true);
    for (const auto& r : runs)
      for (const auto& check : r.layers) {
        const auto i = static_cast<std::size_t>(check.index);
        w.mismatches.at(i) += check.mismatches;
        w.verified.at(i) = w.verified.at(i) && check.verified;
      }
  };
  return w;
}

}  // namespace

nlohmann::json run(const PlatformConfig& config, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const auto dataflow = parse_dataflow(options.dataflow, options.objective);
  if (options.input_h < 0 || options.input_w < 0) throw std::invalid_argument("--input-size: expected HxW > 0");
  if (options.batch < 1 || options.batch > 256) throw std::invalid_argument("--batch: expected 1 to 256");
  const bool is_ir_network = ends_with(options.network, ".yaml") || ends_with(options.network, ".onnx") ||
                             runtime::is_zoo_network(options.network);
  if (!is_ir_network && !options.layer_dataflow.empty())
    throw std::invalid_argument("--layer-dataflow: only zoo, YAML and ONNX networks have named layers to override");
  if (!is_ir_network && options.batch != 1)
    throw std::invalid_argument("--batch: only zoo, YAML and ONNX networks run batched");
  if (is_ir_network && runtime::parse_datatype(options.datatype) != firmware::Datatype::kInt8)
    throw std::invalid_argument("--datatype: zoo, YAML and ONNX networks are int8");
  Workload work = is_ir_network ? network_workload(options.network, options, dataflow)
                                : conv_workload(find_network(options.network), options, dataflow);

  sw::DriverConfig driver_config;
  driver_config.npu_regs_base = address_map::kNpuRegsBase;
  driver_config.dram_base = address_map::kDramBase;
  driver_config.dram_bytes = config.dram.backing_bytes;
  auto program = [&](sw::HostHal& hal) {
    sw::NpuDriver driver(hal, driver_config);
    driver.probe();
    work.program(driver);
  };
  Soc soc("soc", config, program);
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
    const bool verified = work.verified[i];
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
        {"mismatches", work.mismatches[i]},
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
  report["sim"] = {
      {"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count()},
      {"peak_rss_mb", peak_rss_mb()},
      {"simulated_ns", sc_core::sc_time_stamp().to_seconds() * 1e9},
      {"simulator", "npuvp 0.1.0 (SystemC 2.3.4)"},
      {"seed", options.seed}};

  for (const auto& m : soc.layers()) {
    if (!m.finished) continue;
    record.timeline.push_back({work.layers.at(static_cast<std::size_t>(m.layer_id))["name"].get<std::string>(), "layer",
                               "npu.layers", m.begin.at.to_seconds() * 1e9,
                               (m.end.at - m.begin.at).to_seconds() * 1e9});
  }
  for (auto& s : report::timeline_slices(soc.timeline().slices())) record.timeline.push_back(std::move(s));
  record.report = report;
  std::filesystem::create_directories(options.out_dir);
  if (config.simulation.trace.vcd) {
    std::ofstream vcd(options.out_dir + "/trace.vcd");
    soc.vcd().write(vcd);
  }
  report::write_run_outputs(record, options.out_dir);
  return report;
}

std::string format_report(const nlohmann::json& r) { return report::format_text_report(r); }

}  // namespace npuvp::platform
