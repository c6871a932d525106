// The next layer's first loads during the current layer's last step
// (docs/firmware.md, "The next layer's first loads"), on
// tests/platform/pool_fc.yaml: a convolution of one tile, a global average
// pool and a fully connected layer whose first K block is 512 channels of
// 128-byte filters. Layer fusion is off: fused, the pool would be the
// convolution's epilogue (docs/lowering.md) and have no step of its own.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

struct Slice {
  std::string thread;
  double begin, end;  // NPU cycles
  std::uint64_t bytes;
};

struct PoolFcRun {
  nlohmann::json report;
  std::vector<Slice> layers, dma;  // layer slices carry the layer's name in `thread`
};

PoolFcRun run_pool_fc() {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_prefetch_" + std::to_string(::getpid()));
  const std::string command = std::string(NPUVP_CLI) +
                              " run -q --network tests/platform/pool_fc.yaml --traces timeline --out " + dir.string() +
                              " --set firmware.fuse_layers=false > /dev/null";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  PoolFcRun r;
  r.report = nlohmann::json::parse(std::ifstream(dir / "report.json"));
  const nlohmann::json timeline = nlohmann::json::parse(std::ifstream(dir / "timeline.json"));
  std::map<int, std::string> threads;
  for (const auto& e : timeline["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name") threads[e["tid"].get<int>()] = e["args"]["name"];
  for (const auto& e : timeline["traceEvents"]) {
    if (e["ph"] != "X") continue;
    const double at = e["ts"].get<double>() * 800, until = at + e["dur"].get<double>() * 800;  // µs at 800 MHz
    if (e["cat"] == "layer") r.layers.push_back({e["name"], at, until, 0});
    if (e["cat"] == "dma")
      r.dma.push_back({threads.at(e["tid"].get<int>()), at, until, e["args"]["bytes"].get<std::uint64_t>()});
  }
  return r;
}

const Slice& find(const std::vector<Slice>& slices, const std::string& thread, std::uint64_t bytes) {
  for (const auto& s : slices)
    if (s.thread == thread && (bytes == 0 || s.bytes == bytes)) return s;
  throw std::runtime_error("no slice " + thread + " of " + std::to_string(bytes) + " bytes");
}

std::uint64_t cycles(const nlohmann::json& report, const std::string& name) {
  for (const auto& l : report["layers"])
    if (l["name"] == name) return l["cycles"].get<std::uint64_t>();
  throw std::runtime_error("no layer " + name);
}

TEST(LayerPrefetch, TheFullyConnectedLayersFirstWeightsLoadDuringThePoolsLastStep) {
  const PoolFcRun r = run_pool_fc();
  EXPECT_TRUE(r.report["totals"]["all_verified"].get<bool>());
  const Slice& pool = find(r.layers, "avgpool", 0);
  const Slice& fc = find(r.layers, "fc", 0);
  // Bias, requantization words and weights of 512 output channels.
  const Slice& weights = find(r.dma, "soc.npu.dma.ch0", 512 * (128 + 4 + 8));
  EXPECT_GT(weights.begin, pool.begin);
  EXPECT_LT(weights.end, fc.begin);
  // 6,894 fc cycles and 30,695 in all when the weights loaded after the pool;
  // 4,708 and 27,605 before the DRAM controller opened a late request's row
  // between the commands it had issued (docs/memory.md) and the row groups of a
  // K slice shared one multicast read of its weights
  // (pe_array.operand_multicast, docs/dataflows.md); 4,182 and 23,386 before
  // its K blocks after the first streamed from DRAM straight into the clusters'
  // weight buffers, their jobs issued while they stream (docs/memory.md,
  // firmware.stream_weights), and a job's weights were fetched by column fold
  // (docs/dataflows.md: the convolution runs faster; 3,647 and 22,851 with
  // streamed weights alone); 3,617 and 21,725 before the NoC's fast model let a
  // flit leave a router no earlier than it arrived (docs/noc.md); 3,619 and
  // 21,764 before the clusters kept the fc's one input row from one K block's
  // job to the next (docs/firmware.md); 3,577 and 21,722 before the estimate
  // priced the next layer's first loads beside the last stores and the firmware
  // read the command after next with the next (docs/firmware.md); 3,610 and
  // 21,832 before each cluster issued a job's results when its array finishes
  // rather than when the job starts (docs/architecture.md, "Loosely timed,
  // within a quantum"); 3,495 and 21,789 before each result row was issued
  // within a quantum of when it leaves and the presets' quantum went from 200
  // to 10 ns; 3,493 and 21,876 before the DMA engine issued each burst's read
  // and write within a quantum of its time; 3,513 and 21,919 before each
  // cluster issued its operand reads within a quantum of their time; 3,573 and
  // 22,016 before the NoC timed a cluster's responses a quantum before they
  // are ready (docs/noc.md, "On the platform's own traffic"); 3,583 and 22,339
  // before the clusters' operand-group waits stopped leaving a cancelled
  // timeout each in SystemC's queue of timed notifications, which changed the
  // order of simultaneous events (docs/architecture.md, "The order of
  // simultaneous events"); 3,357 and 22,585 before a multicast went as packets
  // of at most a buffer and the firmware cleared a cluster's stale IRQ
  // (docs/noc.md, docs/firmware.md).
  EXPECT_EQ(cycles(r.report, "fc"), 3358u);
  EXPECT_EQ(r.report["totals"]["cycles"].get<std::uint64_t>(), 22562u);
}

TEST(LayerPrefetch, InputsInTheLastStoreAreCopiedFromTheOutputBuffer) {
  // The pool's input is the convolution's only tile: once its jobs have ended
  // the DMA copies it from the output buffer beside the store, and the pool
  // reads from DRAM only the fully connected layer's first block (the
  // convolution read the fc's command with the pool's).
  const PoolFcRun r = run_pool_fc();
  const Slice& store = find(r.dma, "soc.npu.dma.ch1", 128 * 16 * 16);
  const Slice& input = find(r.dma, "soc.npu.dma.ch0", 128 * 16 * 16);
  EXPECT_GE(input.begin, store.begin);
  EXPECT_LT(input.begin, store.end);
  for (const auto& l : r.report["layers"])
    if (l["name"] == "avgpool") {
      EXPECT_EQ(l["dram_read_bytes"], 512 * (128 + 4 + 8));
    }
}

}  // namespace
