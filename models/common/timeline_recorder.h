#pragma once
// Writes the slices of a run's timeline (a layer, a tile on a cluster, a DMA
// transfer) as Chrome/Perfetto trace-event JSON, while the simulation runs.
//
// Like VcdRecorder, it takes explicit start and end times: a loosely-timed
// model knows when a transfer ends before simulated time gets there, and
// recording must cost no SystemC event. Trace-event viewers need no time
// order, so each event is written as it comes and nothing is kept but the
// track names: memory does not grow with the run.

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <systemc>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include <spdlog/fmt/fmt.h>

#include "models/common/output_file.h"

namespace npuvp::trace {

struct TimelineOptions {
  // Recording stops past this many slices (truncated() then says so), so a
  // long run with per-tile slices cannot fill the disk.
  std::size_t max_slices = 2'000'000;
  // Only slices overlapping [window_start, window_end] and counters inside it
  // are written.
  sc_core::sc_time window_start = sc_core::SC_ZERO_TIME;
  sc_core::sc_time window_end = sc_core::sc_max_time();
};

// What a slice is about (its layer, tile, bytes), shown by the viewer when the
// slice is selected: a number or text per name.
struct SliceArg {
  std::string name;
  std::variant<std::int64_t, std::string> value;
};
using SliceArgs = std::vector<SliceArg>;

class TimelineRecorder {
 public:
  explicit TimelineRecorder(TimelineOptions options = {});
  TimelineRecorder(const TimelineRecorder&) = delete;
  TimelineRecorder& operator=(const TimelineRecorder&) = delete;

  // Writes to `path` (or `os`, which must outlive close()) from now on. A
  // recorder that does not stream checks and counts what it is given.
  void stream_to(const std::string& path);
  void stream_to(std::ostream& os);

  // Gives `track` its row now: rows are numbered in the order tracks first
  // appear, and viewers draw them in that order.
  void declare_track(const std::string& track);

  // Records [start, end) on `track`, a '.'-separated row name ("npu.cluster3")
  // whose first part names the process it is grouped under. Throws
  // std::invalid_argument when end is before start: such a slice is a bug in
  // the calling model.
  void slice(const std::string& track, const std::string& name, const std::string& category,
             const sc_core::sc_time& start, const sc_core::sc_time& end, const SliceArgs& args = {});

  // Declares counter `name` of `process` with its series, in the order its
  // events give their values. A counter has many events (one per power
  // window) that differ only in time and values: what they share is rendered
  // once, at its first event.
  using CounterId = std::size_t;
  CounterId add_counter(const std::string& process, const std::string& name, const std::vector<std::string>& series);
  // A counter event: values[i], of series i, holds from `at` until the
  // counter's next event. Throws std::invalid_argument unless there is one
  // value per series.
  void counter(CounterId id, const sc_core::sc_time& at, const std::vector<double>& values);

  // Ends the JSON document; a file is then renamed into place (until then it
  // is <path>.<pid>.part; a recorder destroyed unclosed removes it). Throws
  // std::runtime_error "cannot write <path>: <cause>".
  void close();

  std::size_t slice_count() const { return slices_; }
  bool truncated() const { return dropped_ > 0; }
  std::size_t dropped() const { return dropped_; }

 private:
  int pid_of(const std::string& process);
  std::pair<int, int> ids_of(const std::string& track);
  bool in_window(const sc_core::sc_time& start, const sc_core::sc_time& end) const;
  void event(const fmt::memory_buffer& json);

  TimelineOptions options_;
  std::unique_ptr<io::OutputFile> file_;  // written under a temporary name until close()
  std::ostream* out_ = nullptr;
  bool first_event_ = true;
  std::size_t slices_ = 0;
  std::size_t dropped_ = 0;
  std::unordered_map<std::string, int> pids_;
  std::unordered_map<std::string, std::pair<int, int>> tracks_;  // track -> (pid, tid)
  struct Counter {
    std::string process;
    bool named = false;               // whether head holds the process's pid
    std::string head;                 // the event up to the time: {"ph":"C",...,"ts":
    std::vector<std::string> series;  // each value's key, with the comma before it
  };
  std::vector<Counter> counters_;
  fmt::memory_buffer line_;  // fmt appends to its own buffer without resizing a string per number
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
             const sc_core::sc_time& end, const SliceArgs& args = {}) const {
    if (recorder_ != nullptr) recorder_->slice(track_, name, category, start, end, args);
  }
  bool bound() const { return recorder_ != nullptr; }

 private:
  TimelineRecorder* recorder_ = nullptr;
  std::string track_;
};

}  // namespace npuvp::trace
