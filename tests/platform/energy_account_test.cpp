// One energy account: the DRAM's energy over the layers is the totals', over
// the whole run it is what power.csv integrates to; peak power names its
// window; --set energy.<entry> prices the same run anew. Each run is a CLI
// process, so that one test can compare two runs.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

std::filesystem::path run(const std::string& name, const std::string& flags) {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_energy_account_" + name);
  const std::string command = std::string(NPUVP_CLI) + " run -q --platform configs/platforms/edge-ip.yaml --out " +
                              dir.string() + " " + flags + " > " + (dir.string() + ".txt");
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return dir;
}

nlohmann::json report(const std::filesystem::path& dir) {
  std::ifstream in(dir / "report.json");
  return nlohmann::json::parse(in);
}

std::string text_of(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// power.csv's windows: per row its start and width (ns) and the value of `column`.
struct Window {
  double start_ns, width_ns, value;
};
std::vector<Window> windows(const std::filesystem::path& csv, const std::string& column) {
  std::stringstream in(text_of(csv));
  std::string line;
  std::getline(in, line);
  std::stringstream header(line);
  std::size_t index = 0;
  for (std::string cell; std::getline(header, cell, ',') && cell != column;) ++index;
  std::vector<Window> rows;
  while (std::getline(in, line)) {
    std::stringstream row(line);
    std::vector<double> v;
    for (std::string cell; std::getline(row, cell, ',');) v.push_back(std::stod(cell));
    rows.push_back({v.at(0), v.at(1), v.at(index)});
  }
  return rows;
}

// power.csv's energy of one column (mW × ns = pJ) and the end of its last window.
std::pair<double, double> integrate(const std::filesystem::path& csv, const std::string& column) {
  double pj = 0, end_ns = 0;
  for (const Window& w : windows(csv, column)) {
    pj += w.value * w.width_ns;
    end_ns = w.start_ns + w.width_ns;
  }
  return {pj, end_ns};
}

// The highest value of one power.csv column over its windows, the last (shorter) one left out.
double highest(const std::filesystem::path& csv, const std::string& column) {
  std::vector<Window> rows = windows(csv, column);
  rows.pop_back();
  return std::max_element(rows.begin(), rows.end(), [](const Window& a, const Window& b) { return a.value < b.value; })
      ->value;
}

// No power window holds more work than the hardware can do in it: MACs at
// the arrays' 16 x 64 a cycle, SRAM bytes at the banks' 16 x 32 a cycle,
// 800 MHz both, at the energy table's prices (configs/energy/horowitz-45nm.yaml:
// 0.3 pJ an int8 MAC; 4 pJ a byte of an 8 KiB SRAM, x (32 / 8)^0.153 for a
// 32 KiB bank). Work recorded after the windows it belongs to were priced, or
// counted when its transactions were issued rather than when they happen,
// breaks it: until 8336112 each cluster issued a job's operand reads at its
// start, and the banks count a read when it is issued, so MobileNet v1's
// highest SRAM window read 4,476 mW, 2.2 times the banks' most.
void expect_windows_within_the_hardware(const std::string& name, const std::string& flags) {
  const auto dir = run(name, "--network mobilenet_v1 " + flags);
  EXPECT_TRUE(report(dir)["totals"]["all_verified"].get<bool>());
  const double ghz = 0.8;
  const double mac_mw = 0.3 * 16 * 64 * ghz, sram_mw = 4.0 * std::pow(32.0 / 8, 0.153) * 16 * 32 * ghz;
  EXPECT_LE(highest(dir / "power.csv", "mac_mw"), mac_mw * 1.001) << "the arrays do at most " << mac_mw << " mW";
  EXPECT_LE(highest(dir / "power.csv", "sram_mw"), sram_mw * 1.01) << "the banks do at most " << sram_mw << " mW";
}

TEST(EnergyAccount, NoPowerWindowHoldsMoreWorkThanTheHardwareDoesInIt) {
  expect_windows_within_the_hardware("windows", "");
}

// With zero skipping too: a job's work depends on its weights' values, and a
// schedule whose folds rounded above its length once left an unsigned tail
// of 2^64 ps (MobileNet v1 priced at 1.99e14 µJ).
TEST(EnergyAccount, WithZeroSkippingNoPowerWindowHoldsMoreWorkThanTheHardwareDoesInIt) {
  expect_windows_within_the_hardware("windows_sparse", "--set pe_array.zero_skipping=true");
}

TEST(EnergyAccount, DramEnergyIsOneFigurePerSpan) {
  const auto dir = run("dram", "");
  const nlohmann::json r = report(dir);
  const auto& dram = r["dram"];
  const double layers_pj = dram["layers_energy_pj"].get<double>();
  const double simulation_pj = dram["simulation_energy_pj"].get<double>();
  EXPECT_NEAR(r["totals"]["energy_pj"]["dram"].get<double>(), layers_pj, 1e-9 * layers_pj);
  EXPECT_NEAR(dram["energy_pj"]["total"].get<double>(), simulation_pj, 1e-9 * simulation_pj);
  const auto [csv_dram_pj, csv_end_ns] = integrate(dir / "power.csv", "dram_mw");
  EXPECT_NEAR(csv_dram_pj, simulation_pj, 1e-9 * simulation_pj);
  EXPECT_DOUBLE_EQ(csv_end_ns, r["sim"]["simulated_ns"].get<double>());  // power.csv covers the whole run
  const double total_pj = r["totals"]["simulation_energy_uj"].get<double>() * 1e6;
  EXPECT_NEAR(integrate(dir / "power.csv", "total_mw").first, total_pj, 1e-9 * total_pj);
  EXPECT_GT(simulation_pj, layers_pj);  // the host's setup moves data too
}

TEST(EnergyAccount, PeakPowerStatesItsWindow) {
  const auto dir = run("peak", "--set simulation.power_window_ns=500");
  const nlohmann::json r = report(dir);
  EXPECT_EQ(r["totals"]["peak_power_window_ns"].get<double>(), 500.0);
  EXPECT_GE(r["totals"]["peak_power_mw"].get<double>(), r["totals"]["avg_power_mw"].get<double>());
  EXPECT_NE(text_of(dir.string() + ".txt").find("(highest 500 ns window)"), std::string::npos);
  EXPECT_NE(text_of(dir / "report.html").find("Peak power (500 ns window)"), std::string::npos);
}

// The MAC price changes neither the schedule nor the other components.
TEST(EnergyAccount, SettingTheMacEnergyScalesTheMacEnergyExactly) {
  const nlohmann::json base = report(run("mac_base", ""));
  const nlohmann::json doubled = report(run("mac_doubled", "--set energy.mac_int8_pj=0.6"));
  EXPECT_EQ(doubled["totals"]["cycles"], base["totals"]["cycles"]);
  const auto& a = base["layers"][0]["energy_pj"];
  const auto& b = doubled["layers"][0]["energy_pj"];
  EXPECT_NEAR(b["mac"].get<double>(), 2 * a["mac"].get<double>(), 1e-12 * a["mac"].get<double>());
  for (const char* component : {"rf", "buffer", "sram", "noc", "dram", "leakage"})
    EXPECT_EQ(b[component].get<double>(), a[component].get<double>()) << component;
  EXPECT_EQ(doubled["platform"]["energy"]["mac_int8_pj"].get<double>(), 0.6);
}

// With ideal memory the run reports its compute cycles: its energy is priced
// over them, so average power is energy over the reported latency and leakage
// is leakage power × that latency.
TEST(EnergyAccount, IdealMemoryPricesLeakageOverTheReportedLatency) {
  const nlohmann::json r = report(run("ideal", "--ideal-memory"));
  const auto& t = r["totals"];
  const double latency_s = t["latency_ms"].get<double>() * 1e-3;
  // edge-ip: 1024 MACs, 512 KiB of SRAM, a 4x4 mesh, 16 clusters' buffers of
  // 64 + 64 KiB at the 45 nm table's leakage.
  const double leakage_mw = 0.01 * 1024 + 0.02 * (512 + 16 * (64 + 64)) + 0.1 * 16 + 1.0;
  EXPECT_NEAR(t["energy_pj"]["leakage"].get<double>(), leakage_mw * 1e-3 * latency_s * 1e12,
              1e-9 * leakage_mw * latency_s * 1e9);
  EXPECT_NEAR(t["avg_power_mw"].get<double>(), t["energy_uj"].get<double>() * 1e-6 / latency_s * 1e3,
              1e-9 * t["avg_power_mw"].get<double>());
  EXPECT_NEAR(t["energy_pj"]["dram"].get<double>(), r["dram"]["layers_energy_pj"].get<double>(), 1e-6);
  EXPECT_LT(t["energy_pj"]["dram"].get<double>(), r["dram"]["simulation_energy_pj"].get<double>());
}

}  // namespace
