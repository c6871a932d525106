#include "platform/run.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include <sys/resource.h>

#include "platform/soc.h"
#include "sw/driver/npu_driver.h"
#include "sw/runtime/conv_workload.h"

namespace npuvp::platform {
namespace {

struct NetworkDef {
  const char* name;
  const char* description;
  std::vector<runtime::ConvLayerSpec> layers;
};

const std::vector<NetworkDef>& networks() {
  static const std::vector<NetworkDef> defs = {
      {"conv_slice", "one 3x3 convolution, 56x56x64 -> 64, stride 1, pad 1, ReLU (the foundation slice)",
       {runtime::ConvLayerSpec{"conv3x3", 64, 56, 56, 64, 3, 3, 1, 1, 1, true}}},
  };
  return defs;
}

const NetworkDef& find_network(const std::string& name) {
  for (const auto& n : networks())
    if (name == n.name) return n;
  std::string known;
  for (const auto& n : networks()) known += std::string(known.empty() ? "" : ", ") + n.name;
  throw std::invalid_argument("unknown network '" + name + "' (known: " + known + ")");
}

firmware::DataflowChoice parse_dataflow(const std::string& d) {
  if (d == "ws") return firmware::DataflowChoice::kWeightStationary;
  if (d == "os") return firmware::DataflowChoice::kOutputStationary;
  if (d == "hybrid") return firmware::DataflowChoice::kAuto;
  throw std::invalid_argument("--dataflow: expected ws, os or hybrid, got '" + d + "'");
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

nlohmann::json energy_json(const power::EnergyBreakdown& e) {
  return {{"mac", e.mac}, {"rf", e.rf}, {"sram", e.sram}, {"noc", e.noc}, {"dram", e.dram},
          {"leakage", e.leakage}, {"total", e.total()}};
}

void write_power_csv(const Soc& soc, const std::string& path) {
  std::ofstream os(path);
  os << "time_ns,mac_mw,rf_mw,sram_mw,noc_mw,dram_mw,leakage_mw,total_mw\n";
  const auto& w = soc.power_windows();
  const double bank_kb = static_cast<double>(soc.config().npu.sram_bank.size_bytes) / 1024.0;
  for (std::size_t i = 1; i < w.size(); ++i) {
    const double seconds = (w[i].at - w[i - 1].at).to_seconds();
    if (seconds <= 0) continue;
    const auto e = power::price(soc.config().energy, w[i].activity - w[i - 1].activity, bank_kb,
                                soc.config().npu.noc.flit_bytes, soc.leakage_sources(), seconds);
    const double to_mw = 1e-12 / seconds * 1e3;
    os << std::fixed << std::setprecision(3) << w[i - 1].at.to_seconds() * 1e9 << ',' << e.mac * to_mw << ','
       << e.rf * to_mw << ',' << e.sram * to_mw << ',' << e.noc * to_mw << ',' << e.dram * to_mw << ','
       << e.leakage * to_mw << ',' << e.total() * to_mw << '\n';
  }
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
  return out;
}

nlohmann::json run(const PlatformConfig& config, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  const NetworkDef& net = find_network(options.network);
  const auto dataflow = parse_dataflow(options.dataflow);
  if (options.input_h < 0 || options.input_w < 0) throw std::invalid_argument("--input-size: expected HxW > 0");

  std::vector<runtime::PreparedConv> layers;
  for (std::size_t i = 0; i < net.layers.size(); ++i) {
    runtime::ConvLayerSpec spec = net.layers[i];
    if (i == 0 && options.input_h > 0) {
      spec.in_h = options.input_h;
      spec.in_w = options.input_w;
    }
    spec.dataflow = dataflow;
    layers.push_back(runtime::prepare_conv(spec, options.seed + static_cast<std::uint32_t>(i)));
  }

  std::vector<runtime::ConvOnNpu> results(layers.size());
  std::string host_error;
  sw::DriverConfig driver_config;
  driver_config.npu_regs_base = kNpuRegsBase;
  driver_config.dram_base = kDramBase;
  driver_config.dram_bytes = config.dram.backing_bytes;
  runtime::LoweringFaults faults;
  faults.input_row_pitch_delta = options.fault_input_row_pitch_delta;
  auto program = [&](sw::HostHal& hal) {
    sw::NpuDriver driver(hal, driver_config);
    driver.probe();
    for (std::size_t i = 0; i < layers.size(); ++i)
      results[i] = runtime::run_conv_on_npu(driver, layers[i], static_cast<std::uint32_t>(i), faults);
  };
  Soc soc("soc", config, program);
  sc_core::sc_start();
  if (!soc.host().finished()) throw std::runtime_error("simulation ended before the host program finished");
  if (!soc.host().failure().empty()) throw std::runtime_error("host software failed: " + soc.host().failure());

  const double clock_hz = config.npu.clock_mhz * 1e6;
  const std::uint64_t mac_units =
      std::uint64_t{config.npu.clusters} * config.npu.cluster.array.rows * config.npu.cluster.array.cols;
  const double bank_kb = static_cast<double>(config.npu.sram_bank.size_bytes) / 1024.0;
  nlohmann::json report;
  report["platform"] = config.resolved;
  std::uint64_t total_macs = 0, total_params = 0;
  for (const auto& l : layers) {
    total_macs += l.macs();
    total_params += l.parameter_count();
  }
  report["network"] = {{"name", net.name},
                       {"input_shape", {layers[0].in_shape.c, layers[0].in_shape.h, layers[0].in_shape.w}},
                       {"total_macs", total_macs},
                       {"total_params", total_params}};
  nlohmann::json layer_rows = nlohmann::json::array();
  std::uint64_t total_cycles = 0;
  power::EnergyBreakdown total_energy;
  bool all_verified = true;
  double peak_power_mw = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    const LayerMark* mark = nullptr;
    for (const auto& m : soc.layers())
      if (m.layer_id == static_cast<std::int32_t>(i) && m.finished) mark = &m;
    if (mark == nullptr) throw std::runtime_error("layer " + std::to_string(i) + " left no timing record");
    const double seconds = (mark->end.at - mark->begin.at).to_seconds();
    const auto cycles = static_cast<std::uint64_t>(seconds * clock_hz + 0.5);
    const std::uint64_t compute = (mark->end.compute_cycles - mark->begin.compute_cycles) / config.npu.clusters;
    const auto energy = power::price(config.energy, mark->end.activity - mark->begin.activity, bank_kb,
                                     config.npu.noc.flit_bytes, soc.leakage_sources(), seconds);
    const std::uint64_t dram_rd = mark->end.dram_read_bytes - mark->begin.dram_read_bytes;
    const std::uint64_t dram_wr = mark->end.dram_write_bytes - mark->begin.dram_write_bytes;
    const bool verified = results[i].verified();
    all_verified = all_verified && verified;
    total_cycles += cycles;
    total_energy.mac += energy.mac;
    total_energy.rf += energy.rf;
    total_energy.sram += energy.sram;
    total_energy.noc += energy.noc;
    total_energy.dram += energy.dram;
    total_energy.leakage += energy.leakage;
    layer_rows.push_back({
        {"name", l.spec.name},
        {"type", "conv2d"},
        {"in_shape", {l.in_shape.c, l.in_shape.h, l.in_shape.w}},
        {"out_shape", {l.out_shape.c, l.out_shape.h, l.out_shape.w}},
        {"kernel", {l.spec.kernel_h, l.spec.kernel_w}},
        {"stride", l.spec.stride},
        {"groups", 1},
        {"macs", l.macs()},
        {"params", l.parameter_count()},
        {"dataflow", options.dataflow},
        {"compute_cycles", compute},
        {"stall_cycles", cycles > compute ? cycles - compute : 0},
        {"cycles", cycles},
        {"latency_ns", seconds * 1e9},
        {"utilization", cycles == 0 ? 0.0 : static_cast<double>(l.macs()) / (static_cast<double>(cycles) * mac_units)},
        {"dram_read_bytes", dram_rd},
        {"dram_write_bytes", dram_wr},
        {"sram_conflict_cycles", mark->end.sram_conflict_cycles - mark->begin.sram_conflict_cycles},
        {"energy_pj", energy_json(energy)},
        {"verified", verified},
        {"mismatches", results[i].mismatches},
    });
  }
  const auto& windows = soc.power_windows();
  for (std::size_t i = 1; i < windows.size(); ++i) {
    const double s = (windows[i].at - windows[i - 1].at).to_seconds();
    if (s <= 0) continue;
    const auto e = power::price(config.energy, windows[i].activity - windows[i - 1].activity, bank_kb,
                                config.npu.noc.flit_bytes, soc.leakage_sources(), s);
    peak_power_mw = std::max(peak_power_mw, e.total() * 1e-12 / s * 1e3);
  }
  report["layers"] = layer_rows;
  const double latency_s = static_cast<double>(total_cycles) / clock_hz;
  report["totals"] = {{"cycles", total_cycles},
                      {"latency_ms", latency_s * 1e3},
                      {"fps", latency_s > 0 ? 1.0 / latency_s : 0.0},
                      {"energy_uj", total_energy.total() * 1e-6},
                      {"energy_pj", energy_json(total_energy)},
                      {"avg_power_mw", latency_s > 0 ? total_energy.total() * 1e-12 / latency_s * 1e3 : 0.0},
                      {"peak_power_mw", peak_power_mw},
                      {"all_verified", all_verified}};
  report["dram"] = soc.dram().stats_json();
  report["noc"] = soc.npu().noc().stats_json();

  std::filesystem::create_directories(options.out_dir);
  const std::string dir = options.out_dir + "/";
  if (config.simulation.trace.vcd) {
    std::ofstream vcd(dir + "trace.vcd");
    soc.vcd().write(vcd);
  }
  write_power_csv(soc, dir + "power.csv");
  {
    nlohmann::json timeline = {{"traceEvents", nlohmann::json::array()}, {"displayTimeUnit", "ns"}};
    for (const auto& m : soc.layers()) {
      if (!m.finished) continue;
      timeline["traceEvents"].push_back({{"name", layers.at(m.layer_id).spec.name},
                                         {"cat", "layer"},
                                         {"ph", "X"},
                                         {"pid", 1},
                                         {"tid", 1},
                                         {"ts", m.begin.at.to_seconds() * 1e6},
                                         {"dur", (m.end.at - m.begin.at).to_seconds() * 1e6}});
    }
    std::ofstream(dir + "timeline.json") << timeline.dump(1) << '\n';
  }
  report["sim"] = {{"wall_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count()},
                   {"peak_rss_mb", peak_rss_mb()},
                   {"simulated_ns", sc_core::sc_time_stamp().to_seconds() * 1e9},
                   {"simulator", "npuvp 0.1.0 (SystemC 2.3.4)"},
                   {"seed", options.seed}};
  std::ofstream(dir + "report.json") << report.dump(2) << '\n';
  return report;
}

std::string format_report(const nlohmann::json& r) {
  std::ostringstream os;
  os << "npuvp: " << r["network"]["name"].get<std::string>() << " on "
     << r["platform"]["name"].get<std::string>() << "\n\n";
  os << std::left << std::setw(12) << "layer" << std::right << std::setw(12) << "MACs" << std::setw(6) << "df"
     << std::setw(11) << "cycles" << std::setw(11) << "compute" << std::setw(10) << "stall" << std::setw(11)
     << "latency_us" << std::setw(7) << "util" << std::setw(11) << "dram_rd_KB" << std::setw(11) << "dram_wr_KB"
     << std::setw(11) << "energy_uJ" << std::setw(9) << "verified" << '\n';
  for (const auto& l : r["layers"]) {
    os << std::left << std::setw(12) << l["name"].get<std::string>() << std::right << std::setw(12)
       << l["macs"].get<std::uint64_t>() << std::setw(6) << l["dataflow"].get<std::string>() << std::setw(11)
       << l["cycles"].get<std::uint64_t>() << std::setw(11) << l["compute_cycles"].get<std::uint64_t>()
       << std::setw(10) << l["stall_cycles"].get<std::uint64_t>() << std::setw(11) << std::fixed
       << std::setprecision(2) << l["latency_ns"].get<double>() / 1e3 << std::setw(7) << std::setprecision(2)
       << l["utilization"].get<double>() << std::setw(11) << std::setprecision(1)
       << l["dram_read_bytes"].get<double>() / 1024 << std::setw(11) << l["dram_write_bytes"].get<double>() / 1024
       << std::setw(11) << std::setprecision(2) << l["energy_pj"]["total"].get<double>() * 1e-6 << std::setw(9)
       << (l["verified"].get<bool>() ? "yes" : "NO") << '\n';
  }
  const auto& t = r["totals"];
  const auto& e = t["energy_pj"];
  os << "\ntotal: " << t["cycles"].get<std::uint64_t>() << " cycles, " << std::setprecision(4)
     << t["latency_ms"].get<double>() << " ms, " << std::setprecision(1) << t["fps"].get<double>() << " fps, "
     << std::setprecision(2) << t["energy_uj"].get<double>() << " uJ, avg " << t["avg_power_mw"].get<double>()
     << " mW, peak " << t["peak_power_mw"].get<double>() << " mW\n";
  os << "energy split (uJ): mac " << e["mac"].get<double>() * 1e-6 << ", rf " << e["rf"].get<double>() * 1e-6
     << ", sram " << e["sram"].get<double>() * 1e-6 << ", noc " << e["noc"].get<double>() * 1e-6 << ", dram "
     << e["dram"].get<double>() * 1e-6 << ", leakage " << e["leakage"].get<double>() * 1e-6 << '\n';
  os << "all outputs bit-exact against the reference: " << (t["all_verified"].get<bool>() ? "yes" : "NO") << '\n';
  return os.str();
}

}  // namespace npuvp::platform
