#pragma once
// Counters of work done over intervals of simulated time (a cluster's MACs
// over a job), read at any time as the part done by then. Loosely-timed models
// know a job's whole interval when it starts; counting it all at once would
// put a job's energy into one power window.

#include <array>
#include <cstddef>
#include <vector>

#include <systemc>

namespace npuvp::stats {

// N quantities counted over shared intervals: a cluster's MACs, register
// file and buffer traffic all follow its folds, so one walk over the open
// intervals per read serves them all, where a counter each walked the same
// intervals N times. Each quantity's value is the same double a counter of
// its own would give: its sums take the same terms in the same order, and an
// interval it has no part in adds exactly 0 (amounts are finite and not -0).
template <std::size_t N>
class ProratedCounters {
 public:
  using Amounts = std::array<double, N>;

  // Work `amounts` spread evenly over [start, end); all at `start` when the
  // interval is empty.
  void add(const sc_core::sc_time& start, const sc_core::sc_time& end, const Amounts& amounts) {
    open_.push_back({start, end > start ? end : start, amounts});
  }

  // Work done before `t`, per quantity. Queries must not go back in time:
  // intervals wholly before the last query are folded into a running total.
  Amounts value_at(const sc_core::sc_time& t) {
    Amounts partial{};
    std::size_t kept = 0;
    for (std::size_t i = 0; i < open_.size(); ++i) {
      const Interval& in = open_[i];
      if (in.end <= t) {
        for (std::size_t q = 0; q < N; ++q) settled_[q] += in.amount[q];
        continue;
      }
      if (in.start < t) {
        const double done = (t - in.start) / (in.end - in.start);
        for (std::size_t q = 0; q < N; ++q) partial[q] += in.amount[q] * done;
      }
      if (kept != i) open_[kept] = in;
      ++kept;
    }
    open_.resize(kept);
    for (std::size_t q = 0; q < N; ++q) partial[q] = settled_[q] + partial[q];
    return partial;
  }

 private:
  struct Interval {
    sc_core::sc_time start, end;
    Amounts amount;
  };
  std::vector<Interval> open_;  // in the order added
  Amounts settled_{};
};

}  // namespace npuvp::stats
