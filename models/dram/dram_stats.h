#pragma once
// Cumulative statistics of the DRAM subsystem. Counters only grow; latency
// samples are kept whole so percentiles are exact.

#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/dram/energy.h"

namespace npuvp::dram {

struct BankStats {
  std::uint64_t activates = 0;
  std::uint64_t precharges = 0;   // explicit, all-bank and auto-precharges that closed this bank
  std::uint64_t reads = 0;        // bursts
  std::uint64_t writes = 0;       // bursts
  std::uint64_t refreshes = 0;    // REFpb to this bank
  std::uint64_t open_cycles = 0;  // cycles with a row open, counted when the row closes
};

struct ChannelStats {
  std::vector<BankStats> banks;
  std::uint64_t act = 0, pre = 0, pre_all = 0, rd = 0, wr = 0, rda = 0, wra = 0;
  std::uint64_t ref_all = 0, ref_bank = 0;
  // Precharges issued because a queued burst needed another row of the bank.
  std::uint64_t row_conflicts = 0;
  // Column commands whose direction differs from the one before on the
  // channel: each pays RD->WR or WR->RD instead of tCCD on the data bus.
  std::uint64_t turnarounds = 0;
  // The longest a burst waited in the scheduler's queue, entry to its column
  // command, in tCK: what max_wait_ns bounds.
  std::uint64_t max_queued_cycles = 0;
  // Command and I/O energy; background energy depends on the query time and
  // is added by the system.
  EnergyBreakdown command_energy;

  std::uint64_t column_accesses() const { return rd + wr + rda + wra; }
  std::uint64_t refreshes() const { return ref_all + ref_bank; }
};

struct LatencySummary {
  std::uint64_t count = 0;
  double mean = 0, p50 = 0, p99 = 0, max = 0;  // ns

  static LatencySummary of(const std::vector<float>& samples_ns);
  nlohmann::json to_json() const;
};

struct DramStats {
  std::uint64_t read_requests = 0, write_requests = 0;
  std::uint64_t read_bytes = 0, write_bytes = 0;
  std::vector<float> read_latency_ns;  // arrival to last data beat, per request
  std::vector<float> write_latency_ns;
  double first_arrival_ns = -1;  // -1 until the first request
  double last_completion_ns = 0;
  std::vector<ChannelStats> channels;

  std::uint64_t activates() const;
  std::uint64_t column_accesses() const;
  std::uint64_t refreshes() const;
  // Share of column accesses that found their row already open.
  double row_hit_rate() const;
};

}  // namespace npuvp::dram
