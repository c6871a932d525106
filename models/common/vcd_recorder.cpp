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

#include <spdlog/fmt/compile.h>
#include <spdlog/fmt/fmt.h>

#include "models/common/natural_order.h"

namespace npuvp::trace {
namespace {

// The file is written in pieces of this size.
constexpr std::size_t kWriteBytes = 1 << 20;
// A timestamp's digits above the low eight change once every 100 us: they
// are converted only then.
constexpr std::uint64_t kStampLow = 100'000'000;

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

// Scopes in natural order: cluster_2 before cluster_10.
struct Scope {
  std::map<std::string, std::unique_ptr<Scope>, NaturalLess> children;
  std::vector<std::pair<std::string, VcdRecorder::SignalId>> vars;
};

std::uint64_t ticks_per_ps() {
  const auto ps = sc_core::sc_time(1, sc_core::SC_PS).value();
  return ps == 0 ? 1 : ps;
}

// The four decimal digits, leading zeros included, of every number below
// 10^4: a timestamp's low digits come from two lookups. Times are multiples of
// a few clock periods, so the entries in use stay in cache.
struct FourDigits {
  char text[10000][4];
  FourDigits() {
    for (unsigned n = 0; n < 10000; ++n) {
      text[n][0] = static_cast<char>('0' + n / 1000);
      text[n][1] = static_cast<char>('0' + n / 100 % 10);
      text[n][2] = static_cast<char>('0' + n / 10 % 10);
      text[n][3] = static_cast<char>('0' + n % 10);
    }
  }
};
const FourDigits kFourDigits;

// The eight binary digits of every byte, and the same without leading zeros
// ("0" for zero): a vector's value is written a byte at a time.
struct EightBits {
  char full[256][8];
  char trimmed[256][8];
  std::uint8_t trimmed_size[256];
  EightBits() {
    for (unsigned n = 0; n < 256; ++n) {
      for (unsigned b = 0; b < 8; ++b) full[n][b] = static_cast<char>('0' + ((n >> (7 - b)) & 1));
      const unsigned lead = n == 0 ? 7 : static_cast<unsigned>(__builtin_clz(n)) - 24;
      trimmed_size[n] = static_cast<std::uint8_t>(8 - lead);
      std::memset(trimmed[n], 0, 8);
      std::memcpy(trimmed[n], full[n] + lead, 8 - lead);
    }
  }
};
const EightBits kEightBits;

// Writes v's decimal digits at out, which has room for 20; returns how many.
std::size_t decimal(char* out, std::uint64_t v) {
  return static_cast<std::size_t>(std::to_chars(out, out + 20, v).ptr - out);
}

// Eight decimal digits of n < 10^8, leading zeros included.
char* write_eight_digits(char* p, std::uint32_t n) {
  const std::uint32_t high = n / 10000;
  std::memcpy(p, kFourDigits.text[high], 4);
  std::memcpy(p + 4, kFourDigits.text[n - high * 10000], 4);
  return p + 8;
}

}  // namespace

VcdRecorder::VcdRecorder(VcdOptions options)
    : options_(std::move(options)),
      ps_(ticks_per_ps()),
      ticks_are_ps_(ps_ == 1),
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
  Slot& slot = slots_.emplace_back();
  slot.width = width;
  slot.ident_size = static_cast<std::uint32_t>(signals_.back().ident.size() + 1);
  std::memcpy(slot.ident, signals_.back().ident.data(), signals_.back().ident.size());
  slot.ident[signals_.back().ident.size()] = '\n';
  for (char bit : {'0', '1'}) {
    slot.line[bit - '0'][0] = bit;
    std::memcpy(slot.line[bit - '0'] + 1, slot.ident, sizeof slot.line[0] - 1);
  }
  value_.push_back(0);
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
  make_bucket(bucket)->push_back({bits, id, static_cast<std::uint32_t>(t & kOffsetMask)});
}

VcdRecorder::Bucket* VcdRecorder::make_bucket(std::uint64_t bucket) {
  if (bucket < first_bucket_) return nullptr;
  while (bucket - first_bucket_ >= buckets_.size()) {
    buckets_.emplace_back();
    if (!spare_.empty()) {
      buckets_.back().swap(spare_.back());
      spare_.pop_back();
    }
  }
  last_bucket_ = bucket;
  last_ = &buckets_[bucket - first_bucket_];
  return last_;
}

void VcdRecorder::record_real(SignalId id, const sc_core::sc_time& at, double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  push(id, at.value(), bits);
}

void VcdRecorder::on_flush(std::function<void()> publish) { publishers_.push_back(std::move(publish)); }

void VcdRecorder::stream_to(const std::string& path, const sc_core::sc_time& lag_bound) {
  if (out_ != nullptr) throw std::logic_error("VCD recorder already streams to " + path_);
  file_ = std::make_unique<io::OutputFile>(path, io::OutputFile::Mode::kBulk);
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

void VcdRecorder::grow(std::size_t bytes) {
  constexpr std::size_t kBlock = io::OutputFile::kBlockBytes;
  const std::size_t capacity = (std::max(2 * capacity_, bytes + kWriteBytes) + kBlock - 1) / kBlock * kBlock;
  std::unique_ptr<char, decltype(&std::free)> grown(static_cast<char*>(std::aligned_alloc(kBlock, capacity)),
                                                    &std::free);
  if (!grown) throw std::bad_alloc();
  if (used_ != 0) std::memcpy(grown.get(), buffer_.get(), used_);
  buffer_ = std::move(grown);
  capacity_ = capacity;
}

inline char* VcdRecorder::room(std::size_t bytes) {
  if (capacity_ - used_ < bytes) grow(used_ + bytes);
  return buffer_.get() + used_;
}

inline char* VcdRecorder::stamp(char* p, std::uint64_t time_ps) {
  *p++ = '#';
  // Consecutive timestamps share their digits above the low eight but for
  // once every 100 us: those are converted when they change.
  const std::uint64_t high = time_ps / kStampLow;
  if (high == 0) {
    p = std::to_chars(p, p + 8, static_cast<std::uint32_t>(time_ps)).ptr;
  } else {
    if (high != stamp_high_) stamp_high_size_ = decimal(stamp_high_text_, stamp_high_ = high);
    std::memcpy(p, stamp_high_text_, sizeof stamp_high_text_);
    p = write_eight_digits(p + stamp_high_size_, static_cast<std::uint32_t>(time_ps - high * kStampLow));
  }
  *p++ = '\n';
  return p;
}

void VcdRecorder::sort_by_time(Bucket& bucket) {
  // Ordered by time, then signal; changes equal in both keep the order they
  // were recorded in, so the last one recorded is the one written. Two stable
  // counting passes, by signal and then by the high bits of the time within
  // the bucket, leave a slot's changes in signal order; a slot is shorter
  // than the NPU's cycle (1.25 ns at the presets' 800 MHz), so the (stable)
  // insertion pass that follows seldom finds two times in one to put in order.
  if (bucket.size() < 2) return;
  constexpr unsigned kSlotBits = kBucketBits - kSlotIndexBits;
  const bool ids_fit = signals_.size() <= kMaxIdSlots;
  const std::uint32_t id_mask = ids_fit ? UINT32_MAX : kMaxIdSlots - 1;
  std::array<std::uint32_t, std::size_t{1} << kSlotIndexBits> start{};
  id_start_.assign(ids_fit ? signals_.size() : kMaxIdSlots, 0);
  for (const Change& c : bucket) {
    ++start[c.offset >> kSlotBits];
    ++id_start_[c.id & id_mask];
  }
  std::uint32_t sum = 0;
  for (std::uint32_t& s : start) sum += std::exchange(s, sum);
  sum = 0;
  for (std::uint32_t& s : id_start_) sum += std::exchange(s, sum);
  scratch_.resize(bucket.size());
  for (const Change& c : bucket) scratch_[id_start_[c.id & id_mask]++] = c;
  for (const Change& c : scratch_) bucket[start[c.offset >> kSlotBits]++] = c;
  for (std::size_t i = 1; i < bucket.size(); ++i) {
    if (key(bucket[i - 1]) <= key(bucket[i])) continue;
    const Change c = bucket[i];
    std::size_t j = i;
    for (; j > 0 && key(bucket[j - 1]) > key(c); --j) bucket[j] = bucket[j - 1];
    bucket[j] = c;
  }
}

void VcdRecorder::emit_bucket(Bucket& bucket, std::uint64_t start_ps) {
  sort_by_time(bucket);
  const std::size_t size = bucket.size();
  // After the last change, one no change can equal (no signal has the
  // filtered id): the loop compares each change with the next unchecked.
  bucket.push_back({0, kFiltered, UINT32_MAX});
  const Change* c = bucket.data();
  const Change* const end = c + size;
  while (c != end && (!body_open_ || start_ps + c->offset < window_start_ps_)) c = before_body(c, end, start_ps);
  std::uint32_t stamped = UINT32_MAX;  // offset of the last timestamp written
  // A bucket seldom straddles a multiple of 10^8 ps: then its timestamps
  // share the digits above their low eight, which are the bucket's own plus
  // the offset, without a division per timestamp.
  const std::uint64_t high = start_ps / kStampLow;
  const bool one_high = high != 0 && (start_ps + kOffsetMask) / kStampLow == high;
  if (one_high && high != stamp_high_) stamp_high_size_ = decimal(stamp_high_text_, stamp_high_ = high);
  const std::uint64_t low_start = start_ps - high * kStampLow;
  char high_text[16];  // a local: the stores of the lines cannot change it
  std::memcpy(high_text, stamp_high_text_, sizeof high_text);
  const std::size_t high_size = stamp_high_size_;
  while (c != end) {
    // Room for a run of changes at once, so that the loop keeps where it
    // writes in a register (a store through a char* may alias any member).
    const Change* const run_end = c + std::min<std::ptrdiff_t>(end - c, kChangesPerRoom);
    char* p = room(kChangesPerRoom * 2 * kMaxLine);
    std::uint64_t* const value = value_.data();
    const Slot* const slots = slots_.data();
    for (; c != run_end; ++c) {
      if (key(c[1]) == key(*c)) continue;  // the later one wins
      if (value[c->id] == c->bits) continue;
      value[c->id] = c->bits;
      if (c->offset != stamped) {
        stamped = c->offset;
        if (one_high) {
          *p = '#';
          std::memcpy(p + 1, high_text, sizeof high_text);
          p = write_eight_digits(p + 1 + high_size, static_cast<std::uint32_t>(low_start + c->offset));
          *p++ = '\n';
        } else {
          p = stamp(p, start_ps + c->offset);
        }
      }
      const Slot& s = slots[c->id];
      if (s.width == 1) {
        // Most changes are of 1-bit signals: "0" or "1", the identifier, a newline.
        std::memcpy(p, s.line[c->bits & 1], sizeof s.line[0]);
        p += 1 + s.ident_size;
      } else {
        p = write_value(p, c->id, c->bits);
      }
    }
    used_ = static_cast<std::size_t>(p - buffer_.get());
  }
}

const VcdRecorder::Change* VcdRecorder::before_body(const Change* c, const Change* end, std::uint64_t start_ps) {
  const std::uint64_t t = start_ps + c->offset;
  const Change* group_end = c;
  while (group_end != end && group_end->offset == c->offset) ++group_end;
  // Before the window only the state is kept, for the initial dump: the
  // state at the window's start, which takes in the changes at that time,
  // except at 0, where it is all zeros.
  if (t >= window_start_ps_ && (t > window_start_ps_ || window_start_ps_ == 0)) {
    open_body();
    return c;
  }
  for (; c != group_end; ++c) value_[c->id] = c->bits;
  if (t == window_start_ps_) open_body();
  return c;
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

std::uint64_t VcdRecorder::size_bound() const {
  std::ostringstream header;
  write_header(header);
  // The truncation comment a header may gain, and the "$dumpvars"/"$end"
  // around the initial dump.
  const std::uint64_t fixed = header.str().size() + 64 + 16;
  // A real's shortest exact form is at most 24 characters ("-2.2250738585072014e-308").
  std::uint64_t longest = 0;
  for (const Slot& slot : slots_) {
    const std::uint64_t value = slot.width == 1 ? 1 : slot.width == 0 ? 1 + 24 + 1 : 1 + slot.width + 1;
    longest = std::max(longest, value + slot.ident_size);
  }
  // '#', the 20 digits of the largest time in picoseconds, '\n'.
  constexpr std::uint64_t kLongestStamp = 22;
  return fixed + kLongestStamp + signals_.size() * longest +
         static_cast<std::uint64_t>(options_.max_changes) * (longest + kLongestStamp);
}

void VcdRecorder::open_body() {
  std::ostringstream header;
  write_header(header);
  header_bytes_ = header.str().size();
  // Through the buffer like the rest, so that the body's blocks stay aligned
  // in the file.
  append(header.str());
  header_says_truncated_ = truncated_;
  body_open_ = true;
  used_ = static_cast<std::size_t>(stamp(room(kMaxLine), window_start_ps_) - buffer_.get());
  append("$dumpvars\n");
  for (SignalId id = 0; id < signals_.size(); ++id)
    used_ = static_cast<std::size_t>(write_value(room(kMaxLine), id, value_[id]) - buffer_.get());
  append("$end\n");
}

char* VcdRecorder::write_value(char* p, SignalId id, std::uint64_t bits) {
  const Slot& s = slots_[id];
  if (s.width == 1) {
    *p = (bits & 1) ? '1' : '0';
    std::memcpy(p + 1, s.ident, sizeof s.ident);
    return p + 1 + s.ident_size;
  }
  if (s.width == 0) {
    double v;
    std::memcpy(&v, &bits, sizeof v);
    p = fmt::format_to(p, FMT_COMPILE("r{} "), v);  // shortest exact form: fast, and loses nothing
  } else {
    *p++ = 'b';
    int byte = bits == 0 ? 0 : (63 - __builtin_clzll(bits)) / 8;  // the highest one with a one
    const auto top = static_cast<std::uint8_t>(bits >> (8 * byte));
    std::memcpy(p, kEightBits.trimmed[top], 8);
    p += kEightBits.trimmed_size[top];
    while (--byte >= 0) {
      std::memcpy(p, kEightBits.full[static_cast<std::uint8_t>(bits >> (8 * byte))], 8);
      p += 8;
    }
    *p++ = ' ';
  }
  std::memcpy(p, s.ident, sizeof s.ident);
  return p + s.ident_size;
}

void VcdRecorder::drain(bool force) {
  if (used_ == 0 || (!force && used_ < kWriteBytes)) return;
  // Whole blocks only, but at the end: the file stays block-aligned.
  const std::size_t n = force ? used_ : used_ / io::OutputFile::kBlockBytes * io::OutputFile::kBlockBytes;
  out_->write(buffer_.get(), static_cast<std::streamsize>(n));
  used_ -= n;
  std::memmove(buffer_.get(), buffer_.get() + n, used_);
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
  io::OutputFile out(path_, io::OutputFile::Mode::kBulk);
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
  // A request apart from the open run closes it, as finish() would, without
  // comparing against the end of time.
  if (open_) {
    if (!start_published_) wire_.set(start_, 1);
    wire_.set(end_, 0);
  }
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
