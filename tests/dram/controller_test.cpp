// The controller core without the SystemC kernel: exact unloaded latencies,
// bandwidth against the data-bus limit, refresh, energy and address mapping.
#include <algorithm>
#include <vector>

#include <gtest/gtest.h>

#include "models/dram/dram_system.h"
#include "models/dram/protocol_checker.h"
#include "models/dram/traffic.h"
#include "tests/dram/dram_test_util.h"

namespace npuvp::dram {
namespace {

using testing::config_of;

// Channel-local address of (bank, row, column byte) under rbc with one channel.
std::uint64_t rbc_address(const Memspec& s, unsigned bank, std::uint32_t row, std::uint32_t column_byte = 0) {
  return (std::uint64_t(row) * s.banks + bank) * s.page_bytes() + column_byte;
}

// Unloaded latencies in tCK, worked out by hand from the memspec values the
// test asserts first (docs/dram.md has the edges): ACT-2 comes 2 tCK after
// ACT-1, the CAS-2 of a RD/WR ends 3 tCK after RD-1/WR-1, and data end RL +
// tDQSCK + BL/2 (reads) or WL + tDQSS (1) + BL/2 (writes) after that.
struct Unloaded {
  const char* memspec;
  unsigned trcd, trppb, rl, wl, tdqsck;
  std::uint64_t hit, closed, conflict, write;
};

const Unloaded kUnloaded[] = {
    // hit: 3 + 28 + 6 + 8 = 45; closed: ACT-2 at 2, RD-1 at 2 + 29 = 31, then
    // 45: 76; conflict: PRE at 0, tRP to ACT-2 at 29, so ACT-1 at 27, then 76:
    // 103; write: WR-1 at 31, then 3 + 14 + 1 + 8: 57.
    {"configs/dram/lpddr4-3200.yaml", 29, 29, 28, 14, 6, 45, 76, 103, 57},
    // hit: 3 + 36 + 8 + 8 = 55; closed: 2 + 39 + 55 = 96; conflict: 37 + 96 =
    // 133; write: 2 + 39 + 3 + 18 + 1 + 8 = 71.
    {"configs/dram/lpddr4x-4266.yaml", 39, 39, 36, 18, 8, 55, 96, 133, 71},
};

class UnloadedLatency : public ::testing::TestWithParam<Unloaded> {};

TEST_P(UnloadedLatency, RowHitClosedBankAndRowConflictInTckFromTheStandardsEdges) {
  const Unloaded& u = GetParam();
  const DramConfig config = config_of(u.memspec);
  const Memspec& s = config.memspec;
  ASSERT_TRUE(s.trcd == u.trcd && s.trppb == u.trppb && s.rl == u.rl && s.wl == u.wl && s.tdqsck == u.tdqsck);
  ASSERT_TRUE(s.act_cycles == 4 && s.cas_cycles == 4 && s.burst_length == 16);
  DramSystem dram(config);
  ProtocolChecker checker(s, config.channels);
  dram.add_observer(checker);
  const unsigned burst = s.burst_bytes();
  // Each request is one burst, far enough apart that nothing overlaps, and
  // before the first refresh (tREFI) so refresh does not interfere.
  const std::uint64_t t1 = 100, t2 = 1000, t3 = 2000, t4 = 3000;
  ASSERT_LT(t4 + 500, s.trefi);
  EXPECT_EQ(dram.complete(dram.submit(false, rbc_address(s, 2, 7), burst, t1)) - t1, u.closed);
  EXPECT_EQ(dram.complete(dram.submit(false, rbc_address(s, 2, 7, burst), burst, t2)) - t2, u.hit);
  EXPECT_EQ(dram.complete(dram.submit(false, rbc_address(s, 2, 8), burst, t3)) - t3, u.conflict);
  EXPECT_EQ(dram.complete(dram.submit(true, rbc_address(s, 5, 1), burst, t4)) - t4, u.write);
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
  EXPECT_DOUBLE_EQ(dram.stats().row_hit_rate(), 1.0 / 4.0);
}

INSTANTIATE_TEST_SUITE_P(Memspecs, UnloadedLatency, ::testing::ValuesIn(kUnloaded),
                         [](const ::testing::TestParamInfo<Unloaded>& info) {
                           return std::string(info.param.memspec).find("4266") != std::string::npos ? "lpddr4x_4266"
                                                                                                    : "lpddr4_3200";
                         });

TEST(Controller, ClosedPagePolicyClosesTheRowAfterTheLastQueuedAccess) {
  DramConfig config = config_of();
  config.page_policy = PagePolicy::kClosed;
  const Memspec& s = config.memspec;
  DramSystem dram(config);
  ProtocolChecker checker(s, 1);
  dram.add_observer(checker);
  // Two bursts of one row in one request: the second takes auto-precharge, so
  // a later access to the same row finds the bank closed again.
  const std::uint64_t a = dram.complete(dram.submit(false, rbc_address(s, 0, 3), 2 * s.burst_bytes(), 10));
  EXPECT_EQ(a - 10, s.act2_edge() + s.trcd + s.ccd() + s.read_data_end());
  const std::uint64_t again = dram.complete(dram.submit(false, rbc_address(s, 0, 3), s.burst_bytes(), 2000));
  EXPECT_EQ(again - 2000, s.act2_edge() + s.trcd + s.read_data_end());
  EXPECT_EQ(dram.stats().channels[0].rda, 2u);
  EXPECT_EQ(dram.stats().channels[0].rd, 1u);
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
}

TEST(Controller, LongSequentialReadReachesTheDataBusLimit) {
  const DramConfig config = config_of();
  const Memspec& s = config.memspec;
  DramSystem dram(config);
  TrafficOptions t;
  t.requests = 200000;  // 12.8 MB, about 2 ms: hundreds of refreshes
  t.outstanding = 64;
  const std::uint64_t end = run_closed_loop(dram, t);
  const double bytes = double(dram.stats().read_bytes);
  const double gbps = bytes / dram.ns_of(end);
  // The data bus carries one burst every BL/2 clocks; all-bank refresh takes
  // it away for at least tRFCab of every tREFI.
  const double peak = double(s.burst_bytes()) / (s.burst_cycles() * s.tck_ns);
  const double with_refresh = peak * (1.0 - double(s.trfcab) / s.trefi);
  EXPECT_DOUBLE_EQ(peak, config.peak_gbps());
  EXPECT_LE(gbps, with_refresh * 1.001);
  EXPECT_GE(gbps, 0.90 * peak);
  EXPECT_GT(dram.stats().row_hit_rate(), 0.95);
}

TEST(Controller, RefreshKeepsPaceUnderContinuousRowHits) {
  for (bool per_bank : {false, true}) {
    DramConfig config = config_of();
    config.per_bank_refresh = per_bank;
    const Memspec& s = config.memspec;
    DramSystem dram(config);
    ProtocolChecker checker(s, 1);
    dram.add_observer(checker);
    TrafficOptions t;
    t.requests = 100000;
    t.range_bytes = s.page_bytes();  // one row, hit forever
    t.outstanding = 64;
    const std::uint64_t end = run_closed_loop(dram, t);
    checker.check_refresh_until(end);
    const double expected = per_bank ? double(end) / s.trefipb() : double(end) / s.trefi;
    EXPECT_NEAR(double(dram.stats().refreshes()), expected, 2.0) << (per_bank ? "per-bank" : "all-bank");
    EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
  }
}

TEST(Controller, AnOldMissIsNotStarvedByRowHits) {
  DramConfig config = config_of();
  config.max_wait_ns = 500;
  const Memspec& s = config.memspec;
  DramSystem dram(config);
  // Keep the queue of bank 0 full of hits to row 1 and slip in one miss.
  const std::uint32_t miss = [&] {
    for (int i = 0; i < 8; ++i) dram.submit(false, rbc_address(s, 0, 1, (i % 32) * s.burst_bytes()), 32, 0);
    return dram.submit(false, rbc_address(s, 0, 2), 32, 0);
  }();
  std::uint64_t t = 0;
  for (int round = 0; round < 200; ++round) {
    t += s.tccd;
    dram.submit(false, rbc_address(s, 0, 1, (round % 32) * s.burst_bytes()), 32, t);
  }
  const std::uint64_t done = dram.complete(miss);
  EXPECT_LT(dram.ns_of(done), config.max_wait_ns + 200.0);
}

class CommandLog final : public CommandObserver {
 public:
  void on_command(unsigned, const IssuedCommand& c) override { commands.push_back(c); }
  std::vector<IssuedCommand> commands;
};

TEST(Controller, AStarvingMissGoesAtItsBanksPaceWhileTheOtherBanksKeepServing) {
  DramConfig config = config_of();
  config.max_wait_ns = 500;
  const Memspec& s = config.memspec;
  DramSystem dram(config);
  ProtocolChecker checker(s, 1);
  CommandLog log;
  dram.add_observer(checker);
  dram.add_observer(log);
  // Bank 0 holds one miss (row 2) behind hits to its open row 1, and more
  // hits keep coming, every other one for banks 1 to 7: the data bus stays
  // full and the hits pass the miss until it starves.
  for (int i = 0; i < 8; ++i) dram.submit(false, rbc_address(s, 0, 1, i * s.burst_bytes()), 32, 0);
  const std::uint32_t miss = dram.submit(false, rbc_address(s, 0, 2), 32, 0);
  for (int k = 0; k < 400; ++k) {
    const unsigned bank = k % 2 == 0 ? 0 : 1 + (k / 2) % 7;
    dram.submit(false, rbc_address(s, bank, 1, (k % 32) * s.burst_bytes()), 32, std::uint64_t(k + 1) * s.tccd);
  }
  const std::uint64_t done = dram.complete(miss);
  dram.drain();
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();

  auto find = [&](Command command, std::uint32_t row) {
    return std::find_if(log.commands.begin(), log.commands.end(), [&](const IssuedCommand& c) {
      return c.command == command && c.bank == 0 && (command == Command::kPre || c.row == row);
    });
  };
  const auto pre = find(Command::kPre, 1), act = find(Command::kAct, 2), rd = find(Command::kRd, 2);
  ASSERT_TRUE(pre != log.commands.end() && act != log.commands.end() && rd != log.commands.end());
  EXPECT_GE(dram.ns_of(pre->cycle), config.max_wait_ns);  // the hits did pass it until it starved
  // Once it starves, nothing the other banks do makes its commands later...
  EXPECT_EQ(act->cycle + s.act2_edge(), pre->cycle + s.trppb);  // tRP ends at ACT-2
  EXPECT_EQ(rd->cycle, act->cycle + s.act2_edge() + s.trcd);
  EXPECT_EQ(done, rd->cycle + s.read_data_end());
  // ...but they do not stop either: their hits fill the data bus during tRP
  // and tRCD, as far as the starving bank's next command leaves room.
  const auto others =
      std::count_if(pre, rd, [](const IssuedCommand& c) { return c.command == Command::kRd && c.bank != 0; });
  EXPECT_GE(others, std::ptrdiff_t((s.trppb + s.trcd) / s.tccd) - 2);
}

// CA-bus cycles of a command: ACT and RD/WR are two words of 2 tCK, PRE and
// REF one.
unsigned bus_cycles(Command c) {
  return c == Command::kPre || c == Command::kPreAll || c == Command::kRefAll || c == Command::kRefBank ? 2 : 4;
}

TEST(Controller, ACommandWaitsForTheCaBusWordsOfTheOneBefore) {
  const DramConfig config = config_of();
  const Memspec& s = config.memspec;
  ASSERT_TRUE(s.trcd == 29 && s.act_cycles == 4 && s.cas_cycles == 4);
  DramSystem dram(config);
  CommandLog log;
  dram.add_observer(log);
  dram.complete(dram.submit(false, rbc_address(s, 0, 1), 32, 100));  // opens bank 0 row 1
  // A row hit and a closed bank, both at 1000: the RD goes first and holds
  // the CA bus for RD-1 + CAS-2, 1000 to 1003; the ACT follows at 1004, its
  // ACT-2 at 1006, and the RD after tRCD at 1006 + 29.
  const std::uint32_t hit = dram.submit(false, rbc_address(s, 0, 1, 32), 32, 1000);
  const std::uint32_t miss = dram.submit(false, rbc_address(s, 1, 1), 32, 1000);
  dram.complete(hit);
  dram.complete(miss);
  dram.flush_observers();
  ASSERT_EQ(log.commands.size(), 5u);
  const auto at = [&](std::size_t i) { return std::make_pair(log.commands[i].command, log.commands[i].cycle); };
  EXPECT_EQ(at(2), std::make_pair(Command::kRd, std::uint64_t(1000)));
  EXPECT_EQ(at(3), std::make_pair(Command::kAct, std::uint64_t(1004)));
  EXPECT_EQ(at(4), std::make_pair(Command::kRd, std::uint64_t(1035)));
}

// The TLM wrapper completes a request before it submits the next, so a
// stream's next request reaches a controller that has already issued every
// command up to the previous request's last read. Its bank's activate still
// goes where it would have gone had the controller seen it on time: in a free
// command-bus slot between those reads (here tRRD after the first ACT, both
// requests arriving at 100), and its first read follows the previous
// request's last one tCCD later instead of ACT-2 + tRCD after that read.
TEST(Controller, ARequestSubmittedLateStillOpensItsRowBetweenTheCommandsIssued) {
  const DramConfig config = config_of();
  const Memspec& s = config.memspec;
  DramSystem dram(config);
  CommandLog log;
  ProtocolChecker checker(s, 1);
  dram.add_observer(log);
  dram.add_observer(checker);
  const std::uint64_t arrival = 100;
  const std::uint64_t first = dram.complete(dram.submit(false, rbc_address(s, 0, 1), 8 * s.burst_bytes(), arrival));
  const std::uint64_t first_rd = arrival + s.act2_edge() + s.trcd, last_rd = first_rd + 7 * s.ccd();
  EXPECT_EQ(first, last_rd + s.read_data_end());
  const std::uint64_t second = dram.complete(dram.submit(false, rbc_address(s, 1, 1), s.burst_bytes(), arrival));
  EXPECT_EQ(second, last_rd + s.ccd() + s.read_data_end());
  dram.flush_observers();
  ASSERT_EQ(log.commands.size(), 11u);
  EXPECT_EQ(log.commands[1].command, Command::kAct);
  EXPECT_EQ(log.commands[1].bank, 1);
  EXPECT_EQ(log.commands[1].cycle, arrival + s.trrd);
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
}

TEST(Controller, RandomReadsKeepTheCaBusBusyFourteenCyclesInSixteen) {
  const DramConfig config = config_of();
  DramSystem dram(config);
  CommandLog log;
  ProtocolChecker checker(config.memspec, 1);
  dram.add_observer(log);
  dram.add_observer(checker);
  TrafficOptions t;
  t.pattern = Pattern::kRandom;
  t.requests = 20000;
  t.outstanding = 64;
  run_closed_loop(dram, t);
  // No command's words overlap the ones before, and a 64-byte random read
  // (two bursts of one row, a row miss) costs ACT + PRE + 2 RD = 14 CA
  // cycles for 16 data-bus cycles.
  std::uint64_t ca = 0, data = 0;
  for (std::size_t i = 0; i < log.commands.size(); ++i) {
    const IssuedCommand& c = log.commands[i];
    if (i + 1 < log.commands.size()) {
      ASSERT_GE(log.commands[i + 1].cycle, c.cycle + bus_cycles(c.command));
    }
    const bool refresh = c.command == Command::kRefAll || c.command == Command::kPreAll;
    ca += refresh ? 0 : bus_cycles(c.command);
    data += c.command == Command::kRd ? config.memspec.burst_cycles() : 0;
  }
  const ChannelStats& st = dram.stats().channels[0];
  const double misses = double(st.act) / double(dram.stats().read_requests);
  EXPECT_GT(misses, 0.99);
  EXPECT_NEAR(double(ca) / double(data), 14.0 / 16.0, 0.01);
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
}

// A sequential 50/50 mix with 64 requests in flight: grouping alone keeps a
// direction while it has row hits (about a turnaround per 40 bursts); watermarks of
// 32/8 end each write drain at 8 and each read run at 32 visible writes, and
// turn about twice as often. Batching pays where the scheduler cannot group
// (AMixedQueueTurnsTheDataBusAroundOnce...): not on a stream.
TEST(Controller, WriteBatchingWatermarksEndRunsThatGroupingWouldContinue) {
  double gbps[2];
  std::uint64_t turnarounds[2];
  for (int batched = 0; batched < 2; ++batched) {
    DramConfig config = config_of("configs/dram/lpddr4x-4266.yaml", 4);
    config.write_high_watermark = batched ? 32 : 0;
    config.write_low_watermark = batched ? 8 : 0;
    DramSystem dram(config);
    ProtocolChecker checker(config.memspec, config.channels);
    dram.add_observer(checker);
    TrafficOptions t;
    t.operation = Operation::kMix;
    t.requests = 40000;
    t.outstanding = 64;
    const std::uint64_t end = run_closed_loop(dram, t);
    checker.check_refresh_until(end);
    EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
    gbps[batched] = double(dram.stats().read_bytes + dram.stats().write_bytes) / dram.ns_of(end);
    turnarounds[batched] = 0;
    for (const ChannelStats& c : dram.stats().channels) turnarounds[batched] += c.turnarounds;
    // Nothing waits much longer than max_wait_ns plus one drain.
    for (const auto* samples : {&dram.stats().read_latency_ns, &dram.stats().write_latency_ns})
      EXPECT_LT(*std::max_element(samples->begin(), samples->end()), config.max_wait_ns + 1000.0);
  }
  EXPECT_GT(turnarounds[1], 3 * turnarounds[0] / 2) << turnarounds[0] << " unbatched, " << turnarounds[1] << " batched";
  EXPECT_GT(gbps[0], gbps[1]) << gbps[0] << " GB/s unbatched, " << gbps[1] << " GB/s batched";
}

TEST(Controller, WriteBatchingServesWritesWhenThereIsNoReadAndALoneWriteBehindReads) {
  DramConfig config = config_of();
  config.write_high_watermark = 32;
  config.write_low_watermark = 8;
  config.max_wait_ns = 500;
  const Memspec& s = config.memspec;
  DramSystem dram(config);
  ProtocolChecker checker(s, 1);
  dram.add_observer(checker);
  // No read to do: a single write goes at once, with its unloaded latency.
  EXPECT_EQ(dram.complete(dram.submit(true, rbc_address(s, 5, 1), 32, 10)) - 10,
            s.act2_edge() + s.trcd + s.write_data_end());
  // A write below the watermark behind a steady stream of reads to other
  // banks still goes once it has waited max_wait_ns.
  const std::uint32_t write = dram.submit(true, rbc_address(s, 0, 9), 32, 2000);
  for (int k = 0; k < 400; ++k)
    dram.submit(false, rbc_address(s, 1 + k % 7, 3, (k % 32) * s.burst_bytes()), 32, 2000 + std::uint64_t(k) * s.tccd);
  const std::uint64_t done = dram.complete(write);
  EXPECT_LT(dram.ns_of(done - 2000), config.max_wait_ns + 200.0);
  EXPECT_GT(dram.ns_of(done - 2000), 100.0);  // it did wait behind the reads
  dram.drain();
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
}

// Eight reads and eight writes to one open row, queued at once in
// alternating order: FR-FCFS serving the oldest hit would turn the data bus
// around 15 times. Grouping serves the direction the bus went last while it
// has hits, so the reads go first (the oldest burst is a read) and the bus
// turns once; write batching (8 writes visible >= a high watermark of 4)
// serves the writes first, then the reads, and turns once as well. Each end
// cycle follows from the memspec: ACT-2 + tRCD to the first column command,
// tCCD between same-direction bursts, one RD->WR (or WR->RD), the last burst's
// data end.
TEST(Controller, AMixedQueueTurnsTheDataBusAroundOnceWithAndWithoutWriteBatching) {
  for (const bool batched : {false, true}) {
    DramConfig config = config_of();
    config.write_high_watermark = batched ? 4 : 0;
    config.write_low_watermark = 0;
    const Memspec& s = config.memspec;
    DramSystem dram(config);
    ProtocolChecker checker(s, 1);
    dram.add_observer(checker);
    const std::uint64_t arrival = 10;
    std::vector<std::uint32_t> ids;
    for (unsigned k = 0; k < 16; ++k)
      ids.push_back(dram.submit(k % 2 == 1, rbc_address(s, 3, 5, k * s.burst_bytes()), s.burst_bytes(), arrival));
    std::uint64_t end = 0;
    for (std::uint32_t id : ids) end = std::max(end, dram.complete(id));
    const std::uint64_t first_column = arrival + s.act2_edge() + s.trcd;
    const std::uint64_t expected = batched
                                       ? first_column + 7 * s.ccd() + s.wr_to_rd() + 7 * s.ccd() + s.read_data_end()
                                       : first_column + 7 * s.ccd() + s.rd_to_wr() + 7 * s.ccd() + s.write_data_end();
    EXPECT_EQ(dram.stats().channels[0].turnarounds, 1u) << (batched ? "batched" : "unbatched");
    EXPECT_EQ(end, expected) << (batched ? "batched" : "unbatched");
    EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
  }
}

TEST(Controller, IdleEnergyIsPrechargedStandbyPlusRefresh) {
  const DramConfig config = config_of();
  const Memspec& s = config.memspec;
  DramSystem dram(config);
  const std::uint64_t end = 100 * s.trefi + 17;
  dram.advance_to(end);
  ASSERT_EQ(dram.stats().refreshes(), 100u);
  const EnergyBreakdown e = dram.energy_until(end);
  // DRAMPower: standby IDD2N·V over the time, plus (IDD5 − IDD2N)·V·tRFCab per
  // refresh, over both core rails; mA·V·ns = pJ.
  const auto& v1 = s.vdd1_currents;
  const auto& v2 = s.vdd2_currents;
  const double standby = (v1.idd2n * s.vdd1 + v2.idd2n * s.vdd2) * end * s.tck_ns;
  const double refresh = 100 * ((v1.idd5 - v1.idd2n) * s.vdd1 + (v2.idd5 - v2.idd2n) * s.vdd2) * s.trfcab * s.tck_ns;
  EXPECT_NEAR(e.background_precharged_pj, standby, standby * 1e-12);
  EXPECT_NEAR(e.refresh_pj, refresh, refresh * 1e-12);
  EXPECT_EQ(e.background_active_pj, 0.0);
  EXPECT_EQ(e.io_pj, 0.0);
  EXPECT_NEAR(e.total_pj(), standby + refresh, (standby + refresh) * 1e-12);
}

TEST(Controller, ActiveStandbyIsCountedWhileARowIsOpen) {
  const DramConfig config = config_of();
  const Memspec& s = config.memspec;
  DramSystem dram(config);
  dram.complete(dram.submit(false, 0, 32, 100));  // opens a row at cycle 100 and leaves it open
  const std::uint64_t end = 1100;
  const EnergyBreakdown e = dram.energy_until(end);
  const double active_per_cycle = (s.vdd1_currents.idd3n * s.vdd1 + s.vdd2_currents.idd3n * s.vdd2) * s.tck_ns;
  EXPECT_NEAR(e.background_active_pj, 1000 * active_per_cycle, 1e-6);
  const EnergyModel m(s);
  EXPECT_DOUBLE_EQ(e.act_pj, m.act_pj);
  EXPECT_DOUBLE_EQ(e.read_pj, m.read_pj);
  EXPECT_DOUBLE_EQ(e.io_pj, m.io_burst_pj);
}

TEST(AddressMapper, RbcPutsBankBitsAboveTheColumnAndBrcAboveTheRow) {
  DramConfig config = config_of("configs/dram/lpddr4-3200.yaml", 4);
  const Memspec& s = config.memspec;
  const std::uint64_t page = s.page_bytes();
  config.mapping = AddressMapping::kRowBankColumn;
  const AddressMapper rbc(config);
  // 256 B interleave over 4 channels: channel-local page boundaries every 4 pages.
  EXPECT_EQ(rbc.decode(256).channel, 1u);
  EXPECT_EQ(rbc.decode(1024).channel, 0u);
  EXPECT_EQ(rbc.decode(1024).channel_local, 256u);
  const DecodedAddress next_page = rbc.decode(4 * page);
  EXPECT_EQ(next_page.channel, 0u);
  EXPECT_EQ(next_page.bank, 1u);
  EXPECT_EQ(next_page.row, 0u);
  EXPECT_EQ(rbc.decode(4 * page * s.banks).row, 1u);
  config.mapping = AddressMapping::kBankRowColumn;
  const AddressMapper brc(config);
  EXPECT_EQ(brc.decode(4 * page).bank, 0u);
  EXPECT_EQ(brc.decode(4 * page).row, 1u);
  EXPECT_EQ(brc.decode(4 * page * s.rows).bank, 1u);
}

TEST(Controller, LargeRequestIsSplitIntoBurstsOverChannels) {
  const DramConfig config = config_of("configs/dram/lpddr4-3200.yaml", 4);
  DramSystem dram(config);
  dram.complete(dram.submit(true, 0, 4096, 0));
  for (const ChannelStats& c : dram.stats().channels) EXPECT_EQ(c.wr + c.wra, 4096u / 4 / config.memspec.burst_bytes());
  EXPECT_EQ(dram.stats().write_bytes, 4096u);
  EXPECT_EQ(dram.stats().write_latency_ns.size(), 1u);
}

}  // namespace
}  // namespace npuvp::dram
