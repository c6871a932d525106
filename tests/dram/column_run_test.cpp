// DramSystem::complete lets a request alone in flight issue its bursts in
// runs (ChannelController::step), and then brings the other channels to where
// the step-by-step loop would have left them. A second system keeps one more
// request in flight, arriving far beyond the test, which turns the runs off
// without changing any command before it: the two must agree after every
// complete() and issue the same commands. Without an observer of plain column
// commands, a run issues its front hits together
// (ChannelController::issue_front_hits): the cases without one compare the
// row commands and the statistics.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "models/dram/dram_system.h"
#include "tests/dram/dram_test_util.h"

namespace npuvp::dram {
namespace {

struct Recorder final : CommandObserver {
  Recorder(unsigned channels, bool columns) : seen(channels), columns(columns) {}
  bool wants_plain_columns() const override { return columns; }
  void on_command(unsigned channel, const IssuedCommand& c) override { seen[channel].push_back(c); }
  std::vector<std::vector<IssuedCommand>> seen;
  bool columns;
};

bool same(const IssuedCommand& a, const IssuedCommand& b) {
  return a.cycle == b.cycle && a.command == b.command && a.bank == b.bank && a.row == b.row &&
         a.auto_precharge_cycle == b.auto_precharge_cycle;
}

struct Case {
  const char* name;
  PagePolicy policy;
  bool per_bank_refresh;
  unsigned queue_depth;
  double max_wait_ns;
  bool observe_columns;
};

class ColumnRuns : public ::testing::TestWithParam<Case> {};

TEST_P(ColumnRuns, LeaveEveryChannelWhereTheStepByStepLoopDoes) {
  const Case& p = GetParam();
  DramConfig config = testing::config_of("configs/dram/lpddr4x-4266.yaml", 4);
  config.page_policy = p.policy;
  config.per_bank_refresh = p.per_bank_refresh;
  config.queue_depth = p.queue_depth;
  config.max_wait_ns = p.max_wait_ns;
  DramSystem runs(config), steps(config);
  Recorder seen_runs(config.channels, p.observe_columns), seen_steps(config.channels, p.observe_columns);
  runs.add_observer(seen_runs);
  steps.add_observer(seen_steps);
  steps.submit(false, 0, 64, std::uint64_t(1) << 40);

  std::mt19937_64 rng(14);
  const std::uint64_t sizes[] = {32, 64, 256, 1000, 2048, 4096, 6000};
  std::uint64_t address = 0, arrival = 0, done = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::uint64_t bytes = sizes[rng() % 7];
    // Streams (row hits across requests) and jumps (misses, other banks).
    address = rng() % 4 == 0 ? (rng() % (config.capacity_bytes() / 2)) & ~std::uint64_t(31) : address + bytes;
    const bool write = rng() % 3 == 0;
    // Mostly after the last completion, sometimes before the controller's
    // cycle (late: backfill), sometimes after a refresh's worth of idling.
    const unsigned mode = unsigned(rng() % 8);
    arrival = mode == 0   ? done - std::min<std::uint64_t>(done, rng() % 300)
              : mode == 1 ? done + 8000 + rng() % 20000
                          : std::max(arrival, done - std::min<std::uint64_t>(done, rng() % 60));
    const std::uint32_t a = runs.submit(write, address, bytes, arrival);
    const std::uint32_t b = steps.submit(write, address, bytes, arrival);
    done = runs.complete(a);
    ASSERT_EQ(done, steps.complete(b)) << "request " << i;
    ASSERT_EQ(runs.now(), steps.now()) << "request " << i;
    ASSERT_EQ(runs.energy_until(runs.now()).total_pj(), steps.energy_until(runs.now()).total_pj()) << "request " << i;
    for (unsigned c = 0; c < config.channels; ++c) {
      const ChannelStats& x = runs.stats().channels[c];
      const ChannelStats& y = steps.stats().channels[c];
      ASSERT_EQ(x.rd + x.wr + x.rda + x.wra, y.rd + y.wr + y.rda + y.wra) << "request " << i << " channel " << c;
      ASSERT_EQ(x.act + x.ref_all + x.ref_bank, y.act + y.ref_all + y.ref_bank) << "request " << i << " channel " << c;
      // The longest wait counts from a waiting burst's entry into the queue.
      ASSERT_EQ(x.max_queued_cycles, y.max_queued_cycles) << "request " << i << " channel " << c;
    }
  }
  runs.flush_observers();
  steps.flush_observers();
  std::size_t columns = 0;
  for (unsigned c = 0; c < config.channels; ++c) {
    ASSERT_EQ(seen_runs.seen[c].size(), seen_steps.seen[c].size()) << "channel " << c;
    for (std::size_t k = 0; k < seen_runs.seen[c].size(); ++k)
      ASSERT_TRUE(same(seen_runs.seen[c][k], seen_steps.seen[c][k])) << "channel " << c << " command " << k;
    columns += seen_runs.seen[c].size();
  }
  EXPECT_GT(columns, p.observe_columns ? 100000u : 1000u);
  const std::uint64_t end = runs.now();
  EXPECT_EQ(runs.stats_json(end).dump(), steps.stats_json(end).dump());
}

INSTANTIATE_TEST_SUITE_P(
    Controller, ColumnRuns,
    ::testing::Values(Case{"OpenPageAllBankRefresh", PagePolicy::kOpen, false, 16, 2000.0, true},
                      Case{"ClosedPagePerBankRefresh", PagePolicy::kClosed, true, 16, 2000.0, true},
                      Case{"ShallowQueuesShortMaxWait", PagePolicy::kOpen, false, 4, 60.0, true},
                      Case{"RowCommandsOnly", PagePolicy::kOpen, false, 16, 2000.0, false},
                      Case{"RowCommandsOnlyPerBankRefresh", PagePolicy::kOpen, true, 16, 2000.0, false},
                      Case{"RowCommandsOnlyShallowQueues", PagePolicy::kOpen, false, 4, 60.0, false},
                      Case{"RowCommandsOnlyOneEntryQueues", PagePolicy::kOpen, false, 1, 30.0, false}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace npuvp::dram
