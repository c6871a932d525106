#include "models/common/timeline_recorder.h"

#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/fmt/compile.h>
#include <spdlog/fmt/fmt.h>

#include "models/common/number_text.h"

namespace npuvp::trace {
namespace {

void append_json_string(fmt::memory_buffer& out, const std::string& s) {
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      fmt::format_to(fmt::appender(out), "\\u{:04x}", c);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

void append(fmt::memory_buffer& out, std::string_view text) { out.append(text.data(), text.data() + text.size()); }

// Trace-event times are in microseconds: a ratio of whole ticks, the nearest
// double to the exact figure, prints as it (971.6525, not the
// 971.6525000000001 of to_seconds() * 1e6).
double microseconds(const sc_core::sc_time& t) {
  static const sc_core::sc_time kMicrosecond(1, sc_core::SC_US);
  return t / kMicrosecond;
}

}  // namespace

TimelineRecorder::TimelineRecorder(TimelineOptions options) : options_(options) {}

void TimelineRecorder::stream_to(const std::string& path) {
  file_ = std::make_unique<io::OutputFile>(path, io::OutputFile::Mode::kBulk);
  stream_to(file_->stream());
}

void TimelineRecorder::stream_to(std::ostream& os) {
  if (out_ != nullptr) throw std::logic_error("timeline recorder already streams");
  out_ = &os;
  *out_ << "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
}

void TimelineRecorder::event(const fmt::memory_buffer& json) {
  *out_ << (first_event_ ? "\n" : ",\n");
  out_->write(json.data(), static_cast<std::streamsize>(json.size()));
  first_event_ = false;
}

int TimelineRecorder::pid_of(const std::string& process) {
  const auto [it, inserted] = pids_.emplace(process, static_cast<int>(pids_.size()) + 1);
  if (inserted) {
    line_.clear();
    fmt::format_to(fmt::appender(line_), R"({{"ph":"M","name":"process_name","pid":{},"args":{{"name":)", it->second);
    append_json_string(line_, process);
    append(line_, "}}");
    event(line_);
    line_.clear();
    fmt::format_to(fmt::appender(line_),
                   R"({{"ph":"M","name":"process_sort_index","pid":{0},"args":{{"sort_index":{0}}}}})", it->second);
    event(line_);
  }
  return it->second;
}

// A track "npu.cluster3" becomes thread "npu.cluster3" of process "npu", so
// viewers group the rows of one component; tids are unique across processes
// as some viewers key threads by tid alone.
std::pair<int, int> TimelineRecorder::ids_of(const std::string& track) {
  const auto found = tracks_.find(track);
  if (found != tracks_.end()) return found->second;
  const int pid = pid_of(track.substr(0, track.find('.')));
  const int tid = static_cast<int>(tracks_.size()) + 1;
  tracks_.emplace(track, std::make_pair(pid, tid));
  line_.clear();
  fmt::format_to(fmt::appender(line_), R"({{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":)", pid,
                 tid);
  append_json_string(line_, track);
  append(line_, "}}");
  event(line_);
  line_.clear();
  fmt::format_to(fmt::appender(line_),
                 R"({{"ph":"M","name":"thread_sort_index","pid":{},"tid":{},"args":{{"sort_index":{}}}}})", pid, tid,
                 tid);
  event(line_);
  return {pid, tid};
}

void TimelineRecorder::declare_track(const std::string& track) {
  if (out_ != nullptr) ids_of(track);
}

bool TimelineRecorder::in_window(const sc_core::sc_time& start, const sc_core::sc_time& end) const {
  return end >= options_.window_start && start <= options_.window_end;
}

void TimelineRecorder::slice(const std::string& track, const std::string& name, const std::string& category,
                             const sc_core::sc_time& start, const sc_core::sc_time& end, const SliceArgs& args) {
  if (end < start)
    throw std::invalid_argument("timeline slice '" + name + "' on track '" + track + "' ends (" + end.to_string() +
                                ") before it starts (" + start.to_string() + ")");
  if (!in_window(start, end)) return;
  if (slices_ >= options_.max_slices) {
    ++dropped_;
    return;
  }
  ++slices_;
  if (out_ == nullptr) return;
  const auto [pid, tid] = ids_of(track);
  line_.clear();
  append(line_, "{\"ph\":\"X\",\"name\":");
  append_json_string(line_, name);
  append(line_, ",\"cat\":");
  append_json_string(line_, category);
  append(line_, ",\"pid\":");
  text::append_number(line_, pid);
  append(line_, ",\"tid\":");
  text::append_number(line_, tid);
  append(line_, ",\"ts\":");
  text::append_number(line_, microseconds(start));
  append(line_, ",\"dur\":");
  text::append_number(line_, microseconds(end - start));
  if (!args.empty()) {
    append(line_, ",\"args\":{");
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (i != 0) line_.push_back(',');
      append_json_string(line_, args[i].name);
      line_.push_back(':');
      if (const auto* number = std::get_if<std::int64_t>(&args[i].value))
        text::append_number(line_, *number);
      else
        append_json_string(line_, std::get<std::string>(args[i].value));
    }
    line_.push_back('}');
  }
  line_.push_back('}');
  event(line_);
}

TimelineRecorder::CounterId TimelineRecorder::add_counter(const std::string& process, const std::string& name,
                                                          const std::vector<std::string>& series) {
  Counter c;
  c.process = process;
  line_.clear();
  append(line_, "{\"ph\":\"C\",\"name\":");
  append_json_string(line_, name);
  append(line_, ",\"pid\":");
  c.head = fmt::to_string(line_);  // the pid follows once the process has one
  for (std::size_t i = 0; i < series.size(); ++i) {
    line_.clear();
    if (i != 0) line_.push_back(',');
    append_json_string(line_, series[i]);
    line_.push_back(':');
    c.series.push_back(fmt::to_string(line_));
  }
  counters_.push_back(std::move(c));
  return counters_.size() - 1;
}

void TimelineRecorder::counter(CounterId id, const sc_core::sc_time& at, const std::vector<double>& values) {
  Counter& c = counters_.at(id);
  if (values.size() != c.series.size())
    throw std::invalid_argument("timeline counter given " + std::to_string(values.size()) + " values for " +
                                std::to_string(c.series.size()) + " series");
  if (out_ == nullptr || !in_window(at, at)) return;
  // The process is named when its first event is written, as for a slice.
  if (!c.named) {
    c.head += fmt::format(R"({},"ts":)", pid_of(c.process));
    c.named = true;
  }
  line_.clear();
  append(line_, c.head);
  text::append_number(line_, microseconds(at));
  append(line_, ",\"args\":{");
  for (std::size_t i = 0; i < values.size(); ++i) {
    append(line_, c.series[i]);
    text::append_number(line_, values[i]);
  }
  append(line_, "}}");
  event(line_);
}

void TimelineRecorder::close() {
  if (out_ == nullptr) return;
  *out_ << "\n]}\n";
  out_->flush();
  const bool ok = static_cast<bool>(*out_);
  out_ = nullptr;
  if (file_ != nullptr) {
    const auto file = std::move(file_);
    file->commit();  // names the cause of a failed write
  } else if (!ok) {
    throw std::runtime_error("cannot write the timeline");
  }
}

}  // namespace npuvp::trace
