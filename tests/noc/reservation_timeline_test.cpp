#include <gtest/gtest.h>

#include "models/noc/reservation_timeline.h"

namespace npuvp::noc {
namespace {

TEST(ReservationTimeline, FindsEarliestGapBeforeAndAfterReservations) {
  ReservationTimeline t;
  EXPECT_EQ(t.reserve(10, 20), 10u);
  EXPECT_EQ(t.reserve(30, 40), 10u);
  EXPECT_EQ(t.earliest_free(0, 10), 0u);    // fits before [10, 20)
  EXPECT_EQ(t.earliest_free(0, 11), 40u);   // neither gap is long enough
  EXPECT_EQ(t.earliest_free(15, 10), 20u);  // [20, 30) exactly
  EXPECT_EQ(t.earliest_free(25, 3), 25u);
  EXPECT_EQ(t.earliest_free(35, 1), 40u);
}

TEST(ReservationTimeline, MergesAndCountsOnlyNewlyBusyCycles) {
  ReservationTimeline t;
  t.reserve(10, 20);
  t.reserve(30, 40);
  EXPECT_EQ(t.reserve(15, 35), 10u);  // only [20, 30) was free
  EXPECT_EQ(t.intervals(), 1u);
  EXPECT_EQ(t.reserve(40, 45), 5u);  // touching intervals merge
  EXPECT_EQ(t.intervals(), 1u);
  EXPECT_EQ(t.earliest_free(0, 11), 45u);
}

TEST(ReservationTimeline, RetiresFinishedIntervalsInTimeOrder) {
  ReservationTimeline t;
  t.reserve(50, 60);
  t.reserve(10, 20);
  t.reserve(30, 40);
  using Interval = std::pair<std::uint64_t, std::uint64_t>;
  std::vector<Interval> retired;
  t.retire_before(45, [&](std::uint64_t s, std::uint64_t e) { retired.emplace_back(s, e); });
  EXPECT_EQ(retired, (std::vector<Interval>{{10, 20}, {30, 40}}));
  EXPECT_EQ(t.intervals(), 1u);
}

}  // namespace
}  // namespace npuvp::noc
