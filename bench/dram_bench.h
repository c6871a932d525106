#pragma once
// `npuvp dram-bench`: drives the DRAM subsystem alone with synthetic traffic
// and reports bandwidth, latency, row hits, energy, protocol violations and
// simulation speed, each figure next to its closed-form bound.

#include <string>

#include "models/dram/dram_config.h"
#include "models/dram/traffic.h"

namespace npuvp::bench {

// The highest bandwidth a pattern can reach on a configuration, from the
// JEDEC timings alone, and the constraint that sets it.
struct DramBound {
  double gbps = 0;
  std::string limit;  // "data bus", "tRC per bank", "tRRD", "tFAW", "command bus"
  double row_miss_fraction = 0;
  double banks_per_channel = 0;  // distinct banks a channel's share of the stream touches
  // --op mix: the read/write turnaround model behind the "data bus + R/W
  // turnaround" limit. Per batch of writes_per_batch writes (and the reads
  // between batches) the bus loses one RD->WR and one WR->RD distance beyond
  // tCCD. A batch is at most the writes of the longest run of one direction
  // that the controller's age limit (max_wait_ns) allows.
  double writes_per_batch = 0;
  unsigned turnaround_cycles = 0;  // (RD->WR - tCCD) + (WR->RD - tCCD), tCK
  double turnaround_gbps = 0;      // the bound from the data bus and the turnarounds alone
};

// `window_ns` is the time the bandwidth is measured over: all-bank refreshes
// take the share of it that falls due inside it (0: the long-run share).
DramBound dram_bound(const dram::DramConfig& config, const dram::TrafficOptions& traffic, double window_ns = 0);

// Parses argv (argv[0] is the subcommand name), runs, prints a summary on
// stdout and writes --json. Returns 0 on success; a bad option prints what
// was expected on stderr and returns 2.
int dram_bench_main(int argc, const char* const* argv);

}  // namespace npuvp::bench
