#pragma once
// Busy intervals of one channel, in cycles. Packets are timed in the order
// their transactions are issued, which under loosely-timed simulation is not
// the order of their times, so a packet may take any gap long enough for it,
// before or after intervals reserved earlier.
//
// A channel holds about ten intervals at a time (those no retired horizon has
// passed yet; never more than a few hundred in a ResNet-50 run), so they are
// kept in a sorted vector: a search touches one or two cache lines and an
// update moves a few of them, where a tree allocates a node per interval.

#include <cstdint>
#include <utility>
#include <vector>

namespace npuvp::noc {

// The first element of `v` (sorted by .first) whose .first is above `at`:
// std::upper_bound without branches. Where a packet lands among a channel's
// few intervals is unpredictable, and the branches of a plain binary search
// mispredicted on about half of their steps.
template <typename Pair>
typename std::vector<Pair>::const_iterator first_after(const std::vector<Pair>& v, std::uint64_t at) {
  if (v.empty()) return v.end();
  const Pair* base = v.data();
  for (std::size_t n = v.size(); n > 1;) {
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
  std::pair<Cycle, Cycle> free_run(Cycle from) const;

  // Marks [start, end) busy, merging with overlapping or touching intervals.
  // Returns how many cycles were not busy before (the growth of the union).
  Cycle reserve(Cycle start, Cycle end);

  // Forgets intervals that end before `horizon`, reporting their edges to
  // `edge(cycle, busy)` in time order. Callers pass a horizon no future request
  // can start before, so forgotten intervals could never have mattered again
  // and are final. So is the start of an interval under way at the horizon,
  // though not its end: it is reported now, once, so an observer learns of a
  // long busy stretch when it starts rather than when it ends.
  template <typename F>
  void retire_before(Cycle horizon, F&& edge) {
    auto it = busy_.begin();
    for (; it != busy_.end() && it->second < horizon; ++it) {
      if (it->first != reported_start_) edge(it->first, true);
      edge(it->second, false);
    }
    busy_.erase(busy_.begin(), it);
    it = busy_.begin();
    if (it != busy_.end() && it->first < horizon && it->first != reported_start_) {
      edge(it->first, true);
      reported_start_ = it->first;
    }
  }

  std::size_t intervals() const { return busy_.size(); }

 private:
  using Interval = std::pair<Cycle, Cycle>;  // [start, end)
  // The first interval starting after `at`.
  std::vector<Interval>::const_iterator after(Cycle at) const;

  std::vector<Interval> busy_;  // by start, disjoint and not touching
  Cycle reported_start_ = UINT64_MAX;
};

}  // namespace npuvp::noc
