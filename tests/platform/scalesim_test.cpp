// SCALE-Sim comparability: its topology files run on the one-array preset
// with --ideal-memory, every layer bit-exact, and per-layer compute_cycles on
// SCALE-Sim v2's schedule (its COMPUTE_REPORT "Total Cycles" is the 0-based
// index of the last cycle, one less than the cycles the array is busy).
#include <filesystem>

#include <gtest/gtest.h>

#include "platform/platform_config.h"
#include "platform/run.h"
#include "sw/runtime/frontend/scalesim_topology.h"

namespace npuvp::platform {
namespace {

void expect_scalesim_cycles(const std::string& dataflow, pe_array::Dataflow df) {
  // The preset as shipped: each layer one tile, as SCALE-Sim runs it
  // (firmware.smaller_tilings: false; with true AlexNet's Conv1 took 115,668 cycles, SCALE-Sim 112,284).
  const PlatformConfig config = load_platform("configs/platforms/systolic-32x32.yaml", {});
  RunOptions options;
  options.network = "configs/networks/scalesim/alexnet.csv";
  options.dataflow = dataflow;
  options.ideal_memory = true;
  options.out_dir = (std::filesystem::temp_directory_path() / ("npuvp_scalesim_" + dataflow)).string();
  const nlohmann::json r = run(config, options);
  const auto topology = runtime::load_scalesim_topology(options.network);
  ASSERT_EQ(r["layers"].size(), topology.size());
  for (std::size_t i = 0; i < topology.size(); ++i) {
    const auto& layer = r["layers"][i];
    EXPECT_TRUE(layer["verified"].get<bool>()) << topology[i].name;
    EXPECT_EQ(layer["dataflow"], dataflow);
    EXPECT_EQ(layer["stall_cycles"].get<std::uint64_t>(), 0u);
    EXPECT_EQ(layer["compute_cycles"].get<std::uint64_t>() - 1,
              runtime::scalesim_compute_cycles(topology[i], df, pe_array::ArrayShape{32, 32}))
        << topology[i].name;
  }
  if (df == pe_array::Dataflow::kWeightStationary) {
    // Published by SCALE-Sim v2 (test/golden_trace/COMPUTE_REPORT.csv,
    // AlexNet Conv1 on a 32x32 WS array): 112283 total cycles, 0 stalls.
    EXPECT_EQ(r["layers"][0]["compute_cycles"].get<std::uint64_t>() - 1, 112283u);
  }
}

TEST(ScaleSim, AlexNetWeightStationaryMatchesScaleSim) {
  expect_scalesim_cycles("ws", pe_array::Dataflow::kWeightStationary);
}

TEST(ScaleSim, AlexNetOutputStationaryMatchesScaleSim) {
  expect_scalesim_cycles("os", pe_array::Dataflow::kOutputStationary);
}

}  // namespace
}  // namespace npuvp::platform
