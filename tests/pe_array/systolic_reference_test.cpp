// The per-tile systolic formula against the PE-by-PE reference model, and the
// reference's product against a naive matmul. Pure C++: no SystemC kernel.
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "contract/systolic_timing.h"
#include "models/pe_array/systolic_reference.h"

namespace npuvp::pe_array {
namespace {

constexpr Dataflow kWs = Dataflow::kWeightStationary;
constexpr Dataflow kOs = Dataflow::kOutputStationary;

std::vector<std::int8_t> random_int8(std::size_t count, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(-128, 127);
  std::vector<std::int8_t> v(count);
  for (auto& x : v) x = static_cast<std::int8_t>(d(rng));
  return v;
}

std::vector<std::int32_t> naive_matmul(const GemmShape& g, const std::vector<std::int8_t>& a,
                                       const std::vector<std::int8_t>& b) {
  std::vector<std::int32_t> c(g.m * g.n, 0);
  for (std::uint64_t i = 0; i < g.m; ++i)
    for (std::uint64_t j = 0; j < g.n; ++j) {
      std::int32_t s = 0;
      for (std::uint64_t p = 0; p < g.k; ++p) s += std::int32_t{a[i * g.k + p]} * std::int32_t{b[p * g.n + j]};
      c[i * g.n + j] = s;
    }
  return c;
}

std::string describe(Dataflow df, ArrayShape arr, GemmShape g, bool overlap) {
  return std::string(df == kWs ? "WS" : "OS") + " array " + std::to_string(arr.rows) + "x" + std::to_string(arr.cols) +
         " m=" + std::to_string(g.m) + " n=" + std::to_string(g.n) + " k=" + std::to_string(g.k) +
         (overlap ? " overlap" : " no-overlap");
}

// Runs the reference and checks cycles against the formula and the product
// against the naive matmul.
void check_agreement(Dataflow df, ArrayShape arr, GemmShape g, bool overlap, std::mt19937& rng) {
  SCOPED_TRACE(describe(df, arr, g, overlap));
  const auto a = random_int8(g.m * g.k, rng);
  const auto b = random_int8(g.k * g.n, rng);
  const SystolicRun run = simulate_systolic_array(df, arr, g, a, b, overlap);
  EXPECT_EQ(run.cycles, systolic_tile_timing(df, arr, g, overlap).total_cycles());
  EXPECT_EQ(run.macs, g.m * g.n * g.k);
  EXPECT_EQ(run.product, naive_matmul(g, a, b));
}

TEST(SystolicTiming, HandDerivedSmallCases) {
  // WS 4x4, m=5 pixels, n=3 filters, k=6: ceil(6/4) x ceil(3/4) = 2 folds, each
  // a 4-cycle weight preload then 5 + 4 + 4 - 2 = 11 streaming cycles.
  const ArrayShape a4{4, 4};
  TileTiming t = systolic_tile_timing(kWs, a4, {5, 3, 6}, false);
  EXPECT_EQ(t.folds, 2u);
  EXPECT_EQ(t.stream_cycles, 11u);
  EXPECT_EQ(t.load_cycles, 8u);
  EXPECT_EQ(t.total_cycles(), 30u);
  EXPECT_EQ(scalesim_reported_cycles(t), 29u);
  // With double-buffered weights only the first preload shows: 4 + 2 x 11.
  EXPECT_EQ(systolic_tile_timing(kWs, a4, {5, 3, 6}, true).total_cycles(), 26u);
  // OS: ceil(5/4) x ceil(3/4) = 2 folds of 6 + 4 + 4 - 2 = 12, no preload.
  t = systolic_tile_timing(kOs, a4, {5, 3, 6}, false);
  EXPECT_EQ(t.folds, 2u);
  EXPECT_EQ(t.load_cycles, 0u);
  EXPECT_EQ(t.total_cycles(), 24u);
  EXPECT_EQ(systolic_tile_timing(kOs, a4, {5, 3, 6}, true).total_cycles(), 24u);
  // Empty tiles cost nothing.
  EXPECT_EQ(systolic_tile_timing(kWs, a4, {0, 3, 6}, false).total_cycles(), 0u);
  EXPECT_EQ(scalesim_reported_cycles(TileTiming{}), 0u);
}

TEST(SystolicTiming, OverlapNeverSlowerAndOnlyHelpsWs) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<unsigned> dim(1, 300), side(2, 32);
  for (int i = 0; i < 500; ++i) {
    const ArrayShape arr{side(rng), side(rng)};
    const GemmShape g{dim(rng), dim(rng), dim(rng)};
    const auto ws_off = systolic_tile_timing(kWs, arr, g, false);
    const auto ws_on = systolic_tile_timing(kWs, arr, g, true);
    EXPECT_EQ(ws_off.total_cycles() - ws_on.total_cycles(), (ws_off.folds - 1) * arr.rows);
    EXPECT_EQ(systolic_tile_timing(kOs, arr, g, false).total_cycles(),
              systolic_tile_timing(kOs, arr, g, true).total_cycles());
  }
}

TEST(SystolicReference, CornerArraysAndShapes) {
  std::mt19937 rng(11);
  const ArrayShape arrays[] = {{2, 2}, {32, 32}, {2, 32}, {32, 2}, {3, 5}, {7, 4}};
  // Shapes smaller than, equal to and a little larger than the arrays, and 1s.
  const GemmShape shapes[] = {{1, 1, 1}, {2, 2, 2}, {1, 33, 1}, {33, 1, 1}, {1, 1, 33}, {32, 32, 32}, {33, 31, 65}};
  for (const ArrayShape& arr : arrays)
    for (const GemmShape& g : shapes)
      for (Dataflow df : {kWs, kOs})
        for (bool overlap : {false, true}) check_agreement(df, arr, g, overlap, rng);
}

TEST(SystolicReference, RandomShapesMatchFormulaAndMatmul) {
  std::mt19937 rng(2024);
  std::uniform_int_distribution<unsigned> side(2, 32);
  std::uniform_int_distribution<std::uint64_t> dim(1, 80);
  for (int i = 0; i < 200; ++i) {
    const ArrayShape arr{side(rng), side(rng)};
    const GemmShape g{dim(rng), dim(rng), dim(rng)};
    for (Dataflow df : {kWs, kOs})
      for (bool overlap : {false, true}) check_agreement(df, arr, g, overlap, rng);
  }
}

// SCALE-Sim v2's own regression runs of topologies/GEMM_mnk/test_mnk_input.csv
// (M=256, N=128, K=256) on its 32x32 default array with a user bandwidth
// (test/general/golden_trace_user_{ws,os}/COMPUTE_REPORT.csv): Total Cycles
// 52447 with Stall Cycles 41248 (ws) and 42272 (os), i.e. 11199 and 10175
// stall-free. The reference steps the array to one more (SCALE-Sim reports
// the 0-based index of the last cycle).
TEST(SystolicReference, ReproducesScaleSimGemmGolden) {
  std::mt19937 rng(3);
  const ArrayShape arr{32, 32};
  const GemmShape g{256, 128, 256};
  const auto a = random_int8(g.m * g.k, rng);
  const auto b = random_int8(g.k * g.n, rng);
  const auto want = naive_matmul(g, a, b);
  const SystolicRun ws = simulate_systolic_array(kWs, arr, g, a, b, false);
  EXPECT_EQ(ws.cycles - 1, 11199u);
  EXPECT_EQ(ws.product, want);
  const SystolicRun os = simulate_systolic_array(kOs, arr, g, a, b, false);
  EXPECT_EQ(os.cycles - 1, 10175u);
  EXPECT_EQ(os.product, want);
  EXPECT_EQ(scalesim_reported_cycles(systolic_tile_timing(kWs, arr, g, false)), 11199u);
  EXPECT_EQ(scalesim_reported_cycles(systolic_tile_timing(kOs, arr, g, false)), 10175u);
}

TEST(SystolicReference, RejectsBadArguments) {
  const std::vector<std::int8_t> a(6), b(6);
  EXPECT_THROW(simulate_systolic_array(kWs, {0, 4}, {2, 2, 3}, a, b, false), std::invalid_argument);
  EXPECT_THROW(simulate_systolic_array(kWs, {4, 4}, {2, 2, 4}, a, b, false), std::invalid_argument);
  const SystolicRun empty = simulate_systolic_array(kOs, {4, 4}, {0, 3, 2}, {}, b, false);
  EXPECT_EQ(empty.cycles, 0u);
  EXPECT_TRUE(empty.product.empty());
}

}  // namespace
}  // namespace npuvp::pe_array
