#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>

#include "models/common/number_text.h"
#include "models/common/vcd_recorder.h"

namespace npuvp::trace {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

TEST(VcdRecorder, WritesScopesAndSortedChanges) {
  VcdRecorder rec;
  Wire busy;
  busy.bind(rec, "top.npu.busy");
  Wire state;
  state.bind(rec, "top.dram.ch0.state", 3);
  // Recorded out of time order, as loosely-timed models do.
  busy.set(sc_time(20, SC_NS), 0);
  busy.set(sc_time(10, SC_NS), 1);
  state.set(sc_time(10, SC_NS), 5);
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  EXPECT_NE(vcd.find("$scope module top $end"), std::string::npos);
  EXPECT_NE(vcd.find("$scope module npu $end"), std::string::npos);
  EXPECT_NE(vcd.find("$var wire 1 ! busy $end"), std::string::npos);
  EXPECT_NE(vcd.find("$var wire 3 \" state $end"), std::string::npos);
  const auto t10 = vcd.find("#10000\n1!\nb101 \"\n");
  const auto t20 = vcd.find("#20000\n0!\n");
  ASSERT_NE(t10, std::string::npos) << vcd;
  ASSERT_NE(t20, std::string::npos) << vcd;
  EXPECT_LT(t10, t20);
}

TEST(VcdRecorder, LastChangeAtATimestampWinsAndRepeatsAreDropped) {
  VcdRecorder rec;
  Wire w;
  w.bind(rec, "a.w");
  w.set(sc_time(5, SC_NS), 1);
  w.set(sc_time(5, SC_NS), 0);  // a zero-length pulse leaves the value unchanged
  w.set(sc_time(7, SC_NS), 1);
  w.set(sc_time(9, SC_NS), 1);
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  EXPECT_EQ(vcd.find("#5000"), std::string::npos) << vcd;
  EXPECT_NE(vcd.find("#7000\n1!\n"), std::string::npos) << vcd;
  EXPECT_EQ(vcd.find("#9000"), std::string::npos) << vcd;
}

TEST(VcdRecorder, TimestampsKeepTheZerosOfTheirLowDigits) {
  // The digits above the low eight are converted once and reused while they
  // last; the low eight keep their leading zeros.
  VcdRecorder rec;
  Wire w;
  w.bind(rec, "a.w");
  using sc_core::SC_PS;
  w.set(sc_time(99'999'999, SC_PS), 1);
  w.set(sc_time(100'000'000, SC_PS), 0);
  w.set(sc_time(100'000'005, SC_PS), 1);
  w.set(sc_time(1'200'000'050, SC_PS), 0);
  w.set(sc_time(1'200'070'000, SC_PS), 1);
  w.set(sc_time(123'456'789'012, SC_PS), 0);
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  const std::string body = vcd.substr(vcd.find("$end\n", vcd.find("$dumpvars")) + 5);
  EXPECT_EQ(body,
            "#99999999\n1!\n#100000000\n0!\n#100000005\n1!\n#1200000050\n0!\n#1200070000\n1!\n#123456789012\n0!\n");
}

TEST(VcdRecorder, ChangesAtOneTimeAreWrittenInRecordOrderWithTheLastOfEachSignal) {
  VcdRecorder rec;
  Wire a, b, c;
  a.bind(rec, "s.a");
  b.bind(rec, "s.b");
  c.bind(rec, "s.c", 4);
  // Recorded in reverse signal order, b twice, and out of time order.
  c.set(sc_time(3, SC_NS), 9);
  b.set(sc_time(3, SC_NS), 1);
  a.set(sc_time(3, SC_NS), 1);
  b.set(sc_time(3, SC_NS), 0);  // the last value at a time wins: b stays 0
  a.set(sc_time(2, SC_NS), 1);
  c.set(sc_time(3, SC_NS), 6);
  // In the order recorded, not in signal order.
  b.set(sc_time(4, SC_NS), 1);
  a.set(sc_time(4, SC_NS), 0);
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  const std::string body = vcd.substr(vcd.find("$end\n", vcd.find("$dumpvars")) + 5);
  EXPECT_EQ(body, "#2000\n1!\n#3000\nb110 #\n#4000\n1\"\n0!\n");
}

// The VCD identifier of signal `id`: base 94 over '!'..'~', low digit first.
std::string identifier(std::uint32_t id) {
  std::string s;
  do {
    s.push_back(static_cast<char>('!' + id % 94));
    id /= 94;
  } while (id != 0);
  return s;
}

struct Recorded {
  std::uint64_t ps;
  std::uint32_t id;
  std::uint64_t value;
};

// Records `recorded` in its order on `signal_count` 1-bit signals: the body
// written must be what a plain stable sort by time gives, each signal's
// changes at one time written as one, at its first change's place with its
// last change's value, and no repeats of a value.
void expect_written_in_time_then_record_order(std::uint32_t signal_count, std::vector<Recorded> recorded) {
  VcdRecorder rec;
  std::vector<Wire> wires(signal_count);
  for (std::uint32_t i = 0; i < signal_count; ++i) wires[i].bind(rec, "s.w" + std::to_string(i));
  for (const Recorded& r : recorded) wires[r.id].set(sc_time(static_cast<double>(r.ps), sc_core::SC_PS), r.value);
  std::stable_sort(recorded.begin(), recorded.end(), [](const Recorded& a, const Recorded& b) { return a.ps < b.ps; });
  std::string expected;
  std::vector<std::uint64_t> value(signal_count, 0);
  std::uint64_t stamped = UINT64_MAX;
  for (auto group = recorded.begin(); group != recorded.end();) {
    const auto group_end = std::find_if(group, recorded.end(), [&](const Recorded& r) { return r.ps != group->ps; });
    std::map<std::uint32_t, std::uint64_t> last;
    for (auto r = group; r != group_end; ++r) last[r->id] = r->value;
    for (auto r = group; r != group_end; ++r) {
      const auto found = last.find(r->id);
      if (found == last.end()) continue;  // written at its first change
      const std::uint64_t v = found->second;
      last.erase(found);
      if (value[r->id] == v) continue;
      value[r->id] = v;
      if (r->ps != stamped) expected += "#" + std::to_string(stamped = r->ps) + "\n";
      expected += std::to_string(v) + identifier(r->id) + "\n";
    }
    group = group_end;
  }
  ASSERT_FALSE(expected.empty());
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  EXPECT_EQ(vcd.substr(vcd.find("$end\n", vcd.find("$dumpvars")) + 5), expected);
}

// A fixed pseudo-random sequence (a linear congruential generator).
class Scramble {
 public:
  explicit Scramble(std::uint64_t seed) : state_(seed) {}
  // The next draw in [0, bound).
  std::uint64_t operator()(std::uint64_t bound) {
    state_ = state_ * 6364136223846793005u + 1442695040888963407u;
    return (state_ >> 33) % bound;
  }

 private:
  std::uint64_t state_;
};

void expect_scrambled_changes_written_in_order(std::uint32_t signal_count) {
  // Changes spread over several buckets, many within a nanosecond of each
  // other (a slot of the sort holds several times), recorded in a scrambled
  // order.
  std::vector<Recorded> recorded;
  Scramble next(12345);
  for (int i = 0; i < 20000; ++i) {
    const std::uint64_t ps = 3'000 * next(4000) + next(3);
    const auto id = static_cast<std::uint32_t>(next(signal_count));
    recorded.push_back({ps, id, next(2)});
  }
  expect_written_in_time_then_record_order(signal_count, std::move(recorded));
}

TEST(VcdRecorder, ScrambledChangesAreWrittenInTimeThenRecordOrder) {
  expect_scrambled_changes_written_in_order(40);
  expect_scrambled_changes_written_in_order(5000);
}

TEST(VcdRecorder, ManySignalsChangingAtOnceAreWrittenInTheOrderRecorded) {
  // One time slot of the sort holding thousands of changes, recorded in
  // reverse signal order. Each signal changes twice at the same time (the
  // last one wins: even signals end where they began) and some again a
  // little earlier, recorded after.
  constexpr std::uint32_t kSignals = 3000;
  std::vector<Recorded> recorded;
  for (std::uint32_t id = kSignals; id-- > 0;) recorded.push_back({7'000, id, 1});
  for (std::uint32_t id = kSignals; id-- > 0;) recorded.push_back({7'000, id, id % 2});
  for (std::uint32_t id = kSignals; id-- > 0;)
    if (id % 3 == 0) recorded.push_back({6'500, id, 1});
  expect_written_in_time_then_record_order(kSignals, std::move(recorded));
}

TEST(VcdRecorder, InterleavedTimeOrderedRunsAreWrittenInTimeOrder) {
  // What the NoC's links publish: each signal's pulses in time order, one
  // signal's run after another's, the runs overlapping in time and crossing
  // buckets (2^22 ps).
  constexpr std::uint32_t kSignals = 24;
  std::vector<Recorded> recorded;
  for (std::uint64_t round = 0; round < 4; ++round) {
    for (std::uint32_t id = 0; id < kSignals; ++id) {
      const std::uint32_t signal = (id * 7 + round) % kSignals;
      for (std::uint64_t pulse = 0; pulse < 400; ++pulse) {
        const std::uint64_t rise = round * 4'000'000 + pulse * 10'000 + 1'250 * (signal % 5);
        recorded.push_back({rise, signal, 1});
        recorded.push_back({rise + 1'250 * (1 + signal % 3), signal, 0});
      }
    }
  }
  expect_written_in_time_then_record_order(kSignals, std::move(recorded));
}

// A scope, not a text prefix: cluster_1 kept cluster_10 to cluster_15 too.
TEST(VcdRecorder, IncludeKeepsWholeScopesOnly) {
  EXPECT_TRUE(under_scope("soc.npu.cluster_1.busy", "soc.npu.cluster_1"));
  EXPECT_TRUE(under_scope("soc.npu.cluster_1", "soc.npu.cluster_1"));
  EXPECT_TRUE(under_scope("soc.npu.cluster_1.busy", "soc.npu."));
  EXPECT_FALSE(under_scope("soc.npu.cluster_10.busy", "soc.npu.cluster_1"));
  EXPECT_FALSE(under_scope("soc.npu", "soc.npu.cluster_1"));
  VcdRecorder rec(VcdOptions{{"top.c1"}});
  Wire one, ten;
  one.bind(rec, "top.c1.busy");
  ten.bind(rec, "top.c10.busy");
  EXPECT_TRUE(one.bound());
  EXPECT_FALSE(ten.bound());
}

TEST(VcdRecorder, PrefixFilterAndLimit) {
  VcdRecorder rec(VcdOptions{{"top.dma"}, 2});
  Wire kept, dropped;
  kept.bind(rec, "top.dma.busy");
  dropped.bind(rec, "top.npu.busy");
  EXPECT_TRUE(kept.bound());
  EXPECT_FALSE(dropped.bound());
  for (int i = 0; i < 4; ++i) kept.set(sc_time(i, SC_NS), i & 1);
  EXPECT_EQ(rec.change_count(), 2u);
  EXPECT_TRUE(rec.truncated());
}

// The bound a run checks against the free disk holds for the longest lines
// and is exact about them: a recording of nothing but full-width changes, each
// at a time of its own, falls short of it by the fixed slack and the digits
// its 10-digit times have fewer than the 20 the bound allows.
TEST(VcdRecorder, SizeBoundHoldsForTheLongestChangesAndIsTight) {
  constexpr std::size_t kChanges = 300;
  VcdRecorder rec(VcdOptions{{}, kChanges});
  rec.add_wire("t.a", 1);
  const auto wide = rec.add_wire("t.b", 40);
  rec.add_real("t.p");
  const std::uint64_t bound = rec.size_bound();
  for (std::uint64_t i = 0; i < kChanges + 5; ++i)
    rec.record_ticks(wide, 1'000'000'000 + 1000 * i, (i & 1) ? 0xFF'FFFF'FFFFull : 0x80'0000'0001ull);
  std::ostringstream os;
  rec.write(os);
  EXPECT_TRUE(rec.truncated());
  const std::uint64_t size = os.str().size();
  ASSERT_LE(size, bound);
  // 3000: ten digits fewer than the bound's 20 in each of the 300 timestamps;
  // 159: the fixed slack (header comment, initial dump, "$dumpvars"/"$end")
  // less the truncation comment this file has.
  EXPECT_EQ(bound - size, 3000u + 159u);
}

// What the writer before streaming (sort everything at the end) produced for
// the recording of StreamedFileIsByteIdenticalToTheWholeRunWriter.
constexpr const char* kWholeRunOutput =
    "$date\n"
    "  npuvp simulation\n"
    "$end\n"
    "$version\n"
    "  npuvp\n"
    "$end\n"
    "$timescale 1ps $end\n"
    "$scope module top $end\n"
    "$var wire 1 ! a $end\n"
    "$var real 64 # p $end\n"
    "$scope module sub $end\n"
    "$var wire 8 \" b $end\n"
    "$upscope $end\n"
    "$upscope $end\n"
    "$enddefinitions $end\n"
    "#0\n"
    "$dumpvars\n"
    "0!\n"
    "b0 \"\n"
    "r0 #\n"
    "$end\n"
    "#1000000\n"
    "1!\n"
    "#3000000\n"
    "b10000000 \"\n"
    "#5000000\n"
    "r2.5 #\n"
    "#9000000\n"
    "b101 \"\n"
    "#12500000\n"
    "0!\n"
    "b11111111 \"\n"
    "#13000000\n"
    "r0.1 #\n"
    "#14000000\n"
    "b0 \"\n";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::filesystem::path scratch_file(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("npuvp_vcd_recorder_test_" + name + ".vcd");
}

using sc_core::SC_US;

struct Signals {
  Wire a, b;
  RealWire p;
  explicit Signals(VcdRecorder& rec) {
    a.bind(rec, "top.a");
    b.bind(rec, "top.sub.b", 8);
    p.bind(rec, "top.p");
  }
};

TEST(VcdRecorder, StreamedFileIsByteIdenticalToTheWholeRunWriter) {
  VcdRecorder rec;
  Signals s(rec);
  const auto path = scratch_file("identical");
  rec.stream_to(path.string(), sc_time(4, SC_US));
  // Records come out of time order, up to the lag bound behind "now", while
  // the owner flushes what is final.
  rec.flush_final(sc_time(0, SC_US));
  s.b.set(sc_time(9, SC_US), 0x5);
  s.a.set(sc_time(1, SC_US), 1);
  rec.flush_final(sc_time(2, SC_US));
  s.a.set(sc_time(5, SC_US), 0);
  s.p.set(sc_time(5, SC_US), 2.5);
  s.a.set(sc_time(5, SC_US), 1);  // the last value at a time wins
  s.b.set(sc_time(3, SC_US), 0x80);
  rec.flush_final(sc_time(6.5, SC_US));
  s.a.set(sc_time(11, SC_US), 1);  // a repeat: not written
  s.b.set(sc_time(14, SC_US), 0);
  s.p.set(sc_time(13, SC_US), 0.1);
  s.a.set(sc_time(12.5, SC_US), 0);
  s.b.set(sc_time(12.5, SC_US), 0xff);
  rec.flush_final(sc_time(10, SC_US));  // the first 4.2 us are final and leave memory
  rec.close();
  EXPECT_EQ(read_file(path), kWholeRunOutput);
  EXPECT_EQ(rec.late_changes(), 0u);
  std::filesystem::remove(path);
}

TEST(VcdRecorder, AChangeForATimeAlreadyWrittenIsCountedAndWrittenAtTheEarliestOpenTime) {
  VcdRecorder rec;
  Signals s(rec);
  const auto path = scratch_file("late");
  rec.stream_to(path.string(), sc_time(1, SC_US));
  s.a.set(sc_time(1, SC_US), 1);
  rec.flush_final(sc_time(10, SC_US));  // writes out [0, 8.4 us)
  s.a.set(sc_time(2, SC_US), 0);        // later than the bound allows
  rec.close();
  EXPECT_EQ(rec.late_changes(), 1u);
  const std::string vcd = read_file(path);
  EXPECT_NE(vcd.find("#1000000\n1!\n#8388608\n0!\n"), std::string::npos) << vcd;
  std::filesystem::remove(path);
}

// A model that records changes later than the bound (a PE cluster, once its
// job's operands are in) holds the flush back to the earliest time it may
// still record at: the change above, at 2 us, is then on time.
TEST(VcdRecorder, AHeldBackFlushLeavesTheHoldersChangesOnTime) {
  VcdRecorder rec;
  Signals s(rec);
  const auto path = scratch_file("held");
  rec.stream_to(path.string(), sc_time(1, SC_US));
  sc_time earliest(1.5, SC_US);
  rec.hold_from([&] { return earliest; });
  s.a.set(sc_time(1, SC_US), 1);
  rec.flush_final(sc_time(10, SC_US));  // writes out [0, 1.5 us) only
  s.a.set(sc_time(2, SC_US), 0);
  earliest = sc_core::sc_max_time();
  rec.flush_final(sc_time(20, SC_US));
  rec.close();
  EXPECT_EQ(rec.late_changes(), 0u);
  const std::string vcd = read_file(path);
  EXPECT_NE(vcd.find("#1000000\n1!\n#2000000\n0!\n"), std::string::npos) << vcd;
  std::filesystem::remove(path);
}

// What record_pulses() writes straight into a bucket must be what two
// record_ticks() per pulse give: across a bucket's end (2^22 ps), past the
// window's end, at the change cap, and late.
TEST(VcdRecorder, PulsesAreRecordedAsTheirTwoEdges) {
  using Pulse = std::pair<std::uint64_t, std::uint64_t>;  // [rise, fall) in cycles of 1250 ps
  // Two pulses touch: the rise at 103 replaces the fall there.
  const std::vector<Pulse> early = {{1, 2}, {100, 103}, {103, 105}, {3354, 3356}, {3360, 3361}};
  const std::vector<Pulse> late = {{2, 3}, {6800, 6810}, {7000, 7200}, {9000, 9001}};
  const std::uint64_t ticks_per_cycle = sc_time(1250, sc_core::SC_PS).value();
  for (const std::size_t cap : {std::size_t{100}, std::size_t{9}, std::size_t{14}}) {
    for (const bool windowed : {false, true}) {
      VcdOptions options;
      options.max_changes = cap;
      if (windowed) options.window_end = sc_time(8, sc_core::SC_US);
      std::string out[2];
      std::size_t counts[2], lates[2];
      bool truncated[2];
      for (int pulses = 0; pulses < 2; ++pulses) {
        VcdRecorder rec(options);
        Wire other;
        other.bind(rec, "a.other");
        const VcdRecorder::SignalId id = rec.add_wire("a.link", 1);
        const auto path = scratch_file("pulses");
        rec.stream_to(path.string(), sc_time(1, SC_NS));
        auto record = [&](const std::vector<Pulse>& v) {
          if (pulses == 1) {
            rec.record_pulses(
                id, v.begin(), v.end(), ticks_per_cycle, [](const Pulse& p) { return p.first; },
                [](const Pulse& p) { return p.second; });
            return;
          }
          for (const Pulse& p : v) {
            rec.record_ticks(id, p.first * ticks_per_cycle, 1);
            rec.record_ticks(id, p.second * ticks_per_cycle, 0);
          }
        };
        other.set(sc_time(3, SC_NS), 1);
        record(early);
        rec.flush_final(sc_time(5, sc_core::SC_US));  // writes out the first 4.2 us
        record(late);                                 // the first pulse is late
        rec.close();
        out[pulses] = read_file(path);
        counts[pulses] = rec.change_count();
        lates[pulses] = rec.late_changes();
        truncated[pulses] = rec.truncated();
        std::filesystem::remove(path);
      }
      SCOPED_TRACE("cap " + std::to_string(cap) + (windowed ? ", window to 8 us" : ""));
      EXPECT_EQ(out[1], out[0]);
      EXPECT_EQ(counts[1], counts[0]);
      EXPECT_EQ(lates[1], lates[0]);
      EXPECT_EQ(truncated[1], truncated[0]);
      EXPECT_EQ(truncated[0], cap < (windowed ? 13u : 19u));  // changes past the window do not count
      if (cap == 100) {
        EXPECT_NE(out[0].find("#125000\n1\"\n#131250\n0\"\n"), std::string::npos) << out[0];
      }
      // 3354 cycles; at a cap of 9 the recording stopped before anything
      // was final: the file is whole up to 0 and holds no change.
      if (cap != 9) {
        EXPECT_NE(out[0].find("#4192500\n1\"\n"), std::string::npos) << out[0];
      } else {
        EXPECT_NE(out[0].find("#0\n$comment\n  truncated at 9 changes"), std::string::npos) << out[0];
      }
    }
  }
}

TEST(VcdRecorder, WindowStartsWithTheStateThenAndDropsWhatFollowsItsEnd) {
  VcdOptions options;
  options.window_start = sc_time(4, SC_US);
  options.window_end = sc_time(10, SC_US);
  VcdRecorder rec(options);
  Signals s(rec);
  s.a.set(sc_time(1, SC_US), 1);
  s.b.set(sc_time(2, SC_US), 3);
  s.b.set(sc_time(4, SC_US), 7);  // at the start: part of the initial state
  s.a.set(sc_time(6, SC_US), 0);
  s.a.set(sc_time(12, SC_US), 1);  // past the end
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  EXPECT_NE(vcd.find("$enddefinitions $end\n#4000000\n$dumpvars\n1!\nb111 \"\nr0 #\n$end\n#6000000\n0!\n"),
            std::string::npos)
      << vcd;
  EXPECT_EQ(vcd.find("#12000000"), std::string::npos) << vcd;
  EXPECT_EQ(rec.change_count(), 4u) << "changes past the window do not count";
}

// The note goes after the last change, where the recording stopped: a
// streamed header is out before the cap is reached, and nothing written is
// read back or rewritten.
TEST(VcdRecorder, TruncationReachedWhileStreamingIsNotedAfterTheLastChange) {
  VcdRecorder streamed(VcdOptions{{}, 3});
  VcdRecorder whole(VcdOptions{{}, 3});
  const auto path = scratch_file("truncated");
  streamed.stream_to(path.string(), sc_time(1, SC_US));
  Signals s(streamed), w(whole);
  for (int i = 0; i < 3; ++i) {
    s.a.set(sc_time(i, SC_US), i & 1);
    w.a.set(sc_time(i, SC_US), i & 1);
  }
  streamed.flush_final(sc_time(20, SC_US));  // the header is out before the cap is reached
  for (int i = 3; i < 6; ++i) {
    s.a.set(sc_time(20 + i, SC_US), i & 1);
    w.a.set(sc_time(20 + i, SC_US), i & 1);
  }
  streamed.close();
  std::ostringstream os;
  whole.write(os);
  EXPECT_TRUE(streamed.truncated());
  const std::string note = "#2000000\n0!\n$comment\n  truncated after 3 changes\n$end\n";
  ASSERT_GE(os.str().size(), note.size());
  EXPECT_EQ(os.str().substr(os.str().size() - note.size()), note) << os.str();
  // Streamed, the note says up to when the file is whole: the flush at 20 us
  // made everything before 19 us final, the bucket of 2^22 ps it lies in
  // is left out.
  const std::string whole_part =
      os.str().substr(0, os.str().size() - note.size() + std::string("#2000000\n0!\n").size());
  EXPECT_EQ(read_file(path), whole_part +
                                 "#16777216\n$comment\n  truncated at 3 changes: every signal is complete up to "
                                 "here, later changes are left out\n$end\n");
  EXPECT_EQ(streamed.complete_before(), sc_time(16777216, sc_core::SC_PS));
  std::filesystem::remove(path);
}

// The models record out of time order: changes recorded before the cap but
// past the time the recording is whole up to would show some signals going
// on while others froze (a capped conv_slice run: power and the NoC stopped
// 40 us before the clusters). They are left out.
TEST(VcdRecorder, ChangesPastTheTimeTheCappedRecordingIsWholeUpToAreLeftOut) {
  VcdRecorder rec(VcdOptions{{}, 3});
  const auto path = scratch_file("capped");
  rec.stream_to(path.string(), sc_time(1, SC_US));
  Signals s(rec);
  s.a.set(sc_time(1, SC_US), 1);
  rec.flush_final(sc_time(20, SC_US));  // final before 19 us
  s.b.set(sc_time(30, SC_US), 7);       // recorded ahead
  s.a.set(sc_time(10, SC_US), 0);       // late, moved to the earliest open time
  s.a.set(sc_time(25, SC_US), 1);       // past the cap
  rec.close();
  const std::string vcd = read_file(path);
  EXPECT_EQ(vcd.find("b111"), std::string::npos) << vcd;
  EXPECT_NE(vcd.find("#1000000\n1!\n"), std::string::npos) << vcd;
  EXPECT_NE(vcd.find("#16777216\n$comment\n  truncated at 3 changes"), std::string::npos) << vcd;
  std::filesystem::remove(path);
}

// The body of a whole-run VCD: what follows the initial dump.
std::string changes_of(VcdRecorder& rec) {
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  return vcd.substr(vcd.find("$end\n", vcd.find("$dumpvars")) + 5);
}

// The changes a busy wire records for `requests_ns` ([start, end) in ns, in
// the order given), and how many.
std::pair<std::string, std::size_t> runs_of(std::initializer_list<std::pair<double, double>> requests_ns) {
  VcdRecorder rec;
  BusyWire w;
  w.bind(rec, "a.busy");
  for (const auto& [start, end] : requests_ns) w.busy(sc_time(start, SC_NS), sc_time(end, SC_NS));
  w.finish();
  const std::size_t count = rec.change_count();
  return {changes_of(rec), count};
}

TEST(BusyWire, TouchingAndOverlappingIntervalsAreOneRun) {
  const auto [changes, count] = runs_of({{10, 20},
                                         {20, 30},    // back to back
                                         {25, 28},    // a second port, inside
                                         {8, 12},     // an initiator behind the others
                                         {40, 45}});  // after a gap: a new run
  EXPECT_EQ(changes, "#8000\n1!\n#30000\n0!\n#40000\n1!\n#45000\n0!\n");
  EXPECT_EQ(count, 4u);
}

TEST(BusyWire, PublishesTheStartOnceFinalAndTheEndOnceNoRequestCanTouchIt) {
  VcdRecorder rec;
  BusyWire w;
  w.bind(rec, "a.busy");
  w.busy(sc_time(10, SC_NS), sc_time(20, SC_NS));
  w.publish_until(sc_time(10, SC_NS));
  EXPECT_EQ(rec.change_count(), 0u);  // a request may still start at 10 ns
  w.publish_until(sc_time(15, SC_NS));
  EXPECT_EQ(rec.change_count(), 1u);  // the start: the run may still grow
  w.busy(sc_time(18, SC_NS), sc_time(26, SC_NS));
  w.publish_until(sc_time(26, SC_NS));
  EXPECT_EQ(rec.change_count(), 1u);  // a request from 26 ns on would join it
  w.publish_until(sc_time(27, SC_NS));
  EXPECT_EQ(rec.change_count(), 2u);
  w.busy(sc_time(5, SC_NS), sc_time(7, SC_NS));  // late and disjoint: its own pulse
  w.finish();
  EXPECT_EQ(changes_of(rec), "#5000\n1!\n#7000\n0!\n#10000\n1!\n#26000\n0!\n");
}

TEST(BusyWire, ARequestBehindTheOthersDoesNotSplitARunItDoesNotTouch) {
  // Loosely-timed initiators a run apart: one behind the others comes in
  // between requests of the later run, which must stay whole; the last
  // request joins the two runs before it.
  const auto [changes, count] = runs_of({{10, 20}, {5, 8}, {12, 15}, {6, 9}, {30, 31}, {9, 10}});
  EXPECT_EQ(changes, "#5000\n1!\n#20000\n0!\n#30000\n1!\n#31000\n0!\n");
  EXPECT_EQ(count, 4u);
}

TEST(BusyWire, RunsAreTheUnionOfScrambledRequestsPublishedAsTheyBecomeFinal) {
  // Requests up to 2 us ahead of the bound on the starts still to come, which
  // moves 100 ns per step: the file must show the union of the requests,
  // touching ones joined.
  VcdRecorder rec;
  BusyWire w;
  w.bind(rec, "a.busy");
  Scramble next(7);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> requests;  // ns
  for (std::uint64_t step = 0; step < 300; ++step) {
    for (int i = 0; i < 6; ++i) {
      const std::uint64_t start = step * 100 + next(2000), end = start + 1 + next(40);
      requests.emplace_back(start, end);
      w.busy(sc_time(static_cast<double>(start), SC_NS), sc_time(static_cast<double>(end), SC_NS));
    }
    w.publish_until(sc_time(static_cast<double>((step + 1) * 100), SC_NS));
  }
  w.finish();
  std::sort(requests.begin(), requests.end());
  std::string expected;
  for (std::size_t i = 0; i < requests.size();) {
    const std::uint64_t start = requests[i].first;
    std::uint64_t end = requests[i].second;
    for (++i; i < requests.size() && requests[i].first <= end; ++i) end = std::max(end, requests[i].second);
    expected += "#" + std::to_string(start * 1000) + "\n1!\n#" + std::to_string(end * 1000) + "\n0!\n";
  }
  EXPECT_EQ(changes_of(rec), expected);
}

TEST(VcdRecorder, RealValues) {
  VcdRecorder rec;
  RealWire p;
  p.bind(rec, "top.power.total_mw");
  p.set(sc_time(1, SC_NS), 12.5);
  std::ostringstream os;
  rec.write(os);
  EXPECT_NE(os.str().find("$var real 64 ! total_mw $end"), std::string::npos);
  EXPECT_NE(os.str().find("#1000\nr12.5 !\n"), std::string::npos) << os.str();
}

TEST(VcdRecorder, RealsRepeatedOrSharingAMemoSlotAreEachWrittenAsTheirOwnShortestDigits) {
  // More distinct values than the recorder keeps texts for, so that values
  // share its slots, each met many times in a scrambled order; and values
  // whose text is too long to keep.
  std::vector<double> values;
  for (int k = 0; k <= 800; ++k) values.push_back(k / 800.0);
  values.push_back(-1.2345678901234567e-300);
  values.push_back(0.1 + 0.2);
  values.push_back(-0.0);
  VcdRecorder rec;
  RealWire p;
  p.bind(rec, "top.p");
  Scramble next(11);
  std::string expected;
  double last = 0;
  for (std::uint64_t t = 1; t <= 20000; ++t) {
    double v = values[next(values.size())];
    if (std::memcmp(&v, &last, sizeof v) == 0) v = values[(next(values.size() - 1) + 1) % values.size()];
    if (std::memcmp(&v, &last, sizeof v) == 0) continue;
    p.set(sc_time(static_cast<double>(t), SC_NS), v);
    char text[32];
    expected += "#" + std::to_string(t * 1000) + "\nr" + std::string(text, text::write_shortest(text, v)) + " !\n";
    last = v;
  }
  EXPECT_EQ(changes_of(rec), expected);
}

}  // namespace
TEST(VcdRecorder, AStreamedFileIsRenamedIntoPlaceOnCloseAndAFailedWriteNamesIt) {
  VcdRecorder rec;
  Signals s(rec);
  const auto path = scratch_file("renamed");
  std::filesystem::remove(path);
  rec.stream_to(path.string(), sc_time(1, SC_US));
  s.a.set(sc_time(1, SC_US), 1);
  rec.flush_final(sc_time(10, SC_US));
  EXPECT_FALSE(std::filesystem::exists(path)) << "a reader never sees a partial trace";
  rec.close();
  EXPECT_NE(read_file(path).find("$enddefinitions $end\n"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path.string() + "." + std::to_string(::getpid()) + ".part"));
  std::filesystem::remove(path);

  VcdRecorder full;
  Signals f(full);
  full.stream_to("/dev/full", sc_time(1, SC_US));  // a disk that fills up
  f.a.set(sc_time(1, SC_US), 1);
  try {
    full.close();
    ADD_FAILURE() << "a write to a full disk went unnoticed";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot write /dev/full: No space left on device");
  }
}

}  // namespace npuvp::trace
