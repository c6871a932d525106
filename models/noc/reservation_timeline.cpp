#include "models/noc/reservation_timeline.h"

#include <algorithm>
#include <limits>

namespace npuvp::noc {

ReservationTimeline::Cycle ReservationTimeline::earliest_free(Cycle from, Cycle length) const {
  auto it = after(from);
  if (it != busy_.begin() && std::prev(it)->second > from) --it;
  Cycle s = from;
  for (; it != busy_.end() && it->first < s + length; ++it) s = std::max(s, it->second);
  return s;
}

ReservationTimeline::Cycle ReservationTimeline::reserve_among(Cycle start, Cycle end, std::size_t hint) {
  // Past the fast paths some interval starts after `start`, so a valid hint
  // is below size().
  Cycle added = end - start;
  Cycle merged_start = start, merged_end = end;
  const bool hinted = hint < busy_.size() && (hint == 0 || busy_[hint - 1].first <= start) && busy_[hint].first > start;
  auto first = hinted ? busy_.begin() + static_cast<std::ptrdiff_t>(hint) : after(start);
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
