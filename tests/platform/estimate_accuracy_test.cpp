// How close the firmware's per-convolution latency estimate
// (firmware/layer_plan.h) comes to the measured cycles, per network of the
// issue's target (within ±15 % for 90 % of the convolutions of these four
// networks). The floors are the shares reached so far, so that a change that
// loses accuracy fails; README.md ("The firmware's estimate") has the
// distribution.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

nlohmann::json run(const std::string& network, const std::string& tag, const std::string& options = "") {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_estimate_" + tag);
  const std::string command = std::string(NPUVP_CLI) + " run -q --network " + network + " --traces none" + options +
                              " --out " + dir.string() + " > /dev/null";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(dir / "report.json");
  return nlohmann::json::parse(in);
}

// The chosen plan's estimate over the measured cycles of a convolution.
double ratio(const nlohmann::json& layer) {
  const auto& costs = layer["dataflow_costs"];
  const auto estimate = costs[costs["chosen"].get<std::string>()]["latency_cycles"].get<double>();
  return estimate / layer["cycles"].get<double>();
}

// Convolutions of the network, and how many of them the estimate puts within ±15 %.
void expect_within(const std::string& network, unsigned convolutions, unsigned at_least) {
  const nlohmann::json r = run(network, network);
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  unsigned count = 0, within = 0;
  for (const auto& layer : r["layers"]) {
    if (layer["type"] != "conv2d" || !layer.contains("dataflow_costs")) continue;
    ++count;
    within += std::abs(ratio(layer) - 1) <= 0.15;
  }
  EXPECT_EQ(count, convolutions);
  EXPECT_GE(within, at_least) << network << ": " << within << " of " << count << " within 15 %";
}

TEST(EstimateAccuracy, ResNet18) { expect_within("resnet18", 20, 20); }
// 42 before the wait at the banks behind the other clusters' bytes, 46
// before operand multicast. 51 before the first K block's weights were priced
// behind the layer before's tail (they load during its last step): that
// moved layer2.0.downsample.0, which the NoC's blocking already had the
// estimate underprice (docs/firmware.md), to 0.848 of its 193,938 measured
// cycles. 50 before a job's weights streamed in by column fold behind its
// first fold's (docs/dataflows.md): layer4.1.conv3 and layer4.2.conv3 ran
// 0.861 and 0.875, estimated alike, and their measured gains (117,252 ->
// 104,263 and 115,360 -> 105,028 cycles) fell short of the estimated ones
// (100,901 -> 88,613) by the NoC's blocking the estimate does not see
// (0.8499 and 0.844 now). 50 before each cluster kept a row tile's input
// rows from one K block's job to the next (docs/firmware.md): the jobs'
// fetches and the NoC's blocking behind them both shrank.
TEST(EstimateAccuracy, ResNet50) { expect_within("resnet50", 53, 52); }
// MobileNet v2 was 41 before each layer's tile became the estimate's pick
// among the buffer's halves' tilings: the picks that win are those the
// estimate underprices most (features.0.conv at 16 rows per tile: 19,657
// estimated, 26,427 measured; 24,489 at 48), docs/firmware.md. 36 before a
// job's first input row was priced ahead of its schedule, 38 before the
// DMA's bursts were cut as the channel cuts them and waited at the DRAM
// behind the window's others, 47 before the wait at the banks. 51 before
// operand multicast (docs/dataflows.md): the 14-row-group layers' measured
// time fell by the weights' contention at the banks and the DMA's (e.g.
// features.11.project.conv 17,869 -> 12,895 cycles), their estimate by the
// banks' share only (17,401 -> 16,436), so four now run 1.15-1.28 over;
// 45 with the DRAM controller's read/write grouping and row backfill as well
// (docs/memory.md), whose faster streams the estimate's DRAM terms do not
// yet see. 45 before the first K block's weights were priced behind the
// layer before's tail, where the firmware loads them (layer_prefetch.cpp):
// the 1.15-1.29 layers had them exposed in full (features.7.project.conv
// 6,783 -> 6,159 estimated, 5,724 measured). 50 before each cluster kept a
// row tile's input rows from one K block's job to the next (docs/firmware.md).
// 51 before each cluster issued a job's results when its array finishes
// rather than when the job starts (docs/architecture.md, "Loosely timed,
// within a quantum"): features.10.dw.conv ran 8,381 -> 7,824 cycles, its
// results no longer timed at the banks ahead of the traffic issued during the
// job, and its estimate of 9,191 went from 1.097 to 1.175 of it. 50 before
// each result row was issued within a quantum of when it leaves and the
// presets' quantum went from 200 to 10 ns: features.7.project.conv measured
// 5,126 -> 5,067 cycles against 5,871 estimated (1.145 -> 1.159). 49 before
// the DMA engine issued each burst's read and write at its time, the write no
// longer with its read and the read no longer ahead while it waits for a
// buffer entry (docs/architecture.md, "Loosely timed, within a quantum"): the
// writes stopped booking the banks and the DRAM ahead of the clusters'
// traffic. features.7.project.conv measured 5,067 -> 5,371 cycles (1.093 of
// it), features.10.dw.conv 7,826 -> 8,363 (1.099), and features.12.dw.conv
// 12,133 -> 11,843 against 13,652 estimated (1.153), its DRAM stall 6,146 ->
// 5,859. 51 before each cluster issued its operand reads within a quantum of
// their time: the input rows and later folds' weights of a job met the other
// clusters' traffic in time order rather than booked at the job's start.
// features.16.dw.conv and features.17.dw.conv ran 7,360 -> 8,356 and 6,893 ->
// 8,033 cycles against 6,746 and 6,740 estimated (0.807 and 0.839), their NoC
// stall 964 -> 2,003 and 948 -> 2,146; features.1.project.conv 20,663 ->
// 19,587 and features.11.project.conv 12,208 -> 11,973 went above (1.153 and
// 1.169); features.12.dw.conv came within (1.098). 48 before a multicast went
// as packets of at most a buffer and the firmware cleared a cluster's stale
// IRQ (docs/noc.md, docs/firmware.md): features.15.expand.conv and
// features.17.expand.conv measured 14,821 -> 15,148 and 14,557 -> 15,104
// cycles against 12,826 and 12,832 estimated (0.847 and 0.8496);
// features.11.project.conv 12,062 -> 12,541 came within (1.116).
TEST(EstimateAccuracy, MobileNetV2) { expect_within("mobilenet_v2", 52, 47); }
// 25 before the wait at the banks and the tilings a smaller buffer's K slices
// allow: fire5.expand1x1 now runs 13 rows per tile (14,191 cycles measured,
// 14,386 at 27) and is estimated at 0.84; fire3.expand1x1 moved to 0.848.
// 25 before the first K block's weights were priced behind the layer
// before's tail: fire6.squeeze 1.27 -> 1.154, but fire3.expand1x1, whose
// strided store the estimate underprices, went below (0.845). 24 before a
// job's weights streamed in by column fold behind its first fold's
// (docs/dataflows.md): fire5.expand1x1's 128 filters of 32 weights stream as
// 16 folds of 256 bytes, each its own round trip down the 13 row groups'
// links, and it ran slower (13,038 -> 13,402 cycles) where the estimate
// foresaw a gain (11,188 -> 11,076): 0.826. 23 before the planner offered
// the K blocks of a half, a quarter, ... of a cluster's weight buffer
// (docs/firmware.md): fire8.expand1x1 and fire9.expand1x1 run their rows
// outer in two blocks of 128 filters, which the estimate underprices (0.844
// and 0.796; 1.03 and 1.00 as one block walked blocks outer), and
// fire5.expand1x1 came back within (0.828 -> 0.862). 22 before the estimate
// priced the next layer's first loads beside each layer's last stores
// (docs/firmware.md): the two blocks' stores of fire8/9.expand1x1 into the
// concatenation share the DRAM with fire8/9.expand3x3's first weights, and
// both layers run one block walked blocks outer again; fire3.expand1x1,
// whose strided store the same loads slow, came within. 25 before each result
// row was issued within a quantum of when it leaves and the presets' quantum
// went from 200 to 10 ns (docs/architecture.md, "Loosely timed, within a
// quantum"): fire6.squeeze measured 4,911 -> 5,145 cycles against 5,890
// estimated (1.199 -> 1.145). 26 before each cluster issued its operand reads
// within a quantum of their time: fire6.squeeze measured 5,345 -> 5,036
// cycles (1.102 -> 1.170), its DRAM stall 927 -> 684.
TEST(EstimateAccuracy, SqueezeNet11) { expect_within("squeezenet1_1", 26, 25); }

// A convolution storing into its slice of a concatenation moves 64-byte
// runs: the DMA's burst window over each burst's round trip bounds the store
// (8.7 B/cycle measured), not the DRAM's rate. Priced at the DRAM's rate the
// estimate was 0.41 of the measured cycles; with the burst model 0.79, and
// 0.74 since main's DMA realigns bursts over four mesh ports (the store
// measured slower against the same estimate; not investigated).
TEST(EstimateAccuracy, StridedStoresIntoAConcatSliceArePricedByTheBurstWindow) {
  // The largest tiling that fits, the one the figures above were measured on.
  const nlohmann::json r =
      run("tests/platform/concat_expands.yaml", "concat_expands", " --set firmware.smaller_tilings=false");
  const auto& layer = r["layers"][1];
  ASSERT_EQ(layer["name"], "expand1x1");
  EXPECT_GT(ratio(layer), 0.7);
  EXPECT_LT(ratio(layer), 1.25);
}

// The planner offers each layer the tilings a half, a quarter, ... of the
// global buffer would get and the estimate picks, so a larger buffer keeps
// the plans of a smaller one. Before, the largest tile that fit ran:
// SqueezeNet 1.1 937,658 cycles at 16 KiB banks, 956,025 at 32 and 959,557
// at 64 (fire2/fire3.expand3x3 at 55 rows per tile, 63,338 cycles against
// 42,329 at 16); MobileNet v1 1,392,283 at 64 KiB, 1,399,894 at 128.
void expect_not_slower_with_larger_banks(const std::string& network, std::initializer_list<const char*> sizes) {
  std::uint64_t before = 0;
  for (const char* kb : sizes) {
    const nlohmann::json r = run(network, network + "_banks_" + kb, std::string(" --set sram.bank_kb=") + kb);
    EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
    const auto cycles = r["totals"]["cycles"].get<std::uint64_t>();
    if (before != 0) {
      EXPECT_LE(cycles, before) << network << " with sram.bank_kb=" << kb;
    }
    before = cycles;
  }
}

TEST(EstimateAccuracy, LargerBanksNeverSlowSqueezeNet11) {
  expect_not_slower_with_larger_banks("squeezenet1_1", {"16", "32", "64", "128"});
}
TEST(EstimateAccuracy, LargerBanksNeverSlowMobileNetV1) {
  expect_not_slower_with_larger_banks("mobilenet_v1", {"64", "128"});
}
TEST(EstimateAccuracy, LargerBanksNeverSlowResNet18) {
  expect_not_slower_with_larger_banks("resnet18", {"16", "32", "64", "128"});
}

}  // namespace
