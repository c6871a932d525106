// The foundation slice end to end: host software offloads one quantized 3x3
// convolution, the NPU runs it through DRAM, DMA, NoC, SRAM and the clusters,
// and every output element is compared with the host reference.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "platform/platform_config.h"
#include "platform/run.h"
#include "sw/apps/workloads.h"
#include "sw/runtime/lowering/conv_workload.h"

namespace npuvp::platform {
namespace {

const char* kPreset = "configs/platforms/edge-ip.yaml";

std::string out_dir(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("npuvp_e2e_" + name)).string();
}

TEST(EndToEnd, ConvSliceIsBitExactWithSaneTiming) {
  const PlatformConfig config = load_platform(kPreset, {});
  RunOptions options;
  options.out_dir = out_dir("slice");
  const nlohmann::json r = run(config, options);
  ASSERT_EQ(r["layers"].size(), 1u);
  const auto& layer = r["layers"][0];
  EXPECT_TRUE(layer["verified"].get<bool>());
  EXPECT_EQ(layer["mismatches"].get<std::uint64_t>(), 0u);
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  // 56x56x64 -> 64 with a 3x3 kernel.
  const std::uint64_t macs = 56ull * 56 * 64 * 64 * 9;
  EXPECT_EQ(layer["macs"].get<std::uint64_t>(), macs);
  const std::uint64_t mac_units = 16 * 8 * 8;
  const auto cycles = layer["cycles"].get<std::uint64_t>();
  EXPECT_GE(cycles, macs / mac_units);
  EXPECT_GE(layer["compute_cycles"].get<std::uint64_t>(), macs / mac_units);
  EXPECT_EQ(cycles, layer["compute_cycles"].get<std::uint64_t>() + layer["stall_cycles"].get<std::uint64_t>());
  std::uint64_t causes = 0;
  for (const auto& [cause, value] : layer["stall_cycles_by_cause"].items()) causes += value.get<std::uint64_t>();
  EXPECT_EQ(causes, layer["stall_cycles"].get<std::uint64_t>());
  EXPECT_LE(layer["utilization"].get<double>(), 1.0);
  EXPECT_GT(layer["utilization"].get<double>(), 0.2);
  // Input, weights, bias and requant tables are read at least once; the
  // output is written exactly once.
  EXPECT_GE(layer["dram_read_bytes"].get<std::uint64_t>(), 56ull * 56 * 64 + 64 * 9 * 64);
  EXPECT_EQ(layer["dram_write_bytes"].get<std::uint64_t>(), 56ull * 56 * 64);
  // Energy: the total is the sum of its parts, and the run's total that of its layers.
  const auto& e = layer["energy_pj"];
  const double parts = e["mac"].get<double>() + e["rf"].get<double>() + e["buffer"].get<double>() +
                       e["sram"].get<double>() + e["noc"].get<double>() + e["dram"].get<double>() +
                       e["leakage"].get<double>();
  EXPECT_NEAR(e["total"].get<double>(), parts, 1e-6 * parts);
  EXPECT_NEAR(r["totals"]["energy_uj"].get<double>(), e["total"].get<double>() * 1e-6, 1e-9);
  EXPECT_NEAR(e["mac"].get<double>(), 0.3 * static_cast<double>(macs), 1.0);
  // The buffers' bytes at the SRAM law's price of a 64 KiB buffer (both are):
  // 4.0 pJ × 8^0.153. The whole input tile is filled into them at least once.
  const auto& b = layer["buffer_bytes"];
  const auto bytes = [&](const char* k) { return b[k].get<double>(); };
  EXPECT_GE(bytes("input_written"), 56.0 * 56 * 64);
  EXPECT_GE(bytes("weight_read"), 64.0 * 9 * 64);
  EXPECT_NEAR(e["buffer"].get<double>(),
              5.498354782288116 *
                  (bytes("weight_read") + bytes("weight_written") + bytes("input_read") + bytes("input_written")),
              1e-9 * e["buffer"].get<double>());
  for (const char* f :
       {"report.json", "layers.csv", "trace.vcd", "power.csv", "timeline.json", "report.html", "roofline.svg"})
    EXPECT_TRUE(std::filesystem::exists(options.out_dir + "/" + f)) << f;
}

TEST(EndToEnd, ReportHasEveryDesignField) {
  const PlatformConfig config = load_platform(kPreset, {});
  RunOptions options;
  options.out_dir = out_dir("fields");
  run(config, options);
  std::ifstream in(options.out_dir + "/report.json");
  const nlohmann::json r = nlohmann::json::parse(in);
  for (const char* k : {"platform", "network", "layers", "totals", "sim"}) EXPECT_TRUE(r.contains(k)) << k;
  for (const char* k : {"name", "input_shape", "total_macs", "total_params"})
    EXPECT_TRUE(r["network"].contains(k)) << k;
  for (const char* k : {"name", "type", "in_shape", "out_shape", "kernel", "stride", "groups", "macs", "params",
                        "dataflow", "compute_cycles", "stall_cycles", "cycles", "latency_ns", "utilization",
                        "dram_read_bytes", "dram_write_bytes", "energy_pj", "verified"})
    EXPECT_TRUE(r["layers"][0].contains(k)) << k;
  for (const char* k : {"mac", "rf", "sram", "noc", "dram", "leakage", "total"})
    EXPECT_TRUE(r["layers"][0]["energy_pj"].contains(k)) << k;
  for (const char* k : {"cycles", "latency_ms", "fps", "energy_uj", "avg_power_mw", "peak_power_mw", "all_verified"})
    EXPECT_TRUE(r["totals"].contains(k)) << k;
  for (const char* k : {"wall_seconds", "peak_rss_mb", "simulator"}) EXPECT_TRUE(r["sim"].contains(k)) << k;
  EXPECT_EQ(r["platform"]["name"], "edge-ip");
}

TEST(EndToEnd, HandComputedEnergyAndPowerCsvIntegral) {
  // 64-word register files: [P17]'s 0.23 pJ per access, as the energy table
  // scales its 16-word 0.12 pJ (exponent 0.469).
  // The largest tiling that fits (firmware.smaller_tilings=false): the tiles counted below.
  const PlatformConfig config = load_platform(kPreset, {"pe_array.rf_entries=64", "firmware.smaller_tilings=false"});
  RunOptions options;
  options.out_dir = out_dir("energy");
  options.dataflow = "os";
  const nlohmann::json r = run(config, options);
  const auto& e = r["layers"][0]["energy_pj"];
  // Output-stationary on 8x8: every MAC reads 3 and writes 1 register; every
  // fold writes its 64 results. 28 jobs of 14 x 8 folds (see the cycle test).
  const double macs = 56.0 * 56 * 64 * 64 * 9;
  const double folds = 28.0 * 14 * 8;
  EXPECT_NEAR(e["mac"].get<double>(), 0.3 * macs, 1e-3 * 0.3 * macs);
  const double rf_pj = 0.12 * std::pow(4.0, 0.469);
  EXPECT_NEAR(rf_pj, 0.23, 0.001);
  EXPECT_NEAR(e["rf"].get<double>(), rf_pj * (4 * macs + folds * 64), 1e-6 * e["rf"].get<double>());
  // The buffers (contract/operand_fetches.h), each job m = 112 pixels, n = 64,
  // k = 576: every input is read ceil(64 / 8) = 8 times; 64 accumulators per
  // PE hold all 112 pixels of a column, so every weight is read once per job.
  // The 16 jobs of the first tile fill the weights (576 x 64 bytes each), the
  // rest reuse them; each job fills the 4 input rows of its 2 output rows,
  // 3 at the top and bottom edges, 3584 bytes a row.
  const auto& b = r["layers"][0]["buffer_bytes"];
  EXPECT_EQ(b["input_read"].get<std::uint64_t>(), 28u * 112 * 576 * 8);
  EXPECT_EQ(b["weight_read"].get<std::uint64_t>(), 28u * 576 * 64);
  EXPECT_EQ(b["weight_written"].get<std::uint64_t>(), 16u * 576 * 64);
  EXPECT_EQ(b["input_written"].get<std::uint64_t>(), (28u * 4 - 2) * 3584);
  // power.csv: sum of total_mw x window over the run is the simulation energy.
  std::ifstream csv(options.out_dir + "/power.csv");
  std::string line;
  std::getline(csv, line);
  ASSERT_EQ(line.rfind("time_ns,window_ns,", 0), 0u) << line;
  double pj = 0;
  while (std::getline(csv, line)) {
    std::stringstream row(line);
    std::vector<double> v;
    for (std::string cell; std::getline(row, cell, ',');) v.push_back(std::stod(cell));
    pj += v.back() * v[1];  // mW x ns = pJ
  }
  const double reported = r["totals"]["simulation_energy_uj"].get<double>() * 1e6;
  EXPECT_NEAR(pj, reported, 1e-3 * reported);
  EXPECT_GE(reported, r["totals"]["energy_pj"]["total"].get<double>() * 0.999);
}

TEST(EndToEnd, TraceOpensInGtkwaveTools) {
  if (!std::filesystem::exists("/usr/bin/vcd2fst")) GTEST_SKIP() << "gtkwave's vcd2fst is not installed";
  const PlatformConfig config = load_platform(kPreset, {});
  RunOptions options;
  options.out_dir = out_dir("vcd");
  run(config, options);
  const std::string vcd = options.out_dir + "/trace.vcd";
  const std::string fst = options.out_dir + "/trace.fst";
  std::filesystem::remove(fst);
  ASSERT_EQ(std::system(("/usr/bin/vcd2fst " + vcd + " " + fst + " > /dev/null 2>&1").c_str()), 0);
  EXPECT_GT(std::filesystem::file_size(fst), 1000u);
  // The signals the foundation promises, under scopes that mirror the hierarchy.
  std::ifstream in(vcd);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* s : {"$scope module control $end", "$var wire 1 ", " busy $end", " computing $end",
                        "$scope module cluster_15 $end", "$scope module ch0 $end", " bank7 $end", " total_mw $end"})
    EXPECT_NE(text.find(s), std::string::npos) << s;
}

TEST(EndToEnd, ZeroSkippingSavesCyclesAndEnergyWithTheSameResults) {
  const PlatformConfig config = load_platform(kPreset, {"pe_array.zero_skipping=true"});
  RunOptions options;
  options.out_dir = out_dir("sparse");
  options.ideal_memory = true;  // the array's schedule alone
  options.dataflow = "os";
  options.weight_sparsity = 0.5;
  const nlohmann::json r = run(config, options);
  const auto& layer = r["layers"][0];
  EXPECT_TRUE(layer["verified"].get<bool>());
  // Half of every filter is zero. Tiles of 32 and 24 rows give 16 + 12 jobs of
  // 2 rows (112 pixels) by 64 channels, output-stationary on 8x8: 14 x 8 folds
  // of (taps + 8 + 8 - 2) cycles each, 3136 folds over 16 clusters.
  // Dense: 576 taps, 115640 cycles.
  const std::uint64_t taps = 288;
  EXPECT_EQ(layer["compute_cycles"].get<std::uint64_t>(), 7 * 8 * (taps + 14) * 56 / 16);
  // MAC energy counts only the MACs performed: half.
  EXPECT_NEAR(layer["energy_pj"]["mac"].get<double>(), 0.3 * layer["macs"].get<double>() / 2, 1.0);
  EXPECT_EQ(layer["performed_macs"].get<std::uint64_t>(), layer["macs"].get<std::uint64_t>() / 2);
  // The roofs count the MACs performed: effective TOPS pass what the array
  // did, the roofline does not (its attainment read 5.9 with every weight zero).
  EXPECT_DOUBLE_EQ(r["totals"]["performed_tops"].get<double>(), r["totals"]["effective_tops"].get<double>() / 2);
  EXPECT_EQ(r["roofline"]["layers"][0]["ops"].get<double>(), layer["macs"].get<double>());
  EXPECT_LE(r["totals"]["roofline_attainment"].get<double>(), 1.0);
}

TEST(EndToEnd, WrongDmaStrideIsCaughtByTheCheck) {
  const PlatformConfig config = load_platform(kPreset, {});
  RunOptions options;
  options.out_dir = out_dir("stride");
  // 64 bytes too many between input rows: the DMA gathers the wrong rows.
  options.fault_input_row_pitch_delta = 64;
  const nlohmann::json r = run(config, options);
  EXPECT_FALSE(r["layers"][0]["verified"].get<bool>());
  EXPECT_GT(r["layers"][0]["mismatches"].get<std::uint64_t>(), 1000u);
  EXPECT_FALSE(r["totals"]["all_verified"].get<bool>());
}

// One platform per process: each forced dataflow is its own test.
void expect_exact_with_dataflow(const std::string& dataflow) {
  // The largest tiling that fits (firmware.smaller_tilings=false): the two tiles counted below.
  const PlatformConfig config = load_platform(kPreset, {"firmware.smaller_tilings=false"});
  RunOptions options;
  options.out_dir = out_dir(dataflow);
  options.dataflow = dataflow;
  const nlohmann::json r = run(config, options);
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  EXPECT_EQ(r["layers"][0]["dataflow"], dataflow);
  // The report gives both dataflows' costs whichever ran. Each cluster's
  // share of each of the two tiles (32 and 24 rows) is 2 rows (112 pixels) x
  // 64 channels x 576 taps. WS: 72 x 8 folds of (112 + 14) plus an 8-cycle
  // preload; OS: 14 x 8 folds of (576 + 14).
  const auto& costs = r["layers"][0]["dataflow_costs"];
  EXPECT_EQ(costs["ws"]["compute_cycles"], 2 * 72 * 8 * (112 + 14 + 8));
  EXPECT_EQ(costs["os"]["compute_cycles"], 2 * 14 * 8 * (576 + 14));
  // One K block: both read the input once (33 + 25 rows of 56 x 64 bytes:
  // each tile with its halo row), 64 filters of 576 bytes with 12 bytes of
  // bias and requantization each, and write the 56x56x64 output once.
  for (const char* d : {"ws", "os"})
    EXPECT_EQ(costs[d]["dram_bytes"], (33 + 25) * 56 * 64 + 64 * (576 + 12) + 56 * 56 * 64) << d;
  EXPECT_EQ(costs["chosen"], dataflow);
  EXPECT_EQ(costs["reason"], "forced by --dataflow");
  EXPECT_EQ(r["layers"][0]["tiling"]["order"], "weight_blocks_outer");
  EXPECT_EQ(r["layers"][0]["tiling"]["rows_per_tile"], 32);
  EXPECT_EQ(r["layers"][0]["tiling"]["k_block"], 64);
  EXPECT_EQ(r["layers"][0]["tiling"]["cluster_split"], "rows into 16 groups, output channels into 1 slices of 64");
}

TEST(EndToEnd, ForcedWeightStationaryIsExact) { expect_exact_with_dataflow("ws"); }
TEST(EndToEnd, ForcedOutputStationaryIsExact) { expect_exact_with_dataflow("os"); }

TEST(EndToEnd, SmallerInputAndOverriddenArrayStillExact) {
  const PlatformConfig config = load_platform(kPreset, {"pe_array.rows=4", "pe_array.cols=16", "sram.bank_kb=16"});
  RunOptions options;
  options.out_dir = out_dir("small");
  options.input_h = 23;
  options.input_w = 17;
  const nlohmann::json r = run(config, options);
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  EXPECT_EQ(r["layers"][0]["out_shape"], nlohmann::json({64, 23, 17}));
}

// conv_slice in one datatype, output-stationary with ideal memory (the
// array's schedule alone): every output checked, the layer reports its
// datatype, and MAC energy is that datatype's price per MAC.
nlohmann::json run_datatype(const std::string& datatype, const std::vector<std::string>& sets, double mac_pj) {
  const PlatformConfig config = load_platform(kPreset, sets);
  RunOptions options;
  options.out_dir = out_dir("datatype_" + datatype);
  options.datatype = datatype;
  options.dataflow = "os";
  options.ideal_memory = true;
  const nlohmann::json r = run(config, options);
  const auto& layer = r["layers"][0];
  EXPECT_TRUE(layer["verified"].get<bool>());
  EXPECT_EQ(layer["mismatches"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(layer["datatype"], datatype);
  const double macs = 56.0 * 56 * 64 * 64 * 9;
  EXPECT_EQ(layer["macs"].get<double>(), macs);
  EXPECT_NEAR(layer["energy_pj"]["mac"].get<double>(), mac_pj * macs, 1e-6 * mac_pj * macs);
  return r;
}

// Int8 with ideal memory, output-stationary: 196 folds per cluster (the
// 28 jobs of 14 x 8 folds over 16 clusters) of 576 + 8 + 8 - 2 cycles.
constexpr std::uint64_t kInt8ComputeCycles = 196 * (576 + 14);

TEST(EndToEnd, Int4ConvSliceIsExactAndPackedLanesHalveTheReduction) {
  static_assert(kInt8ComputeCycles == 115640);
  const nlohmann::json r = run_datatype("int4", {"pe_array.int4_packing=true"}, 0.075);
  // One byte per int4 value: the same tiling and folds as int8, but each lane
  // does two MACs per cycle, so the 576-long reduction streams in 288 cycles.
  const auto compute = r["layers"][0]["compute_cycles"].get<std::uint64_t>();
  EXPECT_EQ(compute, 196u * (288 + 14));
  EXPECT_LT(compute, kInt8ComputeCycles);
  // Utilization counts a packed lane as two MACs per cycle.
  EXPECT_LE(r["layers"][0]["utilization"].get<double>(), 1.0);
}

TEST(EndToEnd, Int16ConvSliceIsExact) {
  const nlohmann::json r = run_datatype("int16", {}, 0.72);
  // Two-byte elements double the bytes moved, not the work per lane.
  EXPECT_EQ(r["layers"][0]["compute_cycles"].get<std::uint64_t>(), kInt8ComputeCycles);
  EXPECT_EQ(r["layers"][0]["dram_write_bytes"].get<std::uint64_t>(), 2ull * 56 * 56 * 64);
}

// fp16 is checked against double math on the same half inputs with the
// tolerance stated in sw/runtime/lowering/conv_workload.h: one half ulp at the
// result + 1e-3 relative + the worst-case fp32 accumulation error.
TEST(EndToEnd, Fp16ConvSliceIsWithinTolerance) {
  const nlohmann::json r = run_datatype("fp16", {}, 1.5);
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
}

TEST(EndToEnd, Fp16AndUnknownDatatypesAreRejectedForZooNetworks) {
  const PlatformConfig config = load_platform(kPreset, {});
  RunOptions options;
  options.network = "resnet18";
  options.datatype = "fp16";
  EXPECT_THROW(run(config, options), std::invalid_argument);
  options.network = "conv_slice";
  options.datatype = "int3";
  EXPECT_THROW(run(config, options), std::invalid_argument);
}

// platform::run with a host program of one's own: the report lists the
// workload's layers with what the program recorded, and the NPU's measured
// cycles land on the layer its commands name.
TEST(EndToEnd, AProgramOfOnesOwnIsRunAndReported) {
  runtime::ConvLayerSpec spec;
  spec.name = "mine";
  spec.in_c = 8, spec.in_h = 9, spec.in_w = 7, spec.out_c = 16;
  const runtime::PreparedConv layer = runtime::prepare_conv(spec, 3);
  apps::Workload work;
  work.name = "own_program";
  work.input_shape = {8, 9, 7};
  work.layers = {apps::describe_conv_layer(layer), apps::describe_conv_layer(layer)};
  work.layers[1]["name"] = "mine_again";
  auto verdicts = work.verdicts = std::make_shared<apps::LayerVerdicts>();
  verdicts->mismatches = {0, 0};
  verdicts->verified = {false, false};
  work.program = [&layer, verdicts](sw::NpuDriver& driver) {
    verdicts->verified[0] = runtime::run_conv_on_npu(driver, layer, 0).verified();
    // The second layer's outputs are declared wrong: the report must say so.
    runtime::run_conv_on_npu(driver, layer, 1);
    verdicts->mismatches[1] = 5;
  };
  RunOptions options;
  options.out_dir = out_dir("own");
  const nlohmann::json r = run(load_platform(kPreset, {}), options, work);
  EXPECT_EQ(r["network"]["name"], "own_program");
  ASSERT_EQ(r["layers"].size(), 2u);
  EXPECT_EQ(r["layers"][0]["name"], "mine");
  EXPECT_TRUE(r["layers"][0]["verified"].get<bool>());
  EXPECT_EQ(r["layers"][1]["name"], "mine_again");
  EXPECT_FALSE(r["layers"][1]["verified"].get<bool>());
  EXPECT_EQ(r["layers"][1]["mismatches"], 5);
  EXPECT_FALSE(r["totals"]["all_verified"].get<bool>());
  // The same layer twice: equal MACs, both measured.
  EXPECT_EQ(r["layers"][0]["macs"], r["layers"][1]["macs"]);
  EXPECT_GT(r["layers"][0]["cycles"].get<std::uint64_t>(), 0u);
  EXPECT_GT(r["layers"][1]["cycles"].get<std::uint64_t>(), 0u);
  for (const char* f : {"report.json", "layers.csv", "report.html", "trace.vcd"})
    EXPECT_TRUE(std::filesystem::exists(options.out_dir + "/" + f)) << f;
}

TEST(EndToEnd, AProgramWithoutAVerdictPerLayerIsRefused) {
  apps::Workload work;
  work.name = "own_program";
  work.layers = nlohmann::json::array({{{"name", "a"}}, {{"name", "b"}}});
  work.verdicts = std::make_shared<apps::LayerVerdicts>();
  work.verdicts->verified = {true};
  work.verdicts->mismatches = {0};
  work.program = [](sw::NpuDriver&) {};
  RunOptions options;
  options.out_dir = out_dir("own_refused");
  try {
    run(load_platform(kPreset, {}), options, work);
    ADD_FAILURE() << "a workload of 2 layers with 1 verdict ran";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "workload 'own_program': verdicts must hold one entry per layer (2)");
  }
}

}  // namespace
}  // namespace npuvp::platform
