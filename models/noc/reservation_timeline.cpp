#include "models/noc/reservation_timeline.h"

#include <algorithm>
#include <limits>

namespace npuvp::noc {

std::vector<ReservationTimeline::Interval>::const_iterator ReservationTimeline::after(Cycle at) const {
  return std::upper_bound(busy_.begin(), busy_.end(), at, [](Cycle t, const Interval& i) { return t < i.first; });
}

ReservationTimeline::Cycle ReservationTimeline::earliest_free(Cycle from, Cycle length) const {
  auto it = after(from);
  if (it != busy_.begin() && std::prev(it)->second > from) --it;
  Cycle s = from;
  for (; it != busy_.end() && it->first < s + length; ++it) s = std::max(s, it->second);
  return s;
}

std::pair<ReservationTimeline::Cycle, ReservationTimeline::Cycle> ReservationTimeline::free_run(Cycle from) const {
  auto it = after(from);
  if (it != busy_.begin() && std::prev(it)->second > from) from = std::prev(it)->second;
  return {from, it == busy_.end() ? std::numeric_limits<Cycle>::max() : it->first};
}

ReservationTimeline::Cycle ReservationTimeline::reserve(Cycle start, Cycle end) {
  if (end <= start) return 0;
  Cycle added = end - start;
  Cycle merged_start = start, merged_end = end;
  auto first = after(start);
  if (first != busy_.begin() && std::prev(first)->second >= start) --first;
  auto last = first;  // one past the intervals it overlaps or touches
  for (; last != busy_.end() && last->first <= end; ++last) {
    const Cycle lo = std::max(start, last->first), hi = std::min(end, last->second);
    if (hi > lo) added -= hi - lo;
    merged_start = std::min(merged_start, last->first);
    merged_end = std::max(merged_end, last->second);
  }
  if (first == last) {
    busy_.insert(first, {merged_start, merged_end});
  } else {
    const auto at = busy_.erase(std::next(first), last);
    *std::prev(at) = {merged_start, merged_end};
  }
  return added;
}

}  // namespace npuvp::noc
