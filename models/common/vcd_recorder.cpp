#include "models/common/vcd_recorder.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "models/common/natural_order.h"
#include "models/common/number_text.h"

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

// Replaces each count with the sum of those before it. Four at a time where
// SSE2 is (every x86-64): one add after another would be a chain as long as
// the array, run once per bucket.
template <std::size_t N>
void exclusive_prefix_sum(std::array<std::uint32_t, N>& counts) {
#if defined(__SSE2__)
  static_assert(N % 4 == 0);
  __m128i carry = _mm_setzero_si128();
  for (std::size_t i = 0; i < N; i += 4) {
    auto* const at = reinterpret_cast<__m128i*>(&counts[i]);
    const __m128i x = _mm_loadu_si128(at);
    __m128i sum = _mm_add_epi32(x, _mm_slli_si128(x, 4));
    sum = _mm_add_epi32(_mm_add_epi32(sum, _mm_slli_si128(sum, 8)), carry);
    _mm_storeu_si128(at, _mm_sub_epi32(sum, x));
    carry = _mm_shuffle_epi32(sum, 0xFF);
  }
#else
  std::uint32_t sum = 0;
  for (std::uint32_t& s : counts) sum += std::exchange(s, sum);
#endif
}

}  // namespace

VcdRecorder::VcdRecorder(VcdOptions options)
    : options_(std::move(options)),
      ps_(ticks_per_ps()),
      ticks_are_ps_(ps_ == 1),
      window_start_ps_(options_.window_start.value() / ps_),
      window_end_ps_(options_.window_end.value() / ps_) {}

VcdRecorder::~VcdRecorder() = default;

bool under_scope(const std::string& name, const std::string& scope) {
  // A whole scope or signal name: soc.npu.cluster_1 is not soc.npu.cluster_10's.
  return name.compare(0, scope.size(), scope) == 0 &&
         (name.size() == scope.size() || scope.empty() || scope.back() == '.' || name[scope.size()] == '.');
}

bool VcdRecorder::accept(const std::string& name) const {
  if (options_.include_prefixes.empty()) return true;
  return std::any_of(options_.include_prefixes.begin(), options_.include_prefixes.end(),
                     [&](const std::string& p) { return under_scope(name, p); });
}

VcdRecorder::SignalId VcdRecorder::add(const std::string& name, unsigned width) {
  if (!accept(name)) return kFiltered;
  if (body_open_) throw std::logic_error("VCD signal '" + name + "' declared after its file's header was written");
  const auto id = static_cast<SignalId>(signals_.size());
  if (id >= kRepeat) throw std::length_error("VCD signal '" + name + "': a recorder holds at most 2^31 signals");
  signals_.push_back({name, width, identifier(id)});
  Slot& slot = slots_.emplace_back();
  slot.width = static_cast<std::uint8_t>(width);
  slot.ident_size = static_cast<std::uint8_t>(signals_.back().ident.size() + 1);
  slot.line_size = static_cast<std::uint8_t>(1 + slot.ident_size);
  std::memcpy(slot.ident, signals_.back().ident.data(), signals_.back().ident.size());
  slot.ident[signals_.back().ident.size()] = '\n';
  for (char bit : {'0', '1'}) {
    slot.line[bit - '0'][0] = bit;
    std::memcpy(slot.line[bit - '0'] + 1, slot.ident, sizeof slot.line[0] - 1);
  }
  value_.push_back(0);
  after_latest_.push_back(0);
  return id;
}

VcdRecorder::SignalId VcdRecorder::add_wire(const std::string& name, unsigned width) {
  return add(name, std::clamp(width, 1u, 64u));
}

VcdRecorder::SignalId VcdRecorder::add_real(const std::string& name) { return add(name, 0); }

void VcdRecorder::push_to_bucket(SignalId id, std::uint64_t t, std::uint64_t bits) {
  if (t > window_end_ps_) return;
  if (changes_ >= options_.max_changes) {
    // Every change before the latest flush's cutoff is in: the models that
    // hold changes back (BusyWire) published theirs then. Past it some may
    // still be held, to be published after the cap: the file is whole up
    // to the cutoff only.
    if (!truncated_ && out_ != nullptr) complete_before_ps_ = final_before_ps_ >> kBucketBits << kBucketBits;
    truncated_ = true;
    return;
  }
  ++changes_;
  std::uint64_t bucket = t >> kBucketBits;
  SignalId marked = id | repeat_mark(id, t);
  if (bucket < first_bucket_) {
    // Its time is already in the file: the earliest time still open is the
    // nearest the file can show it, and the count says it happened.
    ++late_;
    bucket = first_bucket_;
    t = bucket << kBucketBits;
    marked = id | kRepeat;  // the time it moved to may have changes of its own
  }
  make_bucket(bucket)->append() = {bits, marked, static_cast<std::uint32_t>(t & kOffsetMask)};
}

void VcdRecorder::Bucket::grow(std::size_t at_least) {
  const std::size_t capacity = std::max<std::size_t>({at_least, 2 * capacity_, 1024});
  // new[] of a trivial type leaves the changes unset.
  std::unique_ptr<Change[]> grown(new Change[capacity]);
  if (size_ != 0) std::memcpy(grown.get(), data_.get(), size_ * sizeof(Change));
  data_ = std::move(grown);
  capacity_ = capacity;
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
  record_real_ticks(id, at.value(), value);
}

void VcdRecorder::record_real_ticks(SignalId id, std::uint64_t ticks, double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  push(id, ticks, bits);
}

void VcdRecorder::on_flush(std::function<void(const sc_core::sc_time&)> publish) {
  publishers_.push_back(std::move(publish));
}

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
  if (now <= lag_bound_ps_) return;
  std::uint64_t cutoff = now - lag_bound_ps_;
  for (const auto& earliest : holds_) cutoff = std::min<std::uint64_t>(cutoff, earliest().value() / ps_);
  flush_before(cutoff);
}

void VcdRecorder::hold_from(std::function<sc_core::sc_time()> earliest) { holds_.push_back(std::move(earliest)); }

void VcdRecorder::flush_before(std::uint64_t cutoff_ps) {
  const sc_core::sc_time final_before = cutoff_ps >= sc_core::sc_max_time().value() / ps_
                                            ? sc_core::sc_max_time()
                                            : sc_core::sc_time::from_value(cutoff_ps * ps_);
  for (const auto& publish : publishers_) publish(final_before);
  if (cutoff_ps != UINT64_MAX) final_before_ps_ = std::max(final_before_ps_, cutoff_ps);
  // Buckets before it are complete; past the cap, only those before the
  // time the recording was whole up to are written.
  const std::uint64_t end = std::min(cutoff_ps, complete_before_ps_) >> kBucketBits;
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
  // Ordered by time; changes at one time stay in the order they were
  // recorded. A stable counting pass by slot (shorter than the NPU's cycle,
  // 1.25 ns at the presets' 800 MHz) leaves a slot's changes in that order,
  // and the stable insertion pass that follows seldom finds two times in one
  // to put in order. Where a signal has several changes at one time, the last
  // one recorded is the one that counts: every one after the first is marked
  // kRepeat when recorded, and gives its value to those before it, so that
  // the first writes the last's value and the others write nothing.
  constexpr unsigned kSlotBits = kBucketBits - kSlotIndexBits;
  std::array<std::uint32_t, std::size_t{1} << kSlotIndexBits> start{};
  for (const Change& c : bucket) ++start[c.offset >> kSlotBits];
  exclusive_prefix_sum(start);
  scratch_.resize_unset(bucket.size());
  Change* const sorted = scratch_.data();
  for (const Change& c : bucket) sorted[start[c.offset >> kSlotBits]++] = c;
  bucket.swap(scratch_);
  Change* const b = bucket.data();
  const std::size_t size = bucket.size();
  for (std::size_t i = first_unsettled(b, 0, size); i < size; i = first_unsettled(b, i + 1, size)) {
    std::size_t at = i;
    if (i != 0 && b[i - 1].offset > b[i].offset) {
      const Change c = b[i];
      for (; at > 0 && b[at - 1].offset > c.offset; --at) b[at] = b[at - 1];
      b[at] = c;
    }
    if ((b[at].id & kRepeat) == 0) continue;
    Change& last = b[at];
    last.id &= ~kRepeat;
    for (std::size_t k = at; k > 0 && b[k - 1].offset == last.offset; --k)
      if (b[k - 1].id == last.id) b[k - 1].bits = last.bits;
  }
}

std::size_t VcdRecorder::first_unsettled(const Change* b, std::size_t from, std::size_t size) {
  std::size_t i = from;
  if (i == 0 && size != 0) {
    if ((b[0].id & kRepeat) != 0) return 0;
    i = 1;
  }
#if defined(__SSE2__)
  // Four changes a step: their ids' kRepeat bits are their sign bits, and an
  // offset below the one before it compares greater as a signed number
  // (offsets stay below 2^31).
  static_assert(sizeof(Change) == 16 && offsetof(Change, id) == 8 && offsetof(Change, offset) == 12);
  static_assert(kRepeat == SignalId{1} << 31 && kBucketBits < 31);
  // Sign bits set where one of the four changes from b + i is unsettled.
  const auto unsettled = [b](std::size_t i) {
    const auto* at = reinterpret_cast<const __m128i*>(b + i);
    // [id, offset] of each change, then the four ids and the four offsets.
    const __m128i low = _mm_unpackhi_epi32(_mm_loadu_si128(at), _mm_loadu_si128(at + 1));
    const __m128i high = _mm_unpackhi_epi32(_mm_loadu_si128(at + 2), _mm_loadu_si128(at + 3));
    const __m128i ids = _mm_unpacklo_epi64(low, high);
    const __m128i offsets = _mm_unpackhi_epi64(low, high);
    const __m128i before =
        _mm_or_si128(_mm_slli_si128(offsets, 4), _mm_cvtsi32_si128(static_cast<int>(b[i - 1].offset)));
    return _mm_or_si128(ids, _mm_cmpgt_epi32(before, offsets));
  };
  // Eight at a time while none is unsettled, then the four that hold the first.
  while (i + 8 <= size && _mm_movemask_ps(_mm_castsi128_ps(_mm_or_si128(unsettled(i), unsettled(i + 4)))) == 0) i += 8;
  for (; i + 4 <= size; i += 4) {
    const int mask = _mm_movemask_ps(_mm_castsi128_ps(unsettled(i)));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
  }
#endif
  for (; i < size; ++i)
    if (b[i - 1].offset > b[i].offset || (b[i].id & kRepeat) != 0) return i;
  return size;
}

void VcdRecorder::emit_bucket(Bucket& bucket, std::uint64_t start_ps) {
  sort_by_time(bucket);
  const Change* c = bucket.data();
  const Change* const end = c + bucket.size();
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
      // Read once: the lines' stores go through a char*, which may alias it.
      const Change change = *c;
      if (value[change.id] == change.bits) continue;
      value[change.id] = change.bits;
      if (change.offset != stamped) {
        stamped = change.offset;
        if (one_high) {
          *p = '#';
          std::memcpy(p + 1, high_text, sizeof high_text);
          p = write_eight_digits(p + 1 + high_size, static_cast<std::uint32_t>(low_start + change.offset));
          *p++ = '\n';
        } else {
          p = stamp(p, start_ps + change.offset);
        }
      }
      const Slot& s = slots[change.id];
      if (s.width == 1) {
        // Most changes are of 1-bit signals: "0" or "1", the identifier, a newline.
        std::memcpy(p, s.line[change.bits & 1], sizeof s.line[0]);
        p += s.line_size;
      } else {
        p = write_value(p, change.id, change.bits);
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
        os << "$var wire " << unsigned{s.width} << ' ' << s.ident << ' ' << var << " $end\n";
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
  // The truncation comment the body may end with, and the "$dumpvars"/"$end"
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
  // Through the buffer like the rest, so that the body's blocks stay aligned
  // in the file.
  append(header.str());
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
    *p++ = 'r';
    RealText& memo = real_texts_[(bits * 0x9E3779B97F4A7C15ULL) >> (64 - kRealTextBits)];
    if (memo.size != 0 && memo.bits == bits) {
      std::memcpy(p, memo.text, sizeof memo.text);
      p += memo.size;
    } else {
      double v;
      std::memcpy(&v, &bits, sizeof v);
      char* const first = p;
      p = text::write_shortest(p, v);  // loses nothing
      const auto size = static_cast<std::size_t>(p - first);
      if (size <= sizeof memo.text) {
        memo.bits = bits;
        memo.size = static_cast<std::uint8_t>(size);
        std::memcpy(memo.text, first, size);
      }
    }
    *p++ = ' ';
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
  finish_body();
  out_ = nullptr;
}

void VcdRecorder::close() {
  if (out_ == nullptr) return;
  finish_body();
  out_ = nullptr;
  const auto file = std::move(file_);
  file->commit();
}

void VcdRecorder::finish_body() {
  flush_before(UINT64_MAX);
  if (!body_open_) open_body();
  // Where the recording stopped, not in the header: a streamed header is
  // out long before the cap may be reached, and putting the note there
  // would mean copying the whole file behind a new header (MobileNet v1 at
  // 1080x1920: 0.3-1.0 s of system time reading back its 200 MB trace).
  if (truncated_ && complete_before_ps_ != UINT64_MAX)
    append("#" + std::to_string(complete_before_ps_) + "\n$comment\n  truncated at " +
           std::to_string(options_.max_changes) +
           " changes: every signal is complete up to here, later changes are left out\n$end\n");
  else if (truncated_)
    append("$comment\n  truncated after " + std::to_string(options_.max_changes) + " changes\n$end\n");
  drain(true);
}

void BusyWire::bind(VcdRecorder& recorder, const std::string& hierarchical_name) {
  wire_.bind(recorder, hierarchical_name, 1);
  if (wire_.bound()) recorder.on_flush([this](const sc_core::sc_time& final_before) { publish_until(final_before); });
}

void BusyWire::merge(const sc_core::sc_time& start, const sc_core::sc_time& end) {
  // The runs from `first` on end at or after `start`; those from `last` on
  // start after `end`. What lies between merges with the request. Most
  // requests land a few runs back; some a hundred.
  const auto live = runs_.begin() + static_cast<std::ptrdiff_t>(first_);
  auto first = runs_.end();
  for (int steps = 0; first != live && std::prev(first)->end >= start; --first) {
    if (++steps == 8) {
      first = std::partition_point(live, first, [&](const Run& run) { return run.end < start; });
      break;
    }
  }
  auto last = first;
  while (last != runs_.end() && last->start <= end) ++last;
  if (first == last) {
    runs_.insert(first, Run{start, end, false});
    return;
  }
  Run& run = *first;
  // A start published already stays; an earlier one is published too (the
  // later then repeats a value, which the recorder drops).
  if (start < run.start) {
    run.start = start;
    run.start_published = false;
  }
  run.end = std::max(end, std::prev(last)->end);
  runs_.erase(std::next(first), last);
}

void BusyWire::publish_until(const sc_core::sc_time& final_before) {
  for (; first_ != runs_.size(); ++first_) {
    Run& run = runs_[first_];
    if (run.start >= final_before) break;
    if (!run.start_published) {
      wire_.set(run.start, 1);
      run.start_published = true;
    }
    // A request starting at final_before would still touch it.
    if (run.end >= final_before) break;
    wire_.set(run.end, 0);
  }
  if (2 * first_ >= runs_.size()) {
    runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(first_));
    first_ = 0;
  }
}

}  // namespace npuvp::trace
