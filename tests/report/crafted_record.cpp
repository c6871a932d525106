#include "tests/report/crafted_record.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace npuvp::report::testing {
namespace {

using nlohmann::json;

// The array does 16 MACs per cycle at 1 GHz, so a layer's compute cycles are
// MACs / 16 and a cycle is 1 ns. Leakage is 5 mW throughout: 5 pJ per ns.
json layer(const std::string& name, const std::string& type, double macs, double cycles, json stalls, double dram_read,
           double dram_write, json energy) {
  double stall = 0;
  for (const auto& [k, v] : stalls.items()) stall += v.get<double>();
  double total = 0;
  for (const auto& [k, v] : energy.items()) total += v.get<double>();
  energy["total"] = total;
  return {{"name", name},
          {"type", type},
          {"in_shape", {8, 16, 16}},
          {"out_shape", {8, 16, 16}},
          {"kernel", {3, 3}},
          {"stride", {1, 2}},
          {"padding", {1, 0, 1, 0}},
          {"groups", 1},
          {"tiling", {{"order", "row_tiles_outer"}, {"k_block", 8}, {"rows_per_tile", 4}}},
          {"inputs", {"a", "b"}},
          {"macs", macs},
          {"params", 584},
          {"dataflow", "ws"},
          {"compute_cycles", macs / 16},
          {"stall_cycles", stall},
          {"stall_cycles_by_cause", stalls},
          {"cycles", cycles},
          {"latency_ns", cycles},
          {"utilization", macs / (cycles * 16)},
          {"dram_read_bytes", dram_read},
          {"dram_write_bytes", dram_write},
          {"energy_pj", energy},
          {"verified", true}};
}

PowerSample sample(double start_ns, double mac, double rf, double sram, double noc, double dram) {
  // mac, rf, buffer, sram, noc, dram, leakage (kPowerComponents)
  PowerSample s{start_ns, 50'000, {mac, rf, 0, sram, noc, dram, 5}, 0};
  for (const double mw : s.component_mw) s.total_mw += mw;
  return s;
}

}  // namespace

RunRecord crafted_record() {
  RunRecord r;
  r.report["platform"] = {{"name", "tiny"},
                          {"description", "1 cluster of 4x4 int8 MACs at 1 GHz"},
                          {"npu", {{"clock_mhz", 1000}, {"clusters", 1}}},
                          {"pe_array", {{"rows", 4}, {"cols", 4}}},
                          {"sram", {{"banks", 4}, {"word_bytes", 8}}},
                          {"dram", {{"memspec", "configs/dram/lpddr4-3200.yaml"}, {"channels", 2}}}};
  r.report["network"] = {
      {"name", "handnet"}, {"input_shape", {8, 16, 16}}, {"total_macs", 1'300'000}, {"total_params", 1752}};
  // 100 us; 50 kB of DRAM traffic -> 40 ops/B.
  r.report["layers"].push_back(layer("conv1", "conv2d", 1'000'000, 100'000,
                                     {{"dram", 30'000}, {"sram_conflict", 7'500}}, 40'000, 10'000,
                                     {{"mac", 1'000'000},
                                      {"rf", 500'000},
                                      {"sram", 200'000},
                                      {"noc", 100'000},
                                      {"dram", 1'000'000},
                                      {"leakage", 500'000}}));
  // 50 us; 100 kB -> 4 ops/B. The name needs escaping in HTML and CSV.
  r.report["layers"].push_back(layer("dw<2>&sep,\"x\"", "depthwise", 200'000, 50'000, {{"dram", 37'500}}, 80'000,
                                     20'000,
                                     {{"mac", 200'000},
                                      {"rf", 100'000},
                                      {"sram", 50'000},
                                      {"noc", 50'000},
                                      {"dram", 2'000'000},
                                      {"leakage", 250'000}}));
  // 50 us; 200 kB -> 1 op/B.
  r.report["layers"].push_back(layer("fc", "fc", 100'000, 50'000, {{"dram", 40'000}, {"dependency", 3'750}}, 150'000,
                                     50'000,
                                     {{"mac", 100'000},
                                      {"rf", 50'000},
                                      {"sram", 25'000},
                                      {"noc", 25'000},
                                      {"dram", 4'000'000},
                                      {"leakage", 250'000}}));
  r.report["totals"] = {{"cycles", 200'000},
                        {"latency_ms", 0.2},
                        {"fps", 5000.0},
                        {"energy_uj", 10.4},
                        {"energy_pj",
                         {{"mac", 1'300'000},
                          {"rf", 650'000},
                          {"sram", 275'000},
                          {"noc", 175'000},
                          {"dram", 7'000'000},
                          {"leakage", 1'000'000},
                          {"total", 10'400'000}}},
                        {"avg_power_mw", 52.0},
                        {"peak_power_mw", 89.0},
                        {"all_verified", true}};
  r.report["dram"] = {{"peak_gbps", 4.0}};
  r.report["sim"] = {{"simulator", "npuvp test"}, {"wall_seconds", 0.5}, {"seed", 1}};

  // 50 us windows; each layer's energy spread evenly over its time:
  // conv1 fills windows 0 and 1 (33 mW), dw window 2 (53 mW), fc window 3 (89 mW).
  r.power = {sample(0, 10, 5, 2, 1, 10), sample(50'000, 10, 5, 2, 1, 10), sample(100'000, 4, 2, 1, 1, 40),
             sample(150'000, 2, 1, 0.5, 0.5, 80)};

  r.timeline = {
      {"conv1", "layer", "npu.layers", 0, 100'000},       {"dw<2>&sep,\"x\"", "layer", "npu.layers", 100'000, 50'000},
      {"fc", "layer", "npu.layers", 150'000, 50'000},     {"tile 0", "tile", "npu.cluster0", 1'000, 40'000},
      {"tile 1", "tile", "npu.cluster0", 50'000, 40'000}, {"rd 40000 B", "dma", "dma.ch0", 0, 20'000}};
  return r;
}

ScratchDir::ScratchDir(const std::string& name)
    : path_(std::filesystem::temp_directory_path() / ("npuvp_report_test_" + std::to_string(::getpid()) + "_" + name)) {
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(path_, ignored);
}

std::string read_text(const std::filesystem::path& path) {
  std::ifstream is(path, std::ios::binary);
  std::ostringstream os;
  os << is.rdbuf();
  return os.str();
}

}  // namespace npuvp::report::testing
