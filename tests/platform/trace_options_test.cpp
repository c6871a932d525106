// The trace controls of `npuvp run` on the conv_slice workload: which files a
// run writes, the window and the cap, and the streamed VCD's soundness.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "platform/noc_packet_log.h"
#include "platform/platform_config.h"
#include "platform/run.h"
#include "platform/trace_options.h"
#include "tests/support/vcd_text.h"

namespace npuvp::platform {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;

const char* kPreset = "configs/platforms/edge-ip.yaml";

std::string out_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_traces_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(TraceOptions, AVcdThatCouldOutgrowTheFreeSpaceIsRefusedNamingTheCap) {
  EXPECT_NO_THROW(check_trace_space(5u << 20, 5u << 20, "out", 100));
  try {
    check_trace_space((3u << 20) + 1, 1u << 20, "out", 100);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "trace.vcd may take up to 4 MiB (simulation.vcd_max_changes = 100 changes), more than the 1 MiB free "
                 "in out: lower simulation.vcd_max_changes (--set), narrow the trace with --trace-window or "
                 "--trace-include, or leave it out with --traces timeline,power");
  }
}

// The check runs before simulation on the recorder's own bound: no disk holds
// 2^40 changes, and nothing is written.
TEST(TraceOptions, ARunWhoseVcdCannotFitIsRefusedBeforeItStarts) {
  RunOptions options;
  options.out_dir = out_dir("no_room");
  try {
    run(load_platform(kPreset, {"simulation.vcd_max_changes=1099511627776"}), options);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("(simulation.vcd_max_changes = 1099511627776 changes), more than the "));
  }
  EXPECT_FALSE(std::filesystem::exists(options.out_dir + "/report.json"));
}

TEST(TraceOptions, NoneWritesNoTraceFiles) {
  RunOptions options;
  options.out_dir = out_dir("none");
  options.trace.files = parse_traces("none");
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  for (const char* f : {"trace.vcd", "timeline.json", "power.csv"})
    EXPECT_FALSE(std::filesystem::exists(options.out_dir + "/" + f)) << f;
  EXPECT_EQ(r["sim"]["files"], nlohmann::json({"report.json", "layers.csv", "report.html", "roofline.svg"}));
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
}

TEST(TraceOptions, AListWritesJustThoseFiles) {
  RunOptions options;
  options.out_dir = out_dir("list");
  options.trace.files = parse_traces("timeline,power");
  run(load_platform(kPreset, {}), options);
  EXPECT_FALSE(std::filesystem::exists(options.out_dir + "/trace.vcd"));
  EXPECT_TRUE(std::filesystem::exists(options.out_dir + "/timeline.json"));
  EXPECT_TRUE(std::filesystem::exists(options.out_dir + "/power.csv"));
}

// Every packet the NoC timed, as noc-bench --replay reads them back: one row
// per unicast, one per destination of each multicast.
TEST(TraceOptions, PacketsWritesEveryNocPacketAsTheRunTimedIt) {
  RunOptions options;
  options.out_dir = out_dir("packets");
  options.trace.files = parse_traces("packets");
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  EXPECT_EQ(r["sim"]["files"],
            nlohmann::json({"report.json", "layers.csv", "report.html", "roofline.svg", "noc_packets.csv"}));
  const NocPacketTrace trace = read_noc_packet_trace(options.out_dir + "/noc_packets.csv");
  EXPECT_EQ(trace.noc.width, 4u);
  EXPECT_EQ(trace.noc.buffer_flits, 8u);
  std::uint64_t unicasts = 0, multicasts = 0, flits = 0;
  for (const noc::PacketRecord& p : trace.packets) {
    unicasts += p.multicast == 0;
    multicasts = std::max(multicasts, p.multicast);
    EXPECT_GT(p.done, p.ready);
  }
  for (std::size_t i = 0; i < trace.packets.size(); ++i)
    if (trace.packets[i].multicast == 0 || i == 0 || trace.packets[i - 1].multicast != trace.packets[i].multicast)
      flits += trace.packets[i].flits;
  EXPECT_EQ(unicasts + multicasts, r["noc"]["packets"].get<std::uint64_t>());
  EXPECT_EQ(multicasts, r["noc"]["multicast_packets"].get<std::uint64_t>());
  EXPECT_EQ(flits, r["noc"]["flits"].get<std::uint64_t>());
  EXPECT_GT(multicasts, 0u);
}

TEST(TraceOptions, WindowLimitsTheVcdTimesAndTheTimelineButNotPowerCsv) {
  RunOptions options;
  options.out_dir = out_dir("window");
  options.trace.window_ns = parse_trace_window("50000:100000");
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  std::ifstream vcd(options.out_dir + "/trace.vcd");
  std::size_t stamps = 0;
  for (std::string line; std::getline(vcd, line);) {
    if (line.empty() || line[0] != '#') continue;
    const double ps = std::stod(line.substr(1));
    EXPECT_GE(ps, 50000e3) << line;
    EXPECT_LE(ps, 100000e3) << line;
    ++stamps;
  }
  EXPECT_GT(stamps, 20u);
  const auto timeline = nlohmann::json::parse(read_file(options.out_dir + "/timeline.json"));
  for (const auto& e : timeline["traceEvents"]) {
    if (e["ph"] != "X") continue;
    EXPECT_GE(e["ts"].get<double>() + e["dur"].get<double>(), 50.0) << e;
    EXPECT_LE(e["ts"].get<double>(), 100.0) << e;
  }
  std::ifstream power(options.out_dir + "/power.csv");
  std::string header, first;
  std::getline(power, header);
  std::getline(power, first);
  EXPECT_EQ(first.rfind("0,", 0), 0u) << "power.csv starts at 0: " << first;
  EXPECT_GT(r["sim"]["simulated_ns"].get<double>(), 100000.0);
}

TEST(TraceOptions, IncludeKeepsOnlySignalsUnderThePrefix) {
  RunOptions options;
  options.out_dir = out_dir("include");
  options.trace.include = {"soc.dram"};
  run(load_platform(kPreset, {}), options);
  const std::string vcd = read_file(options.out_dir + "/trace.vcd");
  EXPECT_THAT(vcd, HasSubstr("$scope module dram $end"));
  EXPECT_THAT(vcd, ::testing::Not(HasSubstr("$scope module npu $end")));
}

// Each run elaborates a SoC, so each test runs one.
TEST(TraceOptions, TheDramCommandBusIsNotTracedByDefault) {
  RunOptions options;
  options.out_dir = out_dir("dram_default");
  run(load_platform(kPreset, {}), options);
  const std::string vcd = read_file(options.out_dir + "/trace.vcd");
  EXPECT_THAT(vcd, HasSubstr(" bank7 $end"));
  EXPECT_THAT(vcd, ::testing::Not(HasSubstr(" command $end")));
}

TEST(TraceOptions, TheDramCommandBusIsTracedWhenAskedFor) {
  RunOptions options;
  options.out_dir = out_dir("dram_commands");
  options.trace.dram_commands = true;
  run(load_platform(kPreset, {}), options);
  const std::string vcd = read_file(options.out_dir + "/trace.vcd");
  EXPECT_THAT(vcd, HasSubstr("$var wire 4 "));
  EXPECT_THAT(vcd, HasSubstr(" command $end"));
  // GTKWave shows the commands by name (docs/waveforms.md).
  EXPECT_EQ(read_file(options.out_dir + "/trace.dram_command.txt"),
            "0 NOP\n1 ACT\n2 PREpb\n3 PREab\n4 RD\n5 WR\n6 RDA\n7 WRA\n8 REFab\n9 REFpb\n");
  EXPECT_THAT(read_file(options.out_dir + "/trace.gtkw"),
              HasSubstr("soc.dram.ch0.bank7[1:0]\n^3 trace.dram_command.txt\nsoc.dram.ch0.command[3:0]\n"));
}

// A link's busy edges are most of a network run's changes: left out unless
// asked for, while its utilization per power window is always traced.
TEST(TraceOptions, NocLinksShowTheirUtilizationAndNoBusyEdgesByDefault) {
  RunOptions options;
  options.out_dir = out_dir("noc_default");
  run(load_platform(kPreset, {}), options);
  const auto signals = test::changes_by_name(read_file(options.out_dir + "/trace.vcd"));
  std::size_t utilization = 0;
  for (const auto& [name, changes] : signals) {
    if (name.rfind("soc.npu.noc.", 0) != 0) continue;
    EXPECT_THAT(name, EndsWith(".utilization"));
    if (!changes.empty()) ++utilization;
  }
  EXPECT_GT(utilization, 10u) << "links that carried flits";
}

// Asked for, every link's busy edges are there, and each power window's
// utilization is the share of its 800 cycles (1.25 ns, 1 us windows) between
// them, all but the last window, which the end of the run cuts short.
TEST(TraceOptions, EachNocLinksUtilizationIsItsBusyCyclesPerPowerWindow) {
  RunOptions options;
  options.out_dir = out_dir("noc_links");
  options.trace.noc_links = true;
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  const auto signals = test::changes_by_name(read_file(options.out_dir + "/trace.vcd"));
  constexpr std::uint64_t kCyclePs = 1250, kWindowPs = 1'000'000, kCycles = kWindowPs / kCyclePs;
  const auto windows = static_cast<std::uint64_t>(r["sim"]["simulated_ns"].get<double>() * 1000) / kWindowPs;
  std::size_t links = 0;
  for (const auto& [name, edges] : signals) {
    if (name.rfind("soc.npu.noc.", 0) != 0 || name.size() < 5 || name.compare(name.size() - 5, 5, ".busy") != 0)
      continue;
    if (!edges.empty()) ++links;
    std::vector<std::uint64_t> busy(windows + 1, 0);
    std::uint64_t rise = 0;
    for (const auto& [ps, value] : edges) {
      if (value == "1") rise = ps;
      for (std::uint64_t cycle = rise / kCyclePs; value == "0" && cycle < ps / kCyclePs; ++cycle)
        if (cycle * kCyclePs / kWindowPs <= windows) ++busy[cycle * kCyclePs / kWindowPs];
    }
    const std::string link = name.substr(0, name.size() - 5);
    const test::Changes& values = signals.at(link + ".utilization");
    auto next = values.begin();
    double value = 0;
    for (std::uint64_t w = 0; w < windows; ++w) {
      for (; next != values.end() && next->first <= w * kWindowPs; ++next) value = std::stod(next->second);
      ASSERT_EQ(value, static_cast<double>(busy[w]) / kCycles) << link << " window " << w;
    }
  }
  EXPECT_GT(links, 10u);
}

TEST(TraceOptions, TruncationByTheCapIsRecorded) {
  RunOptions options;
  options.out_dir = out_dir("cap");
  const nlohmann::json r = run(load_platform(kPreset, {"simulation.vcd_max_changes=1000"}), options);
  EXPECT_TRUE(r["sim"]["trace_truncated"].get<bool>());
  EXPECT_EQ(r["sim"]["trace_changes"].get<std::size_t>(), 1000u);
  // The file is whole up to a time it names, where it ends: 2^22 ps here.
  EXPECT_FALSE(r["sim"]["trace_timeline_truncated"].get<bool>()) << "the VCD's cap, not the timeline's";
  const double until_ns = r["sim"]["trace_vcd_complete_until_ns"].get<double>();
  EXPECT_DOUBLE_EQ(until_ns, 4194.304);
  EXPECT_THAT(read_file(options.out_dir + "/trace.vcd"),
              EndsWith("\n#4194304\n$comment\n  truncated at 1000 changes: every signal is complete up to here, "
                       "later changes are left out\n$end\n"));
}

TEST(TraceOptions, NoChangeArrivesLaterThanTheWindowAllows) {
  RunOptions options;
  options.out_dir = out_dir("late");
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  EXPECT_FALSE(r["sim"]["trace_truncated"].get<bool>());
  EXPECT_TRUE(r["sim"]["trace_vcd_complete_until_ns"].is_null());
  EXPECT_GT(r["sim"]["trace_changes"].get<std::size_t>(), 10000u);
  EXPECT_EQ(r["sim"]["trace_late_changes"].get<std::size_t>(), 0u);
}

TEST(TraceOptions, BadValuesAreRefusedNamingTheOptionAndTheText) {
  try {
    parse_traces("vcd,bogus");
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("--traces"));
    EXPECT_THAT(e.what(), HasSubstr("'vcd,bogus'"));
    EXPECT_THAT(e.what(), HasSubstr("vcd, timeline, power, fst, packets"));
  }
  for (const char* bad : {"100", "5:2", "-1:10", "a:b", "1:2x"}) {
    try {
      parse_trace_window(bad);
      FAIL() << bad << " accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr("--trace-window"));
      EXPECT_THAT(e.what(), HasSubstr(std::string("'") + bad + "'"));
    }
  }
  const TraceFiles all = parse_traces("all");
  EXPECT_TRUE(all.vcd && all.timeline && all.power);
  EXPECT_FALSE(all.packets);
  EXPECT_EQ(parse_trace_window("10:20.5"), std::make_pair(10.0, 20.5));
}

}  // namespace
}  // namespace npuvp::platform
