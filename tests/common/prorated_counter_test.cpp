#include <gtest/gtest.h>

#include "models/common/prorated_counter.h"

namespace npuvp::stats {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

sc_time ns(double t) { return sc_time(t, SC_NS); }

TEST(ProratedCounters, EachQuantityIsItsWorkDoneByThenOverTheIntervalsItHasAPartIn) {
  ProratedCounters<3> c;
  c.add(ns(0), ns(100), {100, 10, 0});  // quantities 0 and 1 over one fold
  c.add(ns(50), ns(150), {0, 0, 40});   // quantity 2 alone, overlapping it
  c.add(ns(120), ns(120), {0, 7, 0});   // an empty interval: all of it at its start
  EXPECT_EQ(c.value_at(ns(0)), (std::array<double, 3>{0, 0, 0}));
  EXPECT_EQ(c.value_at(ns(25)), (std::array<double, 3>{25, 2.5, 0}));
  EXPECT_EQ(c.value_at(ns(100)), (std::array<double, 3>{100, 10, 20}));
  EXPECT_EQ(c.value_at(ns(120)), (std::array<double, 3>{100, 17, 28}));
  EXPECT_EQ(c.value_at(ns(200)), (std::array<double, 3>{100, 17, 40}));
  // Work added after the intervals before it settled counts from its own start.
  c.add(ns(200), ns(300), {0, 0, 10});
  EXPECT_EQ(c.value_at(ns(250)), (std::array<double, 3>{100, 17, 45}));
}

}  // namespace
}  // namespace npuvp::stats
