// A sweep's results: the Pareto front per network (minimized and maximized
// objectives, failed runs never on it), results.csv as written, and the
// front drawn and linked.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "platform/sweep/sweep_results.h"

namespace npuvp::sweep {
namespace {

nlohmann::json row(const std::string& point, const std::string& network, const std::string& status, double latency,
                   double fps) {
  nlohmann::json r = {{"point", point}, {"network", network}, {"status", status},
                      {"error", ""},    {"pareto", false},    {"wall_s", 1.5}};
  for (const auto& c : metric_columns()) r[c] = nullptr;
  if (status != "failed") {
    r["latency_ms"] = latency;
    r["fps"] = fps;
  }
  return r;
}

// Two points the file tells apart are told apart in the table: 0.1234567891
// and 0.1234567894 were both "0.123456789" in results.csv ("0.1234" in the page).
TEST(SweepResults, AVariedValueIsWrittenAsExactlyAsItReadsBack) {
  EXPECT_EQ(varied_cell(0.1234567891), "0.1234567891");
  EXPECT_EQ(varied_cell(0.1234567894), "0.1234567894");
  EXPECT_EQ(varied_cell(0.5), "0.5");
  EXPECT_EQ(varied_cell(16), "16");
  EXPECT_EQ(varied_cell("ws"), "ws");
}

TEST(SweepResults, FrontPerNetworkOverOkRows) {
  nlohmann::json rows = {row("a", "n1", "ok", 1.0, 10), row("b", "n1", "ok", 2.0, 20),
                         row("c", "n1", "ok", 2.0, 15), row("d", "n1", "unverified", 0.5, 50),
                         row("e", "n2", "ok", 9.0, 1),  row("f", "n1", "failed", 0, 0),
                         row("g", "n1", "ok", 1.0, 10)};
  mark_front(rows, {{"latency_ms", false}, {"fps", true}});
  std::string front;
  for (const auto& r : rows) front += r["pareto"].get<bool>() ? "1" : "0";
  // c loses to b (same latency, fewer fps); a and g tie and both stay; d did
  // not verify; e is alone on n2.
  EXPECT_EQ(front, "1100101");
}

TEST(SweepResults, CsvJsonSvgAndHtml) {
  SweepSpec spec;
  spec.file = "s.yaml";
  spec.platform = "/p/edge-ip.yaml";
  spec.networks = {"n1"};
  spec.varied = {"sram.bank_kb"};
  spec.points = {{"aaaaaaaaaaaa", {"16"}, {}, {}}, {"bbbbbbbbbbbb", {"32"}, {}, {}}};
  spec.objectives = {{"latency_ms", false}, {"fps", true}};
  nlohmann::json rows = {row("aaaaaaaaaaaa", "n1", "ok", 1.25, 800), row("bbbbbbbbbbbb", "n1", "failed", 0, 0)};
  rows[0]["sram.bank_kb"] = 16;
  rows[1]["sram.bank_kb"] = 32;
  rows[1]["error"] = "npuvp: layer 'x', said \"no\"";
  mark_front(rows, spec.objectives);
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_sweep_results_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_results(spec, rows, dir.string());
  std::stringstream csv;
  csv << std::ifstream(dir / "results.csv").rdbuf();
  EXPECT_EQ(csv.str(),
            "point,sram.bank_kb,network,status,error,latency_ms,fps,energy_uj,energy_per_inference_uj,avg_power_mw,"
            "dram_bytes,utilization,area_mm2,pareto,wall_s\n"
            "aaaaaaaaaaaa,16,n1,ok,,1.25,800,,,,,,,true,1.5\n"
            "bbbbbbbbbbbb,32,n1,failed,\"npuvp: layer 'x', said \"\"no\"\"\",,,,,,,,,false,1.5\n");
  const nlohmann::json doc = nlohmann::json::parse(std::ifstream(dir / "results.json"));
  EXPECT_EQ(doc["rows"], rows);
  EXPECT_EQ(doc["columns"].size(), 15u);
  const std::string svg = pareto_svg(rows, spec.objectives);
  EXPECT_NE(svg.find("fps (higher is better)"), std::string::npos);
  EXPECT_NE(svg.find("<title>aaaaaaaaaaaa n1</title>"), std::string::npos);
  EXPECT_EQ(svg.find("bbbbbbbbbbbb"), std::string::npos);  // not measured: not drawn
  const std::string html = index_html(spec, rows);
  EXPECT_NE(html.find("<tr class=\"front\">"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"points/aaaaaaaaaaaa/n1/report.html\">report</a>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"points/bbbbbbbbbbbb/n1/run.log\">log</a>"), std::string::npos);
  EXPECT_NE(html.find("1 of 2 runs ok"), std::string::npos);
  std::filesystem::remove_all(dir);
}

// A run whose directory exists but holds no exit status stopped part-way: it
// failed. One with no directory never started (the sweep was stopped first):
// pending, and the page links to nothing for it.
TEST(SweepResults, ARunNeverStartedIsPendingAndLinksNothing) {
  SweepSpec spec;
  spec.file = "s.yaml";
  spec.networks = {"n1"};
  spec.varied = {"sram.bank_kb"};
  spec.points = {{"aaaaaaaaaaaa", {"16"}, {}, {}}, {"bbbbbbbbbbbb", {"32"}, {}, {}}};
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_sweep_pending_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "started");
  const std::vector<Task> tasks = {{0, "n1", (dir / "started").string(), {}}, {1, "n1", (dir / "never").string(), {}}};
  const nlohmann::json rows = gather_rows(spec, tasks);
  EXPECT_EQ(rows[0]["status"], "failed");
  EXPECT_EQ(rows[0]["error"], "did not finish (no exit status in " + (dir / "started").string() + ")");
  EXPECT_EQ(rows[1]["status"], "pending");
  EXPECT_EQ(rows[1]["error"], "not started");
  const std::string html = index_html(spec, rows);
  EXPECT_NE(html.find("<a href=\"points/aaaaaaaaaaaa/n1/run.log\">log</a>"), std::string::npos);
  EXPECT_EQ(html.find("points/bbbbbbbbbbbb"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace npuvp::sweep
