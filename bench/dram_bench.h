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
  std::string limit;   // "data bus", "tRC per bank", "tRRD", "tFAW", "command bus"
  double row_miss_fraction = 0;
  double banks_per_channel = 0;  // distinct banks a channel's share of the stream touches
};

DramBound dram_bound(const dram::DramConfig& config, const dram::TrafficOptions& traffic);

// Parses argv (argv[0] is the subcommand name), runs, prints a summary on
// stdout and writes --json. Returns 0 on success; a bad option prints what
// was expected on stderr and returns 2.
int dram_bench_main(int argc, const char* const* argv);

}  // namespace npuvp::bench
