// `npuvp dram-bench`: bad options name the option and what was expected; a run
// writes the JSON keys users script against, with no protocol violation.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench/dram_bench.h"

namespace npuvp::bench {
namespace {

int run(std::vector<std::string> args, std::string* err = nullptr, std::string* out = nullptr) {
  args.insert(args.begin(), "dram-bench");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  const int rc = dram_bench_main(int(argv.size()), argv.data());
  const std::string e = ::testing::internal::GetCapturedStderr();
  const std::string o = ::testing::internal::GetCapturedStdout();
  if (err) *err = e;
  if (out) *out = o;
  return rc;
}

TEST(DramBench, BadOptionsNameTheOptionAndTheExpectation) {
  std::string err;
  EXPECT_EQ(run({"--mapping", "rcb"}, &err), 2);
  EXPECT_NE(err.find("--mapping 'rcb': expected one of brc|rbc"), std::string::npos) << err;
  EXPECT_EQ(run({"--requests", "0"}, &err), 2);
  EXPECT_NE(err.find("--requests: expected an integer from 1 to 1000000000, got '0'"), std::string::npos) << err;
  // Read as unsigned, "-1" once wrapped to 2^64 - 1 requests and never ended.
  EXPECT_EQ(run({"--requests", "-1"}, &err), 2);
  EXPECT_NE(err.find("--requests: expected an integer from 1 to 1000000000, got '-1'"), std::string::npos) << err;
  EXPECT_EQ(run({"--outstanding", "-4"}, &err), 2);
  EXPECT_NE(err.find("--outstanding: expected an integer from 1 to 65536, got '-4'"), std::string::npos) << err;
  EXPECT_EQ(run({"--requests", "many"}, &err), 2);
  EXPECT_NE(err.find("requests"), std::string::npos) << err;
  EXPECT_EQ(run({"--frobnicate"}, &err), 2);
  EXPECT_NE(err.find("frobnicate"), std::string::npos) << err;
  EXPECT_EQ(run({"--memspec", "configs/dram/none.yaml"}, &err), 2);
  EXPECT_NE(err.find("configs/dram/none.yaml"), std::string::npos) << err;
  EXPECT_EQ(run({"--interleave", "48"}, &err), 2);
  EXPECT_NE(err.find("channel_interleave_bytes"), std::string::npos) << err;
  EXPECT_EQ(run({"--stride", "4096"}, &err), 2);
  EXPECT_NE(err.find("--stride: only with --pattern stride"), std::string::npos) << err;
}

TEST(DramBench, WritesTheJsonKeys) {
  const std::string json_file = ::testing::TempDir() + "dram_bench_test.json";
  std::string out;
  ASSERT_EQ(run({"--pattern", "random", "--op", "mix", "--requests", "20000", "--json", json_file}, nullptr, &out), 0);
  EXPECT_NE(out.find("bound"), std::string::npos) << out;
  std::ifstream f(json_file);
  const nlohmann::json j = nlohmann::json::parse(f);
  for (const char* key : {"bandwidth_gbps", "utilization", "row_hit_rate", "energy_pj_per_bit", "avg_power_mw",
                          "timing_violations", "sim_time_us", "wall_s", "requests_per_wall_s", "bound_gbps"})
    EXPECT_TRUE(j.contains(key)) << key;
  for (const char* key : {"mean", "p50", "p99", "max"}) {
    EXPECT_TRUE(j["read_latency_ns"].contains(key)) << key;
    EXPECT_TRUE(j["write_latency_ns"].contains(key)) << key;
  }
  EXPECT_EQ(j["timing_violations"], 0);
  EXPECT_LE(j["bandwidth_gbps"].get<double>(), j["bound_gbps"].get<double>());
  std::remove(json_file.c_str());
}

TEST(DramBench, AShortRunStaysWithinItsBound) {
  // 2000 sequential reads end before the first refresh falls due: the bound
  // must not charge the long-run refresh share (it once reported 106.6 %).
  const std::string json_file = ::testing::TempDir() + "dram_bench_short.json";
  ASSERT_EQ(run({"--requests", "2000", "--json", json_file}), 0);
  std::ifstream f(json_file);
  const nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["refresh_count"], 0);
  EXPECT_GT(j["bandwidth_gbps"].get<double>(), 0.9 * j["peak_gbps"].get<double>());
  EXPECT_LE(j["bandwidth_gbps"].get<double>(), j["bound_gbps"].get<double>());
  std::remove(json_file.c_str());
}

TEST(DramBench, ASequentialMixRunsEachDirectionUntilTheOtherStarves) {
  // 64 KiB in flight, 16 KiB a channel: more than its queues (16 bursts a
  // bank) hold. Aged from arrival, the bursts waiting for an entry starved
  // and the channel served in arrival order, turning around every 16 bursts
  // (71.5 % of peak). Aged from the queue, it turns when a direction runs out
  // of row hits or the other direction's oldest burst has waited
  // max_wait_ns: never more often than the bound allows, and near the bound.
  const std::string json_file = ::testing::TempDir() + "dram_bench_mix.json";
  ASSERT_EQ(run({"--op", "mix", "--size", "1024", "--requests", "20000", "--json", json_file}), 0);
  std::ifstream f(json_file);
  const nlohmann::json j = nlohmann::json::parse(f);
  EXPECT_EQ(j["timing_violations"], 0);
  const double gbps = j["bandwidth_gbps"].get<double>(), bound = j["bound_gbps"].get<double>();
  EXPECT_LE(gbps, bound);
  EXPECT_GT(gbps, 0.95 * bound);
  const double writes = double(j["stats"]["write_bytes"].get<std::uint64_t>()) / 32;  // 32-byte bursts
  const double pairs = double(j["stats"]["turnarounds"].get<std::uint64_t>()) / 2;
  EXPECT_GE(pairs, writes / j["writes_per_turnaround"].get<double>());
  EXPECT_LT(pairs, writes / 128);  // arrival order: a pair per 8 writes
  std::remove(json_file.c_str());
}

}  // namespace
}  // namespace npuvp::bench
