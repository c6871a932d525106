// The packet trace of a run (noc_packets.csv) and noc-bench --replay: what the
// fast model hands its sink, the file's round trip and its errors, and the
// replay's figures on traces made here with the fast model itself.
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench/noc_bench.h"
#include "bench/noc_replay.h"
#include "models/noc/fast_model.h"
#include "platform/noc_packet_log.h"

namespace npuvp {
namespace {

using noc::Cycle;
using noc::PacketRecord;

std::string temp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("npuvp_noc_replay_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

struct Collect : noc::PacketSink {
  std::vector<PacketRecord> records;
  void packet(const PacketRecord& r) override { records.push_back(r); }
};

bool operator==(const PacketRecord& a, const PacketRecord& b) {
  return a.src == b.src && a.dst == b.dst && a.flits == b.flits && a.ready == b.ready && a.done == b.done &&
         a.multicast == b.multicast;
}

TEST(PacketTrace, TheFastModelHandsOverEachPacketAsItTimesIt) {
  noc::FastMeshModel model{noc::NocConfig{}};
  Collect sink;
  model.record_packets(&sink);
  const Cycle a = model.unicast(0, 5, 4, 100);
  std::vector<Cycle> done;
  model.multicast(3, {12, 15}, 2, 90, done);
  const Cycle b = model.unicast(5, 0, 1, 80);
  model.record_packets(nullptr);
  model.unicast(1, 2, 1, 200);
  const std::vector<PacketRecord> expected{
      {0, 5, 4, 100, a, 0}, {3, 12, 2, 90, done[0], 1}, {3, 15, 2, 90, done[1], 1}, {5, 0, 1, 80, b, 0}};
  ASSERT_EQ(sink.records.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) EXPECT_TRUE(sink.records[i] == expected[i]) << i;
  // A lone packet on an empty mesh: the zero-load latency.
  EXPECT_EQ(a - 100, model.mesh().zero_load_latency(0, 5, 4));
}

// Packets timed in an order that is not their ready order: each source sends
// to the far corner, the later-ready ones first.
platform::NocPacketTrace write_trace(const std::string& path) {
  const noc::NocConfig config;
  platform::NocPacketLog log(path, config);
  noc::FastMeshModel model(config);
  model.record_packets(&log);
  for (noc::NodeId src = 0; src < 15; ++src) model.unicast(src, 15, 9, 1000 - 4 * src);
  std::vector<Cycle> done;
  model.multicast(0, {5, 10}, 3, 930, done);
  log.close();
  return platform::read_noc_packet_trace(path);
}

TEST(PacketTrace, AWrittenTraceReadsBackAsTimed) {
  const std::string path = temp_file("round_trip.csv");
  const platform::NocPacketTrace trace = write_trace(path);
  std::ifstream in(path);
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header,
            "# npuvp noc packets: mesh 4x4, flit_bytes 32, router_cycles 2, link_cycles 1, buffer_flits 8, "
            "virtual_channels 2");
  EXPECT_EQ(trace.noc.width, 4u);
  EXPECT_EQ(trace.noc.virtual_channels, 2u);
  ASSERT_EQ(trace.packets.size(), 17u);
  EXPECT_EQ(trace.packets[0].ready, 1000u);
  EXPECT_EQ(trace.packets[15].multicast, 1u);
  EXPECT_EQ(trace.packets[16].dst, 10u);
  std::filesystem::remove(path);
}

void expect_refused(const std::string& name, const std::string& text, const std::string& message) {
  const std::string path = temp_file(name);
  std::ofstream(path) << text;
  try {
    platform::read_noc_packet_trace(path);
    ADD_FAILURE() << name << ": accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), path + message) << name;
  }
  std::filesystem::remove(path);
}

TEST(PacketTrace, AMalformedTraceIsRefusedNamingTheLine) {
  const std::string header =
      "# npuvp noc packets: mesh 4x4, flit_bytes 32, router_cycles 2, link_cycles 1, buffer_flits 8, "
      "virtual_channels 2\nsrc,dst,flits,ready_cycle,done_cycle,multicast\n";
  expect_refused("header.csv", "src,dst\n",
                 ":1: expected a header like '# npuvp noc packets: mesh 4x4, flit_bytes 32, router_cycles 2, "
                 "link_cycles 1, buffer_flits 8, virtual_channels 2', got 'src,dst'");
  expect_refused("columns.csv", header.substr(0, header.find('\n') + 1) + "a,b\n",
                 ":2: expected the columns 'src,dst,flits,ready_cycle,done_cycle,multicast', got 'a,b'");
  expect_refused("fields.csv", header + "0,5,4,100,115,0\n0,5,4,100\n",
                 ":4: expected six unsigned integers: src,dst,flits,ready_cycle,done_cycle,multicast, got "
                 "'0,5,4,100'");
  expect_refused("negative.csv", header + "0,5,-4,100,115,0\n",
                 ":3: expected six unsigned integers: src,dst,flits,ready_cycle,done_cycle,multicast, got "
                 "'0,5,-4,100,115,0'");
  expect_refused("node.csv", header + "0,16,4,100,115,0\n",
                 ":3: expected nodes below 16 (the header's mesh), got '0,16,4,100,115,0'");
  expect_refused("done.csv", header + "0,5,4,100,99,0\n",
                 ":3: expected at least one flit and done_cycle >= ready_cycle, got '0,5,4,100,99,0'");
  expect_refused("far.csv", header + "0,5,4,281474976710656,281474976710700,0\n",
                 ":3: expected cycles and flits below 2^48, got '0,5,4,281474976710656,281474976710700,0'");
  std::string shallow = header;
  shallow.replace(shallow.find("buffer_flits 8"), 14, "buffer_flits 2");
  std::string deep = header;
  deep.replace(deep.find("buffer_flits 8"), 14, "buffer_flits 3000000000");
  expect_refused("deep.csv", deep,
                 ":1: the header's NoC: key 'buffer_flits': expected an integer from 4 to 4096, got 3000000000");
  expect_refused("config.csv", shallow,
                 ":1: the header's NoC: key 'buffer_flits': expected at least router_cycles + 2 * link_cycles = 4 (the "
                 "credit round trip) so a link streams one flit per cycle, got 2");
}

nlohmann::json replay(const std::vector<std::string>& extra, int expect_status, std::string* err = nullptr) {
  const std::string json = temp_file("out.json");
  std::vector<std::string> args{"noc-bench"};
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), {"--json", json});
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(bench::noc_bench_main(static_cast<int>(argv.size()), argv.data()), expect_status);
  ::testing::internal::GetCapturedStdout();
  const std::string error = ::testing::internal::GetCapturedStderr();
  if (err) *err = error;
  if (expect_status != 0) return nullptr;
  std::ifstream in(json);
  nlohmann::json j = nlohmann::json::parse(in);
  std::filesystem::remove(json);
  return j;
}

const nlohmann::json& class_of(const nlohmann::json& r, const std::string& name) {
  for (const auto& c : r["classes"])
    if (c["class"] == name) return c;
  throw std::runtime_error("no class " + name);
}

TEST(NocReplay, TheRunsOrderReproducesTheTraceAndTheReadyOrderTimesItAfresh) {
  const std::string path = temp_file("replay.csv");
  const platform::NocPacketTrace trace = write_trace(path);
  const nlohmann::json r = replay({"--replay", path}, 0);
  EXPECT_EQ(r["recorded_times_differing"], 0);
  EXPECT_EQ(r["packets"], 16);
  EXPECT_EQ(r["unicasts"], 15);
  // The same packets, ready first timed first, by a model of their own.
  noc::FastMeshModel fresh(trace.noc);
  std::vector<Cycle> done;
  fresh.multicast(0, {5, 10}, 3, 930, done);
  double run_sum = 0, ready_sum = 0;
  for (noc::NodeId src = 15; src-- > 0;) {
    const Cycle ready = 1000 - 4 * src;
    ready_sum += double(fresh.unicast(src, 15, 9, ready) - ready);
  }
  for (std::size_t i = 0; i < 15; ++i) run_sum += double(trace.packets[i].done - trace.packets[i].ready);
  const nlohmann::json& unicasts = class_of(r, "unicasts");
  EXPECT_EQ(unicasts["packets"], 15);
  EXPECT_DOUBLE_EQ(unicasts["run_order"]["mean"].get<double>(), run_sum / 15);
  EXPECT_DOUBLE_EQ(unicasts["ready_order"]["mean"].get<double>(), ready_sum / 15);
  // Later-ready packets timed first held the shared links: in the run's
  // order the earlier-ready ones waited longer than in their own order.
  EXPECT_GT(run_sum, ready_sum);
  EXPECT_EQ(class_of(r, "timed in ready order")["packets"], 1);
  EXPECT_EQ(class_of(r, "multicast deliveries")["packets"], 2);
  // The multicast at 930, (0,0) to (1,1) and (2,2), is through before the
  // unicasts come (from 944): each copy at its zero-load latency in every
  // column, (3 + 5) * 3 + 2 * 3 flits over two.
  const nlohmann::json& multicast = class_of(r, "multicast deliveries");
  for (const char* column : {"run_order", "ready_order", "cycle_level"})
    EXPECT_DOUBLE_EQ(multicast[column]["mean"].get<double>(), 15.0) << column;

  // A time the fast model would not give is counted.
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const std::size_t row = text.find('\n', text.find('\n') + 1) + 1;  // the first packet's row
  const std::size_t last_comma = text.rfind(',', text.find('\n', row));
  const std::size_t done_at = text.rfind(',', last_comma - 1) + 1;
  text.replace(done_at, last_comma - done_at, std::to_string(trace.packets[0].done + 1));
  std::ofstream(path) << text;
  EXPECT_EQ(replay({"--replay", path}, 0)["recorded_times_differing"], 1);
  std::filesystem::remove(path);
}

// The trace of unicasts {src, dst, flits, ready} timed one after another on
// the default NoC.
void write_unicasts(const std::string& path, const std::vector<std::array<std::uint64_t, 4>>& packets) {
  platform::NocPacketLog log(path, noc::NocConfig{});
  noc::FastMeshModel model{noc::NocConfig{}};
  model.record_packets(&log);
  for (const auto& p : packets)
    model.unicast(static_cast<noc::NodeId>(p[0]), static_cast<noc::NodeId>(p[1]), p[2], p[3]);
  log.close();
}

TEST(NocReplay, ALonePacketTakesTheZeroLoadLatencyInEveryColumn) {
  const std::string path = temp_file("lone.csv");
  write_unicasts(path, {{1, 14, 5, 40}});
  const nlohmann::json r = replay({"--replay", path}, 0);
  const double zero_load = double(noc::Mesh(noc::NocConfig{}).zero_load_latency(1, 14, 5));
  const nlohmann::json& c = class_of(r, "unicasts");
  for (const char* column : {"run_order", "ready_order", "cycle_level"})
    EXPECT_DOUBLE_EQ(c[column]["mean"].get<double>(), zero_load) << column;
  EXPECT_FALSE(r.contains("by_hops"));
  EXPECT_TRUE(r["cycle_level_deadlock_cycle"].is_null());
  EXPECT_FALSE(c.contains("ready_order_unicasts_alone"));
  std::filesystem::remove(path);
}

// Multicasts that deadlock the cycle-level model (CycleModelMulticast.
// BranchesWaitingForOneAnotherThroughSharedBuffersDeadlock: from cycle 37 on
// nothing moves): the replay says so, and the cycle-level model times the
// unicasts alone, beside the fast model's timing of them alone.
TEST(NocReplay, ADeadlockOfTheCycleLevelModelLeavesTheUnicastsToCompare) {
  const std::string path = temp_file("deadlock.csv");
  const noc::NocConfig config;
  {
    platform::NocPacketLog log(path, config);
    noc::FastMeshModel model(config);
    model.record_packets(&log);
    const noc::Mesh& mesh = model.mesh();
    const noc::NodeId top = mesh.node(1, 0), below = mesh.node(1, 1);
    std::vector<Cycle> done;
    for (const auto& [x, y] : {std::pair{0u, 0u}, {2u, 0u}, {0u, 1u}, {2u, 1u}})
      model.multicast(mesh.node(x, y), {top, below}, 17, 0, done);
    model.unicast(1, 14, 5, 500);
    log.close();
  }
  const nlohmann::json r = replay({"--replay", path}, 0);
  EXPECT_EQ(r["cycle_level_deadlock_cycle"], 37);
  const nlohmann::json& multicast = class_of(r, "multicast deliveries");
  EXPECT_EQ(multicast["packets"], 8);
  for (const char* column : {"run_order", "ready_order"}) EXPECT_FALSE(multicast[column].is_null()) << column;
  for (const char* column : {"cycle_level", "ready_order_unicasts_alone"})
    EXPECT_TRUE(multicast[column].is_null()) << column;
  const double zero_load = double(noc::Mesh(config).zero_load_latency(1, 14, 5));
  for (const char* column : {"ready_order", "cycle_level", "ready_order_unicasts_alone"})
    EXPECT_DOUBLE_EQ(class_of(r, "unicasts")[column]["mean"].get<double>(), zero_load) << column;
  std::filesystem::remove(path);
}

TEST(NocReplay, ByHopsSplitsTheUnicastsByRoutersCrossed) {
  // On the default 4x4 mesh node 1 is (1, 0), 14 is (2, 3): 4 links, 5
  // routers; 0 to 3 crosses 4 routers; 5 to 5 only its own.
  const std::string path = temp_file("hops.csv");
  write_unicasts(path, {{1, 14, 5, 40}, {0, 3, 2, 1000}, {5, 5, 1, 2000}, {14, 1, 3, 3000}});
  const nlohmann::json r = replay({"--replay", path, "--by-hops"}, 0);
  const noc::Mesh mesh{noc::NocConfig{}};
  const auto& rows = r["by_hops"];
  ASSERT_EQ(rows.size(), 3u) << rows.dump();
  const unsigned hops[] = {1, 4, 5};
  const std::uint64_t packets[] = {1, 1, 2};
  const double means[] = {double(mesh.zero_load_latency(5, 5, 1)), double(mesh.zero_load_latency(0, 3, 2)),
                          (double(mesh.zero_load_latency(1, 14, 5)) + double(mesh.zero_load_latency(14, 1, 3))) / 2};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rows[i]["hops"], hops[i]);
    EXPECT_EQ(rows[i]["packets"], packets[i]);
    for (const char* column : {"run_order", "ready_order", "cycle_level"})
      EXPECT_DOUBLE_EQ(rows[i][column]["mean"].get<double>(), means[i]) << rows[i].dump();
  }
  std::filesystem::remove(path);
}

// A packet ready billions of cycles after the one before: the cycle-level
// model is not stepped through the idle cycles between them.
TEST(NocReplay, PacketsFarApartReplayAtOnce) {
  const std::string path = temp_file("far_apart.csv");
  write_unicasts(path, {{1, 14, 5, 40}, {14, 1, 5, 40'000'000'000'000}});
  const nlohmann::json r = replay({"--replay", path}, 0);
  const double zero_load = double(noc::Mesh(noc::NocConfig{}).zero_load_latency(1, 14, 5));
  EXPECT_DOUBLE_EQ(class_of(r, "unicasts")["cycle_level"]["mean"].get<double>(), zero_load);
  std::filesystem::remove(path);
}

TEST(NocReplay, TrafficOptionsAndBadTracesAreRefused) {
  std::string err;
  replay({"--replay", "t.csv", "--mesh", "4x4"}, 2, &err);
  EXPECT_NE(err.find("--mesh: expected no traffic, mesh or model option with --replay (the trace names its NoC), got "
                     "'--mesh with --replay'"),
            std::string::npos)
      << err;
  replay({"--rates", "0.1"}, 2, &err);
  EXPECT_NE(err.find("'--mesh' is required"), std::string::npos) << err;
  const std::string missing = temp_file("missing.csv");
  replay({"--replay", missing}, 2, &err);
  EXPECT_EQ(err, "npuvp noc-bench: --replay: " + missing + ": cannot be read\n");
}

}  // namespace
}  // namespace npuvp
