// `npuvp bench --quick`: the shape of what it reports, never its timings.
#include <algorithm>
#include <cmath>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"

namespace {

TEST(Bench, QuickReportsEveryCaseWithItsCpuShares) {
  const npuvp::test::CliResult r = npuvp::test::run_cli("bench --quick --threads 2 --repeat 2 --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["threads"], 2);
  EXPECT_EQ(j["repeat"], 2);
  EXPECT_GT(j["host_int8_gemm"]["gmacs_per_cpu_second"].get<double>(), 0);
  EXPECT_TRUE(j["host_int8_gemm"]["kernel_path"].is_string());
  const auto& cases = j["cases"];
  ASSERT_EQ(cases.size(), 6u);
  const std::vector<std::string> names = {"conv_slice",
                                          "squeezenet1_1",
                                          "squeezenet1_1 again, 1 GHz",
                                          "squeezenet1_1 sweep point, 1 GHz",
                                          "dram-bench random reads",
                                          "noc-bench uniform"};
  const std::size_t runs = 4;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    EXPECT_EQ(c["case"], names[i]);
    EXPECT_EQ(c["exit_code"], 0) << c.dump(2);
    EXPECT_GT(c["cpu_seconds"].get<double>(), 0) << names[i];
    // The round shown is the one with the least CPU time.
    ASSERT_EQ(c["cpu_seconds_rounds"].size(), 2u) << names[i];
    EXPECT_EQ(c["cpu_seconds"].get<double>(),
              std::min(c["cpu_seconds_rounds"][0].get<double>(), c["cpu_seconds_rounds"][1].get<double>()))
        << names[i];
    EXPECT_GE(c["system_seconds"].get<double>(), 0) << names[i];
    EXPECT_LE(c["system_seconds"].get<double>(), c["cpu_seconds"].get<double>()) << names[i];
    EXPECT_GT(c["peak_rss_mb"].get<double>(), 0) << names[i];
    EXPECT_GT(c["page_faults"].get<long>(), 0) << names[i];  // a process touches pages as it loads
    EXPECT_GT(c["wall_seconds"].get<double>(), 0) << names[i];
    EXPECT_EQ(c.contains("cpu_share"), i < runs) << names[i];
    if (i >= runs) continue;
    EXPECT_GT(c["simulated_cycles"].get<double>(), 0);
    EXPECT_GT(c["macs_verified"].get<double>(), 0);
    double sum = 0;
    for (const char* share : {"prepare", "reference", "functional_compute", "timing_model", "outputs_and_other"})
      sum += c["cpu_share"][share].get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-9) << names[i];
  }
  // The repeated network on another platform config finds it prepared.
  EXPECT_FALSE(cases[1]["prepared_from_cache"].get<bool>());
  for (std::size_t i : {2, 3}) {
    EXPECT_TRUE(cases[i]["prepared_from_cache"].get<bool>()) << names[i];
    EXPECT_EQ(cases[i]["macs_verified"], cases[1]["macs_verified"]) << names[i];
    EXPECT_EQ(cases[i]["simulated_cycles"], cases[2]["simulated_cycles"]) << names[i];
  }
  // The sweep point runs with what `npuvp sweep` gives a point, the bench's
  // --threads not added to it; the others with the bench's --threads.
  EXPECT_EQ(cases[3]["command"],
            "npuvp run --network squeezenet1_1 --set npu.clock_mhz=1000 --threads 1 --traces none");
  EXPECT_EQ(cases[3]["threads"], 1);
  EXPECT_EQ(cases[3]["traces"], false);
  EXPECT_EQ(cases[2]["threads"], 2);  // this bench's --threads
  EXPECT_EQ(cases[2]["traces"], true);
}

}  // namespace

TEST(Bench, RepeatOutsideItsRangeIsRefused) {
  for (const char* n : {"0", "101"}) {
    const npuvp::test::CliResult r = npuvp::test::run_cli(std::string("bench --quick --repeat ") + n);
    EXPECT_EQ(r.exit_code, 2) << n;
    EXPECT_NE(r.err.find("--repeat: expected 1 to 100"), std::string::npos) << r.err;
  }
}
