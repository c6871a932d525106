#include "models/common/vcd_recorder.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <spdlog/fmt/fmt.h>

namespace npuvp::trace {
namespace {

constexpr unsigned kRadixBits = 11;
// The file is written in pieces of this size.
constexpr std::size_t kWriteBytes = 1 << 20;

std::string identifier(VcdRecorder::SignalId id) {
  // VCD identifiers are strings over the printable characters '!'..'~'.
  std::string s;
  do {
    s.push_back(static_cast<char>('!' + id % 94));
    id /= 94;
  } while (id != 0);
  return s;
}

std::vector<std::string> split(const std::string& name) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1)
    parts.push_back(name.substr(start, dot - start));
  parts.push_back(name.substr(start));
  return parts;
}

struct Scope {
  std::map<std::string, std::unique_ptr<Scope>> children;
  std::vector<std::pair<std::string, VcdRecorder::SignalId>> vars;
};

std::uint64_t ticks_per_ps() {
  const auto ps = sc_core::sc_time(1, sc_core::SC_PS).value();
  return ps == 0 ? 1 : ps;
}

// The longest value line: 'b', 64 digits, ' ', an identifier, '\n'.
constexpr std::size_t kMaxLine = 96;

// A timestamp is written for most changes of a run. Its low eight digits
// and the rest are converted separately, with 32-bit arithmetic where it
// fits: two short dependency chains instead of one long one.
char* write_decimal(char* p, std::uint64_t n) {
  static constexpr char kPairs[] =
      "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
      "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
      "8081828384858687888990919293949596979899";
  constexpr std::uint64_t kLow = 100'000'000;
  if (n < kLow) return std::to_chars(p, p + 8, static_cast<std::uint32_t>(n)).ptr;
  p = std::to_chars(p, p + 12, n / kLow).ptr;
  auto low = static_cast<std::uint32_t>(n % kLow);
  for (int i = 6; i >= 0; i -= 2) {
    std::memcpy(p + i, kPairs + 2 * (low % 100), 2);
    low /= 100;
  }
  return p + 8;
}

}  // namespace

VcdRecorder::VcdRecorder(VcdOptions options)
    : options_(std::move(options)),
      ps_(ticks_per_ps()),
      window_start_ps_(options_.window_start.value() / ps_),
      window_end_ps_(options_.window_end.value() / ps_) {}

VcdRecorder::~VcdRecorder() = default;

bool VcdRecorder::accept(const std::string& name) const {
  if (options_.include_prefixes.empty()) return true;
  return std::any_of(options_.include_prefixes.begin(), options_.include_prefixes.end(),
                     [&](const std::string& p) { return name.compare(0, p.size(), p) == 0; });
}

VcdRecorder::SignalId VcdRecorder::add(const std::string& name, unsigned width) {
  if (!accept(name)) return kFiltered;
  if (body_open_) throw std::logic_error("VCD signal '" + name + "' declared after its file's header was written");
  const auto id = static_cast<SignalId>(signals_.size());
  signals_.push_back({name, width, identifier(id)});
  value_.push_back(0);
  written_.push_back(0);
  seen_in_group_.push_back(0);
  return id;
}

VcdRecorder::SignalId VcdRecorder::add_wire(const std::string& name, unsigned width) {
  return add(name, std::clamp(width, 1u, 64u));
}

VcdRecorder::SignalId VcdRecorder::add_real(const std::string& name) { return add(name, 0); }

void VcdRecorder::push_to_bucket(SignalId id, std::uint64_t t, std::uint64_t bits) {
  if (t > window_end_ps_) return;
  if (changes_ >= options_.max_changes) {
    truncated_ = true;
    return;
  }
  ++changes_;
  std::uint64_t bucket = t >> kBucketBits;
  if (bucket < first_bucket_) {
    // Its time is already in the file: the earliest time still open is the
    // nearest the file can show it, and the count says it happened.
    ++late_;
    bucket = first_bucket_;
    t = bucket << kBucketBits;
  }
  while (bucket - first_bucket_ >= buckets_.size()) {
    buckets_.emplace_back();
    if (!spare_.empty()) {
      buckets_.back().swap(spare_.back());
      spare_.pop_back();
    }
  }
  last_bucket_ = bucket;
  last_ = &buckets_[bucket - first_bucket_];
  last_->push_back({bits, id, static_cast<std::uint32_t>(t & kOffsetMask)});
}

void VcdRecorder::record_real(SignalId id, const sc_core::sc_time& at, double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  push(id, at.value(), bits);
}

void VcdRecorder::on_flush(std::function<void()> publish) { publishers_.push_back(std::move(publish)); }

void VcdRecorder::stream_to(const std::string& path, const sc_core::sc_time& lag_bound) {
  if (out_ != nullptr) throw std::logic_error("VCD recorder already streams to " + path_);
  file_ = std::make_unique<io::OutputFile>(path);
  path_ = path;
  out_ = &file_->stream();
  lag_bound_ps_ = lag_bound.value() / ps_;
}

void VcdRecorder::flush_final(const sc_core::sc_time& at) {
  if (out_ == nullptr) return;
  const std::uint64_t now = at.value() / ps_;
  if (now < next_flush_ps_) return;
  next_flush_ps_ = now + (std::uint64_t{1} << kBucketBits);
  if (now > lag_bound_ps_) flush_before(now - lag_bound_ps_);
}

void VcdRecorder::flush_before(std::uint64_t cutoff_ps) {
  for (const auto& publish : publishers_) publish();
  const std::uint64_t end = cutoff_ps >> kBucketBits;  // buckets before it are complete
  last_bucket_ = UINT64_MAX;
  while (first_bucket_ < end) {
    if (buckets_.empty()) {
      first_bucket_ = end;
      break;
    }
    emit_bucket(buckets_.front(), first_bucket_ << kBucketBits);
    buckets_.front().clear();
    spare_.push_back(std::move(buckets_.front()));
    buckets_.pop_front();
    ++first_bucket_;
  }
  drain(false);
}

void VcdRecorder::emit_bucket(Bucket& bucket, std::uint64_t start_ps) {
  // A stable sort: the last value recorded for a signal at a timestamp is the
  // one written. Radix on the time within the bucket, which is stable.
  auto by_time = [](const Change& a, const Change& b) { return a.offset < b.offset; };
  if (!std::is_sorted(bucket.begin(), bucket.end(), by_time)) {
    // Both digits counted in one pass over the bucket.
    constexpr std::uint32_t kDigits = 1u << kRadixBits, kMask = kDigits - 1;
    std::array<std::uint32_t, 2 * kDigits> start{};
    for (const Change& c : bucket) {
      ++start[c.offset & kMask];
      ++start[kDigits + (c.offset >> kRadixBits)];
    }
    for (unsigned pass = 0; pass < 2; ++pass) {
      std::uint32_t sum = 0;
      for (unsigned d = 0; d < kDigits; ++d) sum += std::exchange(start[pass * kDigits + d], sum);
    }
    scratch_.resize(bucket.size());
    for (const Change& c : bucket) scratch_[start[c.offset & kMask]++] = c;
    for (const Change& c : scratch_) bucket[start[kDigits + (c.offset >> kRadixBits)]++] = c;
  }
  for (std::size_t i = 0; i < bucket.size();) {
    const std::uint32_t offset = bucket[i].offset;
    const std::uint64_t t = start_ps + offset;
    std::size_t j = i;
    while (j < bucket.size() && bucket[j].offset == offset) ++j;
    const bool in_window = t >= window_start_ps_;
    // The initial dump is the state at the window's start: it takes in the
    // changes at that time, except at 0, where it is all zeros.
    const bool dump_first = in_window && !body_open_ && (t > window_start_ps_ || window_start_ps_ == 0);
    if (dump_first) open_body();
    if (j == i + 1) {
      // Most timestamps carry one change: no grouping needed.
      const Change& c = bucket[i++];
      value_[c.id] = c.bits;
      if (!in_window) continue;
      if (!body_open_) open_body();
      if (written_[c.id] == c.bits) continue;
      stamp(t);
      write_value(c.id, c.bits);
      written_[c.id] = c.bits;
      continue;
    }
    ++group_;
    touched_.clear();
    for (; i < j; ++i) {
      const Change& c = bucket[i];
      if (seen_in_group_[c.id] != group_) {
        seen_in_group_[c.id] = group_;
        touched_.push_back(c.id);
      }
      value_[c.id] = c.bits;
    }
    if (!in_window) continue;
    if (!body_open_) open_body();
    emit_group(t, touched_);
  }
}

void VcdRecorder::emit_group(std::uint64_t time_ps, std::vector<SignalId>& touched) {
  // Signals in id order, so equal inputs give byte-identical files.
  std::sort(touched.begin(), touched.end());
  bool stamped = false;
  for (const SignalId id : touched) {
    if (written_[id] == value_[id]) continue;
    if (!stamped) {
      stamp(time_ps);
      stamped = true;
    }
    write_value(id, value_[id]);
    written_[id] = value_[id];
  }
}

void VcdRecorder::stamp(std::uint64_t time_ps) {
  char* p = room(kMaxLine);
  *p++ = '#';
  p = write_decimal(p, time_ps);
  *p++ = '\n';
  used_ = static_cast<std::size_t>(p - buffer_.data());
}

char* VcdRecorder::room(std::size_t bytes) {
  if (buffer_.size() - used_ < bytes) buffer_.resize(std::max(2 * buffer_.size(), used_ + bytes + kWriteBytes));
  return buffer_.data() + used_;
}

void VcdRecorder::append(const std::string& text) {
  std::memcpy(room(text.size()), text.data(), text.size());
  used_ += text.size();
}

void VcdRecorder::write_header(std::ostream& os) const {
  os << "$date\n  npuvp simulation\n$end\n$version\n  npuvp\n$end\n$timescale 1ps $end\n";
  if (truncated_) os << "$comment\n  truncated after " << options_.max_changes << " changes\n$end\n";
  Scope root;
  for (SignalId id = 0; id < signals_.size(); ++id) {
    auto parts = split(signals_[id].name);
    Scope* scope = &root;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      auto& child = scope->children[parts[i]];
      if (!child) child = std::make_unique<Scope>();
      scope = child.get();
    }
    scope->vars.emplace_back(parts.back(), id);
  }
  auto emit = [&](auto&& self, const Scope& scope) -> void {
    for (const auto& [var, id] : scope.vars) {
      const Signal& s = signals_[id];
      if (s.width == 0)
        os << "$var real 64 " << s.ident << ' ' << var << " $end\n";
      else
        os << "$var wire " << s.width << ' ' << s.ident << ' ' << var << " $end\n";
    }
    for (const auto& [name, child] : scope.children) {
      os << "$scope module " << name << " $end\n";
      self(self, *child);
      os << "$upscope $end\n";
    }
  };
  emit(emit, root);
  os << "$enddefinitions $end\n";
}

void VcdRecorder::open_body() {
  std::ostringstream header;
  write_header(header);
  header_bytes_ = header.str().size();
  *out_ << header.str();
  header_says_truncated_ = truncated_;
  body_open_ = true;
  stamp(window_start_ps_);
  append("$dumpvars\n");
  for (SignalId id = 0; id < signals_.size(); ++id) write_value(id, value_[id]);
  append("$end\n");
  written_ = value_;
}

void VcdRecorder::write_value(SignalId id, std::uint64_t bits) {
  const Signal& s = signals_[id];
  char* p = room(kMaxLine);
  if (s.width == 0) {
    double v;
    std::memcpy(&v, &bits, sizeof v);
    p = fmt::format_to(p, "r{} ", v);  // shortest exact form: fast, and loses nothing
  } else if (s.width == 1) {
    *p++ = (bits & 1) ? '1' : '0';
  } else {
    *p++ = 'b';
    for (int b = bits == 0 ? 0 : 63 - __builtin_clzll(bits); b >= 0; --b) *p++ = ((bits >> b) & 1) ? '1' : '0';
    *p++ = ' ';
  }
  std::memcpy(p, s.ident.data(), s.ident.size());
  p += s.ident.size();
  *p++ = '\n';
  used_ = static_cast<std::size_t>(p - buffer_.data());
}

void VcdRecorder::drain(bool force) {
  if (used_ == 0 || (!force && used_ < kWriteBytes)) return;
  out_->write(buffer_.data(), static_cast<std::streamsize>(used_));
  used_ = 0;
}

void VcdRecorder::write(std::ostream& os) {
  if (out_ != nullptr) throw std::logic_error("VCD recorder streams to " + path_ + "; close() it instead");
  out_ = &os;
  flush_before(UINT64_MAX);
  if (!body_open_) open_body();
  drain(true);
  out_ = nullptr;
}

void VcdRecorder::close() {
  if (out_ == nullptr) return;
  flush_before(UINT64_MAX);
  if (!body_open_) open_body();
  drain(true);
  out_ = nullptr;
  const auto file = std::move(file_);
  file->commit();
  if (truncated_ && !header_says_truncated_) note_truncation_in_header();
}

void VcdRecorder::note_truncation_in_header() {
  // The header went out before the cap was reached; the comment belongs in it,
  // so the file is copied once behind a header that has it.
  std::ifstream in(path_, std::ios::binary);
  io::OutputFile out(path_);
  write_header(out.stream());
  in.seekg(static_cast<std::streamoff>(header_bytes_));
  out.stream() << in.rdbuf();
  if (!in) throw std::runtime_error("cannot read back " + path_);
  out.commit();
}

void BusyWire::bind(VcdRecorder& recorder, const std::string& hierarchical_name) {
  wire_.bind(recorder, hierarchical_name, 1);
  if (wire_.bound()) recorder.on_flush([this] { publish_until(sc_core::sc_time_stamp()); });
}

void BusyWire::open_run(const sc_core::sc_time& start, const sc_core::sc_time& end) {
  finish();
  open_ = true;
  start_published_ = false;
  start_ = start;
  end_ = end;
}

void BusyWire::extend_back(const sc_core::sc_time& start) {
  // A request from an initiator running behind the others: the run began
  // earlier than published so far.
  start_ = start;
  if (start_published_) wire_.set(start_, 1);
}

void BusyWire::publish_until(const sc_core::sc_time& now) {
  if (!open_) return;
  if (!start_published_) {
    wire_.set(start_, 1);
    start_published_ = true;
  }
  if (end_ > now) return;
  wire_.set(end_, 0);
  open_ = false;
}

}  // namespace npuvp::trace
