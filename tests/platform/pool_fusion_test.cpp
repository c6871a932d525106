// Pools fused into the convolution that feeds them, on the platform: what
// report.json says of both layers, the DRAM bytes fusion saves and the
// epilogue's cycles, derived by hand on tests/platform/pooled_block.yaml
// (8x16x16 in: conv1 16 channels, ReLU, 2x2 max pool; conv2, ReLU, 3x3
// stride-2 max pool padded by 1); and every zoo network with pools exact fused.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

nlohmann::json run(const std::string& network, bool fuse, const std::string& preset = "edge-ip",
                   const std::vector<std::string>& overrides = {}) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("npuvp_poolfusion_" + preset + "_" + std::filesystem::path(network).stem().string() +
                    (fuse ? "" : "_off") + "_" + std::to_string(::getpid()));
  std::string command = std::string(NPUVP_CLI) + " run -q --platform " + preset + " --network " + network +
                        " --traces none --out " + dir.string() +
                        " --set firmware.fuse_layers=" + (fuse ? "true" : "false");
  for (const auto& o : overrides) command += " --set " + o;
  EXPECT_EQ(std::system((command + " > /dev/null").c_str()), 0) << command;
  std::ifstream in(dir / "report.json");
  const nlohmann::json r = nlohmann::json::parse(in);
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>()) << network;
  return r;
}

const char* const kBlock = "tests/platform/pooled_block.yaml";

const nlohmann::json& layer(const nlohmann::json& r, const std::string& name) {
  for (const auto& l : r["layers"])
    if (l["name"] == name) return l;
  throw std::runtime_error("no layer " + name);
}

std::uint64_t dram_bytes(const nlohmann::json& r) {
  std::uint64_t bytes = 0;
  for (const auto& l : r["layers"]) bytes += l["traffic_bytes"]["dram"].get<std::uint64_t>();
  return bytes;
}

TEST(PoolFusion, TheFusedPoolsTakeNoTimeAndNameTheirConvolutions) {
  const nlohmann::json r = run(kBlock, true);
  for (const auto& [pool, conv] : {std::pair{"pool1", "conv1"}, std::pair{"pool2", "conv2"}}) {
    const auto& p = layer(r, pool);
    EXPECT_EQ(p["cycles"], 0) << pool;
    EXPECT_EQ(p["utilization"], 0.0) << pool;
    EXPECT_EQ(p["dataflow"], "folded") << pool;
    EXPECT_EQ(p["folded_into"], nlohmann::json({conv})) << pool;
    EXPECT_EQ(p["traffic_bytes"]["dram"], 0) << pool;
    EXPECT_TRUE(p["verified"].get<bool>()) << pool;
    EXPECT_TRUE(layer(r, conv)["verified"].get<bool>()) << conv;
  }
}

// Unfused, conv1 stores its 16x16x16 output (4096 bytes), pool1 reads it back
// and stores 8x8x16 (1024); conv2 stores 8x8x16 (1024), pool2 reads it back and
// stores 4x4x16 (256); each pool's 256-byte command is fetched. Each map is its
// layer's last store, so the pool's input is copied from the output buffer
// beside it and reads no DRAM (docs/firmware.md). Fused, each convolution
// stores only the pooled map: saved, the two convolutions' stores (4096 and
// 1024 bytes) and the two pools' commands.
std::uint64_t dram(const nlohmann::json& r, const char* direction) {
  std::uint64_t bytes = 0;
  for (const auto& l : r["layers"]) bytes += l[direction].get<std::uint64_t>();
  return bytes;
}

TEST(PoolFusion, FusionSavesTheConvolutionsOutputStoredAndLoadedBackAndThePoolsCommands) {
  const nlohmann::json fused = run(kBlock, true);
  const nlohmann::json unfused = run(kBlock, false);
  EXPECT_EQ(dram_bytes(unfused) - dram_bytes(fused), 4096 + 1024 + 256 + 256);
  EXPECT_EQ(dram(unfused, "dram_write_bytes") - dram(fused, "dram_write_bytes"), 4096 + 1024);
  EXPECT_EQ(dram(unfused, "dram_read_bytes") - dram(fused, "dram_read_bytes"), 256 + 256);
  EXPECT_EQ(layer(fused, "conv1")["dram_write_bytes"], 1024);
  EXPECT_EQ(layer(fused, "conv2")["dram_write_bytes"], 256);
  EXPECT_EQ(layer(unfused, "conv1")["dram_write_bytes"], 4096);
  EXPECT_LT(fused["totals"]["cycles"].get<std::uint64_t>(), unfused["totals"]["cycles"].get<std::uint64_t>());
}

// The Squeezelerator's one 32x32 array with one SRAM bank: each convolution
// is one tile and one job computing every row, whose schedule is exact. The
// epilogue adds one lane pass per window tap over the pooled outputs, the
// pool's own job's cycles: ceil(8·8·16 · 4 / 32) = 128 and ceil(4·4·16 · 9 / 32) = 72.
TEST(PoolFusion, TheEpilogueAddsThePoolsLanePassesToTheArraysCycles) {
  const std::vector<std::string> one_job{"sram.banks=1", "sram.bank_kb=512"};
  const nlohmann::json fused = run(kBlock, true, "squeezelerator", one_job);
  const nlohmann::json unfused = run(kBlock, false, "squeezelerator", one_job);
  EXPECT_EQ(layer(unfused, "pool1")["compute_cycles"], 128);
  EXPECT_EQ(layer(unfused, "pool2")["compute_cycles"], 72);
  EXPECT_EQ(layer(fused, "conv1")["compute_cycles"].get<std::uint64_t>(),
            layer(unfused, "conv1")["compute_cycles"].get<std::uint64_t>() + 128);
  EXPECT_EQ(layer(fused, "conv2")["compute_cycles"].get<std::uint64_t>(),
            layer(unfused, "conv2")["compute_cycles"].get<std::uint64_t>() + 72);
}

// Off, every pool is its own command: SqueezeNet 1.1's cycles are
// PinnedResults.SqueezeNet11's from before pools were fused (81c3af8); the
// block's are pinned as measured with fusion off. SqueezeNet ran 975,570 before
// the next layer's first weights could move below the current layer's own
// relocated ones at the top of SRAM (no plan changed), 969,914 before the DRAM
// controller opened a late request's row between the commands it had issued
// (docs/memory.md); the block 5,547 and SqueezeNet 960,596 before the NoC's
// fast model let a flit leave a router no earlier than it arrived and held the
// tail of only a packet longer than a buffer (docs/noc.md). The block 5,581
// before the estimate priced the next layer's first loads beside the current
// layer's last stores (docs/firmware.md); the block 5,593 and SqueezeNet
// 950,260 before each cluster issued a job's results when its array finishes
// rather than when the job starts (docs/architecture.md, "Loosely timed, within
// a quantum"); the block 5,614 and SqueezeNet 962,772 before each result row
// was issued within a quantum of when it leaves and the presets' quantum went
// from 200 to 10 ns; the block 5,905 before the DMA engine issued each burst's
// read and write within a quantum of its time (docs/architecture.md, "Loosely
// timed, within a quantum"); the block 5,607 and SqueezeNet 965,998 before
// each cluster issued its operand reads within a quantum of their time: with
// every cluster reading its own copy of the weights (no operand groups), the
// reads of classifier.1's clusters meet on the NoC in time order rather than
// each job's laid out at its start, and its NoC stall went from 0 to 37,014
// cycles (190,906 -> 227,259); the block 5,361 and SqueezeNet 1,008,510
// before the NoC timed a cluster's responses a quantum before they are ready
// rather than booking them when the bank served the request, ahead of packets
// ready before them (docs/noc.md, "On the platform's own traffic"); SqueezeNet
// 932,871 before a multicast went as packets of at most a buffer and the
// firmware cleared a cluster's stale IRQ (docs/noc.md, docs/firmware.md).
TEST(PoolFusion, OffGivesTheResultsFromBeforePoolFusion) {
  // The tree before ran the largest tiling that fits, without operand groups,
  // each job's weights whole before its array started, each job fetching its
  // input rows (with them kept from block to block: 953,560).
  const std::vector<std::string> largest{"firmware.smaller_tilings=false", "pe_array.operand_multicast=false",
                                         "pe_array.weights_by_fold=false", "firmware.keep_input_rows=false"};
  EXPECT_EQ(run(kBlock, false, "edge-ip", largest)["totals"]["cycles"], 5369);
  EXPECT_EQ(run("squeezenet1_1", false, "edge-ip", largest)["totals"]["cycles"], 933994);
}

// Every zoo network with pools, fused: every output exact, and the pools
// fused and refused as docs/lowering.md's table says.
void expect_zoo(const std::string& network, int fused_pools, int pools) {
  const nlohmann::json r = run(network, true);
  int fused = 0, seen = 0;
  for (const auto& l : r["layers"]) {
    EXPECT_TRUE(l["verified"].get<bool>()) << network << " " << l["name"];
    const std::string type = l["type"];
    if (type.find("pool") == std::string::npos) continue;
    ++seen;
    if (l.contains("folded_into")) {
      ++fused;
      EXPECT_EQ(l["cycles"], 0) << l["name"];
    } else {
      EXPECT_TRUE(l.contains("not_fused")) << l["name"];
    }
  }
  EXPECT_EQ(fused, fused_pools) << network;
  EXPECT_EQ(seen, pools) << network;
}

TEST(PoolFusion, AlexNetIsExactFused) { expect_zoo("alexnet", 3, 4); }
TEST(PoolFusion, SqueezeNet10IsExactFused) { expect_zoo("squeezenet1_0", 1, 4); }
TEST(PoolFusion, SqueezeNet11IsExactFused) { expect_zoo("squeezenet1_1", 1, 4); }
TEST(PoolFusion, ResNet18IsExactFused) { expect_zoo("resnet18", 1, 2); }
TEST(PoolFusion, ResNet50IsExactFused) { expect_zoo("resnet50", 1, 2); }
TEST(PoolFusion, Vgg16IsExactFused) { expect_zoo("vgg16", 5, 6); }
TEST(PoolFusion, DiracDeltaNetIsExactFused) { expect_zoo("diracdeltanet", 4, 9); }

}  // namespace
