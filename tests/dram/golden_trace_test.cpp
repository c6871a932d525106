// Golden traces: the exact command stream and completion times of fixed
// workloads, pinned as hashes. Speed work on the controller must leave every
// one of them unchanged; a deliberate timing change updates the constants and
// says why in its commit.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/dram/dram_system.h"
#include "models/dram/protocol_checker.h"
#include "models/dram/traffic.h"
#include "tests/dram/dram_test_util.h"

namespace npuvp::dram {
namespace {

using testing::config_of;

// FNV-1a over the fields that define a trace.
class Fnv {
 public:
  template <typename T>
  void add(const T& value) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));
    for (unsigned char b : bytes) hash_ = (hash_ ^ b) * 0x100000001B3ull;
  }
  std::uint64_t value() const { return hash_; }

 private:
  std::uint64_t hash_ = 0xCBF29CE484222325ull;
};

// Each channel's command stream: the controller passes a channel's commands
// on in cycle order, but holds them back a while (backfill), so the order
// across channels is not the trace's.
class TraceHash final : public CommandObserver {
 public:
  void on_command(unsigned channel, const IssuedCommand& c) override {
    if (channel >= channels_.size()) channels_.resize(channel + 1);
    Fnv& hash = channels_[channel];
    hash.add(c.cycle);
    hash.add(std::uint8_t(c.command));
    hash.add(c.bank);
    hash.add(c.row);
    hash.add(c.auto_precharge_cycle);
    ++commands;
  }
  std::uint64_t value() const {
    Fnv all;
    for (const Fnv& h : channels_) all.add(h.value());
    return all.value();
  }
  std::uint64_t commands = 0;

 private:
  std::vector<Fnv> channels_;
};

struct Golden {
  std::uint64_t commands, end_cycle, trace_hash, latency_hash;
};

std::ostream& operator<<(std::ostream& os, const Golden& g) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "{%llu, %llu, 0x%016llXull, 0x%016llXull}", (unsigned long long)g.commands,
                (unsigned long long)g.end_cycle, (unsigned long long)g.trace_hash, (unsigned long long)g.latency_hash);
  return os << buf;
}

struct Scenario {
  const char* name;
  const char* memspec;
  unsigned channels;
  AddressMapping mapping;
  PagePolicy page_policy;
  bool per_bank_refresh;
  unsigned queue_depth;
  double max_wait_ns;
  TrafficOptions traffic;
  Golden golden;
};

void PrintTo(const Scenario& s, std::ostream* os) { *os << s.name; }

TrafficOptions traffic(Pattern pattern, Operation op, std::uint64_t requests, std::uint32_t size, unsigned outstanding,
                       std::uint64_t seed, std::uint64_t range = 0, double write_fraction = 0.5) {
  TrafficOptions t;
  t.pattern = pattern;
  t.operation = op;
  t.requests = requests;
  t.size_bytes = size;
  t.outstanding = outstanding;
  t.seed = seed;
  t.range_bytes = range;
  t.write_fraction = write_fraction;
  return t;
}

DramConfig config_for(const Scenario& s) {
  DramConfig c = config_of(s.memspec, s.channels);
  c.mapping = s.mapping;
  c.page_policy = s.page_policy;
  c.per_bank_refresh = s.per_bank_refresh;
  c.queue_depth = s.queue_depth;
  c.max_wait_ns = s.max_wait_ns;
  return c;
}

constexpr const char* k3200 = "configs/dram/lpddr4-3200.yaml";
constexpr const char* k4266 = "configs/dram/lpddr4x-4266.yaml";
constexpr auto kRbc = AddressMapping::kRowBankColumn;
constexpr auto kBrc = AddressMapping::kBankRowColumn;
constexpr auto kOpen = PagePolicy::kOpen;
constexpr auto kClosed = PagePolicy::kClosed;

const Scenario kScenarios[] = {
    // The benchmark's default configuration under a 50/50 random mix.
    {"random_mix_4266_x4",
     k4266,
     4,
     kRbc,
     kOpen,
     false,
     16,
     2000.0,
     traffic(Pattern::kRandom, Operation::kMix, 30000, 64, 64, 1),
     {120177, 243685, 0x1086D65FAC029BC9ull, 0xEF90A306EA8510A1ull}},
    {"random_read_3200_brc_closed",
     k3200,
     2,
     kBrc,
     kClosed,
     false,
     16,
     2000.0,
     traffic(Pattern::kRandom, Operation::kRead, 20000, 128, 32, 7),
     {100779, 360965, 0x78933320AE69100Dull, 0xD8B0BCA4E83D65D0ull}},
    {"stride_write_per_bank_refresh",
     k4266,
     4,
     kRbc,
     kOpen,
     true,
     16,
     2000.0,
     traffic(Pattern::kStride, Operation::kWrite, 20000, 64, 64, 3),
     {51706, 321447, 0xADD8DC2B391DA44Bull, 0x534095FB3DA0C252ull}},
    // Shallow queues (waiting lists) and a short starvation limit.
    {"seq_mix_shallow_starving",
     k3200,
     2,
     kRbc,
     kOpen,
     false,
     4,
     300.0,
     traffic(Pattern::kSequential, Operation::kMix, 20000, 256, 48, 5),
     {166149, 767833, 0xAE610F4C3A316987ull, 0x567A296C22D353E5ull}},
    // One channel, a few rows: hits, conflicts and turnarounds interleave.
    {"random_mix_small_range",
     k3200,
     1,
     kRbc,
     kOpen,
     false,
     16,
     500.0,
     traffic(Pattern::kRandom, Operation::kMix, 30000, 32, 40, 11, 64 << 10, 0.3),
     {55646, 415635, 0x83900B02047F0B73ull, 0x258381C3ABBB0465ull}},
    {"random_mix_closed_page",
     k4266,
     2,
     kRbc,
     kClosed,
     false,
     8,
     1000.0,
     traffic(Pattern::kRandom, Operation::kMix, 20000, 64, 64, 13, 1 << 20),
     {58774, 275132, 0x5661611A59241D30ull, 0xC6457565F4726CE9ull}},
};

class GoldenTrace : public ::testing::TestWithParam<Scenario> {};

TEST_P(GoldenTrace, CommandsAndCompletionsAreUnchanged) {
  const Scenario& s = GetParam();
  const DramConfig config = config_for(s);
  DramSystem dram(config);
  TraceHash trace;
  ProtocolChecker checker(config.memspec, config.channels);
  dram.add_observer(trace);
  dram.add_observer(checker);
  const std::uint64_t end = run_closed_loop(dram, s.traffic);
  Fnv latency;
  for (float v : dram.stats().read_latency_ns) latency.add(v);
  for (float v : dram.stats().write_latency_ns) latency.add(v);
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
  const Golden got{trace.commands, end, trace.value(), latency.value()};
  EXPECT_TRUE(got.commands == s.golden.commands && got.end_cycle == s.golden.end_cycle &&
              got.trace_hash == s.golden.trace_hash && got.latency_hash == s.golden.latency_hash)
      << "expected " << s.golden << "\n     got " << got;
}

INSTANTIATE_TEST_SUITE_P(Workloads, GoldenTrace, ::testing::ValuesIn(kScenarios),
                         [](const ::testing::TestParamInfo<Scenario>& info) { return std::string(info.param.name); });

// Write batching only reorders writes: a read-only workload gives the same
// trace with it as without.
TEST(GoldenTrace, WriteBatchingLeavesReadOnlyTrafficUnchanged) {
  const Scenario& s = kScenarios[1];
  ASSERT_EQ(s.traffic.operation, Operation::kRead);
  DramConfig config = config_for(s);
  config.write_high_watermark = 32;
  config.write_low_watermark = 8;
  DramSystem dram(config);
  TraceHash trace;
  dram.add_observer(trace);
  EXPECT_EQ(run_closed_loop(dram, s.traffic), s.golden.end_cycle);
  EXPECT_EQ(trace.value(), s.golden.trace_hash);
}

// The TLM wrapper's way of driving the core: one complete() per request, in
// call order, with arrivals that are not monotonic (several initiators).
TEST(GoldenTrace, OpenLoopCompleteCallsAreUnchanged) {
  DramConfig config = config_of(k3200, 2);
  DramSystem dram(config);
  TraceHash trace;
  ProtocolChecker checker(config.memspec, config.channels);
  dram.add_observer(trace);
  dram.add_observer(checker);
  std::uint64_t state = 42;
  auto rnd = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  Fnv done;
  std::uint64_t time = 0;
  for (int i = 0; i < 5000; ++i) {
    time += rnd() % 40;
    const std::uint64_t arrival = time > 100 && rnd() % 4 == 0 ? time - rnd() % 100 : time;
    const std::uint64_t size = 32 * (1 + rnd() % 64);
    const std::uint64_t address = (rnd() % ((8u << 20) / 32)) * 32;
    const std::uint64_t d = dram.complete(dram.submit(rnd() % 3 == 0, address, size, arrival));
    done.add(d);
  }
  dram.flush_observers();
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
  EXPECT_EQ(trace.commands, 183512u);
  EXPECT_EQ(trace.value(), 0xBD2B479315F4B41Aull);
  EXPECT_EQ(done.value(), 0xFEF75BA0792D0C2Eull);
}

}  // namespace
}  // namespace npuvp::dram
