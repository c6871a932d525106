#pragma once
// Synthetic closed-loop traffic for the DRAM subsystem: a fixed number of
// requests in flight, each completion issuing the next request at its
// completion time. Used by `npuvp dram-bench` and by the tests, so the tests
// check exactly the patterns the benchmark reports on.

#include <cstdint>

#include "models/dram/dram_system.h"

namespace npuvp::dram {

enum class Pattern { kSequential, kRandom, kStride };
enum class Operation { kRead, kWrite, kMix };

const char* to_string(Pattern pattern);
const char* to_string(Operation operation);

struct TrafficOptions {
  Pattern pattern = Pattern::kSequential;
  Operation operation = Operation::kRead;
  std::uint64_t stride_bytes = 0;  // kStride: distance between requests; 0 means one page
  std::uint64_t requests = 100000;
  std::uint32_t size_bytes = 64;
  unsigned outstanding = 16;
  std::uint64_t seed = 1;
  std::uint64_t range_bytes = 0;  // addresses in [0, range); 0 means the whole device
  double write_fraction = 0.5;    // kMix
};

// The address of the i-th request of a pattern (kRandom draws from `rng`).
class AddressStream {
 public:
  AddressStream(const TrafficOptions& options, std::uint64_t range_bytes, std::uint64_t page_bytes);
  std::uint64_t next();
  bool next_is_write();

 private:
  std::uint64_t random();

  TrafficOptions options_;
  std::uint64_t range_, stride_, index_ = 0, state_;
  std::uint64_t slots_;  // range_ / size: request-aligned places for kRandom
};

// Runs the traffic on `system` (which must not be queueing completions) until
// every request has completed; returns the cycle of the last data beat.
std::uint64_t run_closed_loop(DramSystem& system, const TrafficOptions& options);

}  // namespace npuvp::dram
