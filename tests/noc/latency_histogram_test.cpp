#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "models/noc/noc_stats.h"

namespace npuvp::noc {
namespace {

// The histogram as it was, a tree of counts per value: the flat one must give
// the same figures.
struct TreeHistogram {
  std::map<std::uint64_t, std::uint64_t> counts;
  std::uint64_t count = 0;

  void add(std::uint64_t v) {
    ++counts[v];
    ++count;
  }
  std::uint64_t percentile(double q) const {
    if (count == 0) return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * double(count)));
    std::uint64_t seen = 0;
    for (const auto& [value, n] : counts) {
      seen += n;
      if (seen >= std::max<std::uint64_t>(rank, 1)) return value;
    }
    return counts.rbegin()->first;
  }
};

TEST(LatencyHistogram, EmptyReportsZeros) {
  const LatencyHistogram h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  EXPECT_EQ(h.max(), 0u);
  EXPECT_EQ(h.percentile(0.5), 0u);
  EXPECT_EQ(h.percentile(0.99), 0u);
}

TEST(LatencyHistogram, NearestRankOverValuesBothSidesOfTheDenseLimit) {
  LatencyHistogram h;
  for (std::uint64_t v : {5u, 1u, 3u, 3u, 100000u, 7u}) h.add(v);
  // Sorted: 1 3 3 5 7 100000.
  EXPECT_EQ(h.count(), 6u);
  EXPECT_DOUBLE_EQ(h.mean(), 100019.0 / 6.0);
  EXPECT_EQ(h.max(), 100000u);
  EXPECT_EQ(h.percentile(0.0), 1u);      // rank 0 counts as the first
  EXPECT_EQ(h.percentile(0.5), 3u);      // rank 3
  EXPECT_EQ(h.percentile(0.51), 5u);     // rank 4
  EXPECT_EQ(h.percentile(5.0 / 6), 7u);  // rank 5
  EXPECT_EQ(h.percentile(0.99), 100000u);
  EXPECT_EQ(h.percentile(1.0), 100000u);
}

TEST(LatencyHistogram, ValuesAtTheDenseLimitAndZero) {
  LatencyHistogram h;
  h.add(LatencyHistogram::kDenseLimit);
  h.add(LatencyHistogram::kDenseLimit - 1);
  h.add(0);
  EXPECT_EQ(h.max(), LatencyHistogram::kDenseLimit);
  EXPECT_EQ(h.percentile(0.1), 0u);
  EXPECT_EQ(h.percentile(0.5), LatencyHistogram::kDenseLimit - 1);
  EXPECT_EQ(h.percentile(0.9), LatencyHistogram::kDenseLimit);
}

TEST(LatencyHistogram, SameFiguresAsATreeOfCounts) {
  std::mt19937_64 rng(7);
  for (std::uint64_t spread : {10u, 3000u, 200000u}) {
    LatencyHistogram flat;
    TreeHistogram tree;
    std::uint64_t sum = 0;
    for (int i = 0; i < 20000; ++i) {
      // Mostly short latencies, a tail of long ones, as packets have.
      const std::uint64_t v = (i % 50 == 0) ? rng() % spread : rng() % 64;
      flat.add(v);
      tree.add(v);
      sum += v;
    }
    EXPECT_EQ(flat.count(), tree.count);
    EXPECT_EQ(flat.max(), tree.counts.rbegin()->first);
    EXPECT_DOUBLE_EQ(flat.mean(), double(sum) / double(tree.count));
    for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.98, 0.99, 0.999, 1.0})
      EXPECT_EQ(flat.percentile(q), tree.percentile(q)) << "spread " << spread << " q " << q;
  }
}

}  // namespace
}  // namespace npuvp::noc
