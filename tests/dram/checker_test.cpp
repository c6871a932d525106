// The protocol checker: silent on everything the controller issues for every
// benchmark pattern, loud on deliberately illegal command sequences.
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "models/dram/dram_system.h"
#include "models/dram/protocol_checker.h"
#include "models/dram/traffic.h"
#include "tests/dram/dram_test_util.h"

namespace npuvp::dram {
namespace {

using testing::config_of;

IssuedCommand cmd(std::uint64_t cycle, Command c, unsigned bank = 0, std::uint32_t row = 0) {
  return {cycle, c, static_cast<std::uint8_t>(bank), row, 0};
}

bool flagged(const ProtocolChecker& checker, const std::string& rule) {
  for (const Violation& v : checker.violations())
    if (v.rule == rule) return true;
  return false;
}

class CheckerRules : public ::testing::Test {
 protected:
  Memspec s = config_of().memspec;
  ProtocolChecker checker{s, 1};
};

TEST_F(CheckerRules, LegalSequenceIsClean) {
  // tRCD and tRAS count from ACT-2 (2 tCK after ACT-1), tRP to the next
  // ACT-2.
  checker.on_command(0, cmd(100, Command::kAct, 0, 5));
  checker.on_command(0, cmd(100 + 2 + s.trcd, Command::kRd, 0));
  checker.on_command(0, cmd(100 + 2 + s.tras, Command::kPre, 0));
  checker.on_command(0, cmd(100 + 2 + s.tras + s.trppb - 2, Command::kAct, 0, 6));
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
}

TEST_F(CheckerRules, FlagsEachBrokenTiming) {
  ASSERT_TRUE(s.trcd == 29 && s.trrd == 16 && s.tras == 68 && s.trtp == 12);
  checker.on_command(0, cmd(100, Command::kAct, 0, 5));  // ACT-2 at 102
  checker.on_command(0, cmd(130, Command::kRd, 0));      // tRCD needs 131; CAS-2 ends at 133
  EXPECT_TRUE(flagged(checker, "tRCD (ACT-2 to RD-1/WR-1)")) << checker.summary();
  checker.on_command(0, cmd(134, Command::kAct, 1, 5));  // tRRD is fine here
  checker.on_command(0, cmd(140, Command::kAct, 2, 5));  // 6 cycles after the last ACT-1
  EXPECT_TRUE(flagged(checker, "tRRD (ACT-1 to ACT-1)")) << checker.summary();
  checker.on_command(0, cmd(144, Command::kPre, 0));  // tRAS needs 170, tRTP 133 + 12 = 145
  EXPECT_TRUE(flagged(checker, "tRAS (ACT-2 to PRE)")) << checker.summary();
  EXPECT_TRUE(flagged(checker, "tRTP (CAS-2 to PRE)")) << checker.summary();
  EXPECT_EQ(checker.violation_count(), 4u) << checker.summary();
}

// Each rule at its exact minimum is clean and one tCK earlier is flagged,
// alone: the edges it counts from are those of JESD209-4 (docs/dram.md).
struct EdgeCase {
  const char* rule;
  // The commands; the last one is the one placed at the rule's minimum.
  std::vector<IssuedCommand> sequence;
};

TEST_F(CheckerRules, CountsEachConstraintFromTheEdgeTheStandardNames) {
  ASSERT_TRUE(s.trcd == 29 && s.trppb == 29 && s.rl == 28 && s.wl == 14 && s.tdqsck == 6 && s.twtr == 16 &&
              s.twr == 29 && s.twpre == 2 && s.trpst == 0 && s.trfcab == 448 && s.tras == 68);
  const EdgeCase cases[] = {
      // ACT-2 at 102, + tRCD.
      {"tRCD (ACT-2 to RD-1/WR-1)", {cmd(100, Command::kAct, 0, 1), cmd(131, Command::kRd, 0)}},
      // PRE at 200, + tRPpb = 229 for ACT-2, so ACT-1 at 227.
      {"tRP (PRE to ACT-2)",
       {cmd(100, Command::kAct, 0, 1), cmd(200, Command::kPre, 0), cmd(227, Command::kAct, 0, 2)}},
      // ACT-2 at 102, + tRAS.
      {"tRAS (ACT-2 to PRE)", {cmd(100, Command::kAct, 0, 1), cmd(170, Command::kPre, 0)}},
      // WR-1 at 131, CAS-2 ends at 134, data end 134 + WL 14 + 1 + 8 = 157,
      // + tWTR = 173.
      {"tWTR (write data to RD-1)",
       {cmd(100, Command::kAct, 0, 1), cmd(131, Command::kWr, 0), cmd(173, Command::kRd, 0)}},
      // Data end 157 + tWR = 186.
      {"tWR (write data to PRE)",
       {cmd(100, Command::kAct, 0, 1), cmd(131, Command::kWr, 0), cmd(186, Command::kPre, 0)}},
      // RD-1 at 131, CAS-2 to CAS-2 28 + 6 + 8 - 14 + 2 = 30: WR-1 at 161.
      {"RD to WR turnaround (CAS-2 to CAS-2)",
       {cmd(100, Command::kAct, 0, 1), cmd(131, Command::kRd, 0), cmd(161, Command::kWr, 0)}},
      // REFab at 100, + tRFCab to ACT-2: ACT-1 at 546.
      {"tRFCab (REFab to ACT-2)", {cmd(100, Command::kRefAll), cmd(546, Command::kAct, 0, 1)}},
      // An ACT holds the CA bus for 4 tCK (the PRE to an idle bank is legal).
      {"command bus busy", {cmd(100, Command::kAct, 0, 1), cmd(104, Command::kPre, 1)}},
  };
  for (const EdgeCase& e : cases) {
    for (int early = 0; early < 2; ++early) {
      ProtocolChecker c(s, 1);
      std::vector<IssuedCommand> seq = e.sequence;
      seq.back().cycle -= std::uint64_t(early);
      for (const IssuedCommand& x : seq) c.on_command(0, x);
      if (early)
        EXPECT_TRUE(flagged(c, e.rule) && c.violation_count() == 1) << e.rule << ": " << c.summary();
      else
        EXPECT_EQ(c.violation_count(), 0u) << e.rule << ": " << c.summary();
    }
  }
}

TEST_F(CheckerRules, FlagsBankStateErrors) {
  checker.on_command(0, cmd(100, Command::kAct, 3, 1));
  checker.on_command(0, cmd(200, Command::kAct, 3, 2));
  EXPECT_TRUE(flagged(checker, "ACT to an open bank"));
  checker.on_command(0, cmd(300, Command::kWr, 4));
  EXPECT_TRUE(flagged(checker, "WR to a closed bank"));
  checker.on_command(0, cmd(400, Command::kRefAll));
  EXPECT_TRUE(flagged(checker, "REFab with a bank open"));
  checker.on_command(0, cmd(399, Command::kNop));
  EXPECT_TRUE(flagged(checker, "commands out of time order"));
}

TEST_F(CheckerRules, FlagsTheFifthActivateInsideTfaw) {
  // LPDDR4 has tFAW = 4·tRRD, which tRRD alone already enforces; widen tFAW
  // to see the window rule on its own.
  Memspec wide = s;
  wide.tfaw = 4 * s.trrd + 16;
  ProtocolChecker faw(wide, 1);
  std::uint64_t t = 1000;
  for (unsigned b = 0; b < 5; ++b, t += s.trrd) faw.on_command(0, cmd(t, Command::kAct, b, 1));
  EXPECT_TRUE(flagged(faw, "tFAW")) << faw.summary();
  EXPECT_EQ(faw.violation_count(), 1u) << faw.summary();
}

TEST_F(CheckerRules, FlagsTurnaroundsAndRefreshTimings) {
  checker.on_command(0, cmd(100, Command::kAct, 0, 1));
  checker.on_command(0, cmd(100 + 2 + s.trcd, Command::kWr, 0));
  checker.on_command(0, cmd(100 + 2 + s.trcd + s.tccd, Command::kRd, 0));  // needs 3+WL+1+BL/2+tWTR
  EXPECT_TRUE(flagged(checker, "tWTR (write data to RD-1)")) << checker.summary();
  checker.on_command(0, cmd(100 + 2 + s.trcd + 2 * s.tccd, Command::kWr, 0));  // needs RL+tDQSCK+BL/2−WL+2
  EXPECT_TRUE(flagged(checker, "RD to WR turnaround (CAS-2 to CAS-2)")) << checker.summary();
  checker.on_command(0, cmd(100 + 2 + s.trcd + 2 * s.tccd + 2, Command::kRd, 0));  // CA bus still busy
  EXPECT_TRUE(flagged(checker, "command bus busy")) << checker.summary();
  checker.on_command(0, cmd(5000, Command::kPreAll));
  checker.on_command(0, cmd(5000 + s.trpab - 1, Command::kRefAll));
  EXPECT_TRUE(flagged(checker, "tRP (PRE to REF)")) << checker.summary();
  checker.on_command(0, cmd(5000 + s.trpab + 10, Command::kAct, 1, 1));
  EXPECT_TRUE(flagged(checker, "tRFCab (REFab to ACT-2)")) << checker.summary();
}

TEST_F(CheckerRules, FlagsMissingRefresh) {
  checker.check_refresh_until(std::uint64_t(s.trefi) * 20);
  EXPECT_TRUE(flagged(checker, "refresh postponed more than 8 tREFI"));
}

TEST_F(CheckerRules, AutoPrechargeHonoursTrasAndTrp) {
  checker.on_command(0, cmd(100, Command::kAct, 0, 1));
  checker.on_command(0, cmd(100 + 2 + s.trcd, Command::kRda, 0));
  // The internal precharge waits for tRAS (from ACT-2); an ACT right after
  // tRCD+tRTP+tRP is too early.
  checker.on_command(0, cmd(100 + s.trcd + s.trtp + s.trppb, Command::kAct, 0, 2));
  EXPECT_TRUE(flagged(checker, "tRP (PRE to ACT-2)")) << checker.summary();
  ProtocolChecker exact(s, 1);
  exact.on_command(0, cmd(100, Command::kAct, 0, 1));
  exact.on_command(0, cmd(100 + 2 + s.trcd, Command::kRda, 0));
  exact.on_command(0, cmd(100 + 2 + s.tras + s.trppb - 2, Command::kAct, 0, 2));
  EXPECT_EQ(exact.violation_count(), 0u) << exact.summary();
}

// Every pattern of the benchmark, on both parts, both mappings, both page
// policies and both refresh modes: the controller never breaks a rule.
using PatternCase = std::tuple<const char*, Pattern, Operation, AddressMapping, PagePolicy, bool>;
class CheckerOnBenchPatterns : public ::testing::TestWithParam<PatternCase> {};

TEST_P(CheckerOnBenchPatterns, FindsNoViolation) {
  const auto& [memspec, pattern, operation, mapping, policy, per_bank] = GetParam();
  DramConfig config = config_of(memspec, 2);
  config.mapping = mapping;
  config.page_policy = policy;
  config.per_bank_refresh = per_bank;
  DramSystem dram(config);
  ProtocolChecker checker(config.memspec, config.channels);
  dram.add_observer(checker);
  TrafficOptions t;
  t.pattern = pattern;
  t.operation = operation;
  t.requests = 20000;
  t.outstanding = 32;
  t.size_bytes = pattern == Pattern::kStride ? 64 : 128;
  const std::uint64_t end = run_closed_loop(dram, t);
  checker.check_refresh_until(end);
  EXPECT_GT(checker.commands_checked(), 20000u);
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
  EXPECT_EQ(dram.stats().read_requests + dram.stats().write_requests, t.requests);
  EXPECT_GT(dram.stats().refreshes(), 0u);
}

std::string case_name(const ::testing::TestParamInfo<PatternCase>& info) {
  const auto& [memspec, pattern, operation, mapping, policy, per_bank] = info.param;
  return std::string(std::string(memspec).find("4266") != std::string::npos ? "lpddr4x_4266" : "lpddr4_3200") + "_" +
         to_string(pattern) + "_" + to_string(operation) + "_" + to_string(mapping) + "_" + to_string(policy) +
         (per_bank ? "_refpb" : "_refab");
}

INSTANTIATE_TEST_SUITE_P(
    All, CheckerOnBenchPatterns,
    ::testing::Combine(::testing::Values("configs/dram/lpddr4-3200.yaml", "configs/dram/lpddr4x-4266.yaml"),
                       ::testing::Values(Pattern::kSequential, Pattern::kRandom, Pattern::kStride),
                       ::testing::Values(Operation::kRead, Operation::kWrite, Operation::kMix),
                       ::testing::Values(AddressMapping::kRowBankColumn, AddressMapping::kBankRowColumn),
                       ::testing::Values(PagePolicy::kOpen, PagePolicy::kClosed), ::testing::Bool()),
    case_name);

}  // namespace
}  // namespace npuvp::dram
