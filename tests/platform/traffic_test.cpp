// report.json's traffic_bytes of one small convolution, derived by hand from
// the loop nest each dataflow runs (the way Timeloop counts: reads + writes
// at each level) and required to be equal. conv_slice at 8x8: 64 -> 64
// channels, 3x3, padding 1, int8, on the Squeezelerator preset (one 32x32
// array) with one SRAM bank, so the whole layer is one tile, one K block and
// one cluster job, and every NoC attachment sits on one router.
#include <filesystem>

#include <gtest/gtest.h>

#include "platform/platform_config.h"
#include "platform/run.h"

namespace npuvp::platform {
namespace {

constexpr std::uint64_t kMacs = 8 * 8 * 64 * 576;  // 64 pixels × 64 filters × 3·3·64
constexpr std::uint64_t kTile = 8 * 8 * 64;        // the input tile, the output (bytes)
constexpr std::uint64_t kWeights = 64 * 576;

nlohmann::json run_layer(const std::string& dataflow, const std::string& datatype = "int8") {
  // The preset's arrays run WS and os2d; SCALE-Sim's OS is added to compare.
  const PlatformConfig config = load_platform(
      "configs/platforms/squeezelerator.yaml",
      {"sram.banks=1", "sram.bank_kb=512", "pe_array.dataflows=[ws,os,os2d]", "firmware.smaller_tilings=false"});
  RunOptions options;
  options.out_dir = (std::filesystem::temp_directory_path() / ("npuvp_traffic_" + dataflow)).string();
  options.input_h = options.input_w = 8;
  options.dataflow = dataflow;
  options.datatype = datatype;
  options.trace.files = parse_traces("none");
  const nlohmann::json r = run(config, options);
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  return r["layers"][0];
}

// The levels every dataflow shares in this layer, whose weights take
// `weights` bytes in memory and whose input tile and output `tile` each.
void expect_shared_levels(const nlohmann::json& t, const nlohmann::json& layer, std::uint64_t weights = kWeights,
                          std::uint64_t tile = kTile) {
  // DRAM: the input tile, 64 filters with 4 bytes of bias and 8 of
  // requantization each, and the output.
  EXPECT_EQ(t["dram"], tile + weights + 64 * 12 + tile);
  // SRAM (64-byte words, every access here whole words): the DMA writes what
  // it loads and reads the output it stores; the cluster reads its 192-byte
  // job, the weights, bias, requantization and tile and writes the output;
  // the firmware writes a chain of 4 descriptors (three weight loads, one
  // input load) and one of 1 (the store), 64 bytes each, which the DMA reads;
  // and writes the job table (a 64-byte word of completion words, the job).
  // The cluster writes its completion word, which the firmware reads twice
  // (before and after the job's IRQ): three more word accesses.
  const std::uint64_t data = (tile + weights + 64 * 12) + tile + (192 + weights + 64 * 12 + tile) + tile;
  const std::uint64_t control = 5 * 64 * 2 + 64 + 192;
  EXPECT_EQ(t["sram"], data + control + 3 * 64);
  // NoC: the same bytes, the completion word 4 bytes each time, and 13
  // register accesses of 4 bytes by the command processor: per DMA chain 3
  // writes to start it and an IRQ read and clear (2 chains); for the job
  // multicast writes of JOB_ADDR, START and (the IRQ) clear.
  EXPECT_EQ(t["noc"], data + control + 3 * 4 + (2 * (3 + 2) + 3) * 4);
  // One router from every attachment to every other.
  EXPECT_EQ(layer["noc_byte_hops"], t["noc"]);
}

TEST(LayerTraffic, WeightStationaryCountsEveryLevelByHand) {
  const nlohmann::json layer = run_layer("ws");
  const auto& t = layer["traffic_bytes"];
  ASSERT_EQ(layer["dataflow"], "ws");
  // 576 reduction steps on 32 rows: 18 row folds; 64 filters on 32 columns:
  // 2 column folds; 36 folds of 1024 PEs.
  // RF: per MAC two operand reads (1 byte) and a partial sum written onward
  // (4 bytes); per fold 1024 weights loaded.
  EXPECT_EQ(t["rf"], kMacs * (2 + 4) + 36 * 1024);
  // Buffers: the weights written once and read once (each PE holds its
  // weight for the whole stream); the tile written once and read once
  // (each input serves the 2 column folds, 32·16 filters per register-file
  // pass); partial sums of 17 of the 18 row folds, 64 pixels × 64 filters
  // at 4 bytes, written and read back.
  const std::uint64_t psums = 17 * 64 * 64 * 4;
  EXPECT_EQ(t["buffer"], 2 * kWeights + kTile + 64 * 576 + 2 * psums);
  expect_shared_levels(t, layer);
}

// int4: every operand two per byte (contract/int4_storage.h): the weights
// (a filter's 576 values in 288 bytes), the input tile and the output (a
// pixel's 64 channels in 32 bytes) in DRAM, in SRAM, on the NoC and in the
// cluster's buffers, which the array reads packed.
TEST(LayerTraffic, Int4OperandsMoveTwoPerByteAtEveryLevel) {
  const nlohmann::json layer = run_layer("ws", "int4");
  const auto& t = layer["traffic_bytes"];
  ASSERT_EQ(layer["datatype"], "int4");
  constexpr std::uint64_t kPacked = 64 * 288;
  constexpr std::uint64_t kPackedTile = 8 * 8 * 32;
  EXPECT_EQ(t["dram"], 2 * 2048 + 18432 + 768);
  EXPECT_EQ(t["rf"], kMacs * (2 + 4) + 36 * 1024);
  // The input buffer's reads as for int8 (64 × 576 values), two per byte.
  EXPECT_EQ(t["buffer"], 2 * kPacked + kPackedTile + 64 * 576 / 2 + 2 * 17 * 64 * 64 * 4);
  expect_shared_levels(t, layer, kPacked, kPackedTile);
}

TEST(LayerTraffic, OutputStationaryCountsEveryLevelByHand) {
  const nlohmann::json layer = run_layer("os");
  const auto& t = layer["traffic_bytes"];
  ASSERT_EQ(layer["dataflow"], "os");
  // 64 pixels on 32 rows, 64 filters on 32 columns: 4 folds.
  // RF: per MAC two operand reads (1 byte), the accumulator read and written
  // (4 bytes each); per fold 1024 accumulators cleared.
  EXPECT_EQ(t["rf"], kMacs * (2 + 8) + 4 * 1024 * 4);
  // Buffers: weights written once and read once (a PE's 16 accumulators
  // cover the 2 row folds' pixels: 32·16 pixels per weight fetch); the tile
  // written once and each input read once per column fold (2). No partial
  // sum leaves a PE.
  EXPECT_EQ(t["buffer"], 2 * kWeights + kTile + 64 * 576 * 2);
  expect_shared_levels(t, layer);
}

TEST(LayerTraffic, SpatialOutputStationaryCountsEveryLevelByHand) {
  const nlohmann::json layer = run_layer("os2d");
  const auto& t = layer["traffic_bytes"];
  ASSERT_EQ(layer["dataflow"], "os2d");
  // One patch (the 8x8 outputs) per filter: 64 folds of 576 cycles, the
  // first 32-row load and the last drain exposed.
  EXPECT_EQ(layer["compute_cycles"], 32 + 576 + 63 * 576 + 32);
  // RF: per MAC two operand reads (1 byte), the accumulator read and written
  // (4 bytes each); per fold 1024 accumulators cleared.
  EXPECT_EQ(t["rf"], kMacs * (2 + 8) + 64 * 1024 * 4);
  // Buffers: weights written once and each broadcast once (one patch); the
  // tile written once and the patch's 10x10 input region of each of the 64
  // channels read once per pass of 16 filters (the register file holds 16
  // accumulators): 4 passes. No partial sum leaves a PE.
  EXPECT_EQ(t["buffer"], 2 * kWeights + kTile + 10 * 10 * 64 * 4);
  expect_shared_levels(t, layer);
}

TEST(LayerTraffic, ADataflowTheArraysDoNotRunIsRefusedBeforeTheRun) {
  const PlatformConfig config = load_platform("configs/platforms/squeezelerator.yaml", {});
  RunOptions options;
  options.out_dir = (std::filesystem::temp_directory_path() / "npuvp_traffic_refused").string();
  options.dataflow = "os";
  try {
    run(config, options);
    FAIL() << "expected the run to be refused";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "layer 'conv3x3': dataflow os is not one the arrays run; pe_array.dataflows gives [ws, os2d]");
  }
}

}  // namespace
}  // namespace npuvp::platform
