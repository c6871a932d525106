// noc-bench as a user runs it: the figures it writes, read back from its JSON.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench/noc_bench.h"

namespace {

nlohmann::json run_bench(std::vector<std::string> args) {
  const auto file = std::filesystem::temp_directory_path() / "npuvp_noc_bench_test.json";
  args.insert(args.begin(), "noc-bench");
  args.push_back("--json");
  args.push_back(file.string());
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  EXPECT_EQ(npuvp::bench::noc_bench_main(static_cast<int>(argv.size()), argv.data()), 0);
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

TEST(NocBench, LightLoadDeliveredBeforeTheWindowEndsIsAcceptedAsOffered) {
  // At these loads every measured packet is delivered before the window
  // ends, which once left the end-of-window count unread (an unsigned wrap:
  // 1.15e14 flits/node/cycle).
  const auto r = run_bench({"--mesh", "4x4", "--rates", "0.005,0.01", "--cycles", "10000"});
  ASSERT_EQ(r["rates"].size(), 2u);
  for (const auto& p : r["rates"]) {
    const double offered = p["offered"].get<double>(), accepted = p["accepted"].get<double>();
    EXPECT_NEAR(accepted, offered, 0.25 * offered) << p.dump();
  }
}

}  // namespace
