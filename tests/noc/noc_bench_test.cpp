// noc-bench as a user runs it: the figures it writes, read back from its JSON.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench/noc_bench.h"

namespace {

// Its JSON in a file of this process's own: ctest runs this file's tests as
// parallel processes, which once read each other's half-written file.
nlohmann::json run_bench(std::vector<std::string> args) {
  const auto file =
      std::filesystem::temp_directory_path() / ("npuvp_noc_bench_test_" + std::to_string(::getpid()) + ".json");
  args.insert(args.begin(), "noc-bench");
  args.push_back("--json");
  args.push_back(file.string());
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  EXPECT_EQ(npuvp::bench::noc_bench_main(static_cast<int>(argv.size()), argv.data()), 0);
  std::ifstream in(file);
  nlohmann::json j = nlohmann::json::parse(in);
  in.close();
  std::filesystem::remove(file);
  return j;
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

namespace {

// Fixed seeds and windows (warm-up a fifth of the window): the same numbers on
// every run. Near saturation one seed's mean latency swings by ten points
// between seeds (4x4 hotspot at 0.9x: -17 % to -6 %), so each point pools
// three seeds' 20,000-cycle windows (--seeds 3).
constexpr double kTolerance = 0.05;

struct Sweep {
  const char* mesh;
  const char* traffic;
  double saturation;  // the cycle-level model's, measured with this bench
  // The fast model's known deviation where it exceeds 5 % (docs/noc.md):
  // tolerance for the point at 0.9x saturation and above it, and at half.
  double near_tolerance, above_tolerance, half_tolerance = kTolerance;
  unsigned virtual_channels = 2;  // the platform's
};

// Returns the bench's JSON, each rate's packets also by hops (--by-hops).
nlohmann::json expect_agreement(const Sweep& s) {
  const double half = 0.5 * s.saturation, near = 0.9 * s.saturation, above = std::min(1.0, 2 * s.saturation);
  const std::string rates = std::to_string(half) + "," + std::to_string(near) + "," + std::to_string(above);
  const auto r = run_bench({"--mesh", s.mesh, "--traffic", s.traffic, "--rates", rates, "--cycles", "20000", "--seed",
                            "1", "--seeds", "3", "--model", "both", "--set",
                            "virtual_channels=" + std::to_string(s.virtual_channels), "--by-hops"});
  EXPECT_EQ(r["rates"].size(), 3u);
  if (r["rates"].size() != 3u) return r;
  for (int i = 0; i < 3; ++i) {
    const auto& p = r["rates"][i];
    const double accepted = p["fast_vs_cycle"]["accepted"], latency = p["fast_vs_cycle"]["latency_mean"];
    const double tolerance = i == 0 ? s.half_tolerance : i == 1 ? s.near_tolerance : s.above_tolerance;
    const std::string where = std::string(s.mesh) + " " + s.traffic + " at " + p["offered"].dump() + ", " +
                              std::to_string(s.virtual_channels) + " VCs";
    EXPECT_LE(std::abs(accepted), tolerance) << where;
    if (i < 2) {
      EXPECT_LE(std::abs(latency), tolerance) << where;
      // Below saturation the reference delivers what is offered.
      EXPECT_NEAR(p["cycle"]["accepted"].get<double>(), p["offered"].get<double>(), 0.05 * p["offered"].get<double>());
    } else {
      EXPECT_LT(p["cycle"]["accepted"].get<double>(), 0.9 * p["offered"].get<double>()) << where;
    }
  }
  return r;
}

TEST(NocBench, FastModelAgreesWithCycleLevelBelowAndAboveSaturationOn4x4) {
  for (const Sweep& s :
       {Sweep{"4x4", "uniform", 0.69, kTolerance, kTolerance}, Sweep{"4x4", "transpose", 0.34, kTolerance, kTolerance}})
    expect_agreement(s);
  // The hotspot's deviation at 0.9x is the order of service (docs/noc.md,
  // "Round robin against first timed"): the reference's round robin among
  // input ports makes a packet to the hotspot wait more the farther it
  // starts (24.6 to 61.3 cycles from 2 to 5 routers), while the fast model,
  // serving packets in the order they were created, times them all alike
  // (33.4 to 34.3).
  const auto r = expect_agreement(Sweep{"4x4", "hotspot", 0.26, 0.12, kTolerance});
  std::vector<double> reference, fast;
  for (const auto& row : r["rates"].at(1)["by_hops"])
    if (row["to_hotspot"].get<bool>()) {
      reference.push_back(row["cycle"]["latency_mean"].get<double>());
      fast.push_back(row["fast"]["latency_mean"].get<double>());
    }
  ASSERT_EQ(reference.size(), 4u);
  for (std::size_t i = 1; i < reference.size(); ++i) EXPECT_GT(reference[i], reference[i - 1] + 8) << i;
  const auto [least, most] = std::minmax_element(fast.begin(), fast.end());
  EXPECT_LT(*most, 1.05 * *least);
}

TEST(NocBench, FastModelAgreesWithCycleLevelBelowAndAboveSaturationOn8x8) {
  for (const Sweep& s :
       {Sweep{"8x8", "uniform", 0.385, kTolerance, 0.08}, Sweep{"8x8", "transpose", 0.155, kTolerance, kTolerance},
        Sweep{"8x8", "hotspot", 0.075, kTolerance, kTolerance}})
    expect_agreement(s);
}

// One VC and four, uniform traffic, the saturation points scaled by the
// reference's accepted throughput at load 1 against two VCs'. Outside 5 %
// the fast model's deviation is held where it was measured (docs/noc.md,
// "Other VC counts"): at one VC +5.5 % and +5.6 % at half load, +8.3 % at
// 0.9x on 4x4; at four VCs -6.1 % at half load and -23.6 % and -15.0 % at
// 0.9x, +15.4 % and +15.3 % accepted above saturation: the flit-by-flit
// interleaving of up to four packets a packet sent whole lacks.
TEST(NocBench, FastModelDeviationAtOtherVcCountsIsAsMeasured) {
  for (const Sweep& s :
       {Sweep{"4x4", "uniform", 0.58, 0.09, kTolerance, 0.06, 1},
        Sweep{"8x8", "uniform", 0.330, kTolerance, kTolerance, 0.06, 1},
        Sweep{"4x4", "uniform", 0.708, 0.24, 0.16, 0.07, 4}, Sweep{"8x8", "uniform", 0.396, 0.16, 0.16, kTolerance, 4}})
    expect_agreement(s);
}

// --seeds N runs a rate N times with consecutive seeds and reports all their
// measured packets together: the packet-weighted mean of the runs' means,
// their windows' throughput averaged.
TEST(NocBench, SeedsPoolTheRunsOfConsecutiveSeeds) {
  const std::vector<std::string> common{"--mesh", "4x4",      "--traffic", "hotspot", "--rates",
                                        "0.2",    "--cycles", "2000",      "--model", "both"};
  const auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = common;
    args.insert(args.end(), extra.begin(), extra.end());
    return run_bench(args);
  };
  const auto pooled = with({"--seed", "4", "--seeds", "2"});
  const auto first = with({"--seed", "4"}), second = with({"--seed", "5"});
  EXPECT_EQ(pooled["seeds"], 2);
  for (const char* model : {"cycle", "fast"}) {
    const auto& p = pooled["rates"][0][model];
    const auto& a = first["rates"][0][model];
    const auto& b = second["rates"][0][model];
    const double na = a["packets_measured"], nb = b["packets_measured"];
    EXPECT_EQ(p["packets_measured"].get<double>(), na + nb) << model;
    EXPECT_NEAR(p["latency_mean"].get<double>(),
                (na * a["latency_mean"].get<double>() + nb * b["latency_mean"].get<double>()) / (na + nb), 1e-9)
        << model;
    EXPECT_NEAR(p["accepted"].get<double>(), (a["accepted"].get<double>() + b["accepted"].get<double>()) / 2, 1e-12)
        << model;
  }
}

TEST(NocBench, BadSeedsNameTheOptionAndTheExpectation) {
  const char* const zero[] = {"noc-bench", "--mesh", "4x4", "--rates", "0.1", "--seeds", "0", "--json", "unused.json"};
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(npuvp::bench::noc_bench_main(static_cast<int>(std::size(zero)), zero), 2);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("--seeds: expected an integer from 1 to 1000, got '0'"), std::string::npos) << err;
  const char* const wrap[] = {"noc-bench", "--mesh", "4x4",    "--rates",    "0.1", "--seed", "18446744073709551615",
                              "--seeds",   "2",      "--json", "unused.json"};
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(npuvp::bench::noc_bench_main(static_cast<int>(std::size(wrap)), wrap), 2);
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("--seeds: expected seeds that stay below 2^64 from --seed, got '2'"), std::string::npos) << err;
}

// A window far shorter than the mesh's latency (32x32: up to 193 cycles
// corner to corner at zero load) still measures a full network and drains
// every packet: warm-up and drain run at least twice that latency. With a
// warm-up of cycles/5 and a drain of --cycles, both models accepted half the
// offered load and left 9 packets undelivered, printed as saturation.
TEST(NocBench, AShortWindowOnALargeMeshWarmsUpAndDrainsItsPackets) {
  for (const char* model : {"cycle", "fast"}) {
    const auto r = run_bench({"--mesh", "32x32", "--rates", "0.01", "--cycles", "100", "--model", model});
    const auto& p = r["rates"][0];
    EXPECT_EQ(p["packets_undelivered"].get<std::uint64_t>(), 0u) << model;
    EXPECT_NEAR(p["accepted"].get<double>(), 0.01, 0.0015) << model;
  }
}

// --mesh gives the size: --set width=8 once ran an 8x4 mesh under --mesh 4x4,
// and a transpose on --set height=2 was refused as "transpose on 4x4".
TEST(NocBench, TheMeshSizeComesFromMeshNotFromSet) {
  for (const char* size : {"width=8", "height=2"}) {
    const char* const argv[] = {"noc-bench", "--mesh",    "4x4",   "--rates", "0.1",
                                "--traffic", "transpose", "--set", size};
    ::testing::internal::CaptureStderr();
    EXPECT_EQ(npuvp::bench::noc_bench_main(static_cast<int>(std::size(argv)), argv), 2);
    const std::string err = ::testing::internal::GetCapturedStderr();
    EXPECT_NE(
        err.find(std::string("--set: expected a NoC parameter other than the mesh's size, which --mesh gives, got '") +
                 size + "'"),
        std::string::npos)
        << err;
  }
}

// The table alone, as dram-bench and bench print it: --json only adds a file.
TEST(NocBench, WithoutJsonItPrintsTheTable) {
  const char* const argv[] = {"noc-bench", "--mesh", "2x2", "--rates", "0.05", "--cycles", "100", "--model", "fast"};
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(npuvp::bench::noc_bench_main(static_cast<int>(std::size(argv)), argv), 0);
  const std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("noc-bench: 2x2 mesh, uniform traffic, 4-flit packets, 100 cycles, fast per-packet model"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("zero-load latency: analytic"), std::string::npos) << out;
}

TEST(NocBench, AJsonFileItCannotWriteFailsBeforeTheRuns) {
  const char* const argv[] = {"noc-bench", "--mesh", "2x2", "--rates", "0.05", "--json", "/nonexistent-dir/f.json"};
  ::testing::internal::CaptureStderr();
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(npuvp::bench::noc_bench_main(static_cast<int>(std::size(argv)), argv), 1);
  const std::string out = ::testing::internal::GetCapturedStdout();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("npuvp noc-bench: --json: cannot write '/nonexistent-dir/f.json'"), std::string::npos) << err;
  EXPECT_EQ(out.find("noc-bench:"), std::string::npos) << out;
}

// Each --by-hops row of one model, checked against the rate's own figures:
// its classes hold every measured packet, their means average to the rate's,
// and at a light load each mean lies within a few cycles above the zero-load
// latency of its hop count (hops * (router 2 + link 1) + 4 flits).
void expect_classes_of(const nlohmann::json& rate, const nlohmann::json& rows, const char* model) {
  std::uint64_t packets = 0;
  double cycles = 0;
  for (const auto& row : rows) {
    const auto& m = model != nullptr ? row[model] : row;
    const std::uint64_t n = m["packets"].get<std::uint64_t>();
    packets += n;
    if (n == 0) continue;
    const double mean = m["latency_mean"].get<double>(), zero_load = 3.0 * row["hops"].get<double>() + 4;
    cycles += mean * double(n);
    EXPECT_GE(mean, zero_load) << row.dump();
    EXPECT_LT(mean, zero_load + 2) << row.dump();
  }
  const auto& whole = model != nullptr ? rate[model] : rate;
  EXPECT_EQ(packets, whole["packets_measured"].get<std::uint64_t>());
  EXPECT_NEAR(cycles / double(packets), whole["latency_mean"].get<double>(), 1e-9);
}

TEST(NocBench, ByHopsSplitsEachModelsPacketsByRoutersCrossed) {
  const auto r = run_bench({"--mesh", "4x4", "--rates", "0.02", "--cycles", "2000", "--model", "both", "--by-hops"});
  const auto& rate = r["rates"].at(0);
  const auto& rows = rate["by_hops"];
  // Uniform traffic on 4x4: 1 to 6 links apart, so 2 to 7 routers; no
  // hotspot, so no split by destination.
  ASSERT_EQ(rows.size(), 6u) << rows.dump();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["hops"].get<unsigned>(), i + 2);
    EXPECT_FALSE(rows[i].contains("to_hotspot"));
  }
  expect_classes_of(rate, rows, "cycle");
  expect_classes_of(rate, rows, "fast");
}

TEST(NocBench, ByHopsOnHotspotTrafficSetsThePacketsToTheHotspotApart) {
  const auto r = run_bench({"--mesh", "4x4", "--traffic", "hotspot", "--rates", "0.02", "--cycles", "2000", "--model",
                            "cycle", "--by-hops"});
  const auto& rate = r["rates"].at(0);
  const auto& rows = rate["by_hops"];
  expect_classes_of(rate, rows, nullptr);
  // The hotspot (2, 2) is at most 4 links from any node of a 4x4 mesh.
  std::uint64_t to_hotspot = 0;
  for (const auto& row : rows)
    if (row["to_hotspot"].get<bool>()) {
      EXPECT_LE(row["hops"].get<unsigned>(), 5u) << row.dump();
      to_hotspot += row["packets"].get<std::uint64_t>();
    }
  // A fifth of every other node's packets, and the hotspot's 1/15 share of
  // the rest: about a quarter of them.
  const double share = double(to_hotspot) / rate["packets_measured"].get<double>();
  EXPECT_GT(share, 0.15);
  EXPECT_LT(share, 0.35);
}

TEST(NocBench, HotspotBoundIsTheHotNodesEjectionChannel) {
  // 8x8: the 63 other nodes send a fifth of their load to the centre, plus
  // its 1/63 share of the uniform rest: 63 * 0.2 + 0.8 = 13.4 times the offered
  // load ejects there, far below the bisection's 0.412.
  const auto r = run_bench({"--mesh", "8x8", "--traffic", "hotspot", "--rates", "0.01", "--cycles", "100"});
  EXPECT_NEAR(r["throughput_bound"].get<double>(), 1 / 13.4, 1e-12);
  EXPECT_NEAR(r["endpoint_bound"].get<double>(), 1 / 13.4, 1e-12);
  EXPECT_NEAR(r["bisection_bound"].get<double>(), 0.412, 0.001);
  // Uniform traffic stays bisection-bound.
  const auto u = run_bench({"--mesh", "8x8", "--rates", "0.01", "--cycles", "100"});
  EXPECT_EQ(u["throughput_bound"], u["bisection_bound"]);
  EXPECT_DOUBLE_EQ(u["endpoint_bound"].get<double>(), 1.0);
}

}  // namespace
