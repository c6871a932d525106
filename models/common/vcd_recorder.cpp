#include "models/common/vcd_recorder.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <utility>

#include <spdlog/fmt/fmt.h>

namespace npuvp::trace {
namespace {

// Buckets of 2^22 ps (4.2 us) hold a few thousand changes of a busy run: a
// two-pass radix sort orders one in cache, and the window spans a handful.
constexpr unsigned kBucketBits = 22;
constexpr unsigned kRadixBits = 11;
static_assert(2 * kRadixBits == kBucketBits, "two radix passes cover a bucket");
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

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
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

void VcdRecorder::push(SignalId id, const sc_core::sc_time& at, std::uint64_t bits) {
  if (id == kFiltered) return;
  std::uint64_t t = ps_ == 1 ? at.value() : at.value() / ps_;
  if (t > window_end_ps_) return;
  if (changes_ >= options_.max_changes) {
    truncated_ = true;
    return;
  }
  ++changes_;
  std::uint64_t bucket = t >> kBucketBits;
  if (bucket == last_bucket_) {
    last_->push_back({t, bits, id});
    return;
  }
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
  last_->push_back({t, bits, id});
}

void VcdRecorder::record(SignalId id, const sc_core::sc_time& at, std::uint64_t value) { push(id, at, value); }

void VcdRecorder::record_real(SignalId id, const sc_core::sc_time& at, double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  push(id, at, bits);
}

void VcdRecorder::on_flush(std::function<void()> publish) { publishers_.push_back(std::move(publish)); }

void VcdRecorder::stream_to(const std::string& path, const sc_core::sc_time& lag_bound) {
  if (out_ != nullptr) throw std::logic_error("VCD recorder already streams to " + path_);
  file_.open(path, std::ios::binary | std::ios::trunc);
  if (!file_) throw std::runtime_error("cannot write " + path);
  path_ = path;
  out_ = &file_;
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
    emit_bucket(buckets_.front());
    buckets_.front().clear();
    spare_.push_back(std::move(buckets_.front()));
    buckets_.pop_front();
    ++first_bucket_;
  }
  drain(false);
}

void VcdRecorder::emit_bucket(Bucket& bucket) {
  // A stable sort: the last value recorded for a signal at a timestamp is the
  // one written. Radix on the time within the bucket, which is stable.
  auto by_time = [](const Change& a, const Change& b) { return a.time_ps < b.time_ps; };
  if (!std::is_sorted(bucket.begin(), bucket.end(), by_time)) {
    scratch_.resize(bucket.size());
    for (unsigned shift = 0; shift < kBucketBits; shift += kRadixBits) {
      std::array<std::uint32_t, 1u << kRadixBits> start{};
      const std::uint64_t mask = (1u << kRadixBits) - 1;
      for (const Change& c : bucket) ++start[(c.time_ps >> shift) & mask];
      std::uint32_t sum = 0;
      for (auto& s : start) sum += std::exchange(s, sum);
      for (const Change& c : bucket) scratch_[start[(c.time_ps >> shift) & mask]++] = c;
      bucket.swap(scratch_);
    }
  }
  for (std::size_t i = 0; i < bucket.size();) {
    const std::uint64_t t = bucket[i].time_ps;
    std::size_t j = i;
    while (j < bucket.size() && bucket[j].time_ps == t) ++j;
    const bool in_window = t >= window_start_ps_;
    // The initial dump is the state at the window's start: it takes in the
    // changes at that time, except at 0, where it is all zeros.
    const bool dump_first = in_window && !body_open_ && (t > window_start_ps_ || window_start_ps_ == 0);
    if (dump_first) open_body();
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
      buffer_.push_back('#');
      append_number(buffer_, time_ps);
      buffer_.push_back('\n');
      stamped = true;
    }
    write_value(id, value_[id]);
    written_[id] = value_[id];
  }
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
  const auto before = out_->tellp();
  write_header(*out_);
  header_bytes_ = static_cast<std::size_t>(out_->tellp() - before);
  header_says_truncated_ = truncated_;
  body_open_ = true;
  buffer_.push_back('#');
  append_number(buffer_, window_start_ps_);
  buffer_ += "\n$dumpvars\n";
  for (SignalId id = 0; id < signals_.size(); ++id) write_value(id, value_[id]);
  buffer_ += "$end\n";
  written_ = value_;
}

void VcdRecorder::write_value(SignalId id, std::uint64_t bits) {
  const Signal& s = signals_[id];
  if (s.width == 0) {
    double v;
    std::memcpy(&v, &bits, sizeof v);
    fmt::format_to(std::back_inserter(buffer_), "r{:.9g} ", v);
  } else if (s.width == 1) {
    buffer_.push_back((bits & 1) ? '1' : '0');
  } else {
    char text[66];
    std::size_t n = 0;
    text[n++] = 'b';
    for (int b = bits == 0 ? 0 : 63 - __builtin_clzll(bits); b >= 0; --b) text[n++] = ((bits >> b) & 1) ? '1' : '0';
    text[n++] = ' ';
    buffer_.append(text, n);
  }
  buffer_ += s.ident;
  buffer_.push_back('\n');
}

void VcdRecorder::drain(bool force) {
  if (buffer_.empty() || (!force && buffer_.size() < kWriteBytes)) return;
  out_->write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_.clear();
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
  file_.close();
  out_ = nullptr;
  if (!file_) throw std::runtime_error("cannot write " + path_);
  if (truncated_ && !header_says_truncated_) note_truncation_in_header();
}

void VcdRecorder::note_truncation_in_header() {
  // The header went out before the cap was reached; the comment belongs in it,
  // so the file is copied once behind a header that has it.
  const std::string tmp = path_ + ".tmp";
  {
    std::ifstream in(path_, std::ios::binary);
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    write_header(out);
    in.seekg(static_cast<std::streamoff>(header_bytes_));
    out << in.rdbuf();
    if (!out) throw std::runtime_error("cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) throw std::runtime_error("cannot replace " + path_);
}

}  // namespace npuvp::trace
