// Whole networks from the zoo, end to end on the default preset: every layer's
// output bit-exact against the host reference executor.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "platform/platform_config.h"
#include "platform/run.h"

namespace npuvp::platform {
namespace {

nlohmann::json run_network(const std::string& name, int h = 0, int w = 0, const std::string& dataflow = "hybrid",
                           int batch = 1, const std::vector<std::string>& overrides = {}) {
  const PlatformConfig config = load_platform("configs/platforms/edge-ip.yaml", overrides);
  RunOptions options;
  options.network = name;
  options.input_h = h;
  options.input_w = w;
  options.dataflow = dataflow;
  options.batch = batch;
  options.out_dir = (std::filesystem::temp_directory_path() / ("npuvp_net_" + name)).string();
  return run(config, options);
}

void expect_all_layers_exact(const nlohmann::json& r) {
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  std::uint64_t macs = 0;
  for (const auto& layer : r["layers"]) {
    EXPECT_TRUE(layer["verified"].get<bool>()) << layer["name"];
    macs += layer["macs"].get<std::uint64_t>();
  }
  EXPECT_EQ(macs, r["network"]["total_macs"].get<std::uint64_t>());
  // At 1024 MACs per cycle no run can be faster than this.
  EXPECT_GE(r["totals"]["cycles"].get<std::uint64_t>(), macs / 1024);
}

TEST(Network, SqueezeNet11At224IsBitExact) {
  const auto r = run_network("squeezenet1_1");
  expect_all_layers_exact(r);
  EXPECT_EQ(r["network"]["total_macs"].get<std::uint64_t>(), 349'151'936u);
  EXPECT_EQ(r["network"]["input_shape"], nlohmann::json({3, 224, 224}));
}

TEST(Network, MobileNetV1At224IsBitExact) {
  const auto r = run_network("mobilenet_v1");
  expect_all_layers_exact(r);
  EXPECT_EQ(r["network"]["total_macs"].get<std::uint64_t>(), 568'740'352u);
}

TEST(Network, ResNet20CifarIsBitExactAndEachLayerHasItsSqnrAgainstTheFloatModel) {
  const auto r = run_network("resnet20_cifar");
  expect_all_layers_exact(r);
  // int8 of a float network with seeded weights: every layer's output is
  // within what 8 bits give (the input's own rounding is the best of them).
  const double input_db = r["layers"][0]["sqnr_db"].get<double>();
  for (const auto& layer : r["layers"]) {
    ASSERT_TRUE(layer["sqnr_db"].is_number()) << layer["name"];
    EXPECT_GT(layer["sqnr_db"].get<double>(), 10.0) << layer["name"];
    EXPECT_LE(layer["sqnr_db"].get<double>(), input_db) << layer["name"];
  }
}

TEST(Network, ShuffleNetV2AtASmallInputIsBitExact) {
  const auto r = run_network("shufflenet_v2_x1_0", 64, 64);
  expect_all_layers_exact(r);
  EXPECT_EQ(r["network"]["input_shape"], nlohmann::json({3, 64, 64}));
  // The host reads each layer's output once to check it: a view (a channel
  // slice, a shuffle) reads the span of the tensor its segments lie in, once
  // for all of them. 760,120 bytes for 488,584 of outputs; when each of a
  // shuffle's one-channel segments read its own span, nearly the whole
  // tensor, it was 19,873,304.
  std::uint64_t outputs = 0;
  for (const auto& layer : r["layers"]) {
    std::uint64_t bytes = 1;
    for (const auto& d : layer["out_shape"]) bytes *= d.get<std::uint64_t>();
    outputs += bytes;
  }
  EXPECT_EQ(outputs, 488'584u);
  EXPECT_EQ(r["units"]["soc.host"]["bytes_read"].get<std::uint64_t>(), 760'120u);
}

TEST(Network, DiracDeltaNetShiftLayersAreBitExact) { expect_all_layers_exact(run_network("diracdeltanet")); }

TEST(Network, ForcedWeightStationaryMobileNetV2IsBitExact) {
  const auto r = run_network("mobilenet_v2", 96, 96, "ws");
  expect_all_layers_exact(r);
  for (const auto& layer : r["layers"]) {
    if (layer["type"] == "conv2d") {
      EXPECT_EQ(layer["dataflow"], "ws") << layer["name"];
    }
  }
}

std::uint64_t dram_read_bytes(const nlohmann::json& r) {
  std::uint64_t read = 0;
  for (const auto& layer : r["layers"]) read += layer["dram_read_bytes"].get<std::uint64_t>();
  return read;
}

TEST(Network, BatchOfThreeLoadsWeightsOnceAndEveryImageIsExact) {
  const auto r = run_network("resnet20_cifar", 0, 0, "hybrid", 3);
  expect_all_layers_exact(r);
  EXPECT_EQ(r["network"]["batch"], 3);
  // The same network for one image, in a process of its own.
  const auto dir = std::filesystem::temp_directory_path() / "npuvp_net_batch1";
  ASSERT_EQ(
      std::system(
          (std::string(NPUVP_CLI) + " run -q --network resnet20_cifar --out " + dir.string() + " > /dev/null").c_str()),
      0);
  std::ifstream in(dir / "report.json");
  const nlohmann::json single = nlohmann::json::parse(in);
  // Weights are fetched once per layer for the whole batch, so three images
  // read less than three single runs and cost less energy each.
  EXPECT_LT(dram_read_bytes(r), 3 * dram_read_bytes(single));
  EXPECT_GT(dram_read_bytes(r), dram_read_bytes(single));
  EXPECT_LT(r["totals"]["energy_per_inference_uj"].get<double>(), single["totals"]["energy_uj"].get<double>());
  EXPECT_NEAR(r["totals"]["energy_per_inference_uj"].get<double>(), r["totals"]["energy_uj"].get<double>() / 3, 1e-6);
  EXPECT_GT(r["totals"]["fps"].get<double>(), single["totals"]["fps"].get<double>());
  // A layer's intensity is the batch's MACs over the batch's DRAM bytes, as
  // the roofline's (it counted one image's MACs: 3 times too low).
  for (std::size_t i = 0; i < r["layers"].size(); ++i) {
    const auto& layer = r["layers"][i];
    const auto& roof = r["roofline"]["layers"][i];
    if (layer["dram_read_bytes"].get<double>() + layer["dram_write_bytes"].get<double>() == 0) continue;
    EXPECT_DOUBLE_EQ(layer["arithmetic_intensity"].get<double>(), roof["intensity_ops_per_byte"].get<double>())
        << layer["name"];
    EXPECT_DOUBLE_EQ(layer["arithmetic_intensity"].get<double>(),
                     6.0 * layer["macs"].get<double>() /
                         (layer["dram_read_bytes"].get<double>() + layer["dram_write_bytes"].get<double>()))
        << layer["name"];
  }
}

TEST(Network, WholeNetworkRunHasNoDramTimingViolation) {
  // Every command the controller issued, checked against the JEDEC rules.
  const auto r = run_network("squeezenet1_1", 0, 0, "hybrid", 1, {"dram.protocol_check=true"});
  expect_all_layers_exact(r);
  ASSERT_TRUE(r["dram"].contains("timing_violations"));
  EXPECT_EQ(r["dram"]["timing_violations"].get<std::uint64_t>(), 0u);
  EXPECT_GT(r["dram"]["refresh_count"].get<std::uint64_t>(), 0u);  // a ms-long run crosses refreshes
}

nlohmann::json run_cli(const std::string& args, const std::string& tag) {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_net_cli_" + tag);
  const int status =
      std::system((std::string(NPUVP_CLI) + " run -q " + args + " --out " + dir.string() + " > /dev/null").c_str());
  EXPECT_EQ(status, 0) << args;
  std::ifstream in(dir / "report.json");
  return nlohmann::json::parse(in);
}

// tests/platform/wide_depthwise.yaml with 16 KiB cluster input buffers: whole
// rows hold a K block of 16 of the 32 channels, so the DMA loads each pixel's
// 16 bytes as a run of its own; column strips load all 32 channels of a
// strip's pixels, a run a row, and read each strip's halo columns (one each
// side, clipped at the map's edges) once more. Each run in a process of its own.
TEST(Network, ColumnStripsKeepTheDepthwiseBlockWholeAndStayExact) {
  const std::string net =
      "--network tests/platform/wide_depthwise.yaml --traces none --set pe_array.input_buffer_kb=16";
  const auto strips = run_cli(net, "strips");
  const auto rows = run_cli(net + " --set firmware.column_strips=false", "whole_rows");
  const std::uint64_t h = 64, w = 256, c = 32, params = c * (9 + 4 + 8);
  for (const auto* r : {&strips, &rows}) {
    EXPECT_TRUE((*r)["totals"]["all_verified"].get<bool>());
    EXPECT_EQ((*r)["layers"][1]["dram_write_bytes"].get<std::uint64_t>(), h * w * c);
  }
  const auto& whole = rows["layers"][1];
  EXPECT_EQ(whole["tiling"]["k_block"], 16);
  EXPECT_EQ(whole["tiling"]["cols_per_tile"], w);
  const auto& dw = strips["layers"][1];
  ASSERT_EQ(dw["name"], "dw");
  EXPECT_EQ(dw["tiling"]["k_block"], c);
  const std::uint64_t cols = dw["tiling"]["cols_per_tile"].get<std::uint64_t>();
  const std::uint64_t tile_rows = dw["tiling"]["rows_per_tile"].get<std::uint64_t>();
  ASSERT_LT(cols, w);
  // Each row tile reads its rows and one more each side inside the map;
  // each strip its columns and one more each side inside the map.
  std::uint64_t input_rows = 0, input_cols = 0;
  for (std::uint64_t r0 = 0; r0 < h; r0 += tile_rows)
    input_rows += std::min(h, r0 + tile_rows + 1) - (r0 == 0 ? 0 : r0 - 1);
  for (std::uint64_t x0 = 0; x0 < w; x0 += cols) input_cols += std::min(w, x0 + cols + 1) - (x0 == 0 ? 0 : x0 - 1);
  EXPECT_EQ(dw["dram_read_bytes"].get<std::uint64_t>(), input_rows * input_cols * c + params);
  EXPECT_EQ(dw["dataflow_costs"][dw["dataflow_costs"]["chosen"].get<std::string>()]["dram_bytes"].get<std::uint64_t>(),
            input_rows * input_cols * c + params + h * w * c);
  // Whole pixels a row rather than 16 bytes a pixel: fewer DRAM requests, less time.
  EXPECT_LT(strips["dram"]["read_requests"].get<std::uint64_t>(),
            rows["dram"]["read_requests"].get<std::uint64_t>() / 4);
  EXPECT_LT(strips["totals"]["cycles"].get<std::uint64_t>(), rows["totals"]["cycles"].get<std::uint64_t>());
}

// tests/platform/strip_residual.yaml with 16 KiB cluster input buffers: no
// whole row fits, so the convolution runs in column strips, each loading its
// input columns (one more each side inside the map) and its columns of the
// residual it adds, once each: 8 rows of 64 channels; the weights, bias and
// requantization 64 x (576 + 4 + 8) bytes.
TEST(Network, ColumnStripsCarryTheFusedResidual) {
  const auto r = run_cli("--network tests/platform/strip_residual.yaml --traces none --set pe_array.input_buffer_kb=16",
                         "strip_residual");
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  const auto& conv = r["layers"][1];
  ASSERT_EQ(conv["name"], "conv");
  EXPECT_EQ(conv["tiling"]["k_block"], 64);
  EXPECT_EQ(conv["tiling"]["rows_per_tile"], 8);
  const std::uint64_t w = 256, cols = conv["tiling"]["cols_per_tile"].get<std::uint64_t>();
  ASSERT_LT(cols, w);
  std::uint64_t input_cols = 0;
  for (std::uint64_t x0 = 0; x0 < w; x0 += cols) input_cols += std::min(w, x0 + cols + 1) - (x0 == 0 ? 0 : x0 - 1);
  EXPECT_EQ(conv["dram_read_bytes"].get<std::uint64_t>(), 8 * input_cols * 64 + 8 * w * 64 + 64 * (576 + 4 + 8));
  EXPECT_EQ(conv["dram_write_bytes"].get<std::uint64_t>(), 8 * w * 64);
}

// With a job queue the firmware starts a tile's jobs while the previous
// tile's run (docs/firmware.md): the clusters wait less for the command
// processor, the network runs faster and computes the same bytes.
TEST(Network, AJobQueueOverlapsJobIssueWithTheRunningTile) {
  const auto queued = run_cli("--network conv_slice --traces none", "queue2");
  const auto waiting = run_cli("--network conv_slice --traces none --set pe_array.job_queue_depth=1", "queue1");
  for (const auto* r : {&queued, &waiting}) EXPECT_TRUE((*r)["totals"]["all_verified"].get<bool>());
  const auto& q = queued["layers"][0];
  const auto& w = waiting["layers"][0];
  EXPECT_EQ(q["macs"], w["macs"]);
  EXPECT_LT(q["stall_cycles_by_cause"]["dependency"].get<std::uint64_t>(),
            w["stall_cycles_by_cause"]["dependency"].get<std::uint64_t>());
  EXPECT_LT(queued["totals"]["cycles"].get<std::uint64_t>(), waiting["totals"]["cycles"].get<std::uint64_t>());
}

// tests/platform/batch_layer.yaml under OS, its 8x8 image one row tile in
// 4 K blocks of 128, walked rows outer: 8 row groups of one row (8 pixels of
// 256 bytes) by 2 K slices, a job per cluster. Each cluster keeps its row from
// one block's job to the next (firmware.keep_input_rows), so it reads and
// writes into its input buffer 2,048 bytes instead of 4 x 2,048, and the
// estimate moves 3 x 16 x 2,048 bytes fewer through the banks and the NoC.
// Both runs plan alike, every output exact. Each run in a process of its own.
TEST(Network, AClusterKeepsItsRowsFromOneKBlocksJobToTheNext) {
  const std::string net = "--network tests/platform/batch_layer.yaml --dataflow os --traces none";
  const auto kept = run_cli(net, "rows_kept");
  const auto fetched = run_cli(net + " --set firmware.keep_input_rows=false", "rows_fetched");
  constexpr std::uint64_t kRow = 8 * 256, kKeptSteps = 3, kJobs = 16;
  for (const auto* r : {&kept, &fetched}) {
    EXPECT_TRUE((*r)["totals"]["all_verified"].get<bool>());
    const auto& t = (*r)["layers"][1]["tiling"];
    EXPECT_EQ(t["order"], "row_tiles_outer");
    EXPECT_EQ(t["k_block"], 128);
    EXPECT_EQ(t["cluster_split"], "rows into 8 groups, output channels into 2 slices of 64");
  }
  for (unsigned c = 0; c < kJobs; ++c) {
    const std::string unit = "soc.npu.cluster_" + std::to_string(c);
    EXPECT_EQ(kept["units"][unit]["input_buffer_write_bytes"].get<std::uint64_t>(), kRow) << unit;
    EXPECT_EQ(fetched["units"][unit]["input_buffer_write_bytes"].get<std::uint64_t>(), 4 * kRow) << unit;
    EXPECT_EQ(fetched["units"][unit]["operand_read_bytes"].get<std::uint64_t>() -
                  kept["units"][unit]["operand_read_bytes"].get<std::uint64_t>(),
              kKeptSteps * kRow)
        << unit;
  }
  const auto& with = kept["layers"][1]["dataflow_costs"]["os"];
  const auto& without = fetched["layers"][1]["dataflow_costs"]["os"];
  for (const char* level : {"sram_bytes", "noc_bytes", "buffer_bytes"})
    EXPECT_EQ(without[level].get<std::uint64_t>() - with[level].get<std::uint64_t>(), kKeptSteps * kJobs * kRow)
        << level;
  EXPECT_LT(with["latency_cycles"].get<std::uint64_t>(), without["latency_cycles"].get<std::uint64_t>());
  EXPECT_LT(kept["totals"]["cycles"].get<std::uint64_t>(), fetched["totals"]["cycles"].get<std::uint64_t>());
}

// tests/platform/batch_layer.yaml under WS: its estimate walks the row
// tiles outer (one row tile is the whole 8x8 image, so an input buffer holds
// all three images of the batch) and each K block's weights, bias and
// requantization table (128 x (256 + 4 + 8) bytes: the blocks of half a
// cluster's weight buffer, whose next block loads sooner; one image alone
// runs blocks of 64, its clusters keeping the image's rows from block to
// block: 36,289 cycles against 36,333 with 128) pass all images once; each
// image's 8x8x256 input is read once and its 8x8x512 output stored once. The
// batch's table of two 32-byte BatchImages is read inside the layer's window;
// the estimate does not count it. Each run in a process of its own.
TEST(Network, ABatchReadsEachWeightBlockOnceForAllImages) {
  const std::uint64_t weights = 512 * (256 + 4 + 8), input = 8 * 8 * 256, output = 8 * 8 * 512, table = 2 * 32;
  const std::string net = "--network tests/platform/batch_layer.yaml --dataflow ws";
  const auto one = run_cli(net, "batch_layer1");
  const auto three = run_cli(net + " --batch 3", "batch_layer3");
  for (const auto* r : {&one, &three}) {
    EXPECT_TRUE((*r)["totals"]["all_verified"].get<bool>());
    const auto& conv = (*r)["layers"][1];
    ASSERT_EQ(conv["name"], "conv");
    EXPECT_EQ(conv["tiling"]["order"], "row_tiles_outer");
    EXPECT_EQ(conv["tiling"]["rows_per_tile"], 8);
  }
  EXPECT_EQ(one["layers"][1]["tiling"]["k_block"], 64);
  EXPECT_EQ(three["layers"][1]["tiling"]["k_block"], 128);
  EXPECT_EQ(three["layers"][1]["tiling"]["images_per_tile"], 3);
  EXPECT_EQ(one["layers"][1]["dram_read_bytes"].get<std::uint64_t>(), weights + input);
  EXPECT_EQ(one["layers"][1]["dram_write_bytes"].get<std::uint64_t>(), output);
  EXPECT_EQ(three["layers"][1]["dram_read_bytes"].get<std::uint64_t>(), weights + 3 * input + table);
  EXPECT_EQ(three["layers"][1]["dram_write_bytes"].get<std::uint64_t>(), 3 * output);
  // The estimate the firmware chose by counts the same DMA bytes.
  EXPECT_EQ(three["layers"][1]["dataflow_costs"]["ws"]["dram_bytes"].get<std::uint64_t>(),
            weights + 3 * input + 3 * output);
}

// tests/platform/batch_fc.yaml at batch 1, 4 and 8. The runtime lays each
// image's input and output of a fully connected layer side by side, so the
// NPU runs the layer once for the batch, its images the pixels of one row
// (report.json: cols_per_tile). fc1 (256 filters of 9,216 bytes) streams
// 6 blocks of 48 into the clusters' slots, 16 slices of 3 (the last block's
// 16 filters in 6 slices), its images in the array's rows: each cluster
// runs a job a block whatever the images, but the pool one per image. Eight
// inputs (73,728 bytes) pass a cluster's 64 KiB input buffer: two strips of
// four, each streaming every block, bias and requantization again.
// cluster_0's jobs: B (pool) + 6 x strips (fc1) + 1 (fc2); cluster_15's:
// 5 x strips. Each run in a process of its own.
TEST(Network, ABatchRunsAFullyConnectedLayerAsOneRowOfItsImages) {
  const std::uint64_t pixel = 9216, block_pass = 256 * (pixel + 4 + 8);
  std::map<unsigned, nlohmann::json> r;
  for (const unsigned b : {1u, 4u, 8u})
    r[b] = run_cli("--network tests/platform/batch_fc.yaml --traces none --batch " + std::to_string(b),
                   "batch_fc" + std::to_string(b));
  const std::map<unsigned, unsigned> strips{{1, 1}, {4, 1}, {8, 2}};
  for (const auto& [b, report] : r) {
    SCOPED_TRACE(b);
    EXPECT_TRUE(report["totals"]["all_verified"].get<bool>());
    const auto& fc1 = report["layers"][3];
    ASSERT_EQ(fc1["name"], "fc1");
    EXPECT_EQ(fc1["tiling"]["k_block"], 48);
    EXPECT_EQ(fc1["tiling"]["cluster_split"], "rows into 1 groups, output channels into 16 slices of 3");
    EXPECT_TRUE(fc1["tiling"]["stream_first_step"].get<bool>());
    EXPECT_EQ(fc1["tiling"]["cols_per_tile"], std::min(b, 4u));
    EXPECT_EQ(report["layers"][5]["tiling"]["cols_per_tile"], b);  // fc2: 10 filters of 256 bytes, one row
    EXPECT_EQ(report["units"]["soc.npu.cluster_0"]["jobs"], b + 6 * strips.at(b) + 1);
    EXPECT_EQ(report["units"]["soc.npu.cluster_15"]["jobs"], 5 * strips.at(b));
  }
  const auto reads = [&](unsigned b) { return r[b]["layers"][3]["dram_read_bytes"].get<std::uint64_t>(); };
  // One image's input is copied from the pool's output buffer, not read
  // back (docs/firmware.md, "The next layer's first loads"); a batch's are read.
  EXPECT_EQ(reads(4) - reads(1), 4 * pixel);
  EXPECT_EQ(reads(8) - reads(4), block_pass + 4 * pixel);
  // The weights bound the layer, not the images: four cost the clusters no
  // more jobs, and the layer about its single image's time.
  const auto cycles = [&](unsigned b) { return r[b]["layers"][3]["cycles"].get<std::uint64_t>(); };
  EXPECT_LT(cycles(4), cycles(1) * 11 / 10);
}

// tests/platform/long_fc.yaml at batch 1 and 2: a streamed slot (32 KiB)
// holds one whole 25,088-byte filter, so each filter's input channels split
// into 7 runs of 3,584 and a slot takes 8 filters' run, one per array column.
// Two K blocks of 128 (16 slices of 8) in 7 steps each: every cluster runs
// 14 jobs whatever the images, 6 of each 7 holding their sums in the array
// for the next (kJobHoldSums, kJobAccumulate), the 7th writing the outputs.
// The weights are read once, each step's bias and requantization words
// (128 x 12 bytes) with them; one image's input is copied from the pool's
// output buffer, two images' are read. Each run in a process of its own.
TEST(Network, ALongFilterSplitsItsReductionOverJobsThatHoldTheirSums) {
  constexpr std::uint64_t kIn = 25088, kSteps = 2 * 7;
  const auto one = run_cli("--network tests/platform/long_fc.yaml --traces none", "long_fc1");
  const auto two = run_cli("--network tests/platform/long_fc.yaml --traces none --batch 2", "long_fc2");
  for (const auto* r : {&one, &two}) {
    EXPECT_TRUE((*r)["totals"]["all_verified"].get<bool>());
    const auto& fc = (*r)["layers"][3];
    ASSERT_EQ(fc["name"], "fc");
    EXPECT_EQ(fc["tiling"]["reduction_chunks"], 7);
    EXPECT_EQ(fc["tiling"]["k_block"], 128);
    EXPECT_EQ(fc["tiling"]["cluster_split"], "rows into 1 groups, output channels into 16 slices of 8");
    EXPECT_EQ((*r)["units"]["soc.npu.cluster_15"]["jobs"], kSteps);
  }
  const auto reads = [](const nlohmann::json& r) { return r["layers"][3]["dram_read_bytes"].get<std::uint64_t>(); };
  EXPECT_EQ(reads(one), 256 * kIn + kSteps * 128 * 12);
  EXPECT_EQ(reads(two) - reads(one), 2 * kIn);
}

// Each concat's producers write into it: the concat reports no time and the
// layers doing its work; the attainment follows from the report's own layers.
TEST(Network, FoldedConcatsTakeNoTimeAndNameTheirProducers) {
  const auto r = run_network("squeezenet1_1", 64, 64);
  expect_all_layers_exact(r);
  int concats = 0;
  for (const auto& l : r["layers"]) {
    if (l["type"] != "concat") continue;
    ++concats;
    const std::string fire = l["name"].get<std::string>().substr(0, 5);
    EXPECT_EQ(l["cycles"], 0u) << l["name"];
    EXPECT_EQ(l["utilization"], 0.0) << l["name"];
    EXPECT_EQ(l["folded_into"], nlohmann::json({fire + ".expand1x1", fire + ".expand3x3"})) << l["name"];
  }
  EXPECT_EQ(concats, 8);
  const double clock = 800e6, macs_per_s = 1024 * clock, bytes_per_s = r["dram"]["peak_gbps"].get<double>() * 1e9;
  std::map<std::string, double> elements;
  double bound = 0;
  for (const auto& l : r["layers"]) {
    const auto& o = l["out_shape"];
    elements[l["name"]] = o[0].get<double>() * o[1].get<double>() * o[2].get<double>();
    if (l["cycles"].get<double>() == 0) continue;
    double bytes = elements[l["name"]] + l["params"].get<double>();
    for (const auto& in : l["inputs"]) bytes += elements[in.get<std::string>()];
    bound += std::max(l["macs"].get<double>() / macs_per_s, bytes / bytes_per_s);
  }
  EXPECT_NEAR(r["totals"]["roofline_attainment"].get<double>(), bound / (r["totals"]["cycles"].get<double>() / clock),
              1e-12);
}

// Unfolded, each concat runs as copies (in a process of its own).
TEST(Network, FoldingOffRunsConcatsAsCopies) {
  const auto r =
      run_cli("--network squeezenet1_1 --input-size 64x64 --set firmware.fold_data_movement=false", "unfolded");
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  for (const auto& l : r["layers"])
    if (l["type"] == "concat") {
      EXPECT_GT(l["cycles"].get<std::uint64_t>(), 0u) << l["name"];
      EXPECT_FALSE(l.contains("folded_into")) << l["name"];
    }
}

// Gathered inputs point at each image's own tensors.
TEST(Network, FoldedShuffleNetBatchOfTwoIsExact) {
  expect_all_layers_exact(run_network("shufflenet_v2_x1_0", 64, 64, "hybrid", 2));
}

TEST(Network, HybridNeverLosesToTheWorseDataflowAndAllAgree) {
  // Each dataflow in a process of its own; the outputs are checked bit-exact
  // in each, so all three agree with the reference and with each other.
  const std::string net = "--network mobilenet_v2 --input-size 96x96";
  const auto ws = run_cli(net + " --dataflow ws", "ws");
  const auto os = run_cli(net + " --dataflow os", "os");
  const auto hybrid = run_cli(net + " --dataflow hybrid", "hybrid");
  for (const auto* r : {&ws, &os, &hybrid}) EXPECT_TRUE((*r)["totals"]["all_verified"].get<bool>());
  // Hybrid optimizes latency per layer: no convolution takes more cycles than
  // with the worse dataflow. The three runs reach a layer with different DRAM
  // state behind them (open rows, refresh phase, writes still queued), so the
  // same layer with the same dataflow differs between runs by up to about 1 %
  // (features.3.dw.conv: 19006 cycles as OS in the OS run, 19126 in the hybrid
  // run); 2 % of slack keeps that noise out of the verdict. A layer's last
  // step loads the next layer's first weights when SRAM allows
  // (docs/firmware.md), which earlier layers' placements decide: a layer is
  // judged with the next one that takes time, whose loads it may have taken.
  const auto pair = [](const nlohmann::json& r, std::size_t i) {
    const auto& layers = r["layers"];
    std::uint64_t cycles = layers[i]["cycles"].get<std::uint64_t>(), next = 0;
    for (std::size_t j = i + 1; j < layers.size() && next == 0; ++j) next = layers[j]["cycles"].get<std::uint64_t>();
    return cycles + next;
  };
  for (std::size_t i = 0; i < hybrid["layers"].size(); ++i) {
    if (hybrid["layers"][i]["type"] != "conv2d") continue;
    const auto worse = std::max(pair(ws, i), pair(os, i));
    EXPECT_LE(static_cast<double>(pair(hybrid, i)), 1.02 * static_cast<double>(worse)) << hybrid["layers"][i]["name"];
  }
}

TEST(Network, OutputStationaryWalksRowTilesOuterExactlyAndMovesWhatItsCostModelSays) {
  const auto r = run_network("tests/platform/wide_layers.yaml", 0, 0, "os");
  expect_all_layers_exact(r);
  for (const auto& layer : r["layers"]) {
    if (layer["type"] != "conv2d") continue;
    EXPECT_EQ(layer["tiling"]["order"], "row_tiles_outer") << layer["name"];
    EXPECT_EQ(layer["dataflow"], "os");
    // The estimate counts every DMA byte. The layer's measured traffic also
    // holds the next command's 256 bytes if there is one (the firmware reads
    // it before it marks the next layer), and conv3x3's the first weight
    // block of conv1x1 (128 channels of 512-byte filters, bias and
    // requantization words), loaded during its last step (docs/firmware.md).
    const std::uint64_t measured =
        layer["dram_read_bytes"].get<std::uint64_t>() + layer["dram_write_bytes"].get<std::uint64_t>();
    const std::uint64_t first_block = 128 * (512 + 12);
    const std::uint64_t estimated = layer["dataflow_costs"]["os"]["dram_bytes"].get<std::uint64_t>() +
                                    (layer["name"] == "conv3x3" ? first_block : 0) -
                                    (layer["name"] == "conv1x1" ? first_block : 0);
    EXPECT_GE(measured, estimated) << layer["name"];
    EXPECT_LE(measured, estimated + 256) << layer["name"];
  }
}

// A batch of three whole 14x14 images: the 3x3 layer's input buffer holds
// them all and each K block's weights pass them once; every image exact, and
// the DMA moves what the estimate walked (the next command's 256 bytes and
// the batch tables of both layers, 64 bytes each, are read before the next
// layer starts; the next layer's first weight block is not: that layer holds
// its three images too and leaves no room for it beside this one's buffers).
// The clusters fetch each image's rows for every K block here. Where they
// keep a tile's rows from block to block (the default), the latency
// estimate prefers one image per tile for the 3x3 layer, its weights read
// once per image: 939,208 cycles estimated against 951,231, measured 958,318
// against 960,022, for 3,708,288 bytes of DRAM reads against 1,336,704.
TEST(Network, OutputStationaryBatchSharesEachWeightPassAndMovesWhatItsCostModelSays) {
  const auto r = run_network("tests/platform/wide_layers.yaml", 0, 0, "os", 3, {"firmware.keep_input_rows=false"});
  expect_all_layers_exact(r);
  const auto& conv = r["layers"][1];
  ASSERT_EQ(conv["name"], "conv3x3");
  EXPECT_EQ(conv["tiling"]["order"], "row_tiles_outer");
  EXPECT_EQ(conv["tiling"]["images_per_tile"], 3);
  const std::uint64_t weights = 512 * (9 * 256 + 12), input = 14 * 14 * 256, output = 14 * 14 * 512;
  const std::uint64_t estimated = conv["dataflow_costs"]["os"]["dram_bytes"].get<std::uint64_t>();
  EXPECT_EQ(estimated, weights + 3 * input + 3 * output);
  EXPECT_EQ(conv["dram_read_bytes"].get<std::uint64_t>() + conv["dram_write_bytes"].get<std::uint64_t>(),
            estimated + 256 + 64 + 64);
  const auto& next = r["layers"][3];
  ASSERT_EQ(next["name"], "conv1x1");
  EXPECT_EQ(next["tiling"]["images_per_tile"], 3);
}

// ResNet-18's last block (tests/platform/wide_residual.yaml): both 3x3
// convolutions run in K blocks with the row tiles outer, the second adding
// the residual in its epilogue. A batch whose images (inputs and residuals)
// one input buffer holds shares one pass of the weights among all of them;
// a larger batch goes in groups, each group's loads one DMA chain that the
// next group's load runs beside the stores of the group before. Every image
// exact; each convolution moves what its estimate walked, the second less its
// first weight block, which the first loads during its last step.
void expect_residual_batch(int batch, std::uint32_t images_per_tile, std::uint64_t weight_passes) {
  const auto r = run_network("tests/platform/wide_residual.yaml", 0, 0, "hybrid", batch);
  expect_all_layers_exact(r);
  const auto& conv2 = r["layers"][3];
  ASSERT_EQ(conv2["name"], "conv2");
  EXPECT_EQ(conv2["tiling"]["order"], "row_tiles_outer");
  EXPECT_EQ(conv2["tiling"]["images_per_tile"], images_per_tile);
  const std::uint64_t weights = 512 * (9 * 512 + 12), image = 7 * 7 * 512;
  const std::uint32_t k_block = conv2["tiling"]["k_block"].get<std::uint32_t>();
  const std::uint64_t estimated = conv2["dataflow_costs"]["os"]["dram_bytes"].get<std::uint64_t>();
  // Per image: its input, its residual and its output.
  EXPECT_EQ(estimated, weight_passes * weights + batch * 3 * image);
  EXPECT_EQ(conv2["dram_read_bytes"].get<std::uint64_t>() + conv2["dram_write_bytes"].get<std::uint64_t>(),
            estimated - k_block * (9 * 512 + 12));
}

TEST(Network, AResidualBatchOfEightSharesOnePassOfEachWeightBlock) { expect_residual_batch(8, 8, 1); }

TEST(Network, AResidualBatchOfTwelveSharesAPassPerGroupOfFourImages) { expect_residual_batch(12, 4, 3); }

TEST(Network, HybridOnEitherObjectiveNeverLosesToTheWorseDataflow) {
  const std::string net = "--network tests/platform/wide_layers.yaml";
  const auto ws = run_cli(net + " --dataflow ws", "wide_ws");
  const auto os = run_cli(net + " --dataflow os", "wide_os");
  const auto fast = run_cli(net + " --dataflow hybrid --objective latency", "wide_latency");
  const auto frugal = run_cli(net + " --dataflow hybrid --objective energy", "wide_energy");
  for (const auto* r : {&ws, &os, &fast, &frugal}) EXPECT_TRUE((*r)["totals"]["all_verified"].get<bool>());
  for (std::size_t i = 0; i < ws["layers"].size(); ++i) {
    if (ws["layers"][i]["type"] != "conv2d") continue;
    const auto cycles = [&](const nlohmann::json& r) { return r["layers"][i]["cycles"].get<std::uint64_t>(); };
    const auto energy = [&](const nlohmann::json& r) { return r["layers"][i]["energy_pj"]["total"].get<double>(); };
    EXPECT_LE(cycles(fast), std::max(cycles(ws), cycles(os))) << ws["layers"][i]["name"];
    EXPECT_LE(energy(frugal), std::max(energy(ws), energy(os))) << ws["layers"][i]["name"];
    EXPECT_EQ(frugal["layers"][i]["dataflow_costs"]["objective"], "energy");
  }
}

TEST(Network, TheObjectiveChangesTheSlicesDataflow) {
  // The slice at 48x48 on arrays that run all three dataflows: OS has the
  // shortest estimated schedule, spatial OS spends the least energy (no
  // partial sums out of the PEs, each weight broadcast to a whole patch) —
  // and so it measures.
  const std::string args = "--input-size 48x48 --set pe_array.dataflows=[ws,os,os2d] --dataflow hybrid";
  const auto fast = run_cli(args + " --objective latency", "slice_latency");
  const auto frugal = run_cli(args + " --objective energy", "slice_energy");
  const auto& fast_layer = fast["layers"][0];
  const auto& frugal_layer = frugal["layers"][0];
  EXPECT_EQ(fast_layer["dataflow"], "os");
  EXPECT_EQ(frugal_layer["dataflow"], "os2d");
  EXPECT_LT(fast_layer["cycles"].get<std::uint64_t>(), frugal_layer["cycles"].get<std::uint64_t>());
  EXPECT_LT(frugal_layer["energy_pj"]["total"].get<double>(), fast_layer["energy_pj"]["total"].get<double>());
  EXPECT_EQ(frugal_layer["dataflow_costs"]["reason"].get<std::string>().rfind("hybrid on energy: os2d ", 0), 0u)
      << frugal_layer["dataflow_costs"]["reason"];
  // One entry per dataflow the arrays run.
  for (const char* d : {"ws", "os", "os2d"}) EXPECT_TRUE(frugal_layer["dataflow_costs"].contains(d)) << d;
}

TEST(Network, SpatialOutputStationaryIsBitExactOnEveryLayerKind) {
  // MobileNet v1 at 64x64 on the Squeezelerator: a strided first
  // convolution, depthwise layers at stride 1 and 2 (inputs shifting between
  // PEs, or fetched per tap), pointwise layers; every output checked.
  const auto r = run_cli(
      "--platform configs/platforms/squeezelerator.yaml --network mobilenet_v1 --input-size 64x64 "
      "--dataflow os2d",
      "mobilenet_os2d");
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  std::size_t convs = 0;
  for (const auto& l : r["layers"]) {
    if (l["type"] != "conv2d") continue;
    ++convs;
    EXPECT_EQ(l["dataflow"], "os2d") << l["name"];
    EXPECT_EQ(l["dataflow_costs"]["chosen"], "os2d") << l["name"];
    EXPECT_FALSE(l["dataflow_costs"].contains("os")) << l["name"];  // the preset's arrays do not run it
  }
  EXPECT_EQ(convs, 27u);
}

TEST(Network, ObjectiveWithoutHybridIsRefused) {
  const PlatformConfig config = load_platform("configs/platforms/edge-ip.yaml", {});
  RunOptions options;
  options.dataflow = "ws";
  options.objective = "energy";
  try {
    run(config, options);
    FAIL() << "--objective energy with --dataflow ws was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "--objective: only a hybrid dataflow has one (--dataflow hybrid)");
  }
  options.dataflow = "hybrid";
  options.objective = "power";
  EXPECT_THROW(run(config, options), std::invalid_argument);
}

std::string file_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(Network, SameInputsAndSeedGiveByteIdenticalOutputs) {
  const std::string args = "--network resnet20_cifar --seed 7";
  auto a = run_cli(args, "same_a");
  auto b = run_cli(args, "same_b");
  const auto dir_a = std::filesystem::temp_directory_path() / "npuvp_net_cli_same_a";
  const auto dir_b = std::filesystem::temp_directory_path() / "npuvp_net_cli_same_b";
  for (const char* f : {"trace.vcd", "power.csv", "timeline.json", "layers.csv", "roofline.svg"})
    EXPECT_EQ(file_text(dir_a / f), file_text(dir_b / f)) << f;
  // report.json differs only in how long the host took (wall time, RSS).
  a.erase("sim");
  b.erase("sim");
  EXPECT_EQ(a.dump(), b.dump());
}

TEST(Network, PerLayerDataflowOverrideWins) {
  const PlatformConfig config = load_platform("configs/platforms/edge-ip.yaml", {});
  RunOptions options;
  options.network = "mobilenet_v2";
  options.input_h = options.input_w = 64;
  options.dataflow = "os";
  options.layer_dataflow = {"features.1.project.conv=ws"};
  options.out_dir = (std::filesystem::temp_directory_path() / "npuvp_net_override").string();
  const auto r = run(config, options);
  expect_all_layers_exact(r);
  for (const auto& layer : r["layers"]) {
    if (layer["type"] != "conv2d") continue;
    EXPECT_EQ(layer["dataflow"], layer["name"] == "features.1.project.conv" ? "ws" : "os") << layer["name"];
  }
}

TEST(Network, UnknownNetworkIsNamed) {
  try {
    run_network("no_such_net");
    FAIL() << "an unknown network was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown network 'no_such_net'"), std::string::npos) << e.what();
    // Every name a run takes, the zoo's too (it once listed conv_slice alone).
    for (const char* known : {"conv_slice", "resnet50", "mobilenet_v1", "resnet20_cifar", "*.yaml, *.onnx"})
      EXPECT_NE(std::string(e.what()).find(known), std::string::npos) << e.what();
  }
}

// Runs the CLI expecting it to fail; returns what it printed on stderr.
// Its files are the process's own: ctest runs the tests that call it side by side.
std::string cli_error(const std::string& args, int expected_exit) {
  const std::string pid = std::to_string(::getpid());
  const auto err = std::filesystem::temp_directory_path() / ("npuvp_net_cli_err_" + pid + ".txt");
  const auto out = std::filesystem::temp_directory_path() / ("npuvp_net_cli_bad_" + pid);
  const int status = std::system(
      (std::string(NPUVP_CLI) + " run -q " + args + " --out " + out.string() + " > /dev/null 2> " + err.string())
          .c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == expected_exit) << args << ": status " << status;
  std::ifstream in(err);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(err);
  std::filesystem::remove_all(out);
  return text;
}

TEST(Network, MalformedNumbersAreRefusedNotTruncatedOrWrapped) {
  // "56x56abc" once ran as 56x56 and "-1" as seed 4294967295. A value no run
  // takes is a bad command line: exit 2, as --help says (they gave 1).
  EXPECT_NE(cli_error("--input-size 56x56abc", 2)
                .find("--input-size: expected HxW with H and W from 1 to 16384 (e.g. 112x112), got '56x56abc'"),
            std::string::npos);
  EXPECT_NE(cli_error("--input-size 0x56", 2).find("got '0x56'"), std::string::npos);
  EXPECT_NE(cli_error("--input-size -8x8", 2).find("got '-8x8'"), std::string::npos);
  EXPECT_NE(cli_error("--seed -1", 2).find("--seed: expected an integer from 0 to 4294967295, got '-1'"),
            std::string::npos);
  EXPECT_NE(cli_error("--seed 4294967296", 2).find("got '4294967296'"), std::string::npos);
  EXPECT_EQ(cli_error("--batch 0", 2), "npuvp run: --batch: expected an integer from 1 to 256, got '0'\n");
  EXPECT_EQ(cli_error("--weight-sparsity 1.5", 2),
            "npuvp run: --weight-sparsity: expected a fraction from 0 to 1, got '1.5'\n");
  EXPECT_EQ(cli_error("--dataflow rs", 2), "npuvp run: --dataflow: expected ws, os, os2d or hybrid, got 'rs'\n");
  // A value this network cannot take is the run's to refuse.
  EXPECT_NE(cli_error("--batch 2", 1).find("--batch: only zoo, YAML and ONNX networks run batched"), std::string::npos);
}

// Given twice for one layer, the last dataflow won without a word.
TEST(Network, ALayerDataflowGivenTwiceIsRefused) {
  EXPECT_EQ(cli_error("--network resnet20_cifar --layer-dataflow conv1=ws --layer-dataflow conv1=os", 1),
            "npuvp: --layer-dataflow: layer 'conv1' is given twice; expected one dataflow per layer\n");
}

// Of only folded data movement, the NPU had nothing to do: the run reported
// 0 cycles, 0.0 FPS and "verified". The commands checked before simulation
// are lowered as the run lowers them: unfolded, the same network runs as a copy.
TEST(Network, ANetworkGivingTheNpuNoWorkIsRefusedUnlessItsDataMovementRunsAsCopies) {
  const auto file =
      std::filesystem::temp_directory_path() / ("npuvp_only_views_" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(file) << "name: only_views\ninput: [8, 4, 4]\nlayers:\n"
                         "  - {name: half, type: slice_channels, begin: 0, end: 4}\n";
  EXPECT_EQ(cli_error("--traces none --network " + file.string(), 1),
            "npuvp: network 'only_views': no layer gives the NPU work: every layer is data movement folded into how "
            "the host reads the output (flatten, slice_channels, channel_shuffle, ...), so there is nothing to "
            "simulate; add a layer that computes (a convolution, pooling, an activation or an add), or run them as "
            "copies (--set firmware.fold_data_movement=false)\n");
  EXPECT_EQ(cli_error("--traces none --network " + file.string() + " --set firmware.fold_data_movement=false", 0), "");
  std::filesystem::remove(file);
}

TEST(Network, WeightSparsityOnANetworkWithItsOwnWeightsIsRefused) {
  // It once was silently ignored on zoo networks.
  const PlatformConfig config = load_platform("configs/platforms/edge-ip.yaml", {});
  RunOptions options;
  options.network = "squeezenet1_1";
  options.weight_sparsity = 0.5;
  try {
    run(config, options);
    FAIL() << "--weight-sparsity on a zoo network was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--weight-sparsity: only conv_slice and SCALE-Sim layers take it"),
              std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace npuvp::platform
