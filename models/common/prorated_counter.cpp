#include "models/common/prorated_counter.h"

#include <algorithm>

namespace npuvp::stats {

void ProratedCounter::add(const sc_core::sc_time& start, const sc_core::sc_time& end, double amount) {
  total_ += amount;
  if (end <= start) {
    open_.push_back({start, start, amount});
    return;
  }
  open_.push_back({start, end, amount});
}

double ProratedCounter::value_at(const sc_core::sc_time& t) {
  double partial = 0;
  for (auto it = open_.begin(); it != open_.end();) {
    if (it->end <= t) {
      settled_ += it->amount;
      it = open_.erase(it);
      continue;
    }
    if (it->start < t) partial += it->amount * ((t - it->start) / (it->end - it->start));
    ++it;
  }
  return settled_ + partial;
}

}  // namespace npuvp::stats
