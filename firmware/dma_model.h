#pragma once
// The firmware's model of a DMA chain's time (its latency estimate,
// docs/firmware.md): the chain cut into bursts as the DMA cuts them, the
// DRAM's rate, the DMA's NoC port and its window of bursts in flight.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "firmware/hal.h"

namespace npuvp::firmware {

// What one DMA chain moves, cut into bursts as the channel cuts them
// (models/dma): at every multiple of the burst size on either side.
struct DmaStream {
  std::uint64_t bytes = 0, bursts = 0, flits = 0, descriptors = 0;
  double round_trips = 0;  // Σ over bursts: latency, data flits and DRAM data time
};

class DmaModel {
 public:
  DmaModel(const NpuLayout& npu, bool store)
      : c_(npu.costs),
        burst_(std::max<std::uint64_t>(1, static_cast<std::uint64_t>(npu.costs.dma_burst_bytes))),
        flit_(std::max(1.0, npu.costs.link_bytes_per_cycle)),
        latency_(store ? npu.costs.dma_store_latency_cycles : npu.costs.dma_load_latency_cycles) {}

  // One descriptor: `rows` rows of `row_bytes`, each `src_pitch` and
  // `dst_pitch` after the previous one. The cut pattern repeats after at
  // most a burst's worth of rows, so only that many are walked.
  void add(DmaStream& s, std::uint64_t rows, std::uint64_t row_bytes, std::uint64_t src, std::uint64_t src_pitch,
           std::uint64_t dst, std::uint64_t dst_pitch) const {
    if (rows == 0 || row_bytes == 0) return;
    ++s.descriptors;
    const std::uint64_t period = std::min(
        rows, period_of(src_pitch) / std::gcd(period_of(src_pitch), period_of(dst_pitch)) * period_of(dst_pitch));
    DmaStream once;
    for (std::uint64_t r = 0; r < period; ++r) add_row(once, row_bytes, src + r * src_pitch, dst + r * dst_pitch);
    const std::uint64_t repeats = rows / period, rest = rows % period;
    s.bytes += repeats * once.bytes;
    s.bursts += repeats * once.bursts;
    s.flits += repeats * once.flits;
    s.round_trips += double(repeats) * once.round_trips;
    for (std::uint64_t r = 0; r < rest; ++r) add_row(s, row_bytes, src + r * src_pitch, dst + r * dst_pitch);
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
    const double alone_load = cycles(load, load_queued), alone_store = cycles(store);
    if (load.bursts == 0 || store.bursts == 0) return std::max(alone_load, alone_store);
    // The DRAM turns its bus around between the two streams' bursts.
    const double mixed = 1 + c_.dram_turnaround_per_write * double(store.bytes) / double(load.bytes + store.bytes);
    const double paired_load = cycles(load, mixed * window_data(store) + load_queued),
                 paired_store = cycles(store, mixed * window_data(load));
    const double both = paired_load <= paired_store ? paired_load + (1 - paired_load / paired_store) * alone_store
                                                    : paired_store + (1 - paired_store / paired_load) * alone_load;
    return std::max(both, mixed * double(load.bytes + store.bytes) / c_.dram_bytes_per_cycle);
  }

 private:
  // The DRAM time of a window of the chain's bursts in flight.
  double window_data(const DmaStream& s, double less = 0) const {
    return std::max(0.0, std::min(double(s.bursts), c_.dma_outstanding) - less) * double(s.bytes) / double(s.bursts) /
           c_.dram_bytes_per_cycle;
  }

  std::uint64_t period_of(std::uint64_t pitch) const { return burst_ / std::gcd(pitch % burst_, burst_); }

  // The channel reads in bursts cut at the source's burst boundaries, each
  // holding a slot of the window until its data is written, in as many
  // pieces (a NoC header each) as it spans destination-aligned blocks.
  void add_row(DmaStream& s, std::uint64_t row_bytes, std::uint64_t src, std::uint64_t dst) const {
    std::uint64_t off = 0;
    while (off < row_bytes) {
      const std::uint64_t len = std::min(burst_ - (src + off) % burst_, row_bytes - off);
      const std::uint64_t pieces = (dst + off + len - 1) / burst_ - (dst + off) / burst_ + 1;
      const double data_flits = std::ceil(double(len) / flit_);
      s.bytes += len;
      ++s.bursts;
      s.flits += static_cast<std::uint64_t>(data_flits) + pieces;
      s.round_trips += latency_ + data_flits + double(len) / c_.dram_bytes_per_cycle;
      off += len;
    }
  }

  const CostTable& c_;
  const std::uint64_t burst_;
  const double flit_;
  const double latency_;
};

}  // namespace npuvp::firmware
