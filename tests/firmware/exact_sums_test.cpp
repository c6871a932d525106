// The cost walk's closed-form sums give, bit for bit, what a walk term by
// term gives: repeated float additions, floor sums and a DMA chain's bursts.
#include <cmath>
#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "firmware/dma_model.h"
#include "firmware/exact_sums.h"

namespace npuvp::firmware {
namespace {

double loop_sum(double acc, double c, std::uint64_t n) {
  for (std::uint64_t i = 0; i < n; ++i) acc += c;
  return acc;
}

TEST(ExactSums, RepeatedAdditionRoundsAsTheLoopDoes) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int trial = 0; trial < 3000; ++trial) {
    const double c = std::ldexp(unit(rng), static_cast<int>(rng() % 40) - 20);
    const double acc = trial % 3 == 0 ? 0.0 : std::ldexp(unit(rng), static_cast<int>(rng() % 80) - 30);
    const std::uint64_t n = rng() % (trial % 10 == 0 ? 200000 : 3000);
    const double expected = loop_sum(acc, c, n);
    EXPECT_EQ(add_repeatedly(acc, c, n), expected) << "acc " << acc << " c " << c << " n " << n;
  }
}

TEST(ExactSums, RepeatedAdditionKeepsTiesAndNegligibleTerms) {
  const double big = std::ldexp(1.0, 53);  // a unit of 2 there: adding 1 is a tie
  for (const double acc : {big, big + 2, big + 6, std::ldexp(1.0, 60)})
    for (const double c : {1.0, 3.0, 0.25, 1.5, 0.75 + std::ldexp(1.0, -30)})
      for (const std::uint64_t n : {0, 1, 2, 7, 1000}) EXPECT_EQ(add_repeatedly(acc, c, n), loop_sum(acc, c, n));
  EXPECT_EQ(add_repeatedly(5.0, 0.0, 100), 5.0);
  EXPECT_EQ(add_repeatedly(0.0, 0.1, 100000), loop_sum(0.0, 0.1, 100000));
  EXPECT_EQ(add_repeatedly(1.0, -0.1, 1000), loop_sum(1.0, -0.1, 1000));
}

TEST(ExactSums, FloorSumCountsTheLatticePoints) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 2000; ++trial) {
    const std::uint64_t n = rng() % 3000, m = 1 + rng() % 2048, a = rng() % 5000, b = rng() % 5000;
    std::uint64_t expected = 0;
    for (std::uint64_t r = 0; r < n; ++r) expected += (a * r + b) / m;
    EXPECT_EQ(floor_sum(n, m, a, b), expected) << n << " " << m << " " << a << " " << b;
  }
}

// The chain walked burst by burst as the DMA cuts it (the model's definition).
DmaStream walked(const NpuLayout& npu, std::uint64_t rows, std::uint64_t row_bytes, std::uint64_t src,
                 std::uint64_t src_pitch, std::uint64_t dst, std::uint64_t dst_pitch) {
  const auto burst = static_cast<std::uint64_t>(npu.costs.dma_burst_bytes);
  const auto period_of = [&](std::uint64_t pitch) { return burst / std::gcd(pitch % burst, burst); };
  const std::uint64_t period = std::min(rows, std::lcm(period_of(src_pitch), period_of(dst_pitch)));
  const auto add_row = [&](DmaStream& s, std::uint64_t r) {
    const std::uint64_t from = src + r * src_pitch, to = dst + r * dst_pitch;
    for (std::uint64_t off = 0; off < row_bytes;) {
      const std::uint64_t len = std::min(burst - (from + off) % burst, row_bytes - off);
      const double data_flits = std::ceil(double(len) / npu.costs.link_bytes_per_cycle);
      s.bytes += len;
      ++s.bursts;
      s.flits += static_cast<std::uint64_t>(data_flits) + (to + off + len - 1) / burst - (to + off) / burst + 1;
      s.round_trips += npu.costs.dma_load_latency_cycles + data_flits + double(len) / npu.costs.dram_bytes_per_cycle;
      off += len;
    }
  };
  DmaStream s, once;
  s.descriptors = 1;
  for (std::uint64_t r = 0; r < period; ++r) add_row(once, r);
  const std::uint64_t repeats = rows / period;
  s.bytes = repeats * once.bytes;
  s.bursts = repeats * once.bursts;
  s.flits = repeats * once.flits;
  s.round_trips = double(repeats) * once.round_trips;
  for (std::uint64_t r = 0; r < rows % period; ++r) add_row(s, r);
  return s;
}

TEST(ExactSums, DmaChainsSumAsTheirBurstsDo) {
  std::mt19937_64 rng(3);
  for (const double burst : {1024.0, 96.0, 64.0}) {
    NpuLayout npu;
    npu.costs.dma_burst_bytes = burst;
    npu.costs.link_bytes_per_cycle = 32;
    npu.costs.dram_bytes_per_cycle = 27.3141;
    npu.costs.dma_load_latency_cycles = 41.7;
    const DmaModel model(npu, false);
    for (int trial = 0; trial < 1500; ++trial) {
      const std::uint64_t rows = 1 + rng() % 3000;
      const std::uint64_t row_bytes = 1 + rng() % (trial % 2 == 0 ? 64 : 5000);
      const std::uint64_t pick[] = {0, 1, 2, 32, 512, 1024, row_bytes, 3 * row_bytes, rng() % 9000};
      const std::uint64_t src_pitch = pick[rng() % 9], dst_pitch = pick[rng() % 9];
      const std::uint64_t src = 0x80000000ull + (trial % 3 == 0 ? 0 : rng() % 4096);
      const std::uint64_t dst = 0x10000000ull + (trial % 4 == 0 ? 0 : rng() % 4096);
      DmaStream got;
      model.add(got, rows, row_bytes, src, src_pitch, dst, dst_pitch);
      const DmaStream want = walked(npu, rows, row_bytes, src, src_pitch, dst, dst_pitch);
      EXPECT_EQ(got.bytes, want.bytes);
      EXPECT_EQ(got.bursts, want.bursts);
      EXPECT_EQ(got.flits, want.flits);
      EXPECT_EQ(got.descriptors, want.descriptors);
      EXPECT_EQ(got.round_trips, want.round_trips)
          << rows << " x " << row_bytes << " pitches " << src_pitch << " " << dst_pitch;
    }
  }
}

// Odd pitches make periods of hundreds of rows, whose walks the model keeps
// for the whole estimate: every descriptor that differs from another in any
// one of its offsets within a burst, its pitches or its row length must still
// get its own sums, however many walks came between them.
TEST(ExactSums, ReusedWalksOfLongPeriodsSumAsTheirBurstsDo) {
  NpuLayout npu;
  npu.costs.dma_burst_bytes = 1024;
  npu.costs.link_bytes_per_cycle = 32;
  npu.costs.dram_bytes_per_cycle = 27.3141;
  npu.costs.dma_load_latency_cycles = 41.7;
  const DmaModel model(npu, false);
  struct Descriptor {
    std::uint64_t rows, row_bytes, src, src_pitch, dst, dst_pitch;
  };
  const Descriptor base{700, 168, 0x80000200, 168, 0x10000238, 43229};
  std::vector<Descriptor> descriptors{base};
  // Each field varied alone, three times.
  const std::pair<std::uint64_t Descriptor::*, std::uint64_t> steps[] = {
      {&Descriptor::rows, 100},       {&Descriptor::row_bytes, 1}, {&Descriptor::src, 8},
      {&Descriptor::src_pitch, 1024},  // the same offsets: the same walk
      {&Descriptor::src_pitch, 8},    {&Descriptor::dst, 1},       {&Descriptor::dst_pitch, 2}};
  for (const auto& [field, step] : steps)
    for (std::uint64_t variant = 1; variant <= 3; ++variant) {
      Descriptor d = base;
      d.*field += variant * step;
      descriptors.push_back(d);
    }
  for (int round = 0; round < 2; ++round)
    for (const Descriptor& d : descriptors) {
      DmaStream got;
      model.add(got, d.rows, d.row_bytes, d.src, d.src_pitch, d.dst, d.dst_pitch);
      const DmaStream want = walked(npu, d.rows, d.row_bytes, d.src, d.src_pitch, d.dst, d.dst_pitch);
      const std::string which = "round " + std::to_string(round) + ": " + std::to_string(d.rows) + " x " +
                                std::to_string(d.row_bytes) + " from " + std::to_string(d.src) + " pitch " +
                                std::to_string(d.src_pitch) + " to " + std::to_string(d.dst) + " pitch " +
                                std::to_string(d.dst_pitch);
      EXPECT_EQ(got.bytes, want.bytes) << which;
      EXPECT_EQ(got.bursts, want.bursts) << which;
      EXPECT_EQ(got.flits, want.flits) << which;
      EXPECT_EQ(got.round_trips, want.round_trips) << which;
    }
}

// A long period is walked once per estimate however many walks come between
// its uses; a short one only while it is among the last four.
TEST(ExactSums, ALongPeriodIsWalkedOncePerEstimate) {
  NpuLayout npu;
  npu.costs.dma_burst_bytes = 1024;
  npu.costs.link_bytes_per_cycle = 32;
  npu.costs.dram_bytes_per_cycle = 27.3141;
  const DmaModel model(npu, false);
  // Pitches of 168 bytes: 128 rows to a period. Six destinations, more than
  // the last four walks hold, each used three times in turn.
  constexpr std::uint64_t kPeriod = 128, kDestinations = 6;
  for (int use = 0; use < 3; ++use)
    for (std::uint64_t d = 0; d < kDestinations; ++d) {
      DmaStream s;
      model.add(s, 2 * kPeriod, 168, 0x80000000, 168, 0x10000000 + 8 * d, 168);
    }
  EXPECT_EQ(model.period_rows_walked(), kDestinations * kPeriod);
  // Pitches of 256 bytes: 4 rows to a period, walked again on each use.
  for (int use = 0; use < 3; ++use)
    for (std::uint64_t d = 0; d < kDestinations; ++d) {
      DmaStream s;
      model.add(s, 8, 300, 0x80000000, 256, 0x10000000 + 8 * d, 256);
    }
  EXPECT_EQ(model.period_rows_walked(), kDestinations * kPeriod + 3 * kDestinations * 4);
}

}  // namespace
}  // namespace npuvp::firmware
