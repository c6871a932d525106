// Deep queues: with more requests in flight than max_wait_ns of service
// covers, queueing alone can make bursts starve. Serving the starving burst
// first must not stop the other banks, or the channel serves one bank at a
// time and never catches up.
#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "bench/dram_bench.h"
#include "models/dram/dram_system.h"
#include "models/dram/protocol_checker.h"
#include "models/dram/traffic.h"
#include "tests/dram/dram_test_util.h"

namespace npuvp::dram {
namespace {

TEST(DeepQueues, RandomReadsAt256OutstandingKeepTheBanksBusyAndServeEveryBurst) {
  // The benchmark's default configuration (max_wait_ns 2000).
  const DramConfig config = testing::config_of("configs/dram/lpddr4x-4266.yaml", 4);
  const Memspec& s = config.memspec;
  DramSystem dram(config);
  ProtocolChecker checker(s, config.channels);
  dram.add_observer(checker);
  TrafficOptions t;
  t.pattern = Pattern::kRandom;
  t.requests = 100000;
  t.outstanding = 256;
  const std::uint64_t end = run_closed_loop(dram, t);
  checker.check_refresh_until(end);
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();

  // Stopping the other banks while a burst starves gives under 20 % of the
  // bound; FR-FCFS around the starving burst about 90 %.
  const double gbps = double(dram.stats().read_bytes) / dram.ns_of(end);
  const double bound = bench::dram_bound(config, t).gbps;
  EXPECT_GE(gbps, 0.8 * bound) << gbps << " GB/s against a bound of " << bound << " GB/s";

  // A burst that has waited max_wait_ns in its bank's queue goes as soon as
  // the bursts ahead of it in the queue have: at most a queue of them, each a
  // row miss that its bank turns around in one row cycle (tRC, ACT to ACT),
  // since the other banks may not delay a starving bank's commands. Add one
  // all-bank refresh that may fall in between and the burst's own row miss
  // (tRPpb, then tRCD from ACT-2 to its RD). Serving one bank at a time
  // exceeds this about fourfold. The age counts from the queue, not from the
  // arrival: a burst waiting for a queue entry is not yet the controller's.
  const std::uint64_t limit = std::uint64_t(std::ceil(config.max_wait_ns / s.tck_ns)) +
                              config.queue_depth * std::uint64_t(s.trc) + s.trfcab + s.trppb + s.act2_edge() + s.trcd;
  std::uint64_t longest = 0;
  for (const ChannelStats& c : dram.stats().channels) longest = std::max(longest, c.max_queued_cycles);
  EXPECT_LT(longest, limit);
  // Far more bursts are in flight than the queues hold, so some did wait for
  // an entry before they aged.
  const auto& latency = dram.stats().read_latency_ns;
  EXPECT_GT(*std::max_element(latency.begin(), latency.end()), dram.ns_of(limit));
}

}  // namespace
}  // namespace npuvp::dram
