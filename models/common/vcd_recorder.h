#pragma once
// Value-change recorder that writes a VCD file.
//
// TLM models have no wires, so state worth seeing is published on purpose.
// Loosely-timed models know the time of a change before simulated time reaches
// it (an annotated delay), and some publish a change after the fact (a power
// window, a lazily run DRAM controller), so changes carry an explicit timestamp
// and pass through a reorder window before they are written; recording costs
// no SystemC event.
//
// A streamed recorder (stream_to) writes while the simulation runs: a change
// can arrive at most `lag_bound` after the time it describes, so everything
// older than sc_time_stamp() - lag_bound is final and leaves memory in time
// order. Memory follows the
// window, not the length of the run. A recorder that is not streamed keeps
// every change until write().

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>
#include <iosfwd>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <systemc>

#include "models/common/output_file.h"

namespace npuvp::trace {

// Whether the hierarchical `name` is `scope` itself or lies under it.
bool under_scope(const std::string& name, const std::string& scope);

struct VcdOptions {
  // Only signals under one of these scopes (or named by one) are kept:
  // "soc.npu.cluster_1" keeps soc.npu.cluster_1.busy, not cluster_10's; empty
  // keeps everything.
  std::vector<std::string> include_prefixes;
  // Recording stops past this many changes; the file then ends with a
  // comment saying so, after the last change recorded.
  std::size_t max_changes = 20'000'000;
  // Only changes in [window_start, window_end] are written; the file's
  // initial dump is the state at window_start. Changes past the window are
  // not recorded and do not count against max_changes.
  sc_core::sc_time window_start = sc_core::SC_ZERO_TIME;
  sc_core::sc_time window_end = sc_core::sc_max_time();
};

class VcdRecorder {
 public:
  using SignalId = std::uint32_t;
  static constexpr SignalId kFiltered = UINT32_MAX;

  explicit VcdRecorder(VcdOptions options = {});
  VcdRecorder(const VcdRecorder&) = delete;
  VcdRecorder& operator=(const VcdRecorder&) = delete;
  ~VcdRecorder();

  // Hierarchical names use '.' between scopes: "top.npu.dma.ch0.busy".
  // Signals are declared before the first change is written (elaboration);
  // a later declaration throws std::logic_error.
  SignalId add_wire(const std::string& hierarchical_name, unsigned width);
  SignalId add_real(const std::string& hierarchical_name);

  // Recording is on every model's hot path: the common case (the change falls
  // in the bucket the previous one went to) is inline and appends 16 bytes.
  void record(SignalId id, const sc_core::sc_time& at, std::uint64_t value) { push(id, at.value(), value); }
  // The same at a time given in sc_time ticks (sc_time::value()): a model
  // counting cycles publishes without constructing an sc_time, which is not
  // inline.
  void record_ticks(SignalId id, std::uint64_t ticks, std::uint64_t value) { push(id, ticks, value); }
  void record_real(SignalId id, const sc_core::sc_time& at, double value);
  void record_real_ticks(SignalId id, std::uint64_t ticks, double value);
  // Records a 1-bit signal's pulses, high from rise(p) to fall(p) for each p
  // in [first, last) (rise < fall, in `ticks_per_unit` sc_time ticks, each
  // rising no earlier than the previous one's fall, the first no earlier than
  // the signal's changes recorded before): the same as two record_ticks() per
  // pulse, but looked up once per bucket and written straight into it. The
  // NoC's link edges, most of a busy run's changes, are recorded so.
  template <typename It, typename Rise, typename Fall>
  void record_pulses(SignalId id, It first, It last, std::uint64_t ticks_per_unit, Rise rise, Fall fall);

  // Writes the file at `path` while the simulation runs (flush_final). Every
  // change must be recorded no earlier than sc_time_stamp() - lag_bound; one
  // that is not (late_changes()) is written at the earliest time still open.
  void stream_to(const std::string& path, const sc_core::sc_time& lag_bound);
  // Writes out the changes that are final at `now`, those older than
  // now - lag_bound, in time order. The owner calls it from a process of its
  // own, regularly (every few microseconds is plenty: it acts at most once
  // per 4 us of `now`), where no model is halfway through publishing.
  void flush_final(const sc_core::sc_time& now);
  // Called before each flush, in registration order, with the time before
  // which changes are final (no change can be recorded before it from now
  // on), so that a model holding finished changes back publishes them.
  void on_flush(std::function<void(const sc_core::sc_time& final_before)> publish);
  // For a model that may record a change more than lag_bound after its time
  // (a PE cluster's stall edges, known once the job's operands are in, which
  // it reads as simulated time reaches them): `earliest()` is the earliest
  // time it may still record a change at, and nothing from there on is
  // written out until it moves on.
  void hold_from(std::function<sc_core::sc_time()> earliest);
  // Writes what is pending, completes the streamed file and renames it into
  // place (until then it is <path>.<pid>.part; a recorder destroyed unclosed
  // removes it). Throws std::runtime_error "cannot write <path>: <cause>".
  void close();
  // Writes a recorder that is not streamed: the whole recording, at once.
  void write(std::ostream& os);

  std::size_t change_count() const { return changes_; }
  bool truncated() const { return truncated_; }
  // A streamed recording that reached the cap holds every signal's changes
  // before this time and none after (the models record out of time order,
  // so the changes recorded before the cap past it were not all there is);
  // the largest time otherwise.
  sc_core::sc_time complete_before() const {
    return complete_before_ps_ == UINT64_MAX ? sc_core::sc_max_time()
                                             : sc_core::sc_time::from_value(complete_before_ps_ * ps_);
  }
  std::size_t late_changes() const { return late_; }
  std::size_t signal_count() const { return signals_.size(); }
  // The most bytes the file can take with the signals declared so far: the
  // header, the initial dump and max_changes changes each at a time of its
  // own, every one as long as the longest value line. Known at elaboration,
  // so that a run whose trace could not fit on its disk is refused first.
  std::uint64_t size_bound() const;
  // A declared signal's hierarchical name and width (0 for a real), in
  // declaration order: what a viewer's save file lists.
  const std::string& signal_name(SignalId id) const { return signals_[id].name; }
  unsigned signal_width(SignalId id) const { return signals_[id].width; }

 private:
  struct Signal {
    std::string name;   // hierarchical, '.'-separated
    unsigned width;     // 0 for real
    std::string ident;  // VCD identifier
  };
  // Buckets of 2^22 ps (4.2 us) hold a few thousand changes of a busy run: a
  // counting sort orders one in cache, and the window spans a handful.
  static constexpr unsigned kBucketBits = 22;
  static constexpr std::uint64_t kOffsetMask = (std::uint64_t{1} << kBucketBits) - 1;
  // Slots of 2^10 ps the time pass of the sort distributes a bucket's changes
  // over: shorter than a clock period, so that a slot rarely holds two times.
  static constexpr unsigned kSlotIndexBits = 12;
  // The longest line: 'b', 64 digits, ' ', an identifier, '\n'.
  static constexpr std::size_t kMaxLine = 96;
  // Changes written between two checks of the output buffer's room.
  static constexpr std::size_t kChangesPerRoom = 1024;
  // 16 bytes: the reorder window holds many of them. A change's time is its
  // bucket's start plus `offset`.
  struct Change {
    std::uint64_t bits;    // value, or the bit pattern of a double for reals
    SignalId id;           // with kRepeat when recorded at or before its signal's latest time
    std::uint32_t offset;  // ps within the bucket
  };
  // Set in a change's id when its signal already has a change recorded at
  // the same time or later: only such a change can be a repeat of one before
  // it at its time, so the sort looks for repeats at those alone. Signal ids
  // stay below it (add() refuses more).
  static constexpr SignalId kRepeat = SignalId{1} << 31;
  // A bucket's changes in the order recorded. Not a std::vector: room for a
  // batch (record_pulses) is taken inline and left unset until written,
  // where a vector's resize calls out of line and a reserve() leaves the
  // room unusable.
  class Bucket {
   public:
    Bucket() = default;
    Bucket(Bucket&& other) noexcept { swap(other); }
    Bucket& operator=(Bucket&& other) noexcept {
      swap(other);
      return *this;
    }
    Change* begin() { return data_.get(); }
    Change* end() { return data_.get() + size_; }
    const Change* begin() const { return data_.get(); }
    const Change* end() const { return data_.get() + size_; }
    Change* data() { return data_.get(); }
    std::size_t size() const { return size_; }
    Change& append() {
      if (size_ == capacity_) grow(size_ + 1);
      return data_[size_++];
    }
    // Room for n changes after the last; the caller writes some and counts
    // them in with commit().
    Change* space_for(std::size_t n) {
      if (size_ + n > capacity_) grow(size_ + n);
      return data_.get() + size_;
    }
    void commit(std::size_t n) { size_ += n; }
    // The size n, what it adds unset.
    void resize_unset(std::size_t n) {
      if (n > capacity_) grow(n);
      size_ = n;
    }
    void clear() { size_ = 0; }
    void swap(Bucket& other) noexcept {
      std::swap(data_, other.data_);
      std::swap(size_, other.size_);
      std::swap(capacity_, other.capacity_);
    }

   private:
    void grow(std::size_t at_least);

    std::unique_ptr<Change[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
  };

  SignalId add(const std::string& name, unsigned width);
  bool accept(const std::string& name) const;
  void push(SignalId id, std::uint64_t ticks, std::uint64_t bits) {
    if (id == kFiltered) return;
    // Not `ps_ == 1 ? ticks : ticks / ps_`, which compilers fold into an
    // unconditional 64-bit division on every change.
    const std::uint64_t t = ticks_are_ps_ ? ticks : ticks / ps_;
    if ((t >> kBucketBits) == last_bucket_ && t <= window_end_ps_ && changes_ < options_.max_changes) {
      ++changes_;
      Change& c = last_->append();
      c.bits = bits;
      c.id = id | repeat_mark(id, t);
      c.offset = static_cast<std::uint32_t>(t & kOffsetMask);
      return;
    }
    push_to_bucket(id, t, bits);
  }
  // kRepeat if `id` has a change recorded at t or later, else 0 (and t is
  // its latest time from now on).
  SignalId repeat_mark(SignalId id, std::uint64_t t) {
    std::uint64_t& after = after_latest_[id];
    if (t < after) return kRepeat;
    after = t + 1;
    return 0;
  }
  void push_to_bucket(SignalId id, std::uint64_t t, std::uint64_t bits);
  // The bucket numbered `bucket`, made if new; nullptr before the first one
  // still open.
  Bucket* bucket_at(std::uint64_t bucket) { return bucket == last_bucket_ ? last_ : make_bucket(bucket); }
  Bucket* make_bucket(std::uint64_t bucket);
  void flush_before(std::uint64_t cutoff_ps);
  void sort_by_time(Bucket& bucket);
  // The first change at or after `from` that is before the one preceding it
  // or marked kRepeat, or `size`: most of a bucket needs neither, and is
  // passed over four changes at a time.
  static std::size_t first_unsettled(const Change* b, std::size_t from, std::size_t size);
  void emit_bucket(Bucket& bucket, std::uint64_t start_ps);
  // Takes in the changes at c's time while the file's body is not open or
  // that time is before the window; returns the first one left to write.
  const Change* before_body(const Change* c, const Change* end, std::uint64_t start_ps);
  // Writes a line at p and returns its end; p has room for kMaxLine bytes.
  char* stamp(char* p, std::uint64_t time_ps);
  void open_body();
  void write_header(std::ostream& os) const;
  char* write_value(char* p, SignalId id, std::uint64_t bits);
  void drain(bool force);
  // Room for `bytes` more at the end of the output buffer; the caller writes
  // there and commits with used_ = its end.
  char* room(std::size_t bytes);
  void grow(std::size_t bytes);
  void append(const std::string& text);
  // Flushes every change, opens the body if nothing did, notes a truncation
  // after the last change and writes out what is buffered.
  void finish_body();

  VcdOptions options_;
  std::uint64_t ps_;  // sc_time ticks per picosecond
  bool ticks_are_ps_;
  std::uint64_t window_start_ps_;
  std::uint64_t window_end_ps_;
  std::vector<Signal> signals_;
  // What writing a value line needs, per signal: its identifier and the
  // newline after it, copied as one 8-byte word (an identifier of a 32-bit
  // id has at most 5 characters). 32 bytes: found by a shift.
  struct alignas(32) Slot {
    char ident[8] = {};
    std::uint8_t ident_size;  // with the newline
    std::uint8_t line_size;   // of a 1-bit signal's line: 1 + ident_size
    std::uint8_t width;       // 1 to 64, 0 for a real
    // A 1-bit signal's two lines, "0<ident>\n" and "1<ident>\n" (8 bytes
    // hold the longest): most changes are written by copying one.
    char line[2][8] = {};
  };
  static_assert(sizeof(Slot) == 32);
  std::vector<Slot> slots_;
  // Reals as last written, by a hash of their bits: the values a run's
  // real signals take repeat (a link's utilization is busy cycles over the
  // window's, a few hundred fractions), and copying the text is several
  // times cheaper than finding the shortest digits again.
  struct RealText {
    std::uint64_t bits = 0;
    std::uint8_t size = 0;  // 0: empty
    char text[23];
  };
  static_assert(sizeof(RealText) == 32);
  static constexpr unsigned kRealTextBits = 9;
  std::vector<RealText> real_texts_ = std::vector<RealText>(std::size_t{1} << kRealTextBits);
  std::size_t changes_ = 0;
  std::size_t late_ = 0;
  bool truncated_ = false;
  std::uint64_t complete_before_ps_ = UINT64_MAX;  // complete_before(), a bucket's start
  std::uint64_t final_before_ps_ = 0;              // the latest flush's cutoff: every earlier change is in

  // Reorder window: buckets of 2^kBucketBits ps from first_bucket_ on.
  std::deque<Bucket> buckets_;
  std::uint64_t first_bucket_ = 0;
  std::vector<Bucket> spare_;  // emptied buckets, kept for their capacity
  // The bucket the last change went to: most changes follow one there.
  std::uint64_t last_bucket_ = UINT64_MAX;
  Bucket* last_ = nullptr;
  Bucket scratch_;

  // Streaming.
  std::unique_ptr<io::OutputFile> file_;  // written under a temporary name until close()
  std::string path_;
  std::ostream* out_ = nullptr;
  std::uint64_t lag_bound_ps_ = 0;
  std::uint64_t next_flush_ps_ = 0;
  std::vector<std::function<void(const sc_core::sc_time&)>> publishers_;
  std::vector<std::function<sc_core::sc_time()>> holds_;

  // Writing.
  bool body_open_ = false;
  // Aligned to io::OutputFile::kBlockBytes and handed on in whole blocks
  // (drain), so that a bulk file writes them without copying them first.
  std::unique_ptr<char, decltype(&std::free)> buffer_{nullptr, &std::free};
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  std::uint64_t stamp_high_ = 0;  // timestamp / 10^8, as of the last stamp
  char stamp_high_text_[24] = {};
  std::size_t stamp_high_size_ = 0;
  // Per signal: its value as of the last flushed time, which is also the
  // last written to the file once the body is open.
  std::vector<std::uint64_t> value_;
  // Per signal: one past the latest time (ps) a change was recorded at, 0
  // before the first.
  std::vector<std::uint64_t> after_latest_;
};

template <typename It, typename Rise, typename Fall>
void VcdRecorder::record_pulses(SignalId id, It first, It last, std::uint64_t ticks_per_unit, Rise rise, Fall fall) {
  // Past the cap every edge would be refused one by one (a 1080x1920 run
  // reaches it a quarter of the way through).
  if (id == kFiltered || truncated_) return;
  while (first != last) {
    const std::uint64_t t = rise(*first) * ticks_per_unit;
    Bucket* const bucket = ticks_are_ps_ ? bucket_at(t >> kBucketBits) : nullptr;
    // Straight in: the pulses from `first` on that end within the bucket, the
    // window and the cap.
    std::size_t room = 0;
    std::uint64_t start = 0, end = 0;
    if (bucket != nullptr && changes_ < options_.max_changes && t <= window_end_ps_) {
      start = t >> kBucketBits << kBucketBits;
      end = start + (std::uint64_t{1} << kBucketBits);
      if (window_end_ps_ < end - 1) end = window_end_ps_ + 1;
      room = std::min<std::size_t>(static_cast<std::size_t>(std::distance(first, last)),
                                   (options_.max_changes - changes_) / 2);
    }
    if (room != 0) {
      Change* const first_written = bucket->space_for(2 * room);
      Change* p = first_written;
      // repeat_mark() inline: a pulse starts at or after the previous one's
      // end, so only its rise can come at or before the latest time.
      std::uint64_t after = after_latest_[id];
      for (; room != 0; --room, ++first) {
        const std::uint64_t up = rise(*first) * ticks_per_unit, down = fall(*first) * ticks_per_unit;
        if (down >= end) break;
        p[0] = {1, id | (up < after ? kRepeat : 0), static_cast<std::uint32_t>(up - start)};
        p[1] = {0, id, static_cast<std::uint32_t>(down - start)};
        after = down + 1;
        p += 2;
      }
      after_latest_[id] = after;
      const auto written = static_cast<std::size_t>(p - first_written);
      bucket->commit(written);
      changes_ += written;
      if (first == last) return;
      if (written != 0) continue;
    }
    // A pulse across the bucket's end or the window's, at the cap, or ticks
    // other than picoseconds: change by change.
    record_ticks(id, rise(*first) * ticks_per_unit, 1);
    record_ticks(id, fall(*first) * ticks_per_unit, 0);
    ++first;
  }
}

// A model's handle on one traced value: does nothing until bound to a recorder,
// so models can trace unconditionally.
class Wire {
 public:
  void bind(VcdRecorder& recorder, const std::string& hierarchical_name, unsigned width = 1) {
    recorder_ = &recorder;
    id_ = recorder.add_wire(hierarchical_name, width);
  }
  void set(const sc_core::sc_time& at, std::uint64_t value) const {
    if (recorder_ != nullptr) recorder_->record(id_, at, value);
  }
  void set_ticks(std::uint64_t ticks, std::uint64_t value) const {
    if (recorder_ != nullptr) recorder_->record_ticks(id_, ticks, value);
  }
  bool bound() const { return recorder_ != nullptr && id_ != VcdRecorder::kFiltered; }

 private:
  VcdRecorder* recorder_ = nullptr;
  VcdRecorder::SignalId id_ = VcdRecorder::kFiltered;
};

// A 1-bit activity signal fed with busy intervals [start, end). Intervals
// that touch or overlap merge into one run, so a unit serving back-to-back
// requests costs two changes per run rather than two per request, and
// overlapping requests (several ports) show as one busy run. Loosely-timed
// initiators come in out of time order (microseconds apart), so runs are held
// until they are final: a request starts no earlier than the recorder's
// reorder bound, so a run's start before it is final, and its end once before
// it. Its changes then go to the recorder in time order. The owner calls
// finish() at the end of the simulation.
class BusyWire {
 public:
  void bind(VcdRecorder& recorder, const std::string& hierarchical_name);
  void busy(const sc_core::sc_time& start, const sc_core::sc_time& end) {
    if (!wire_.bound()) return;
    // Most requests come at or after the start of the latest run.
    if (first_ != runs_.size() && start >= runs_.back().start && start <= runs_.back().end) {
      if (end > runs_.back().end) runs_.back().end = end;
      return;
    }
    if (first_ == runs_.size() || start > runs_.back().end) {
      runs_.push_back({start, end, false});
      return;
    }
    merge(start, end);
  }
  // Publishes what is final when no request can start before `final_before`.
  void publish_until(const sc_core::sc_time& final_before);
  void finish() { publish_until(sc_core::sc_max_time()); }

 private:
  struct Run {
    sc_core::sc_time start, end;
    bool start_published;
  };
  // A request that starts before the latest run.
  void merge(const sc_core::sc_time& start, const sc_core::sc_time& end);

  Wire wire_;
  // From first_ on: disjoint, not touching, in time order. Those before
  // first_ are published and wait to be dropped in bulk.
  std::vector<Run> runs_;
  std::size_t first_ = 0;
};

class RealWire {
 public:
  void bind(VcdRecorder& recorder, const std::string& hierarchical_name) {
    recorder_ = &recorder;
    id_ = recorder.add_real(hierarchical_name);
  }
  void set(const sc_core::sc_time& at, double value) const {
    if (recorder_ != nullptr) recorder_->record_real(id_, at, value);
  }

 private:
  VcdRecorder* recorder_ = nullptr;
  VcdRecorder::SignalId id_ = VcdRecorder::kFiltered;
};

}  // namespace npuvp::trace
