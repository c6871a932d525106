#pragma once
// Busy intervals of one channel, in cycles. Packets are timed in the order
// their transactions are issued, which under loosely-timed simulation is not
// the order of their times, so a packet may take any gap long enough for it,
// before or after intervals reserved earlier.
//
// A channel holds tens of intervals at a time (those no retired horizon has
// passed yet; never more than a few hundred in a ResNet-50 run), so they are
// kept in a sorted vector: a search touches a few cache lines and an update
// moves a few of them, where a tree allocates a node per interval.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace npuvp::noc {

// The first element of `v` (sorted by .first) whose .first is above `at`:
// std::upper_bound, searched from `near`, an index where the answer is
// likely (by default the end). It gallops from there, back or on, and
// searches the range found without branches. Most queries land near the
// latest reservations (a third after all of them, half within two of the end
// in a ResNet-50 run, of logs tens long), and a timeline's queries near its
// previous answer (MobileNet v1: 2.2 entries from it on average against 11 from
// the end). Where a packet lands is unpredictable, and the branches of a plain
// binary search mispredicted on about half of their steps.
template <typename Pair>
[[gnu::always_inline]] inline typename std::vector<Pair>::const_iterator first_after(
    const std::vector<Pair>& v, std::uint64_t at, std::size_t near = ~std::size_t{0}) {
  // The answer lies in [lo, hi]: v[hi] is above `at` (or hi is the end),
  // v[lo - 1] is not (or lo is 0).
  const std::size_t size = v.size();
  std::size_t hi = std::min(near, size), lo = 0;
  if (hi < size && v[hi].first <= at) {
    lo = hi + 1;
    hi = size;
    for (std::size_t step = 1; lo + step - 1 < size; step *= 2) {
      if (v[lo + step - 1].first > at) {
        hi = lo + step - 1;
        break;
      }
      lo += step;
    }
  } else {
    for (std::size_t step = 1; hi >= step; step *= 2) {
      if (v[hi - step].first <= at) {
        lo = hi - step + 1;
        break;
      }
      hi -= step;
    }
  }
  const Pair* base = v.data() + lo;
  std::size_t n = hi - lo;
  if (n == 0) return v.begin() + lo;
  for (; n > 1;) {
    const std::size_t half = n / 2;
    base = base[half].first <= at ? base + half : base;
    n -= half;
  }
  return v.begin() + ((base - v.data()) + (base->first <= at ? 1 : 0));
}

class ReservationTimeline {
 public:
  using Cycle = std::uint64_t;

  // Earliest s >= from such that [s, s + length) is free.
  Cycle earliest_free(Cycle from, Cycle length) const;

  // The first free interval [first, second) starting at or after `from`;
  // second is the largest Cycle if nothing is reserved after it.
  std::pair<Cycle, Cycle> free_run(Cycle from) const {
    std::size_t next;
    return free_run(from, next);
  }
  // The same, and in `next` the index of the first interval after it: a hint
  // for reserve(). A quarter of the queries fall after every reservation:
  // those are answered inline, without a call.
  std::pair<Cycle, Cycle> free_run(Cycle from, std::size_t& next) const {
    if (free_from(from)) {
      next = busy_.size();
      return {from, std::numeric_limits<Cycle>::max()};
    }
    return free_run_among(from, next);
  }

  // Marks [start, end) busy, merging with overlapping or touching intervals.
  // Returns how many cycles were not busy before (the growth of the union).
  // `hint`: the index of the first interval starting after `start`, as a
  // free_run() just found it; used if it still is, searched for otherwise.
  // Most of a packet's reservations land among intervals (packets are timed
  // out of time order), and each would cost a second search.
  // Most reservations extend the last interval or follow it: those are made
  // inline.
  static constexpr std::size_t kNoHint = ~std::size_t{0};
  Cycle reserve(Cycle start, Cycle end, std::size_t hint = kNoHint) {
    if (end <= start) return 0;
    if (busy_.empty() || start > busy_.back().second) {
      busy_.push_back({start, end});
      return end - start;
    }
    if (start >= busy_.back().first) {
      Cycle& last_end = busy_.back().second;
      const Cycle added = end > last_end ? end - last_end : 0;
      last_end = std::max(last_end, end);
      return added;
    }
    // Most of the rest fill cycles a free_run() just found free: they meet
    // at most the intervals either side, and merge with them in place.
    // Inline too: the call's saves and restores cost as much as the work.
    if (hint < busy_.size() && busy_[hint].first >= end && (hint == 0 || busy_[hint - 1].second <= start)) {
      fill_gap(start, end, hint);
      return end - start;
    }
    return reserve_among(start, end, hint);
  }

  // [first, second). Not a std::pair, whose assignment is user-provided:
  // a plain struct is trivially copyable, so an insertion or erasure moves
  // the intervals after it with one memmove, not element by element.
  struct Interval {
    Cycle first, second;
  };

  // Forgets intervals that end before `horizon`, reporting their edges in
  // time order: `ended(begin, end, risen)` gets those intervals, all at once
  // (`risen`: the first one's start was reported before), `started(cycle)`
  // the start of one under way at the horizon. Callers pass a horizon no
  // future request can start before, so forgotten intervals could never have
  // mattered again and are final. So is the start of an interval under way
  // at the horizon, though not its end: it is reported now, once, so an
  // observer learns of a long busy stretch when it starts rather than when
  // it ends.
  template <typename Ended, typename Started>
  void retire_before(Cycle horizon, Ended&& ended, Started&& started) {
    auto it = busy_.begin();
    while (it != busy_.end() && it->second < horizon) ++it;
    if (it != busy_.begin())
      ended(busy_.data(), busy_.data() + (it - busy_.begin()), busy_.front().first == reported_start_);
    busy_.erase(busy_.begin(), it);
    it = busy_.begin();
    if (it != busy_.end() && it->first < horizon && it->first != reported_start_) {
      started(it->first);
      reported_start_ = it->first;
    }
  }
  // The same, edge by edge: `edge(cycle, busy)`.
  template <typename F>
  void retire_before(Cycle horizon, F&& edge) {
    retire_before(
        horizon,
        [&](const Interval* begin, const Interval* end, bool risen) {
          for (; begin != end; ++begin, risen = false) {
            if (!risen) edge(begin->first, true);
            edge(begin->second, false);
          }
        },
        [&](Cycle at) { edge(at, true); });
  }

  std::size_t intervals() const { return busy_.size(); }
  // Whether nothing is reserved at or after `from`.
  bool free_from(Cycle from) const { return busy_.empty() || from >= busy_.back().second; }
  // The intervals held, by start: those the last retire_before() left.
  const std::vector<Interval>& busy() const { return busy_; }

 private:
  // The first interval starting after `at`, searched from the previous
  // answer's place.
  std::vector<Interval>::const_iterator after(Cycle at) const {
    const auto it = first_after(busy_, at, last_after_);
    last_after_ = static_cast<std::size_t>(it - busy_.begin());
    return it;
  }
  // free_run() where some interval ends after `from`. Inline: the fast
  // model asks it once or twice per hop, and the call cost as much as the
  // search.
  [[gnu::always_inline]] std::pair<Cycle, Cycle> free_run_among(Cycle from, std::size_t& next) const {
    auto it = after(from);
    next = static_cast<std::size_t>(it - busy_.begin());
    if (it != busy_.begin() && std::prev(it)->second > from) from = std::prev(it)->second;
    return {from, it == busy_.end() ? std::numeric_limits<Cycle>::max() : it->first};
  }
  // reserve() of [start, end) inside the gap before interval `next`.
  void fill_gap(Cycle start, Cycle end, std::size_t next) {
    Interval& after = busy_[next];
    const bool joins_next = after.first == end;
    if (next > 0 && busy_[next - 1].second == start) {
      busy_[next - 1].second = joins_next ? after.second : end;
      if (joins_next) busy_.erase(busy_.begin() + static_cast<std::ptrdiff_t>(next));
    } else if (joins_next) {
      after.first = start;
    } else {
      busy_.insert(busy_.begin() + static_cast<std::ptrdiff_t>(next), {start, end});
    }
  }
  // reserve() where some interval starts after `start`, off the paths above.
  Cycle reserve_among(Cycle start, Cycle end, std::size_t hint);

  std::vector<Interval> busy_;  // by start, disjoint and not touching
  Cycle reported_start_ = UINT64_MAX;
  // Where after() last answered: a hint only, left as it is when intervals
  // are inserted or forgotten before it.
  mutable std::size_t last_after_ = 0;
};

}  // namespace npuvp::noc
