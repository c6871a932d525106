#pragma once
// A counter of work done over intervals of simulated time (a cluster's MACs
// over a job), read at any time as the part done by then. Loosely-timed models
// know a job's whole interval when it starts; counting it all at once would
// put a job's energy into one power window.

#include <deque>

#include <systemc>

namespace npuvp::stats {

class ProratedCounter {
 public:
  // Work `amount` spread evenly over [start, end).
  void add(const sc_core::sc_time& start, const sc_core::sc_time& end, double amount);
  // Work done before `t`. Queries must not go back in time: intervals wholly
  // before the last query are folded into a running total.
  double value_at(const sc_core::sc_time& t);
  // All work recorded, finished or not.
  double total() const { return total_; }

 private:
  struct Interval {
    sc_core::sc_time start, end;
    double amount;
  };
  std::deque<Interval> open_;
  double settled_ = 0;
  double total_ = 0;
};

}  // namespace npuvp::stats
