// A residual add fused into the convolution that feeds it, on the platform:
// what report.json says of both layers, the epilogue's cycles and the DRAM
// bytes fusion saves, each derived by hand on tests/platform/fused_block.yaml
// (16 channels of 8x8: conv1, ReLU, conv2, add(conv2, ReLU), ReLU); and with
// firmware.fuse_layers off, the figures from before fusion.
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

// Through the CLI: a process elaborates one platform, and tests compare two runs.
nlohmann::json run_block(const std::string& preset, std::vector<std::string> overrides, bool fuse,
                         const std::string& network = "tests/platform/fused_block.yaml",
                         const std::string& dataflow = "hybrid") {
  overrides.push_back(std::string("firmware.fuse_layers=") + (fuse ? "true" : "false"));
  const auto dir = std::filesystem::temp_directory_path() /
                   ("npuvp_fusion_" + preset + "_" + std::filesystem::path(network).stem().string() +
                    (fuse ? "" : "_off") + "_" + dataflow + "_" + std::to_string(::getpid()));
  std::string command = std::string(NPUVP_CLI) + " run -q --platform " + preset + " --network " + network +
                        " --dataflow " + dataflow + " --traces none --out " + dir.string();
  for (const auto& o : overrides) command += " --set " + o;
  EXPECT_EQ(std::system((command + " > /dev/null").c_str()), 0) << command;
  std::ifstream in(dir / "report.json");
  const nlohmann::json r = nlohmann::json::parse(in);
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  return r;
}

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

TEST(FusedNetwork, TheFusedAddTakesNoTimeAndNamesItsConvolution) {
  const nlohmann::json r = run_block("edge-ip", {}, true);
  const auto& add = layer(r, "add");
  EXPECT_EQ(add["cycles"], 0);
  EXPECT_EQ(add["utilization"], 0.0);
  EXPECT_EQ(add["dataflow"], "folded");
  EXPECT_EQ(add["folded_into"], nlohmann::json({"conv2"}));
  EXPECT_EQ(add["traffic_bytes"]["dram"], 0);
  EXPECT_TRUE(add["verified"].get<bool>());
  // conv2's output is never written; the add's output vouches for it.
  EXPECT_TRUE(layer(r, "conv2")["verified"].get<bool>());
  EXPECT_FALSE(layer(r, "conv2").contains("folded_into"));
}

// The Squeezelerator's one 32x32 array with one SRAM bank: each convolution
// is one tile, one K block and one job, whose array schedule is exact. The
// epilogue adds ceil(8·8·16 outputs / 32 lanes) = 32 cycles to conv2's.
TEST(FusedNetwork, TheEpilogueAddsOneLanePassOverTheResultsToTheArraysCycles) {
  const std::vector<std::string> one_job{"sram.banks=1", "sram.bank_kb=512"};
  const nlohmann::json fused = run_block("squeezelerator", one_job, true);
  const nlohmann::json unfused = run_block("squeezelerator", one_job, false);
  EXPECT_EQ(layer(fused, "conv2")["compute_cycles"].get<std::uint64_t>(),
            layer(unfused, "conv2")["compute_cycles"].get<std::uint64_t>() + 32);
  EXPECT_EQ(layer(fused, "conv1")["compute_cycles"], layer(unfused, "conv1")["compute_cycles"]);
  // The add's own job, unfused: two taps per output, ceil(2·1024 / 32).
  EXPECT_EQ(layer(unfused, "add")["compute_cycles"], 64);
  EXPECT_EQ(layer(fused, "add")["compute_cycles"], 0);
}

// Unfused, conv2 stores its 1024-byte output and the add stores the sum;
// fused, conv2 loads the residual and stores the sum. Saved: the store of
// conv2's output and the add's 256-byte command (which the firmware fetches,
// counted with the layer before it). Not the load of conv2's output: unfused,
// the add copies it from conv2's output buffer (docs/firmware.md, "The next
// layer's first loads"), as conv2 copies its input from conv1's. Fused,
// conv2's input and residual buffers lie where conv1's outputs are still being
// stored, so it loads both (1024 bytes each) from DRAM: 1024 bytes more than
// the unfused conv2 and add read.
TEST(FusedNetwork, FusionSavesTheStoreOfTheConvolutionsOutputAndTheAddsCommand) {
  const nlohmann::json fused = run_block("edge-ip", {}, true);
  const nlohmann::json unfused = run_block("edge-ip", {}, false);
  EXPECT_EQ(dram_bytes(unfused) - dram_bytes(fused), 1024 + 256 - 1024);
  EXPECT_EQ(layer(fused, "conv2")["dram_read_bytes"], 1024 + 1024);
  EXPECT_EQ(layer(fused, "conv2")["dram_write_bytes"], 1024);
  EXPECT_LT(fused["totals"]["cycles"].get<std::uint64_t>(), unfused["totals"]["cycles"].get<std::uint64_t>());
}

// Off, every add is its own command again: the cycles measured on the tree
// before fusion (commit 6a60f2d) for the block and for ResNet-20 (4,349 and
// 138,353), less what loading each next layer's first weights during the
// current layer's last step, and copying its first inputs from the output
// buffer, save (docs/firmware.md). ResNet-20 ran 126,562 before the next
// layer's first weights could move below the current layer's own relocated ones
// at the top of SRAM, 125,345 before the DRAM controller opened a late
// request's row between the commands it had issued (docs/memory.md, "Why a DMA
// load stream read at 0.80 of the peak"); the block 3,976 and ResNet-20 125,055
// before the NoC's fast model let a flit leave a router no earlier than it
// arrived and held the tail of only a packet longer than a buffer
// (docs/noc.md); the block 3,998 and ResNet-20 124,984 before the estimate
// priced the next layer's first loads beside the current layer's last stores
// and the firmware read the command after next with the next
// (docs/firmware.md); the block 4,032 and ResNet-20 125,291 before each cluster
// issued a job's results when its array finishes rather than when the job
// starts (docs/architecture.md, "Loosely timed, within a quantum"); the block
// 4,051 and ResNet-20 125,089 before each result row was issued within a
// quantum of when it leaves and the presets' quantum went from 200 to 10 ns;
// the block 4,037 and ResNet-20 125,049 before the DMA engine issued each
// burst's read and write within a quantum of its time; the block 4,039 and
// ResNet-20 122,458 before each cluster issued its operand reads within a
// quantum of their time; the block 3,814 and ResNet-20 120,794 before the NoC
// timed a cluster's responses a quantum before they are ready (docs/noc.md,
// "On the platform's own traffic"); ResNet-20 124,206 before a multicast went
// as packets of at most a buffer and the firmware cleared a cluster's stale
// IRQ (docs/noc.md, docs/firmware.md).
TEST(FusedNetwork, OffGivesTheResultsFromBeforeFusion) {
  // The tree before fusion ran the largest tiling that fits, without operand
  // groups, each job's weights whole before its array started.
  const std::vector<std::string> largest{"firmware.smaller_tilings=false", "pe_array.operand_multicast=false",
                                         "pe_array.weights_by_fold=false"};
  EXPECT_EQ(run_block("edge-ip", largest, false)["totals"]["cycles"], 3792);
  EXPECT_EQ(run_block("edge-ip", largest, false, "resnet20_cifar")["totals"]["cycles"], 124516);
}

// Each dataflow's jobs run the epilogue: ResNet-20's 7 fusable adds (the
// other 2 read a channel-padded shortcut computed after the convolution),
// every output exact, on the Squeezelerator's arrays (ws, os2d).
TEST(FusedNetwork, EveryDataflowRunsTheFusedEpilogueExactly) {
  for (const char* dataflow : {"ws", "os2d"}) {
    const nlohmann::json r = run_block("squeezelerator", {}, true, "resnet20_cifar", dataflow);
    int fused = 0;
    for (const auto& l : r["layers"]) {
      EXPECT_TRUE(l["verified"].get<bool>()) << dataflow << " " << l["name"];
      if (l["type"] == "add" && l.contains("folded_into")) ++fused;
      if (l["name"] == "layer2.0.add") {
        EXPECT_EQ(l["not_fused"],
                  "'layer2.0.shortcut.pad' is computed after 'layer2.0.conv2'; 'layer2.0.shortcut.pad' is not a "
                  "convolution");
      }
    }
    EXPECT_EQ(fused, 7) << dataflow;
  }
}

}  // namespace
