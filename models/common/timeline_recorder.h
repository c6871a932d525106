#pragma once
// Collects the slices of a run's timeline (a layer, a tile on a cluster, a DMA
// transfer) for the Chrome/Perfetto trace written at the end of simulation.
//
// Like VcdRecorder, it takes explicit start and end times: a loosely-timed
// model knows when a transfer ends before simulated time gets there, and
// recording must cost no SystemC event.

#include <cstddef>
#include <cstdint>
#include <string>
#include <systemc>
#include <vector>

namespace npuvp::trace {

struct TimelineOptions {
  // Recording stops past this many slices (truncated() then says so), so a
  // long run with per-tile slices cannot exhaust memory.
  std::size_t max_slices = 2'000'000;
};

// One slice, free of any report type so models need not know the report.
struct Slice {
  std::string track;     // the row it is drawn on, '.'-separated: "npu.cluster3"
  std::string name;      // "conv1", "tile 12", "rd 4096 B"
  std::string category;  // "layer", "tile", "dma", ...
  sc_core::sc_time start;
  sc_core::sc_time end;
};

class TimelineRecorder {
 public:
  explicit TimelineRecorder(TimelineOptions options = {});

  // Records [start, end) on `track`. Throws std::invalid_argument when end is
  // before start: such a slice is a bug in the calling model.
  void slice(const std::string& track, const std::string& name, const std::string& category,
             const sc_core::sc_time& start, const sc_core::sc_time& end);

  // In recording order, which need not be time order.
  const std::vector<Slice>& slices() const { return slices_; }
  bool truncated() const { return dropped_ > 0; }
  std::size_t dropped() const { return dropped_; }

 private:
  TimelineOptions options_;
  std::vector<Slice> slices_;
  std::size_t dropped_ = 0;
};

// A model's handle on one timeline track: does nothing until bound, so models
// can record unconditionally and an unbound run pays one pointer test.
class TimelineTrack {
 public:
  void bind(TimelineRecorder& recorder, std::string track) {
    recorder_ = &recorder;
    track_ = std::move(track);
  }
  void slice(const std::string& name, const std::string& category, const sc_core::sc_time& start,
             const sc_core::sc_time& end) const {
    if (recorder_ != nullptr) recorder_->slice(track_, name, category, start, end);
  }
  bool bound() const { return recorder_ != nullptr; }

 private:
  TimelineRecorder* recorder_ = nullptr;
  std::string track_;
};

}  // namespace npuvp::trace
