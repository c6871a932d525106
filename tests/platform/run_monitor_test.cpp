// The run monitor against a fake model: what it prices per power window and
// per layer is power::price of the counter differences, and the windows add
// up to the simulation energy. No SoC is built.
#include "platform/run_monitor.h"

#include <algorithm>
#include <vector>

#include <gtest/gtest.h>
#include <systemc>

#include "models/common/sim_control.h"

namespace npuvp::platform {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

// Counters that grow with time at fixed rates; MACs fractional, as a
// cluster's prorated work is.
class FakeSource : public stats::StatsSource {
 public:
  std::string stats_name() const override { return "fake"; }
  void sample(stats::Counters& into, const sc_time& now) override {
    const stats::Counters mine = at(now);
    for (std::size_t i = 0; i < stats::kCounterCount; ++i)
      into.add(static_cast<stats::Counter>(i), mine[static_cast<stats::Counter>(i)]);
  }
  nlohmann::json stats_json() const override { return {{"fake", true}}; }

  static stats::Counters at(const sc_time& t) {
    const double ns = t.to_seconds() * 1e9;
    stats::Counters c;
    c.add(stats::Counter::kMacs, 123.25 * ns);
    c.add(stats::Counter::kInt4Macs, 10.5 * ns);
    c.add(stats::Counter::kRfAccesses, 300.0 * ns);
    c.add(stats::Counter::kSramBytes, 64.0 * static_cast<double>(static_cast<std::uint64_t>(ns / 7)));
    c.add(stats::Counter::kNocFlitHops, 3.0 * ns);
    c.add(stats::Counter::kDramEnergy, 0.75 * ns);
    c.add(stats::Counter::kDramBackgroundEnergy, 0.5 * ns);  // of kDramEnergy
    c.add(stats::Counter::kDramReadBytes, 32.0 * static_cast<double>(static_cast<std::uint64_t>(ns / 10)));
    c.add(stats::Counter::kComputeCycles, 2.0 * ns);  // two clusters computing all the time
    return c;
  }
};

// Runs layer 0 over [50 ns, 250 ns), then idles until 430 ns.
struct Firmware : sc_core::sc_module {
  sc_core::sc_signal<std::int32_t> layer{"layer", -1};
  explicit Firmware(const sc_core::sc_module_name& name) : sc_module(name) {
    SC_HAS_PROCESS(Firmware);
    SC_THREAD(run);
  }
  void run() {
    wait(50, SC_NS);
    layer.write(0);
    wait(200, SC_NS);
    layer.write(-1);
    wait(180, SC_NS);
    sc_core::sc_stop();
  }
};

RunMonitorConfig config() {
  RunMonitorConfig c;
  c.sizes.leakage = {64, 128.0, 4};
  c.clock_hz = 1e9;
  c.clusters = 2;
  c.power_window = sc_time(100, SC_NS);
  return c;
}

power::EnergyBreakdown priced(const sc_time& from, const sc_time& to, double seconds) {
  const RunMonitorConfig c = config();
  return power::price(c.energy, power::activity(FakeSource::at(to)) - power::activity(FakeSource::at(from)), c.sizes,
                      seconds);
}

TEST(RunMonitor, PricesEachIntervalAsTheCounterDifferences) {
  FakeSource source;
  Firmware firmware("firmware");
  RunMonitor monitor("monitor", config(), {&source});
  monitor.current_layer(firmware.layer);
  std::vector<report::PowerSample> windows;
  monitor.on_power_window([&](const report::PowerSample& p) { windows.push_back(p); });
  npuvp::sim::run_to_end();

  ASSERT_EQ(windows.size(), 4u);  // [0, 400) ns; the tail to 430 ns is no whole window
  double energy_pj = 0;
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const sc_time start(100.0 * i, SC_NS);
    const auto expected =
        window_power(priced(start, start + sc_time(100, SC_NS), 100e-9), start, start + sc_time(100, SC_NS));
    EXPECT_EQ(windows[i].time_ns, 100.0 * i);  // exact
    EXPECT_EQ(windows[i].window_ns, 100.0);
    EXPECT_DOUBLE_EQ(windows[i].total_mw, expected.total_mw);
    for (std::size_t k = 0; k < report::kPowerComponents.size(); ++k)
      EXPECT_DOUBLE_EQ(windows[i].component_mw[k], expected.component_mw[k]) << report::kPowerComponents[k];
    energy_pj += windows[i].total_mw * windows[i].window_ns;
  }
  const report::RunFigures figures = monitor.figures();
  EXPECT_NEAR(figures.simulation_energy_pj.total(), energy_pj, 1e-9 * energy_pj);
  EXPECT_EQ(figures.peak_power_window_ns, 100.0);

  ASSERT_EQ(figures.layers.size(), 1u);
  const report::LayerFigures& layer = figures.layers[0];
  EXPECT_EQ(layer.cycles, 200u);
  EXPECT_EQ(layer.compute_cycles, 200u);
  EXPECT_EQ(layer.dram_read_bytes, 32u * 20);
  const auto expected = priced(sc_time(50, SC_NS), sc_time(250, SC_NS), 200e-9);
  EXPECT_DOUBLE_EQ(layer.energy_pj.total(), expected.total());
  EXPECT_DOUBLE_EQ(layer.energy_pj.mac, expected.mac);
  EXPECT_DOUBLE_EQ(layer.energy_pj.leakage, expected.leakage);
}

TEST(RunMonitor, FinishClosesTheLastWindowButPeakIsOverWholeWindows) {
  FakeSource source;
  Firmware firmware("firmware");
  RunMonitor monitor("monitor", config(), {&source});
  monitor.current_layer(firmware.layer);
  std::vector<report::PowerSample> windows;
  monitor.on_power_window([&](const report::PowerSample& p) { windows.push_back(p); });
  npuvp::sim::run_to_end();
  monitor.finish();

  ASSERT_EQ(windows.size(), 5u);  // [0, 400) ns and the tail to 430 ns
  EXPECT_DOUBLE_EQ(windows.back().time_ns, 400.0);
  EXPECT_DOUBLE_EQ(windows.back().window_ns, 30.0);
  double energy_pj = 0, peak_mw = 0;
  for (std::size_t i = 0; i < windows.size(); ++i) {
    energy_pj += windows[i].total_mw * windows[i].window_ns;
    if (i + 1 < windows.size()) peak_mw = std::max(peak_mw, windows[i].total_mw);
  }
  const report::RunFigures figures = monitor.figures();
  EXPECT_NEAR(figures.simulation_energy_pj.total(), energy_pj, 1e-9 * energy_pj);
  EXPECT_NEAR(figures.simulation_energy_pj.dram, 0.75 * 430, 1e-9);
  EXPECT_EQ(figures.peak_power_mw, peak_mw);
}

// With ideal memory the layer reports its compute cycles: here 2 × 200 cycles
// over 4 clusters = 100 of the 200 ns simulated. Leakage and the DRAM's
// background are priced over those 100 ns, the DRAM's commands as they came.
TEST(RunMonitor, IdealMemoryPricesTimeOverTheReportedCycles) {
  FakeSource source;
  Firmware firmware("firmware");
  RunMonitorConfig c = config();
  c.clusters = 4;
  c.ideal_memory = true;
  RunMonitor monitor("monitor", c, {&source});
  monitor.current_layer(firmware.layer);
  npuvp::sim::run_to_end();

  const report::RunFigures figures = monitor.figures();
  ASSERT_EQ(figures.layers.size(), 1u);
  const report::LayerFigures& layer = figures.layers[0];
  EXPECT_EQ(layer.cycles, 100u);
  const double commands_pj = (0.75 - 0.5) * 200, background_pj = 0.5 * 200 * (100.0 / 200);
  EXPECT_NEAR(layer.energy_pj.dram, commands_pj + background_pj, 1e-9);
  const double leakage_mw = 0.01 * 64 + 0.02 * 128 + 0.1 * 4 + 1.0;
  EXPECT_NEAR(layer.energy_pj.leakage, leakage_mw * 1e-3 * 100e-9 * 1e12, 1e-9);
}

TEST(RunMonitor, KeepsTheFirmwaresFirstDecisionPerLayer) {
  RunMonitor monitor("monitor", config(), {});
  firmware::LayerDecision first, second;
  first.layer_id = second.layer_id = 3;
  first.tiling.k_block = 8;
  second.tiling.k_block = 16;
  monitor.record_decision(first);
  monitor.record_decision(second);
  const report::RunFigures figures = monitor.figures();
  ASSERT_EQ(figures.decisions.count(3), 1u);
  EXPECT_EQ(figures.decisions.at(3).tiling.k_block, 8u);
}

TEST(StatsCounters, CarryTheirUnits) {
  EXPECT_STREQ(stats::unit_name(stats::info(stats::Counter::kSramBytes).unit), "B");
  EXPECT_STREQ(stats::unit_name(stats::info(stats::Counter::kDramEnergy).unit), "pJ");
  EXPECT_STREQ(stats::info(stats::Counter::kNocFlitHops).name, "noc_flit_hops");
  stats::Counters a, b;
  a.add(stats::Counter::kMacs, 10);
  b.add(stats::Counter::kMacs, 4);
  EXPECT_EQ((a - b)[stats::Counter::kMacs], 6);
}

// Work that stops at 300 ns, and a firmware that then waits for a doorbell
// that never rings (as a host that never writes RING_TAIL leaves it).
class StallingSource : public FakeSource {
 public:
  void sample(stats::Counters& into, const sc_time& now) override {
    FakeSource::sample(into, std::min(now, sc_time(300, SC_NS)));
  }
};

struct Waiter : sc_core::sc_module {
  sc_core::sc_signal<std::int32_t> layer{"layer", -1};
  sc_core::sc_event never;
  explicit Waiter(const sc_core::sc_module_name& name) : sc_module(name) {
    SC_HAS_PROCESS(Waiter);
    SC_THREAD(run);
  }
  void run() {
    wait(300, SC_NS);
    const sim::Waiting waiting("a doorbell");
    wait(never);
  }
};

TEST(RunMonitor, TheWatchdogEndsARunWithoutProgressSayingWhoWaitsForWhat) {
  StallingSource source;
  Waiter waiter("waiter");
  RunMonitor monitor("monitor", config(), {&source});
  monitor.current_layer(waiter.layer);
  monitor.watchdog(sc_time(1, sc_core::SC_US), [] { return std::uint64_t{7}; });
  try {
    sim::run_to_end();
    ADD_FAILURE() << "the watchdog did not end the run";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "watchdog: no progress for 1 us of simulated time since 300 ns; waiter.run waits for a doorbell");
  }
  // Checked at power windows (100 ns): the first at least 1 us after 300 ns.
  EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(1300, SC_NS));
}

}  // namespace
}  // namespace npuvp::platform
