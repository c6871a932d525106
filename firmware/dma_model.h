#pragma once
// The firmware's model of a DMA chain's time (its latency estimate,
// docs/firmware.md): the chain cut into bursts as the DMA cuts them, the
// DRAM's rate, the DMA's NoC port and its window of bursts in flight.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <unordered_map>

#include "firmware/exact_sums.h"
#include "firmware/hal.h"
#include "firmware/layer_geometry.h"

namespace npuvp::firmware {

// What one DMA chain moves, cut into bursts as the channel cuts them
// (models/dma): at every multiple of the burst size on either side.
struct DmaStream {
  std::uint64_t bytes = 0, bursts = 0, flits = 0, descriptors = 0;
  double round_trips = 0;  // Σ over bursts: latency, data flits and DRAM data time
};

// What is left of a chain once a share `done` (0 to 1) of it has moved, its
// bursts taken as alike: as a chain of its own.
inline DmaStream rest_of(const DmaStream& s, double done) {
  const double left = std::clamp(1 - done, 0.0, 1.0);
  DmaStream rest;
  if (s.bursts == 0 || left == 0) return rest;
  rest.bursts = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(double(s.bursts) * left)));
  const double share = double(rest.bursts) / double(s.bursts);
  rest.bytes = static_cast<std::uint64_t>(std::llround(double(s.bytes) * share));
  rest.flits = static_cast<std::uint64_t>(std::llround(double(s.flits) * share));
  rest.round_trips = s.round_trips * share;
  rest.descriptors = 1;
  return rest;
}

// The bursts the channel cuts a row into, at multiples of this many bytes.
inline std::uint64_t dma_burst_bytes(const CostTable& c) {
  return std::max<std::uint64_t>(1, static_cast<std::uint64_t>(c.dma_burst_bytes));
}

class DmaModel {
 public:
  DmaModel(const NpuLayout& npu, bool store)
      : c_(npu.costs),
        burst_(dma_burst_bytes(npu.costs)),
        flit_(std::max(1.0, npu.costs.link_bytes_per_cycle)),
        latency_(store ? npu.costs.dma_store_latency_cycles : npu.costs.dma_load_latency_cycles) {}

  // The rows of descriptor periods walked so far, each kept walk counted once.
  std::uint64_t period_rows_walked() const { return period_rows_walked_; }

  // One descriptor: `rows` rows of `row_bytes`, each `src_pitch` and
  // `dst_pitch` after the previous one. The cut pattern repeats after at
  // most a burst's worth of rows, so only that many are walked.
  void add(DmaStream& s, std::uint64_t rows, std::uint64_t row_bytes, std::uint64_t src, std::uint64_t src_pitch,
           std::uint64_t dst, std::uint64_t dst_pitch) const {
    if (rows == 0 || row_bytes == 0) return;
    ++s.descriptors;
    const std::uint64_t src_period = period_of(src_pitch), dst_period = period_of(dst_pitch);
    const std::uint64_t period = std::min(rows, src_period / std::gcd(src_period, dst_period) * dst_period);
    const std::uint64_t repeats = rows / period, rest = rows % period;
    if (one_burst_rows(row_bytes, src, src_pitch) && rows < (std::uint64_t{1} << 32)) {
      add_one_burst_rows(s, rows, row_bytes, dst, dst_pitch, repeats, period);
      return;
    }
    const DmaStream& once = period_of_rows(period, row_bytes, src, src_pitch, dst, dst_pitch);
    s.bytes += repeats * once.bytes;
    s.bursts += repeats * once.bursts;
    s.flits += repeats * once.flits;
    s.round_trips += double(repeats) * once.round_trips;
    for (std::uint64_t r = 0; r < rest; ++r) add_row(s, row_bytes, src + r * src_pitch, dst + r * dst_pitch);
  }

  // PixelBlock::descriptor(): a row per descriptor row, or a plane per row
  // of pixels, which the DMA cuts plane after plane.
  void add(DmaStream& s, const PixelBlock& b) const {
    if (b.rows_are_runs()) return add(s, b.rows, std::uint64_t{b.pixels} * b.run, b.src, b.src_row, b.dst, b.dst_row);
    const std::uint64_t descriptors = s.descriptors;
    for (std::uint64_t r = 0; r < b.rows; ++r)
      add(s, b.pixels, b.run, b.src + r * b.src_row, b.src_pixel, b.dst + r * b.dst_row, b.dst_pixel);
    s.descriptors = std::min(s.descriptors, descriptors + 1);
  }

  // A chain's time on its channel: the first descriptor's fetch, then the
  // slowest of the DRAM's rate, the NoC port at the DMA's node (a flit per
  // cycle, a header per burst) and the burst window (Little's law over the
  // round trips, each `queued` cycles longer); the last burst's round trip
  // trails the stream.
  double cycles(const DmaStream& s, double queued = 0) const {
    if (s.bursts == 0) return 0;
    const double round_trip = s.round_trips / double(s.bursts) + queued;
    const double stream = std::max(double(s.bytes) / c_.dram_bytes_per_cycle, double(s.flits)) + round_trip;
    const double window =
        c_.dma_outstanding > 0 ? double(s.bursts) * (round_trip + window_data(s, 1)) / c_.dma_outstanding : 0;
    const double fetches = double(s.descriptors - 1) * c_.dma_descriptor_cycles + round_trip;
    return c_.dma_descriptor_cycles + std::max({stream, window, fetches});
  }

  // A load and a store chain on their two channels at once. They share the
  // DRAM: each burst of one waits there behind the other channel's window
  // of bursts in flight (their data at the DRAM's rate) while both stream,
  // and the longer chain runs the rest of its bursts alone. Their bytes
  // together never move faster than the DRAM's rate. Each burst of the load
  // also waits `load_queued` cycles at its destination.
  double concurrent_cycles(const DmaStream& load, const DmaStream& store, double load_queued = 0) const {
    const Pair p = pair(load, store, load_queued);
    if (load.bursts == 0 || store.bursts == 0) return std::max(p.alone_load, p.alone_store);
    const double both = p.load <= p.store ? p.load + (1 - p.load / p.store) * p.alone_store
                                          : p.store + (1 - p.store / p.load) * p.alone_load;
    return std::max(both, p.mixed * double(load.bytes + store.bytes) / c_.dram_bytes_per_cycle);
  }

  // When each chain ends, both started at once: the later end is
  // concurrent_cycles; the earlier chain's bytes and the other's bytes moved
  // meanwhile share the DRAM's rate.
  struct Ends {
    double load, store;
  };
  Ends ends(const DmaStream& load, const DmaStream& store) const {
    const Pair p = pair(load, store, 0);
    if (load.bursts == 0 || store.bursts == 0) return {p.alone_load, p.alone_store};
    const double last = concurrent_cycles(load, store);
    const double rate = c_.dram_bytes_per_cycle;
    if (p.load <= p.store)
      return {std::min(last, std::max(p.load,
                                      p.mixed * (double(load.bytes) + double(store.bytes) * p.load / p.store) / rate)),
              last};
    return {last,
            std::min(last, std::max(p.store,
                                    p.mixed * (double(store.bytes) + double(load.bytes) * p.store / p.load) / rate))};
  }

 private:
  // Each chain's time alone, and beside the other: each burst also waits at
  // the DRAM behind the other channel's window, which turns the DRAM's bus
  // around between the two streams' bursts.
  struct Pair {
    double alone_load, alone_store, mixed, load, store;
  };
  Pair pair(const DmaStream& load, const DmaStream& store, double load_queued) const {
    Pair p{cycles(load, load_queued), cycles(store), 1, 0, 0};
    if (load.bursts == 0 || store.bursts == 0) return p;
    p.mixed = 1 + c_.dram_turnaround_per_write * double(store.bytes) / double(load.bytes + store.bytes);
    p.load = cycles(load, p.mixed * window_data(store) + load_queued);
    p.store = cycles(store, p.mixed * window_data(load));
    return p;
  }

  // The DRAM time of a window of the chain's bursts in flight.
  double window_data(const DmaStream& s, double less = 0) const {
    return std::max(0.0, std::min(double(s.bursts), c_.dma_outstanding) - less) * double(s.bytes) / double(s.bursts) /
           c_.dram_bytes_per_cycle;
  }

  std::uint64_t period_of(std::uint64_t pitch) const { return burst_ / pitch_step(pitch); }
  // The common divisor of a pitch and the burst size: with bursts of a power
  // of two bytes (every preset's), the pitch's lowest set bit below it.
  std::uint64_t pitch_step(std::uint64_t pitch) const {
    const std::uint64_t within = pitch % burst_;
    if (within == 0) return burst_;
    return (burst_ & (burst_ - 1)) == 0 ? within & (~within + 1) : std::gcd(within, burst_);
  }

  // Whether every row lies within one source burst: the rows start at
  // offsets within a burst that differ by multiples of the pitch's common
  // divisor with the burst size, the last of them that divisor before the
  // burst's end.
  bool one_burst_rows(std::uint64_t row_bytes, std::uint64_t src, std::uint64_t src_pitch) const {
    const std::uint64_t step = pitch_step(src_pitch);
    return src % step + row_bytes <= step;
  }

  // Rows of one burst each, all alike but for the destination blocks they
  // span, summed as add()'s walk of a period and its rest sums them.
  void add_one_burst_rows(DmaStream& s, std::uint64_t rows, std::uint64_t row_bytes, std::uint64_t dst,
                          std::uint64_t dst_pitch, std::uint64_t repeats, std::uint64_t period) const {
    const double data_flits = std::ceil(double(row_bytes) / flit_);
    // pieces() summed over the rows: one each, and one more per block
    // boundary a row's bytes cross.
    const std::uint64_t at = dst % burst_, step = dst_pitch % burst_;
    const std::uint64_t crossings =
        floor_sum(rows, burst_, step, at + row_bytes - 1) - floor_sum(rows, burst_, step, at);
    s.bytes += rows * row_bytes;
    s.bursts += rows;
    s.flits += rows * (static_cast<std::uint64_t>(data_flits) + 1) + crossings;
    const double round_trip = trip(row_bytes, data_flits);
    s.round_trips += double(repeats) * add_repeatedly(0.0, round_trip, period);
    s.round_trips = add_repeatedly(s.round_trips, round_trip, rows - repeats * period);
  }

  // The first `period` rows walked from nothing. They depend on the
  // addresses' offsets within a burst only, and a layer's steps repeat a few
  // of them (the two buffers' destinations): the last few are kept. A period
  // of kLongPeriod rows or more is kept for the whole estimate: a command
  // with odd pitches (no multiple of a power of two: hundreds of rows to a
  // period) steps through thousands of destination offsets, and walking each
  // again for every candidate tiling took seconds (fuzz/slow/command_stream/
  // regression-odd-pitches.bin).
  const DmaStream& period_of_rows(std::uint64_t period, std::uint64_t row_bytes, std::uint64_t src,
                                  std::uint64_t src_pitch, std::uint64_t dst, std::uint64_t dst_pitch) const {
    const WalkKey key{period, row_bytes, src % burst_, src_pitch % burst_, dst % burst_, dst_pitch % burst_};
    for (const Walked& w : walked_)
      if (w.key == key) return w.once;
    const auto walk = [&] {
      DmaStream once;
      for (std::uint64_t r = 0; r < period; ++r) add_row(once, row_bytes, src + r * src_pitch, dst + r * dst_pitch);
      period_rows_walked_ += period;
      return once;
    };
    Walked& w = walked_[next_walked_++ % walked_.size()];
    w.key = key;
    if (period < kLongPeriod) {
      w.once = walk();
    } else {
      const auto [it, added] = long_walks_.try_emplace(key);
      if (added) it->second = walk();
      w.once = it->second;
    }
    return w.once;
  }

  // The channel reads in bursts cut at the source's burst boundaries, each
  // holding a slot of the window until its data is written, in as many
  // pieces (a NoC header each) as it spans destination-aligned blocks.
  // Between the row's first and last burst every burst is whole and starts
  // at the same destination offset within a block, so they are counted at
  // once (their round trips summed as a walk of them sums them).
  void add_row(DmaStream& s, std::uint64_t row_bytes, std::uint64_t src, std::uint64_t dst) const {
    const std::uint64_t head = std::min(burst_ - src % burst_, row_bytes);
    add_burst(s, head, dst);
    const std::uint64_t whole = (row_bytes - head) / burst_;
    if (whole > 0) {
      s.bytes += whole * burst_;
      s.bursts += whole;
      s.flits += whole * (static_cast<std::uint64_t>(whole_flits_) + pieces(burst_, dst + head));
      s.round_trips = add_repeatedly(s.round_trips, whole_trip_, whole);
    }
    const std::uint64_t off = head + whole * burst_;
    if (off < row_bytes) add_burst(s, row_bytes - off, dst + off);
  }

  void add_burst(DmaStream& s, std::uint64_t len, std::uint64_t dst) const {
    const double data_flits = std::ceil(double(len) / flit_);
    s.bytes += len;
    ++s.bursts;
    s.flits += static_cast<std::uint64_t>(data_flits) + pieces(len, dst);
    s.round_trips += trip(len, data_flits);
  }

  // The destination-aligned blocks `len` bytes at `dst` span, counted from
  // dst's offset within a block: a destination near the top of the address
  // space (a command's DRAM address the DMA will fault on) must not wrap.
  std::uint64_t pieces(std::uint64_t len, std::uint64_t dst) const { return (dst % burst_ + len - 1) / burst_ + 1; }
  double trip(std::uint64_t len, double data_flits) const {
    return latency_ + data_flits + double(len) / c_.dram_bytes_per_cycle;
  }

  const CostTable& c_;
  const std::uint64_t burst_;
  const double flit_;
  const double latency_;
  // A whole burst's data flits and round trip.
  const double whole_flits_ = std::ceil(double(burst_) / flit_);
  const double whole_trip_ = trip(burst_, whole_flits_);
  using WalkKey = std::array<std::uint64_t, 6>;
  struct Walked {
    WalkKey key{};  // period 0: none yet
    DmaStream once;
  };
  struct WalkKeyHash {
    std::size_t operator()(const WalkKey& k) const {
      std::uint64_t h = 0;
      for (const std::uint64_t v : k) h = (h ^ v) * 0x9e3779b97f4a7c15ULL;
      return static_cast<std::size_t>(h ^ (h >> 32));
    }
  };
  // Walks shorter than this cost less than a hash lookup. From 8 rows up a
  // lookup is the cheaper: MobileNet v1 at 1080x1920 spent 1.55 G
  // instructions in period_of_rows() with 64 here, 0.81 G with 8.
  static constexpr std::uint64_t kLongPeriod = 8;
  mutable std::array<Walked, 4> walked_{};
  mutable unsigned next_walked_ = 0;
  mutable std::unordered_map<WalkKey, DmaStream, WalkKeyHash> long_walks_;
  mutable std::uint64_t period_rows_walked_ = 0;
};

}  // namespace npuvp::firmware
