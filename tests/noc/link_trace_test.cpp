// What the fast model publishes of its links in a VCD: each link's
// utilization per window, and its busy edges when asked for.
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "models/common/vcd_recorder.h"
#include "models/noc/fast_model.h"
#include "tests/support/vcd_text.h"

namespace npuvp::noc {
namespace {

using test::Changes;
using test::changes_by_name;

struct Traced {
  FastMeshModel model;
  trace::VcdRecorder recorder;
  Traced(unsigned width, unsigned height, std::uint64_t ticks_per_cycle, std::uint64_t window_ticks, bool busy)
      : model(config(width, height)) {
    const Mesh& mesh = model.mesh();
    LinkSignals signals;
    signals.busy.assign(mesh.channel_count(), trace::VcdRecorder::kFiltered);
    signals.utilization = signals.busy;
    signals.ticks_per_cycle = ticks_per_cycle;
    signals.window_ticks = window_ticks;
    for (ChannelId c = 0; c < mesh.channel_count(); ++c) {
      if (model.link_index(c) < 0) continue;
      signals.utilization[c] = recorder.add_real("noc." + mesh.channel_name(c) + ".utilization");
      if (busy) signals.busy[c] = recorder.add_wire("noc." + mesh.channel_name(c) + ".busy", 1);
    }
    model.trace_links(recorder, std::move(signals));
  }
  static NocConfig config(unsigned width, unsigned height) {
    NocConfig c;
    c.width = width;
    c.height = height;
    return c;
  }
  std::map<std::string, Changes> written() {
    std::ostringstream os;
    recorder.write(os);
    return changes_by_name(os.str());
  }
};

// A 2x1 mesh, 1 ns cycles, windows of 10. Router 2 cycles, link 1, so a
// packet (0,0)->(1,0) ready at t crosses the injection channel at t.., the
// link (0,0)E at t+2.. and the ejection at (1,0) at t+5.., a flit a cycle.
// 12 flits ready at 25, timed first: inject 25-36, E 27-38, eject 30-41;
// 4 flits ready at 8, timed after it: inject 8-11, E 10-13, eject 13-16.
// Each tail is in the endpoint 2 cycles after it crossed the ejection. The
// run ends at 45: the last window has 5 cycles.
TEST(LinkTrace, EachWindowsUtilizationIsItsBusyCyclesOverItsCycles) {
  Traced t(2, 1, 1000, 10000, false);
  const Mesh& mesh = t.model.mesh();
  EXPECT_EQ(t.model.unicast(mesh.node(0, 0), mesh.node(1, 0), 12, 25), 43u);
  EXPECT_EQ(t.model.unicast(mesh.node(0, 0), mesh.node(1, 0), 4, 8), 18u);
  // Final up to 20: windows 0 and 1 are published, later ones wait.
  t.model.set_horizon(20);
  t.model.report_final();
  t.model.flush(45);
  const auto w = t.written();
  // The value of each window that differs from the one before, at its start:
  // inject 0.2 (8, 9), 0.2 (10, 11), 0.5, 0.7, then 0 over the last 5.
  EXPECT_EQ(w.at("noc.r0_0.inject.utilization"), (Changes{{0, "0.2"}, {20000, "0.5"}, {30000, "0.7"}, {40000, "0"}}));
  EXPECT_EQ(w.at("noc.r0_0.E.utilization"), (Changes{{10000, "0.4"}, {20000, "0.3"}, {30000, "0.9"}, {40000, "0"}}));
  // 40 and 41 of the last window's 5 cycles.
  EXPECT_EQ(w.at("noc.r1_0.eject.utilization"), (Changes{{10000, "0.4"}, {20000, "0"}, {30000, "1"}, {40000, "0.4"}}));
  EXPECT_EQ(w.count("noc.r0_0.E.busy"), 0u) << "busy edges only when asked for";
  EXPECT_TRUE(w.at("noc.r1_0.W.utilization").empty()) << "a link nothing crossed stays at 0";
}

// Windows that are not a whole number of cycles: 1.25 ns cycles, 3 ns
// windows. A cycle counts in the window its start falls in: cycles 0-2 in
// the first (0, 1.25, 2.5 ns), 3-4 in the second, 5-7 in the third. 4 flits
// ready at cycle 1 inject at 1-4: 2 of 3 cycles, then 2 of 2.
TEST(LinkTrace, ACycleCountsInTheWindowItStartsIn) {
  Traced t(2, 1, 1250, 3000, false);
  const Mesh& mesh = t.model.mesh();
  t.model.unicast(mesh.node(0, 0), mesh.node(1, 0), 4, 1);
  t.model.flush(8);
  const auto w = t.written();
  const Changes& inject = w.at("noc.r0_0.inject.utilization");
  ASSERT_EQ(inject.size(), 3u);
  EXPECT_EQ(inject[0].first, 0u);
  EXPECT_DOUBLE_EQ(std::stod(inject[0].second), 2.0 / 3.0);
  EXPECT_EQ(inject[1], (Changes::value_type{3000, "1"}));
  EXPECT_EQ(inject[2], (Changes::value_type{6000, "0"}));
}

// With busy edges asked for, the link shows each flit's cycle; a window's
// utilization is the share of its cycles between the edges.
TEST(LinkTrace, BusyEdgesWhenAskedFor) {
  Traced t(2, 1, 1000, 10000, true);
  const Mesh& mesh = t.model.mesh();
  t.model.unicast(mesh.node(0, 0), mesh.node(1, 0), 12, 25);
  t.model.unicast(mesh.node(0, 0), mesh.node(1, 0), 4, 8);
  t.model.flush(45);
  const auto w = t.written();
  EXPECT_EQ(w.at("noc.r0_0.E.busy"), (Changes{{10000, "1"}, {14000, "0"}, {27000, "1"}, {39000, "0"}}));
  EXPECT_EQ(w.at("noc.r0_0.E.utilization"), (Changes{{10000, "0.4"}, {20000, "0.3"}, {30000, "0.9"}, {40000, "0"}}));
}

TEST(LinkTrace, AWindowShorterThanACycleIsRefused) {
  FastMeshModel model(Traced::config(2, 1));
  trace::VcdRecorder recorder;
  LinkSignals signals;
  signals.busy.assign(model.mesh().channel_count(), trace::VcdRecorder::kFiltered);
  signals.utilization = signals.busy;
  signals.ticks_per_cycle = 1000;
  signals.window_ticks = 999;
  EXPECT_THROW(model.trace_links(recorder, signals), std::invalid_argument);
}

}  // namespace
}  // namespace npuvp::noc
