#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

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

TEST(ReservationTimeline, InsertsBetweenAndBridgesSeveralIntervals) {
  ReservationTimeline t;
  t.reserve(40, 50);
  t.reserve(0, 10);
  t.reserve(20, 30);  // between the two
  EXPECT_EQ(t.intervals(), 3u);
  EXPECT_EQ(t.free_run(5), (std::pair<std::uint64_t, std::uint64_t>{10, 20}));
  EXPECT_EQ(t.free_run(30), (std::pair<std::uint64_t, std::uint64_t>{30, 40}));
  EXPECT_EQ(t.reserve(8, 42), 20u);  // [10, 20) and [30, 40) were free
  EXPECT_EQ(t.intervals(), 1u);
  EXPECT_EQ(t.free_run(0), (std::pair<std::uint64_t, std::uint64_t>{50, UINT64_MAX}));
  EXPECT_EQ(t.reserve(60, 61), 1u);
  EXPECT_EQ(t.reserve(55, 56), 1u);
  EXPECT_EQ(t.earliest_free(50, 5), 50u);
  EXPECT_EQ(t.earliest_free(50, 6), 61u);
}

TEST(ReservationTimeline, RetiresFinishedIntervalsInTimeOrder) {
  ReservationTimeline t;
  t.reserve(50, 60);
  t.reserve(10, 20);
  t.reserve(30, 40);
  using Edge = std::pair<std::uint64_t, bool>;
  std::vector<Edge> edges;
  t.retire_before(45, [&](std::uint64_t at, bool busy) { edges.emplace_back(at, busy); });
  EXPECT_EQ(edges, (std::vector<Edge>{{10, true}, {20, false}, {30, true}, {40, false}}));
  EXPECT_EQ(t.intervals(), 1u);
}

TEST(ReservationTimeline, ReportsTheStartOfAnIntervalUnderWayOnce) {
  ReservationTimeline t;
  t.reserve(10, 100);
  using Edge = std::pair<std::uint64_t, bool>;
  std::vector<Edge> edges;
  auto edge = [&](std::uint64_t at, bool busy) { edges.emplace_back(at, busy); };
  t.retire_before(50, edge);
  EXPECT_EQ(edges, (std::vector<Edge>{{10, true}}));
  t.reserve(100, 120);  // extends the interval under way: its start stays
  t.retire_before(60, edge);
  t.retire_before(130, edge);
  EXPECT_EQ(edges, (std::vector<Edge>{{10, true}, {120, false}}));
  EXPECT_EQ(t.intervals(), 0u);
}

TEST(ReservationTimeline, ExtendsOrFollowsItsLastIntervalLikeAnyOther) {
  ReservationTimeline t;
  t.reserve(10, 20);
  t.reserve(30, 40);
  EXPECT_EQ(t.reserve(30, 35), 0u);  // inside the last interval
  EXPECT_EQ(t.reserve(35, 45), 5u);  // overlaps its end
  EXPECT_EQ(t.reserve(45, 47), 2u);  // touches it: merges
  EXPECT_EQ(t.intervals(), 2u);
  EXPECT_EQ(t.reserve(48, 50), 2u);  // one free cycle after it: a new interval
  EXPECT_EQ(t.intervals(), 3u);
  EXPECT_EQ(t.free_run(47), (std::pair<std::uint64_t, std::uint64_t>{47, 48}));
  EXPECT_EQ(t.free_run(50), (std::pair<std::uint64_t, std::uint64_t>{50, UINT64_MAX}));
  EXPECT_EQ(t.free_run(49), (std::pair<std::uint64_t, std::uint64_t>{50, UINT64_MAX}));
  EXPECT_EQ(t.reserve(25, 29), 4u);  // before the last: between [10, 20) and [30, 47)
  EXPECT_EQ(t.intervals(), 4u);
  EXPECT_EQ(t.free_run(20), (std::pair<std::uint64_t, std::uint64_t>{20, 25}));
}

// A hint only saves reserve() a search: a stale or wrong one gives the
// same intervals as none. Checked on every gap and every hint of a timeline
// of four intervals, against the same reservation without a hint.
TEST(ReservationTimeline, ReserveHintNeverChangesTheResult) {
  for (std::uint64_t start = 0; start < 75; ++start)
    for (std::uint64_t end = start + 1; end <= 80; end += 3)
      for (std::size_t hint = 0; hint <= 6; ++hint) {
        ReservationTimeline hinted, plain;
        for (ReservationTimeline* t : {&hinted, &plain})
          for (std::uint64_t s = 10; s < 70; s += 15) t->reserve(s, s + 5);
        ASSERT_EQ(hinted.reserve(start, end, hint), plain.reserve(start, end)) << start << " " << end << " " << hint;
        ASSERT_EQ(hinted.intervals(), plain.intervals());
        for (std::uint64_t at = 0; at <= 80; at += 1) ASSERT_EQ(hinted.free_run(at), plain.free_run(at));
      }
}

// A reservation filling a free gap, at the index free_run() named, joins the
// interval before it, the one after it, both, or neither.
TEST(ReservationTimeline, FillsAGapJoiningEitherSideOrBoth) {
  const auto build = [] {
    ReservationTimeline t;
    for (std::uint64_t s : {10, 30, 50}) t.reserve(s, s + 5);
    return t;
  };
  ReservationTimeline t = build();
  EXPECT_EQ(t.reserve(15, 30, 1), 15u);  // bridges [10, 15) and [30, 35)
  EXPECT_EQ(t.intervals(), 2u);
  EXPECT_EQ(t.free_run(0), (std::pair<std::uint64_t, std::uint64_t>{0, 10}));
  EXPECT_EQ(t.free_run(10), (std::pair<std::uint64_t, std::uint64_t>{35, 50}));
  t = build();
  EXPECT_EQ(t.reserve(15, 20, 1), 5u);  // joins the one before
  EXPECT_EQ(t.intervals(), 3u);
  EXPECT_EQ(t.free_run(12), (std::pair<std::uint64_t, std::uint64_t>{20, 30}));
  t = build();
  EXPECT_EQ(t.reserve(25, 30, 1), 5u);  // joins the one after
  EXPECT_EQ(t.intervals(), 3u);
  EXPECT_EQ(t.free_run(15), (std::pair<std::uint64_t, std::uint64_t>{15, 25}));
  t = build();
  EXPECT_EQ(t.reserve(0, 5, 0), 5u);  // before the first, touching nothing
  EXPECT_EQ(t.intervals(), 4u);
  EXPECT_EQ(t.free_run(3), (std::pair<std::uint64_t, std::uint64_t>{5, 10}));
  EXPECT_EQ(t.reserve(5, 10, 1), 5u);  // then bridging it to [10, 15)
  EXPECT_EQ(t.intervals(), 3u);
  EXPECT_EQ(t.free_run(0), (std::pair<std::uint64_t, std::uint64_t>{15, 30}));
}

// free_run's `next` is the index of the first interval after the run: the
// hint reserve() wants for a reservation at the run's start.
TEST(ReservationTimeline, FreeRunNamesTheIntervalAfterIt) {
  ReservationTimeline t;
  t.reserve(10, 20);
  t.reserve(30, 40);
  std::size_t next = 99;
  EXPECT_EQ(t.free_run(5, next), (std::pair<std::uint64_t, std::uint64_t>{5, 10}));
  EXPECT_EQ(next, 0u);
  EXPECT_EQ(t.free_run(15, next), (std::pair<std::uint64_t, std::uint64_t>{20, 30}));
  EXPECT_EQ(next, 1u);
  EXPECT_EQ(t.free_run(35, next), (std::pair<std::uint64_t, std::uint64_t>{40, UINT64_MAX}));
  EXPECT_EQ(next, 2u);
}

// first_after is std::upper_bound by .first whatever index it starts from;
// checked against it on every position of vectors of each length up to 40
// (a gallop takes up to five steps), with repeated keys, from every start,
// the default (the end) and one past the end included.
TEST(ReservationTimeline, FirstAfterAgreesWithUpperBoundFromAnyStart) {
  using Entry = std::pair<std::uint64_t, int>;
  for (std::size_t size = 0; size <= 40; ++size) {
    std::vector<Entry> v;
    for (std::size_t i = 0; i < size; ++i) v.emplace_back(10 * (i / 2) + 10, int(i));  // 10, 10, 20, 20, ...
    for (std::uint64_t at = 0; at <= 10 * size + 20; ++at) {
      const auto expected =
          std::upper_bound(v.begin(), v.end(), at, [](std::uint64_t t, const Entry& e) { return t < e.first; });
      EXPECT_EQ(first_after(v, at) - v.cbegin(), expected - v.begin()) << "size " << size << ", at " << at;
      for (std::size_t near = 0; near <= size + 1; ++near)
        ASSERT_EQ(first_after(v, at, near) - v.cbegin(), expected - v.begin())
            << "size " << size << ", at " << at << ", from " << near;
    }
  }
}

// A timeline searches from where its previous search ended, a hint that its
// reservations and retirements move under it: the answers stay those of a
// search from the end.
TEST(ReservationTimeline, SearchesFromThePreviousAnswerStayExactAsIntervalsComeAndGo) {
  ReservationTimeline t;
  for (std::uint64_t i = 0; i < 30; ++i) t.reserve(100 * i, 100 * i + 50);
  std::size_t next = 0;
  EXPECT_EQ(t.free_run(2990, next), (std::pair<std::uint64_t, std::uint64_t>{2990, UINT64_MAX}));
  EXPECT_EQ(t.free_run(120, next), (std::pair<std::uint64_t, std::uint64_t>{150, 200}));
  EXPECT_EQ(next, 2u);
  EXPECT_EQ(t.free_run(2810, next), (std::pair<std::uint64_t, std::uint64_t>{2850, 2900}));
  EXPECT_EQ(next, 29u);
  t.retire_before(2000, [](std::uint64_t, bool) {});  // forgets 20 intervals before the last answer
  EXPECT_EQ(t.free_run(2010, next), (std::pair<std::uint64_t, std::uint64_t>{2050, 2100}));
  EXPECT_EQ(next, 1u);
  t.reserve(2060, 2070);  // inserted before the last answer's place
  EXPECT_EQ(t.free_run(2055, next), (std::pair<std::uint64_t, std::uint64_t>{2055, 2060}));
  EXPECT_EQ(next, 1u);
  EXPECT_EQ(t.free_run(2065, next), (std::pair<std::uint64_t, std::uint64_t>{2070, 2100}));
  EXPECT_EQ(next, 2u);
}

}  // namespace
}  // namespace npuvp::noc
