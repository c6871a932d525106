#include "models/noc/reservation_timeline.h"

#include <algorithm>
#include <limits>

namespace npuvp::noc {

ReservationTimeline::Cycle ReservationTimeline::earliest_free(Cycle from, Cycle length) const {
  auto it = busy_.upper_bound(from);
  if (it != busy_.begin() && std::prev(it)->second > from) --it;
  Cycle s = from;
  for (; it != busy_.end() && it->first < s + length; ++it) s = std::max(s, it->second);
  return s;
}

std::pair<ReservationTimeline::Cycle, ReservationTimeline::Cycle> ReservationTimeline::free_run(Cycle from) const {
  auto it = busy_.upper_bound(from);
  if (it != busy_.begin() && std::prev(it)->second > from) from = std::prev(it)->second;
  return {from, it == busy_.end() ? std::numeric_limits<Cycle>::max() : it->first};
}

ReservationTimeline::Cycle ReservationTimeline::reserve(Cycle start, Cycle end) {
  if (end <= start) return 0;
  Cycle added = end - start;
  Cycle merged_start = start, merged_end = end;
  auto it = busy_.upper_bound(start);
  if (it != busy_.begin() && std::prev(it)->second >= start) --it;
  while (it != busy_.end() && it->first <= end) {
    const Cycle lo = std::max(start, it->first), hi = std::min(end, it->second);
    if (hi > lo) added -= hi - lo;
    merged_start = std::min(merged_start, it->first);
    merged_end = std::max(merged_end, it->second);
    it = busy_.erase(it);
  }
  busy_.emplace(merged_start, merged_end);
  return added;
}

}  // namespace npuvp::noc
