// npuvp compare: the differences between two reports, by hand.
#include <gtest/gtest.h>

#include "platform/report/report_compare.h"
#include "platform/report/report_writer.h"
#include "tests/report/crafted_record.h"

namespace npuvp::report {
namespace {

TEST(CompareReports, IdenticalReportsApartFromSimHaveNoDifferences) {
  const nlohmann::json a = testing::crafted_record().report;
  nlohmann::json b = a;
  b["sim"]["wall_seconds"] = 9.0;
  b["sim"]["command_line"] = {"npuvp", "run", "-q"};
  const ReportComparison c = compare_reports(a, b, "a.json", "b.json");
  EXPECT_EQ(c.differences, 0u);
  EXPECT_EQ(c.text,
            "A a.json: handnet on tiny\n"
            "B b.json: handnet on tiny\n"
            "   npuvp run -q\n"
            "\n"
            "layers: 0 of 3 differ (matched by name)\n"
            "\n"
            "identical (sim.* aside)\n");
}

// A run stopped by a signal has totals of its completed layers only: its
// header says so, or its fewer cycles read as a speed-up.
TEST(CompareReports, AnInterruptedRunIsNamedSo) {
  const nlohmann::json a = testing::crafted_record().report;
  nlohmann::json b = a;
  b["sim"]["interrupted"] = true;
  b["sim"]["interrupted_by"] = "SIGINT";
  b["layers"][0]["completed"] = true;
  b["layers"][1]["completed"] = false;
  b["layers"][2]["completed"] = false;
  const ReportComparison c = compare_reports(a, b, "a.json", "b.json");
  EXPECT_EQ(c.text.substr(0, c.text.find("\n\n")),
            "A a.json: handnet on tiny\n"
            "B b.json: handnet on tiny\n"
            "   interrupted by SIGINT: 1 of 3 layers completed, which are all its totals cover");
  b["sim"].erase("interrupted_by");
  b["layers"][1]["completed"] = "yes";  // not a flag: not counted, not thrown on
  EXPECT_NE(compare_reports(b, a, "b.json", "a.json")
                .text.find("   interrupted by a signal: 1 of 3 layers completed, which are all its totals cover"),
            std::string::npos);
}

// The models' statistics count too: a doubled dram.read_bytes, a changed
// counter or a section only one report has were "identical (sim.* aside)".
TEST(CompareReports, OtherSectionsAreSummarizedAndCounted) {
  nlohmann::json c = testing::crafted_record().report;
  c["dram"]["read_bytes"] = 1024;
  nlohmann::json b = c;
  b["dram"]["read_bytes"] = 2048;
  b["counters"] = {{"macs", 5}};
  const ReportComparison r = compare_reports(c, b, "a.json", "b.json");
  EXPECT_EQ(r.differences, 2u);
  EXPECT_NE(r.text.find("\ncounters: 1 figure differs, first macs: - -> 5\n"
                        "dram: 1 figure differs, first read_bytes: 1024 -> 2048\n"),
            std::string::npos)
      << r.text;
  EXPECT_NE(r.text.find("\n2 figures differ\n"), std::string::npos) << r.text;
}

// `{}` compared as a report differed in 406 figures, exit 0.
TEST(CompareReports, AnythingButAReportIsRefusedNamingIt) {
  const nlohmann::json a = testing::crafted_record().report;
  for (const char* text : {"{}", "[]", R"({"layers": [], "totals": 3})"}) {
    try {
      compare_reports(a, nlohmann::json::parse(text), "a.json", "b.json");
      ADD_FAILURE() << text << " was compared";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()),
                "b.json: not an npuvp report (expected a map with a 'layers' list and a 'totals' map, as npuvp run "
                "writes report.json)");
    }
  }
}

// A name may repeat (SCALE-Sim topologies): the second "conv1" was "only in A".
TEST(CompareReports, ARepeatedLayerNameMeetsItsNamesakeInOrder) {
  nlohmann::json a = testing::crafted_record().report;
  a["layers"][1]["name"] = "conv1";
  nlohmann::json b = a;
  b["layers"][1]["cycles"] = 1;
  const ReportComparison c = compare_reports(a, b, "a.json", "b.json");
  EXPECT_EQ(c.differences, 1u);
  EXPECT_EQ(c.text.find("only in"), std::string::npos) << c.text;
  EXPECT_NE(c.text.find("layers: 1 of 3 differ"), std::string::npos) << c.text;
}

TEST(CompareReports, PrintsPlatformTotalsAndLayersWithRatios) {
  const nlohmann::json a = testing::crafted_record().report;
  nlohmann::json b = a;
  b["platform"]["pe_array"]["rows"] = 8;
  b["totals"]["cycles"] = 150'000;
  b["totals"]["latency_ms"] = 0.15;
  b["layers"][0]["cycles"] = 50'000;  // conv1 twice as fast, now output-stationary
  b["layers"][0]["dataflow"] = "os";
  b["layers"][2]["name"] = "fc2";
  const ReportComparison c = compare_reports(a, b, "a.json", "b.json");
  // rows, cycles, latency_ms, conv1, fc only in A, fc2 only in B.
  EXPECT_EQ(c.differences, 6u);
  EXPECT_EQ(
      c.text,
      "A a.json: handnet on tiny\n"
      "B b.json: handnet on tiny\n"
      "\n"
      "platform       A  B     B/A\n"
      "---------------------------\n"
      "pe_array.rows  4  8  2.0000\n"
      "\n"
      "totals           A       B     B/A\n"
      "----------------------------------\n"
      "cycles      200000  150000  0.7500\n"
      "latency_ms     0.2    0.15  0.7500\n"
      "\n"
      "layers: 1 of 3 differ (matched by name)\n"
      "layer  cycles A  cycles B     B/A  energy_uJ A  energy_uJ B  B/A  DRAM_KiB A  DRAM_KiB B  B/A  dataflow  "
      "verified\n" +
          std::string(113, '-') +
          "\n"
          "conv1    100000     50000  0.5000        3.300        3.300    1        48.8        48.8    1  ws -> os  "
          "yes\n"
          "only in A: fc\n"
          "only in B: fc2\n"
          "\n"
          "6 figures differ\n");
}

TEST(TextReport, HeaderDescribesThePlatformAsRunAfterOverrides) {
  nlohmann::json r = testing::crafted_record().report;
  EXPECT_EQ(format_text_report(r, false).rfind("npuvp: handnet on tiny (1 cluster of 4x4 int8 MACs at 1 GHz)\n", 0),
            0u);
  r["platform"]["pe_array"]["rows"] = 16;
  r["sim"]["overrides"] = {"pe_array.rows=16"};
  const std::string text = format_text_report(r, false);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "npuvp: handnet on tiny (1 clusters of 16x4 PEs = 64 MACs @ 1000 MHz, 4 x 0 KiB SRAM banks, 2ch "
            "lpddr4-3200; --set pe_array.rows=16)");
}

}  // namespace
}  // namespace npuvp::report
