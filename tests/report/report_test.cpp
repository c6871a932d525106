#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>

#include "platform/report/report_util.h"
#include "platform/report/report_writer.h"
#include "tests/report/crafted_record.h"

namespace npuvp::report {
namespace {

using testing::crafted_record;
using testing::Expected;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::read_text;
using testing::ScratchDir;

// Rows of a CSV file as maps from header to field; handles quoted fields.
std::vector<std::map<std::string, std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(field);
      field.clear();
    } else if (c == '\n') {
      rows.back().push_back(field);
      field.clear();
      rows.emplace_back();
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  std::vector<std::map<std::string, std::string>> out;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    EXPECT_EQ(rows[r].size(), rows[0].size()) << "row " << r;
    std::map<std::string, std::string> m;
    for (std::size_t c = 0; c < rows[0].size() && c < rows[r].size(); ++c) m[rows[0][c]] = rows[r][c];
    out.push_back(m);
  }
  return out;
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

class ReportOutputs : public ::testing::Test {
 protected:
  void SetUp() override { write_run_outputs(record_, dir_.path().string()); }
  RunRecord record_ = crafted_record();
  ScratchDir dir_{::testing::UnitTest::GetInstance()->current_test_info()->name()};
};

TEST_F(ReportOutputs, WritesEveryFile) {
  for (const char* f : {"report.json", "layers.csv", "power.csv", "timeline.json", "roofline.svg", "report.html"}) {
    ASSERT_TRUE(std::filesystem::exists(dir_ / f)) << f;
    EXPECT_GT(std::filesystem::file_size(dir_ / f), 0u) << f;
  }
  EXPECT_EQ(nlohmann::json::parse(read_text(dir_ / "report.json")), record_.report);
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_NE(entry.path().extension(), ".part") << entry.path();
    ++files;
  }
  EXPECT_EQ(files, 6u) << "no temporary or probe file is left";
}

TEST_F(ReportOutputs, AFileThatCannotBeWrittenIsAnErrorNamingIt) {
  // power.csv on a full disk: /dev/full, linked to from its place.
  std::filesystem::remove(dir_ / "power.csv");
  std::filesystem::create_symlink("/dev/full", dir_ / "power.csv");
  try {
    write_run_outputs(record_, dir_.path().string());
    ADD_FAILURE() << "a write to a full disk went unnoticed";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "cannot write " + (dir_ / "power.csv").string() + ": No space left on device");
  }
}

TEST_F(ReportOutputs, EnergyTotalsEqualSumsOfComponentsAndOfLayers) {
  EXPECT_THAT(energy_inconsistencies(record_.report), ::testing::IsEmpty());

  // layers.csv carries the same figures: each row's components add to its
  // total, and the rows add to the hand-computed 10.4 uJ.
  const auto rows = parse_csv(read_text(dir_ / "layers.csv"));
  ASSERT_EQ(rows.size(), 3u);
  std::map<std::string, double> by_component;
  double total = 0;
  for (const auto& row : rows) {
    double sum = 0;
    for (const char* c : {"mac", "rf", "sram", "noc", "dram", "leakage"}) {
      const double v = std::stod(row.at(std::string("energy_") + c + "_pj"));
      sum += v;
      by_component[c] += v;
    }
    EXPECT_DOUBLE_EQ(sum, std::stod(row.at("energy_total_pj"))) << row.at("name");
    total += std::stod(row.at("energy_total_pj"));
  }
  EXPECT_DOUBLE_EQ(total, Expected::kEnergyPj);
  for (const auto& [c, v] : by_component)
    EXPECT_DOUBLE_EQ(v, record_.report["totals"]["energy_pj"][c].get<double>()) << c;
}

TEST(EnergyCheck, NamesEachDisagreement) {
  auto report = crafted_record().report;
  report["layers"][1]["energy_pj"]["dram"] = 2'000'100.0;  // components no longer add up, nor do the layers
  report["totals"]["energy_uj"] = 10.5;
  const auto problems = energy_inconsistencies(report);
  ASSERT_EQ(problems.size(), 3u) << ::testing::PrintToString(problems);
  EXPECT_THAT(problems[0], HasSubstr("layers[1]"));
  EXPECT_THAT(problems[1], HasSubstr("totals.energy_pj.dram"));
  EXPECT_THAT(problems[2], HasSubstr("totals.energy_uj"));
}

TEST_F(ReportOutputs, PowerCsvIntegratesToTheRecordedEnergy) {
  const std::string text = read_text(dir_ / "power.csv");
  EXPECT_EQ(first_line(text), "time_ns,window_ns,mac_mw,rf_mw,buffer_mw,sram_mw,noc_mw,dram_mw,leakage_mw,total_mw");
  const auto rows = parse_csv(text);
  ASSERT_EQ(rows.size(), record_.power.size());
  double energy_pj = 0, peak = 0, previous_end = 0;
  for (const auto& row : rows) {
    const double total = std::stod(row.at("total_mw"));
    double components = 0;
    for (const auto& [k, v] : row)
      if (k != "total_mw" && k.size() > 3 && k.compare(k.size() - 3, 3, "_mw") == 0) components += std::stod(v);
    EXPECT_NEAR(components, total, 1e-9 * total);
    EXPECT_DOUBLE_EQ(std::stod(row.at("time_ns")), previous_end) << "windows are contiguous";
    previous_end = std::stod(row.at("time_ns")) + std::stod(row.at("window_ns"));
    energy_pj += total * std::stod(row.at("window_ns"));  // mW x ns = pJ
    peak = std::max(peak, total);
  }
  const double recorded = record_.report["totals"]["energy_pj"]["total"].get<double>();
  EXPECT_NEAR(energy_pj, recorded, 1e-6 * recorded);
  EXPECT_NEAR(energy_pj, Expected::kEnergyPj, 1e-6 * Expected::kEnergyPj);
  EXPECT_DOUBLE_EQ(peak, Expected::kPeakPowerMw);
  EXPECT_DOUBLE_EQ(previous_end * 1e-6, Expected::kLatencyMs);
}

TEST_F(ReportOutputs, TimelineIsTraceEventJsonWithSlicesTracksAndPowerCounters) {
  const auto timeline = nlohmann::json::parse(read_text(dir_ / "timeline.json"));
  ASSERT_TRUE(timeline.contains("traceEvents"));
  ASSERT_TRUE(timeline["traceEvents"].is_array());
  std::set<std::pair<int, int>> named_threads;
  std::set<int> named_processes;
  std::vector<nlohmann::json> slices, counters;
  for (const auto& e : timeline["traceEvents"]) {
    ASSERT_TRUE(e.contains("ph") && e.contains("name") && e.contains("pid")) << e;
    const std::string ph = e["ph"];
    if (ph == "M" && e["name"] == "thread_name") named_threads.insert({e["pid"].get<int>(), e["tid"].get<int>()});
    if (ph == "M" && e["name"] == "process_name") named_processes.insert(e["pid"].get<int>());
    if (ph == "X") slices.push_back(e);
    if (ph == "C") counters.push_back(e);
  }
  ASSERT_EQ(slices.size(), record_.timeline.size());
  std::set<std::string> names;
  for (const auto& s : slices) {
    for (const char* key : {"cat", "tid", "ts", "dur"}) EXPECT_TRUE(s.contains(key)) << key << " in " << s;
    EXPECT_TRUE(named_threads.count({s["pid"].get<int>(), s["tid"].get<int>()})) << "thread without thread_name: " << s;
    EXPECT_TRUE(named_processes.count(s["pid"].get<int>())) << s;
    names.insert(s["name"].get<std::string>());
  }
  EXPECT_EQ(names.count("dw<2>&sep,\"x\""), 1u);
  EXPECT_EQ(named_threads.size(), 3u);  // npu.layers, npu.cluster0, dma.ch0
  // Microseconds: fc starts at 150 us and lasts 50 us.
  const auto fc = std::find_if(slices.begin(), slices.end(), [](const auto& s) { return s["name"] == "fc"; });
  ASSERT_NE(fc, slices.end());
  EXPECT_DOUBLE_EQ((*fc)["ts"].get<double>(), 150.0);
  EXPECT_DOUBLE_EQ((*fc)["dur"].get<double>(), 50.0);

  // Counters: one per window and one closing the last, per counter name.
  std::map<std::string, std::vector<nlohmann::json>> by_name;
  for (const auto& c : counters) by_name[c["name"]].push_back(c);
  ASSERT_EQ(by_name.size(), 2u);
  const auto& per_component = by_name["power by component (mW)"];
  ASSERT_EQ(per_component.size(), record_.power.size() + 1);
  EXPECT_DOUBLE_EQ(per_component[3]["ts"].get<double>(), 150.0);
  EXPECT_DOUBLE_EQ(per_component[3]["args"]["dram_mw"].get<double>(), 80.0);
  EXPECT_DOUBLE_EQ(per_component.back()["ts"].get<double>(), 200.0);
  EXPECT_DOUBLE_EQ(by_name["total power (mW)"][2]["args"]["total_mw"].get<double>(), 53.0);
}

TEST_F(ReportOutputs, LayersCsvHasOneRowPerLayerWithItsFields) {
  const std::string text = read_text(dir_ / "layers.csv");
  EXPECT_EQ(
      text.rfind("name,type,in_c,in_h,in_w,out_c,out_h,out_w,kernel_h,kernel_w,stride_h,stride_w,pad_top,pad_left,"
                 "pad_bottom,pad_right,dilation_h,dilation_w,groups,macs",
                 0),
      0u)
      << first_line(text);
  const auto rows = parse_csv(text);
  ASSERT_EQ(rows.size(), 3u);
  // Arrays one column per element, nested objects one per leaf, lists of names in one cell.
  EXPECT_EQ(rows[0].at("stride_h"), "1");
  EXPECT_EQ(rows[0].at("stride_w"), "2");
  EXPECT_EQ(rows[0].at("pad_bottom"), "1");
  EXPECT_EQ(rows[0].at("dilation_h"), "");
  EXPECT_EQ(rows[0].at("tiling_order"), "row_tiles_outer");
  EXPECT_EQ(rows[0].at("tiling_k_block"), "8");
  EXPECT_EQ(rows[0].at("tiling_rows_per_tile"), "4");
  EXPECT_EQ(rows[0].at("inputs"), "a b");
  EXPECT_EQ(rows[1].at("name"), "dw<2>&sep,\"x\"");
  EXPECT_EQ(rows[1].at("type"), "depthwise");
  EXPECT_EQ(rows[1].at("stall_dram_cycles"), "37500");
  EXPECT_EQ(rows[1].at("stall_sram_conflict_cycles"), "0");
  EXPECT_EQ(rows[2].at("stall_dependency_cycles"), "3750");
  EXPECT_DOUBLE_EQ(std::stod(rows[0].at("ops_per_dram_byte")), 40.0);
  EXPECT_DOUBLE_EQ(std::stod(rows[2].at("ops_per_dram_byte")), 1.0);
  EXPECT_EQ(rows[0].at("verified"), "true");
}

TEST(Roofline, UsesThePresetsRoofsAndTwoOpsPerMac) {
  const auto r = roofline(crafted_record().report);
  // 1 cluster x 4 x 4 MACs x 2 ops x 1 GHz; SRAM 4 banks x 8 B x 1 GHz.
  EXPECT_DOUBLE_EQ(r["compute_roofs"][0]["peak_ops_per_s"].get<double>(), 32e9);
  EXPECT_EQ(r["compute_roofs"][0]["datatype"], "int8");
  EXPECT_DOUBLE_EQ(r["dram_bytes_per_s"].get<double>(), 4e9);
  EXPECT_EQ(r["dram_bandwidth_source"], "report.dram.peak_gbps");
  EXPECT_DOUBLE_EQ(r["sram_bytes_per_s"].get<double>(), 32e9);
  EXPECT_DOUBLE_EQ(r["ridge_ops_per_byte"]["dram"].get<double>(), 8.0);
  const auto& layers = r["layers"];
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_DOUBLE_EQ(layers[0]["intensity_ops_per_byte"].get<double>(), 40.0);
  EXPECT_EQ(layers[0]["bound"], "compute");
  EXPECT_DOUBLE_EQ(layers[0]["achieved_ops_per_s"].get<double>(), 2e6 / 100e-6);
  EXPECT_DOUBLE_EQ(layers[1]["intensity_ops_per_byte"].get<double>(), 4.0);
  EXPECT_EQ(layers[1]["bound"], "dram");
  EXPECT_DOUBLE_EQ(layers[1]["attainable_ops_per_s"].get<double>(), 16e9);
  EXPECT_DOUBLE_EQ(layers[2]["fraction_of_attainable"].get<double>(), (2e5 / 50e-6) / 4e9);
}

// With --ideal-memory the DRAM roof bounded nothing the run did: layers
// "bound" by it read 3.4 times their attainable rate.
TEST(Roofline, IdealMemoryLeavesTheComputeRoofAlone) {
  auto report = crafted_record().report;
  report["network"]["ideal_memory"] = true;
  const nlohmann::json r = roofline(report);
  const auto& layers = r["layers"];
  EXPECT_DOUBLE_EQ(layers[1]["intensity_ops_per_byte"].get<double>(), 4.0);
  EXPECT_EQ(layers[1]["bound"], "compute");
  EXPECT_DOUBLE_EQ(layers[1]["attainable_ops_per_s"].get<double>(), 32e9);
  // A batch's layers did each image's MACs in their latency.
  report["network"]["batch"] = 2;
  EXPECT_DOUBLE_EQ(roofline(report)["layers"][0]["achieved_ops_per_s"].get<double>(), 2 * 2e6 / 100e-6);
}

// Packed int4 lanes do two MACs a cycle: an int4 layer's roof is twice the
// int8 one (it was held to the int8 roof and read 1.56 of its attainable).
TEST(Roofline, PackedInt4LayersHaveARoofOfTheirOwn) {
  auto report = crafted_record().report;
  report["platform"]["pe_array"]["int4_packing"] = true;
  report["layers"][0]["datatype"] = "int4";
  const auto r = roofline(report);
  ASSERT_EQ(r["compute_roofs"].size(), 2u);
  EXPECT_EQ(r["compute_roofs"][1]["datatype"], "int4");
  EXPECT_DOUBLE_EQ(r["compute_roofs"][1]["peak_ops_per_s"].get<double>(), 64e9);
  EXPECT_DOUBLE_EQ(r["layers"][0]["peak_ops_per_s"].get<double>(), 64e9);
  EXPECT_DOUBLE_EQ(r["layers"][0]["attainable_ops_per_s"].get<double>(), 64e9);
  EXPECT_DOUBLE_EQ(r["layers"][1]["peak_ops_per_s"].get<double>(), 32e9);
  // Unpacked, int4 runs one MAC a lane: the int8 roof.
  report["platform"]["pe_array"]["int4_packing"] = false;
  EXPECT_EQ(roofline(report)["compute_roofs"].size(), 1u);
  EXPECT_DOUBLE_EQ(roofline(report)["layers"][0]["attainable_ops_per_s"].get<double>(), 32e9);
}

TEST(Roofline, FallsBackToTheMemspecForDramBandwidth) {
  auto report = crafted_record().report;
  report.erase("dram");
  const auto r = roofline(report);
  // LPDDR4-3200: 16 bit x 2 transfers per 0.625 ns clock = 6.4 GB/s per channel, 2 channels.
  EXPECT_NEAR(r["dram_bytes_per_s"].get<double>(), 12.8e9, 1e3);
  EXPECT_THAT(r["dram_bandwidth_source"].get<std::string>(), HasSubstr("lpddr4-3200"));
}

TEST(Roofline, LayerWithoutDramTrafficHasNoIntensity) {
  auto report = crafted_record().report;
  report["layers"][2]["dram_read_bytes"] = 0;
  report["layers"][2]["dram_write_bytes"] = 0;
  const auto r = roofline(report);
  EXPECT_TRUE(r["layers"][2]["intensity_ops_per_byte"].is_null());
  EXPECT_EQ(r["layers"][2]["bound"], "compute");
}

TEST(Roofline, MissingPlatformFigureIsNamed) {
  auto report = crafted_record().report;
  report["platform"]["pe_array"].erase("rows");
  try {
    roofline(report);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("pe_array.rows"));
  }
}

TEST(TextReport, ShowsEveryLayerStallCausesAndTotals) {
  const std::string text = format_text_report(crafted_record().report);
  for (const char* s : {"handnet on tiny", "conv1", "dw<2>&sep", "fc", "stall:dram", "stall:sram_conflict",
                        "stall:dependency", "ops/B", "0.2000 ms (200000 cycles)", "5000.0 FPS at batch 1", "10.400 uJ",
                        "avg 52.0 mW, peak 89.0 mW", "0.013 effective TOPS", "0.250 TOPS/W", "all outputs bit-exact"})
    EXPECT_THAT(text, HasSubstr(s)) << text;
  // conv1: 1 MMACs, 100 us, 48.8 KiB of DRAM traffic, 40 ops/B, 3.3 uJ.
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line) && line.rfind("conv1", 0) != 0) {
  }
  EXPECT_THAT(line, HasSubstr("1.000"));
  EXPECT_THAT(line, HasSubstr("100.00"));
  EXPECT_THAT(line, HasSubstr("48.8"));
  EXPECT_THAT(line, HasSubstr("40.0"));
  EXPECT_THAT(line, HasSubstr("3.300"));
}

// With --ideal-memory the power windows are of the simulated run, longer than
// the latency reported: a peak below the average is said to be that run's.
TEST(TextReport, AnIdealMemoryPeakIsNamedTheSimulatedRuns) {
  auto report = crafted_record().report;
  report["totals"]["peak_power_window_ns"] = 1000;
  EXPECT_THAT(format_text_report(report), HasSubstr("peak 89.0 mW (highest 1000 ns window)\n"));
  report["network"]["ideal_memory"] = true;
  EXPECT_THAT(format_text_report(report),
              HasSubstr("peak 89.0 mW (highest 1000 ns window of the simulated run, not of the ideal-memory latency)"));
}

TEST(TextReport, WithoutStallCausesShowsOneStallColumn) {
  auto report = crafted_record().report;
  for (auto& l : report["layers"]) l.erase("stall_cycles_by_cause");
  const std::string text = format_text_report(report);
  EXPECT_THAT(text, Not(HasSubstr("stall:")));
  EXPECT_THAT(text, HasSubstr(" stall "));
}

// The reports' numbers were printf's "%.*f"; fixed() must keep every
// character of them: ties rounded to even on the exact binary value, -0,
// nan and inf spelt as printf spells them, and 309-digit magnitudes.
TEST(Fixed, WritesWhatPrintfWrites) {
  std::vector<double> values = {0.125,        0.375,         2.5,
                                -2.5,         1e-300,        -0.0,
                                0.0,          1e308,         -1.7976931348623157e308,
                                std::nan(""), -std::nan(""), HUGE_VAL,
                                -HUGE_VAL,    971.6525,      1000.0000000000001};
  std::uint64_t state = 7;
  for (int i = 0; i < 20000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    values.push_back(std::ldexp(static_cast<double>(static_cast<std::int64_t>(state >> 40) - (1 << 23)),
                                -static_cast<int>((state >> 8) % 16)));
    values.push_back(static_cast<double>(static_cast<std::int64_t>(state >> 12)) * 1e-9);
  }
  for (const double v : values) {
    for (int decimals = 0; decimals <= 4; ++decimals) {
      char expected[512];
      std::snprintf(expected, sizeof expected, "%.*f", decimals, v);
      ASSERT_EQ(detail::fixed(v, decimals), expected) << v << " with " << decimals << " decimals";
    }
  }
}

TEST(DerivedTotals, FollowFromMacsLatencyAndEnergy) {
  const auto t = derived_totals(crafted_record().report);
  // 2.6 Mops in 200 us; 2.6 Mops per 10.4 uJ.
  EXPECT_DOUBLE_EQ(t["effective_tops"].get<double>(), 2 * Expected::kTotalMacs / 200e-6 * 1e-12);
  // Without layers[].performed_macs (reports from before it) every MAC was performed.
  EXPECT_DOUBLE_EQ(t["performed_tops"].get<double>(), t["effective_tops"].get<double>());
  // A batch's latency and energy are its images': each did the network's MACs.
  auto batch = crafted_record().report;
  batch["network"]["batch"] = 4;
  const auto b = derived_totals(batch);
  EXPECT_DOUBLE_EQ(b["effective_tops"].get<double>(), 4 * t["effective_tops"].get<double>());
  EXPECT_DOUBLE_EQ(b["tops_per_w"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(b["performed_tops"].get<double>(), b["effective_tops"].get<double>());
  EXPECT_DOUBLE_EQ(t["tops_per_w"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(t["energy_per_inference_uj"].get<double>(), 10.4);
}

// Stopped before "fc": the totals are the first two layers', and so are the
// MACs the rates count; the summary reads no skipped work into the difference.
TEST(DerivedTotals, AnInterruptedRunsRatesCountTheLayersItCompleted) {
  auto r = crafted_record().report;
  r["layers"][0]["completed"] = true;
  r["layers"][1]["completed"] = true;
  r["layers"][2]["completed"] = false;
  r["layers"][2]["performed_macs"] = 0;
  r["sim"]["interrupted"] = true;
  const auto t = derived_totals(r);
  // 2.4 Mops of conv1 and dw in the totals' 200 us and 10.4 uJ.
  EXPECT_DOUBLE_EQ(t["effective_tops"].get<double>(), 2 * 1'200'000 / 200e-6 * 1e-12);
  EXPECT_DOUBLE_EQ(t["performed_tops"].get<double>(), t["effective_tops"].get<double>());
  EXPECT_DOUBLE_EQ(t["tops_per_w"].get<double>(), 2 * 1'200'000 / 10.4e-6 * 1e-12);
  EXPECT_EQ(detail::summarize(r).total_macs, Expected::kTotalMacs);
  const std::string text = format_text_report(r);
  EXPECT_THAT(text, HasSubstr("0.012 effective TOPS, 0.231 TOPS/W"));
  EXPECT_THAT(text, Not(HasSubstr("performed")));
}

TEST_F(ReportOutputs, HtmlIsSelfContainedEscapedAndEmbedsTheRoofline) {
  const std::string html = read_text(dir_ / "report.html");
  const std::string svg = read_text(dir_ / "roofline.svg");
  EXPECT_THAT(html, HasSubstr("dw&lt;2&gt;&amp;sep,&quot;x&quot;"));
  EXPECT_THAT(html, Not(HasSubstr("dw<2>")));
  EXPECT_THAT(html, Not(HasSubstr("<script")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  EXPECT_THAT(html, Not(HasSubstr("url(http")));
  EXPECT_THAT(html, HasSubstr(svg)) << "report.html shows the same roofline as roofline.svg";
  EXPECT_THAT(svg, HasSubstr("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_THAT(svg, HasSubstr("<circle"));
  EXPECT_THAT(svg, Not(HasSubstr("dw<2>")));
}

TEST(WriteRunOutputs, LeavesOutTheFilesNotAskedForAndMeasuresPeakRssLast) {
  const RunRecord record = crafted_record();
  ScratchDir dir("selected_outputs");
  OutputOptions options;
  options.power_csv = false;
  options.timeline_json = false;
  options.measure_peak_rss = true;
  const nlohmann::json written = write_run_outputs(record, dir.path().string(), options);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "power.csv"));
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "timeline.json"));
  const auto report = nlohmann::json::parse(read_text(dir.path() / "report.json"));
  EXPECT_GT(report["sim"]["peak_rss_mb"].get<double>(), 1.0);
  EXPECT_EQ(report, written);
}

}  // namespace
}  // namespace npuvp::report

namespace npuvp::report {
namespace {

// Peaks of 1 GMAC/s and 1 GB/s at 1 GHz: a layer's bound in ns is
// max(MACs, compulsory bytes), its time its cycles.
TEST(RooflineAttainment, SumsEachTimedLayersBoundOverTheLatency) {
  const nlohmann::json layers = nlohmann::json::parse(R"([
    {"name": "in", "type": "input", "out_shape": [2, 2, 2], "params": 0, "macs": 0, "cycles": 0},
    {"name": "conv", "type": "conv2d", "inputs": ["in"], "in_shape": [2, 2, 2], "out_shape": [4, 2, 2],
     "params": 16, "macs": 4000, "cycles": 8000},
    {"name": "sum", "type": "add", "inputs": ["conv", "conv"], "in_shape": [4, 2, 2], "out_shape": [4, 2, 2],
     "params": 0, "macs": 0, "cycles": 96},
    {"name": "cat", "type": "concat", "inputs": ["conv", "sum"], "out_shape": [8, 2, 2], "params": 0, "macs": 0,
     "cycles": 0},
    {"name": "wide", "type": "conv2d", "datatype": "int16", "in_shape": [8, 2, 2], "out_shape": [1, 1, 1],
     "params": 32, "macs": 32, "cycles": 200}
  ])");
  // conv: max(4000 MACs, 8 + 16 + 16 bytes) = 4000 ns; sum: 16 + 16 read, 16
  // written = 48 ns; cat takes no time; wide (2-byte elements): (32 + 32 + 1)
  // x 2 = 130 ns against 32 MACs. Latency 8000 + 96 + 200 = 8296 ns.
  const double expected = (4000.0 + 48.0 + 130.0) / 8296.0;
  EXPECT_DOUBLE_EQ(roofline_attainment(layers, {1e9, 1e9, 1e9, false}), expected);
  // Packed int4 lanes double the MAC roof of int4 layers only.
  nlohmann::json int4 = layers;
  int4[1]["datatype"] = "int4";
  EXPECT_DOUBLE_EQ(roofline_attainment(int4, {1e9, 1e9, 1e9, true}), (2000.0 + 48.0 + 130.0) / 8296.0);
  // int4 tensors are stored two values a byte: the add moves 24 bytes, not 48.
  nlohmann::json narrow = layers;
  narrow[2]["datatype"] = "int4";
  EXPECT_DOUBLE_EQ(roofline_attainment(narrow, {1e9, 1e9, 1e9, false}), (4000.0 + 24.0 + 130.0) / 8296.0);
  EXPECT_EQ(roofline_attainment(nlohmann::json::array(), {1e9, 1e9, 1e9, false}), 0.0);
  // Zero weights skipped: the conv needs the 1000 MACs performed, not its
  // 4000 (which put a run of pruned weights at 5.9); MACs performed twice
  // (overlapping fused tiles) are the mapping's, not the layer's.
  nlohmann::json skipped = layers;
  skipped[1]["performed_macs"] = 1000;
  EXPECT_DOUBLE_EQ(roofline_attainment(skipped, {1e9, 1e9, 1e9, false}), (1000.0 + 48.0 + 130.0) / 8296.0);
  skipped[1]["performed_macs"] = 5000;
  EXPECT_DOUBLE_EQ(roofline_attainment(skipped, {1e9, 1e9, 1e9, false}), expected);
  // A batch of 3 does each image's MACs and moves each image's tensors, the
  // weights once (it was counted as one image against three images' time).
  // conv: max(12000, 3 x 24 + 16) = 12000; sum: 3 x 48 = 144; wide: (3 x 33
  // + 32) x 2 = 262 against 96 MACs.
  EXPECT_DOUBLE_EQ(roofline_attainment(layers, {1e9, 1e9, 1e9, false, 3}), (12000.0 + 144.0 + 262.0) / 8296.0);
  // Ideal memory: operands were on time, only the MACs bound a layer.
  EXPECT_DOUBLE_EQ(roofline_attainment(layers, {1e9, 1e9, 1e9, false, 1, true}), (4000.0 + 0 + 32.0) / 8296.0);
}

}  // namespace
}  // namespace npuvp::report
