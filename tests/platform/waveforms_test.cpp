// Waveforms a hardware engineer can read: GTKWave's save file and translate
// filters beside the trace, the stall, IRQ and host-bus signals, the
// timeline's slice args and FST through GTKWave's vcd2fst. Each TEST that
// runs conv_slice elaborates a platform, so each runs in its own process.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "models/common/natural_order.h"
#include "platform/platform_config.h"
#include "platform/run.h"
#include "platform/trace_gtkw.h"
#include "platform/trace_options.h"
#include "platform/vcd2fst.h"
#include "tests/support/vcd_text.h"

namespace npuvp::platform {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const char* kPreset = "configs/platforms/edge-ip.yaml";

std::string out_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_waves_" + name);
  std::filesystem::remove_all(dir);
  return dir.string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Runs `command` through the shell; its exit status, -1 if it died.
int shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Waveforms, NamesSortNumbersByValue) {
  EXPECT_TRUE(natural_less("cluster_2", "cluster_10"));
  EXPECT_FALSE(natural_less("cluster_10", "cluster_2"));
  EXPECT_TRUE(natural_less("r1_9.E", "r1_10.E"));
  EXPECT_TRUE(natural_less("bank", "bank0"));
  EXPECT_TRUE(natural_less("a1", "a01")) << "equal values: fewer leading zeros first";
  EXPECT_FALSE(natural_less("x", "x"));
  EXPECT_TRUE(natural_less("ch9", "ci0"));
}

// The save file of a small trace: groups per module (lead group first, the
// others in natural order), vectors with their bit range, enumerations
// through numbered filter files, hex addresses.
TEST(Waveforms, SaveFileGroupsSignalsPerModuleInNaturalOrder) {
  const std::vector<WaveSignal> signals = {{"soc.npu.cluster_10.busy", 1}, {"soc.npu.cluster_2.stall", 3},
                                           {"soc.npu.cluster_2.busy", 1},  {"soc.npu.control.layer", 16},
                                           {"soc.bus.host.address", 40},   {"soc.power.total_mw", 0}};
  const std::vector<WaveEnum> enums = {
      {"trace.layer.txt", std::regex("soc\\.npu\\.control\\.layer"), {{0, "conv1"}}},
      {"trace.cluster_stall.txt", std::regex("soc\\.npu\\.[^.]+\\.stall"), {{0, "none"}}}};
  EXPECT_EQ(gtkw_text("trace.vcd", signals, enums, {"soc.npu.control"}),
            "[*] npuvp: GTKWave save file for trace.vcd\n"
            "[dumpfile] \"trace.vcd\"\n"
            "[savefile] \"trace.gtkw\"\n"
            "@800200\n"
            "-soc.npu.control\n"
            "@2024\n"
            "^1 trace.layer.txt\n"
            "soc.npu.control.layer[15:0]\n"
            "@1000200\n"
            "-soc.npu.control\n"
            "@800200\n"
            "-soc.bus.host\n"
            "@22\n"
            "soc.bus.host.address[39:0]\n"
            "@1000200\n"
            "-soc.bus.host\n"
            "@800200\n"
            "-soc.npu.cluster_2\n"
            "@28\n"
            "soc.npu.cluster_2.busy\n"
            "@2024\n"
            "^2 trace.cluster_stall.txt\n"
            "soc.npu.cluster_2.stall[2:0]\n"
            "@1000200\n"
            "-soc.npu.cluster_2\n"
            "@800200\n"
            "-soc.npu.cluster_10\n"
            "@28\n"
            "soc.npu.cluster_10.busy\n"
            "@1000200\n"
            "-soc.npu.cluster_10\n"
            "@800200\n"
            "-soc.power\n"
            "@28\n"
            "soc.power.total_mw\n"
            "@1000200\n"
            "-soc.power\n");
}

TEST(Waveforms, FilterFilesListValueAndNameInDecimal) {
  const WaveEnum e{"trace.layer.txt", std::regex("x"), {{0, "conv1"}, {1, "block 2/conv\n"}, {65535, "idle"}}};
  EXPECT_EQ(filter_text(e), "0 conv1\n1 block 2/conv?\n65535 idle\n");
}

TEST(Waveforms, FstIsAListItemThatAlsoWritesTheVcd) {
  const TraceFiles f = parse_traces("fst,timeline");
  EXPECT_TRUE(f.vcd && f.fst && f.timeline);
  EXPECT_FALSE(f.power);
  EXPECT_FALSE(parse_traces("all").fst) << "all writes the VCD, not FST";
}

// Value changes of one signal, by hierarchical name, from a VCD's text (not
// the initial dump).
std::vector<std::pair<std::uint64_t, std::uint64_t>> changes(const std::string& vcd, const std::string& name) {
  const auto signals = test::changes_by_name(vcd);
  const auto signal = signals.find(name);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  if (signal == signals.end()) {
    ADD_FAILURE() << name << " is not in the VCD";
    return out;
  }
  for (const auto& [t, value] : signal->second) out.emplace_back(t, std::stoull(value, nullptr, 2));
  return out;
}

TEST(Waveforms, ConvSliceWritesTheSaveFileAndFiltersBesideTheVcd) {
  RunOptions options;
  options.out_dir = out_dir("gtkw");
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  const auto files = r["sim"]["files"].get<std::vector<std::string>>();
  for (const char* f :
       {"trace.vcd", "trace.gtkw", "trace.layer.txt", "trace.bank_state.txt", "trace.cluster_stall.txt"}) {
    EXPECT_NE(std::find(files.begin(), files.end(), f), files.end()) << f;
    EXPECT_TRUE(std::filesystem::exists(options.out_dir + "/" + f)) << f;
  }
  // The DRAM command bus is not traced by default: no filter for it.
  EXPECT_EQ(std::find(files.begin(), files.end(), "trace.dram_command.txt"), files.end());
  std::string layers;
  for (std::size_t i = 0; i < r["layers"].size(); ++i)
    layers += std::to_string(i) + " " + r["layers"][i]["name"].get<std::string>() + "\n";
  EXPECT_EQ(read_file(options.out_dir + "/trace.layer.txt"), layers + "65535 idle\n");
  EXPECT_EQ(read_file(options.out_dir + "/trace.bank_state.txt"), "0 idle\n1 active\n2 refreshing\n");
  EXPECT_EQ(read_file(options.out_dir + "/trace.cluster_stall.txt"),
            "0 none\n1 weights\n2 inputs\n3 buffer_port\n4 results\n");
  const std::string gtkw = read_file(options.out_dir + "/trace.gtkw");
  EXPECT_EQ(gtkw.rfind("[*] npuvp: GTKWave save file for trace.vcd\n[dumpfile] \"trace.vcd\"\n", 0), 0u) << gtkw;
  // The NPU's control first, with the layer by name; clusters in natural order.
  EXPECT_THAT(gtkw, HasSubstr("@800200\n-soc.npu.control\n@28\nsoc.npu.control.busy\nsoc.npu.control.host_irq\n"
                              "@2024\n^1 trace.layer.txt\nsoc.npu.control.layer[15:0]\n"));
  EXPECT_LT(gtkw.find("-soc.npu.cluster_2\n"), gtkw.find("-soc.npu.cluster_10\n"));
  EXPECT_THAT(gtkw, HasSubstr("^3 trace.cluster_stall.txt\nsoc.npu.cluster_15.stall[2:0]\n"));
  EXPECT_THAT(gtkw, HasSubstr("@22\nsoc.bus.host.address[39:0]\n"));
  // Every signal of the VCD is in the save file.
  const std::string vcd = read_file(options.out_dir + "/trace.vcd");
  std::istringstream lines(gtkw);
  std::size_t listed = 0;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("soc.", 0) == 0) ++listed;
  std::size_t declared = 0;
  for (std::size_t at = 0; (at = vcd.find("$var ", at)) != std::string::npos; ++at) ++declared;
  EXPECT_EQ(listed, declared);
  // Scopes in natural order in the VCD too.
  EXPECT_LT(vcd.find("$scope module cluster_2 $end"), vcd.find("$scope module cluster_10 $end"));
}

// A bank's state in the VCD is its row's: active from each ACT to its
// precharge, as long as the report's row_open_fraction counts it. An ACT
// issued before a refresh's tRFC had ended was shown idle until its
// precharge (conv_slice: bank 5 active 9.2 % of the run against 12.0 %),
// and the report left out rows still open at the end.
TEST(Waveforms, EachBanksActiveTimeIsItsRowOpenTime) {
  RunOptions options;
  options.out_dir = out_dir("banks");
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  const std::string vcd = read_file(options.out_dir + "/trace.vcd");
  const auto& dram = r["dram"];
  const double end_ps = dram["elapsed_ns"].get<double>() * 1e3;
  const double tck_ps = 1e6 / 2133.0;  // LPDDR4X-4266's clock
  ASSERT_GT(dram["refresh_count"].get<std::uint64_t>(), 0u);
  for (std::size_t c = 0; c < dram["per_bank"].size(); ++c)
    for (std::size_t b = 0; b < dram["per_bank"][c].size(); ++b) {
      const auto& bank = dram["per_bank"][c][b];
      double active_ps = 0, since = -1;
      for (const auto& [t, state] : changes(vcd, "soc.dram.ch" + std::to_string(c) + ".bank" + std::to_string(b))) {
        if (since >= 0) active_ps += double(t) - since;
        since = state == 1 ? double(t) : -1;
      }
      if (since >= 0) active_ps += end_ps - since;
      const double open_ps = bank["row_open_fraction"].get<double>() * end_ps;
      EXPECT_NEAR(active_ps, open_ps, (bank["activates"].get<double>() + 1) * tck_ps)
          << "channel " << c << " bank " << b;
    }
}

// A cluster's stall signal is its stall counter, edge for edge, and no edge
// comes too late for the trace's reorder window. Recorded at each job's end,
// the first edges of a long job were late (MobileNet v1 at 64 x 64: 7 late
// changes; cluster_10 shown stalled 63,004 cycles against 63,775 counted).
TEST(Waveforms, EachClustersStallTimeIsItsStallCount) {
  RunOptions options;
  options.out_dir = out_dir("stalls");
  options.network = "mobilenet_v1";
  options.input_h = options.input_w = 64;
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  EXPECT_EQ(r["sim"]["trace_late_changes"].get<std::size_t>(), 0u);
  const std::string vcd = read_file(options.out_dir + "/trace.vcd");
  for (int c = 0; c < 16; ++c) {
    const std::string cluster = "soc.npu.cluster_" + std::to_string(c);
    std::uint64_t stalled_ps = 0, since = 0;
    bool stalled = false;
    for (const auto& [t, stall] : changes(vcd, cluster + ".stall")) {
      if (stalled) stalled_ps += t - since;
      stalled = stall != 0;
      since = t;
    }
    EXPECT_FALSE(stalled) << cluster;
    EXPECT_EQ(stalled_ps, r["units"][cluster]["stall_cycles"].get<std::uint64_t>() * 1250) << cluster;
  }
}

TEST(Waveforms, StallIrqAndHostBusSignalsAreTracedWithoutChangingTheTiming) {
  RunOptions options;
  options.out_dir = out_dir("signals");
  const nlohmann::json traced = run(load_platform(kPreset, {}), options);
  const std::string vcd = read_file(options.out_dir + "/trace.vcd");
  // The cluster is stalled only while it has a job; it waits on each kind of
  // operand at some point of conv_slice. (Its job queue keeps it busy from
  // its first job to its last: one busy run.)
  const auto busy = changes(vcd, "soc.npu.cluster_0.busy");
  const auto stall = changes(vcd, "soc.npu.cluster_0.stall");
  ASSERT_GE(busy.size(), 2u);
  ASSERT_EQ(busy.back().second, 0u);
  std::map<std::uint64_t, std::size_t> kinds;
  for (const auto& [t, v] : stall) {
    ++kinds[v];
    if (v == 0) continue;
    auto b = std::upper_bound(busy.begin(), busy.end(), std::make_pair(t, UINT64_MAX));
    ASSERT_NE(b, busy.begin());
    EXPECT_EQ(std::prev(b)->second, 1u) << "stall " << v << " at " << t << " ps while idle";
  }
  for (const std::uint64_t kind : {1u, 2u, 4u}) EXPECT_GT(kinds[kind], 0u) << "stall kind " << kind;
  // The host interrupt rises once per command buffer completed and is
  // cleared by the driver each time.
  const auto irq = changes(vcd, "soc.npu.control.host_irq");
  std::size_t raised = 0;
  for (const auto& [t, v] : irq) raised += v;
  EXPECT_EQ(raised, traced["units"]["soc.npu.control"]["command_buffers"].get<std::size_t>());
  EXPECT_EQ(irq.back().second, 0u) << "the driver acknowledged the last interrupt";
  // The host's first bus access is the driver's probe: a read of the NPU's
  // first register; later it writes the network into DRAM.
  const auto address = changes(vcd, "soc.bus.host.address");
  const auto write = changes(vcd, "soc.bus.host.write");
  ASSERT_FALSE(address.empty());
  EXPECT_EQ(address.front().second, 0x4000'0000u);
  EXPECT_TRUE(std::any_of(address.begin(), address.end(), [](const auto& c) { return c.second >= 0x8000'0000u; }));
  EXPECT_TRUE(std::any_of(write.begin(), write.end(), [](const auto& c) { return c.second == 1; }));
  EXPECT_GT(changes(vcd, "soc.bus.npu_dma.busy").size(), 2u);
  // The same run without traces (another process: SystemC elaborates once)
  // takes exactly as long and reports the same.
  const std::string untraced_dir = out_dir("signals_untraced");
  ASSERT_EQ(shell(std::string(NPUVP_CLI) + " run -q --traces none --out " + untraced_dir + " > /dev/null"), 0);
  nlohmann::json untraced = nlohmann::json::parse(read_file(untraced_dir + "/report.json"));
  nlohmann::json traced_result = traced;
  EXPECT_EQ(traced_result["sim"]["simulated_ns"], untraced["sim"]["simulated_ns"]);
  traced_result.erase("sim");
  untraced.erase("sim");
  EXPECT_EQ(traced_result, untraced);
}

TEST(Waveforms, TimelineSlicesCarryArgs) {
  RunOptions options;
  options.out_dir = out_dir("timeline");
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  const auto timeline = nlohmann::json::parse(read_file(options.out_dir + "/timeline.json"));
  std::map<std::string, std::size_t> by_category;
  std::map<std::string, std::set<std::int64_t>> banks;  // per operand, the banks its jobs start in
  for (const auto& e : timeline["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ++by_category[e["cat"].get<std::string>()];
    ASSERT_TRUE(e.contains("args")) << e;
    const auto& a = e["args"];
    if (e["cat"] == "layer") {
      const auto& layer = r["layers"][a["layer"].get<std::size_t>()];
      EXPECT_EQ(e["name"], layer["name"]);
      EXPECT_EQ(a["cycles"], layer["cycles"]);
      EXPECT_EQ(a["dram_read_bytes"], layer["dram_read_bytes"]);
    } else if (e["cat"] == "cluster") {
      EXPECT_EQ(a["layer"], 0) << "conv_slice has one layer";
      EXPECT_GT(a["input_bytes"].get<std::int64_t>(), 0);
      EXPECT_GT(a["result_bytes"].get<std::int64_t>(), 0);
      EXPECT_THAT(a["job"].get<std::string>(), ::testing::StartsWith("0x"));
      EXPECT_TRUE(a.contains("tile_row") && a.contains("out") && a.contains("dataflow")) << a;
      for (const char* operand : {"input_bank", "weight_bank", "output_bank"}) {
        const auto bank = a[operand].get<std::int64_t>();
        EXPECT_TRUE(bank >= 0 && bank < r["platform"]["sram"]["banks"].get<std::int64_t>()) << operand << " " << a;
        banks[operand].insert(bank);
      }
    } else if (e["cat"] == "dma") {
      EXPECT_GT(a["bytes"].get<std::int64_t>(), 0);
      EXPECT_THAT(a["descriptor"].get<std::string>(), ::testing::StartsWith("0x"));
    }
  }
  EXPECT_EQ(by_category["layer"], 1u);
  EXPECT_GT(by_category["cluster"], 0u);
  EXPECT_GT(by_category["dma"], 0u);
  // Interleaved, the tiles' buffers start in different banks.
  EXPECT_GT(banks["input_bank"].size(), 1u);
  EXPECT_GT(banks["output_bank"].size(), 1u);
}

TEST(Waveforms, FstIsConvertedByVcd2fstAndTheSaveFilePointsAtIt) {
  if (find_on_path("vcd2fst").empty()) GTEST_SKIP() << "vcd2fst (Debian package gtkwave) is not on PATH";
  RunOptions options;
  options.out_dir = out_dir("fst");
  options.trace.files = parse_traces("fst");
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  EXPECT_FALSE(std::filesystem::exists(options.out_dir + "/trace.vcd")) << "the VCD is removed once converted";
  ASSERT_TRUE(std::filesystem::exists(options.out_dir + "/trace.fst"));
  const auto files = r["sim"]["files"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(files.begin(), files.end(), "trace.fst"), files.end());
  EXPECT_EQ(std::find(files.begin(), files.end(), "trace.vcd"), files.end());
  EXPECT_THAT(read_file(options.out_dir + "/trace.gtkw"), HasSubstr("[dumpfile] \"trace.fst\"\n"));
  for (const auto& entry : std::filesystem::directory_iterator(options.out_dir))
    EXPECT_THAT(entry.path().filename().string(), Not(HasSubstr(".part"))) << "no temporary file is left";
  // Back to VCD with GTKWave's reader: the new signals survived.
  if (!find_on_path("fst2vcd").empty()) {
    const std::string back = options.out_dir + "/back.vcd";
    ASSERT_EQ(shell("fst2vcd '" + options.out_dir + "/trace.fst' > '" + back + "' 2>/dev/null"), 0);
    for (const char* s : {" stall ", " host_irq ", " address ", "$scope module cluster_15 $end"})
      EXPECT_THAT(read_file(back), HasSubstr(s));
  }
  // Run to run, byte for byte (another process: SystemC elaborates once).
  const std::string again = out_dir("fst_again");
  ASSERT_EQ(shell(std::string(NPUVP_CLI) + " run -q --traces fst --out " + again + " > /dev/null"), 0);
  EXPECT_EQ(read_file(options.out_dir + "/trace.fst"), read_file(again + "/trace.fst"));
}

TEST(Waveforms, FstWithoutVcd2fstIsRefusedBeforeTheRun) {
  const std::string empty = out_dir("no_path_dir");
  std::filesystem::create_directories(empty);
  ASSERT_EQ(setenv("PATH", empty.c_str(), 1), 0);
  RunOptions options;
  options.out_dir = out_dir("no_vcd2fst");
  options.trace.files = parse_traces("fst");
  try {
    run(load_platform(kPreset, {}), options);
    FAIL() << "ran without vcd2fst";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(),
                 "FST traces (--traces fst, simulation.vcd_fst) need GTKWave's vcd2fst, which is not on PATH: install "
                 "GTKWave (Debian package gtkwave) or write the VCD (--traces vcd)");
  }
  EXPECT_FALSE(std::filesystem::exists(options.out_dir + "/report.json")) << "refused before simulating";
}

// GTKWave itself, headless: loads the save file from another directory, and
// shows the layer and a cluster's stall by name.
TEST(Waveforms, GtkwaveShowsTheEnumerationsByName) {
  if (find_on_path("gtkwave").empty() || find_on_path("xvfb-run").empty())
    GTEST_SKIP() << "gtkwave or xvfb-run (Debian packages gtkwave, xvfb) is not on PATH";
  RunOptions options;
  options.out_dir = out_dir("gtkwave");
  const nlohmann::json r = run(load_platform(kPreset, {}), options);
  const std::string script = options.out_dir + "/probe.tcl";
  // Halfway through the layer, as the timeline places it (microseconds).
  double mid_ps = 0;
  const auto timeline = nlohmann::json::parse(read_file(options.out_dir + "/timeline.json"));
  for (const auto& e : timeline["traceEvents"])
    if (e["ph"] == "X" && e["cat"] == "layer") mid_ps = (e["ts"].get<double>() + e["dur"].get<double>() / 2) * 1e6;
  ASSERT_GT(mid_ps, 0);
  std::ofstream(script)
      << "set n [gtkwave::getTotalNumTraces]\n"
      << "gtkwave::setMarker " << static_cast<std::uint64_t>(mid_ps) << "\n"
      << "for {set i 0} {$i < $n} {incr i} {\n"
      << "  puts \"VALUE [gtkwave::getTraceNameFromIndex $i]=[gtkwave::getTraceValueAtMarkerFromIndex "
         "$i]\"\n"
      << "}\n"
      << "gtkwave::/File/Quit\n";
  const std::string log = options.out_dir + "/gtkwave.log";
  ASSERT_EQ(shell("cd / && timeout 120 xvfb-run -a gtkwave -S '" + script + "' '" + options.out_dir +
                  "/trace.gtkw' > '" + log + "' 2>&1"),
            0)
      << read_file(log);
  const std::string printed = read_file(log);
  EXPECT_THAT(printed, HasSubstr("VALUE layer[15:0]=" + r["layers"][0]["name"].get<std::string>() + "\n")) << printed;
  EXPECT_THAT(printed, HasSubstr("VALUE bank0[1:0]=")) << printed;
  EXPECT_THAT(printed, Not(HasSubstr("VALUE layer[15:0]=0\n")));
  EXPECT_TRUE(
      std::regex_search(printed, std::regex("VALUE stall\\[2:0\\]=(none|weights|inputs|buffer_port|results)\n")))
      << printed;
}

}  // namespace
}  // namespace npuvp::platform
