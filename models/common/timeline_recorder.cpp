#include "models/common/timeline_recorder.h"

#include <stdexcept>

namespace npuvp::trace {

TimelineRecorder::TimelineRecorder(TimelineOptions options) : options_(options) {}

void TimelineRecorder::slice(const std::string& track, const std::string& name, const std::string& category,
                             const sc_core::sc_time& start, const sc_core::sc_time& end) {
  if (end < start)
    throw std::invalid_argument("timeline slice '" + name + "' on track '" + track + "' ends (" + end.to_string() +
                                ") before it starts (" + start.to_string() + ")");
  if (slices_.size() >= options_.max_slices) {
    ++dropped_;
    return;
  }
  slices_.push_back({track, name, category, start, end});
}

}  // namespace npuvp::trace
