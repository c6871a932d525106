// The outputs as the tools users open them with see them: GTKWave's vcd2fst
// must convert the VCD, headless Chromium must render report.html. A missing
// tool skips (with the reason) rather than fails, so a build without them
// still runs the rest of the suite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "models/common/vcd_recorder.h"
#include "platform/report/report_writer.h"
#include "tests/report/crafted_record.h"

namespace npuvp::report {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::read_text;
using testing::ScratchDir;

// Runs `command` through the shell; returns its exit status (-1 if it died).
int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(Viewers, VcdOpensInGtkwavesVcd2fst) {
  if (!std::filesystem::exists("/usr/bin/vcd2fst"))
    GTEST_SKIP() << "/usr/bin/vcd2fst not found (Debian package gtkwave); cannot check the VCD with GTKWave's tools";
  using sc_core::SC_NS;
  using sc_core::sc_time;
  // The kinds of signal the platform traces: single bits, buses, reals, in
  // nested scopes, changes recorded out of time order.
  trace::VcdRecorder rec;
  trace::Wire busy, state, cmd;
  trace::RealWire power;
  busy.bind(rec, "soc.npu.cluster0.busy");
  state.bind(rec, "soc.npu.state", 3);
  cmd.bind(rec, "soc.dram.ch0.command", 8);
  power.bind(rec, "soc.power.total_mw");
  for (int i = 0; i < 50; ++i) {
    busy.set(sc_time(10 * i + 5, SC_NS), 0);
    busy.set(sc_time(10 * i, SC_NS), 1);
    state.set(sc_time(10 * i, SC_NS), i % 5);
    cmd.set(sc_time(7 * i, SC_NS), (i * 37) % 256);
    power.set(sc_time(20 * i, SC_NS), 100.0 + 3.25 * i);
  }
  const ScratchDir dir("vcd2fst");
  {
    std::ofstream os(dir / "trace.vcd");
    rec.write(os);
  }
  const auto fst = dir / "trace.fst";
  ASSERT_EQ(run("vcd2fst '" + (dir / "trace.vcd").string() + "' '" + fst.string() + "' >'" +
                (dir / "vcd2fst.log").string() + "' 2>&1"),
            0)
      << read_text(dir / "vcd2fst.log");
  ASSERT_TRUE(std::filesystem::exists(fst));
  EXPECT_GT(std::filesystem::file_size(fst), 0u);
  // Back to VCD with GTKWave's reader: the scopes and signals survived.
  if (std::filesystem::exists("/usr/bin/fst2vcd")) {
    ASSERT_EQ(run("fst2vcd '" + fst.string() + "' >'" + (dir / "back.vcd").string() + "' 2>/dev/null"), 0);
    const std::string back = read_text(dir / "back.vcd");
    for (const char* s : {"$scope module npu $end", "busy", "command", "total_mw"}) EXPECT_THAT(back, HasSubstr(s));
  }
}

constexpr const char* kChromium = "/usr/bin/chromium";

// The page as headless Chromium lays it out in a 1400 px wide window, after
// its scripts ran, serialised back to HTML.
std::string render_in_chromium(const ScratchDir& dir, const std::string& page) {
  const auto profile = dir / "profile";
  std::filesystem::create_directories(profile);
  // Flags keep Chromium from reaching the network or a display: the report
  // must render from the file alone.
  // timeout(1) turns a hung browser into a failure with a log, not a ctest kill.
  const std::string command = "timeout 90 " + std::string(kChromium) +
                              " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                              " --disable-background-networking --disable-component-update --disable-sync"
                              " --window-size=1400,1000 --user-data-dir='" +
                              profile.string() + "' --dump-dom 'file://" + (dir / page).string() + "' >'" +
                              (dir / "dom.html").string() + "' 2>'" + (dir / "chromium.log").string() + "'";
  EXPECT_EQ(run(command), 0) << read_text(dir / "chromium.log");
  return read_text(dir / "dom.html");
}

TEST(Viewers, ReportRendersInHeadlessChromium) {
  if (!std::filesystem::exists(kChromium))
    GTEST_SKIP() << kChromium << " not found (Debian package chromium); cannot render report.html";
  const ScratchDir dir("chromium");
  write_run_outputs(testing::crafted_record(), dir.path().string());
  const std::string dom = render_in_chromium(dir, "report.html");
  ASSERT_FALSE(dom.empty()) << read_text(dir / "chromium.log");
  // The browser's serialisation of the parsed page: layer names came through
  // as text (escaped again on the way out), not as markup.
  for (const char* s : {"handnet on tiny", "conv1", "dw&lt;2&gt;&amp;sep,\"x\"", ">fc<"})
    EXPECT_THAT(dom, HasSubstr(s));
  EXPECT_THAT(dom, Not(HasSubstr("<2>")));
  // Totals: latency, FPS, energy per inference, power, efficiency.
  for (const char* s : {"0.200", "5000.0", "10.40", "52.0", "89.0", "0.013", "0.250", "bit-exact"})
    EXPECT_THAT(dom, HasSubstr(s));
  EXPECT_THAT(dom, HasSubstr("<svg"));
  EXPECT_THAT(dom, HasSubstr("<polyline"));  // power over time and roofs
  EXPECT_THAT(dom, HasSubstr("<circle"));    // roofline dots
}

// A network as dense as ResNet-50's: eighty layers with long names, their
// dots crowded into one decade of intensity, stalls of five causes.
RunRecord dense_record() {
  RunRecord r = testing::crafted_record();
  auto& layers = r.report["layers"];
  const nlohmann::json model = layers[0];
  const char* causes[] = {"dram", "sram_conflict", "dependency", "noc", "buffer_port"};
  for (int i = 0; i < 80; ++i) {
    nlohmann::json l = model;
    l["name"] = "/model/stage" + std::to_string(i / 10) + "/block" + std::to_string(i % 10) + "/Conv_output_0";
    l["dataflow_costs"] = {{"reason", "ws estimated 1234567 cycles against os 2345678 and os2d 3456789"}};
    l["dram_read_bytes"] = 40'000.0 * (1.0 + (i % 9) * 0.1);
    l["latency_ns"] = 100'000.0 * (1.0 + (i % 7) * 0.12);
    l["stall_cycles_by_cause"] = nlohmann::json::object();
    for (const char* c : causes) l["stall_cycles_by_cause"][c] = 10'000 + i;
    layers.push_back(l);
  }
  return r;
}

// Measured by the browser, not estimated: the layer table's overflow at
// 1400 px and how many roofline labels overlap another label, a dot or a roof
// label (their rendered boxes).
constexpr const char* kLayoutProbe = R"js(
<script>
const table = document.querySelector('.scroll');
const roof = document.querySelector('svg[aria-label="Roofline"]');
const boxes = sel => Array.from(roof.querySelectorAll(sel)).map(e => e.getBoundingClientRect());
const labels = boxes('text.dot-label');
const others = boxes('circle').concat(boxes('text:not(.dot-label)'));
const hit = (a, b) => a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;
let collisions = 0;
labels.forEach((a, i) => {
  labels.forEach((b, j) => { if (j > i && hit(a, b)) ++collisions; });
  others.forEach(b => { if (hit(a, b)) ++collisions; });
});
document.body.setAttribute('data-probe',
  [table.scrollWidth - table.clientWidth, labels.length, collisions].join(' '));
</script>
)js";

TEST(Viewers, DenseReportFits1400PxAndRooflineLabelsNeverCollide) {
  if (!std::filesystem::exists(kChromium))
    GTEST_SKIP() << kChromium << " not found (Debian package chromium); cannot render report.html";
  const ScratchDir dir("chromium_layout");
  write_run_outputs(dense_record(), dir.path().string());
  std::string page = read_text(dir / "report.html");
  const auto body_end = page.rfind("</body>");
  ASSERT_NE(body_end, std::string::npos);
  page.insert(body_end, kLayoutProbe);
  std::ofstream(dir / "probe.html") << page;
  const std::string dom = render_in_chromium(dir, "probe.html");
  const auto at = dom.find("data-probe=\"");
  ASSERT_NE(at, std::string::npos) << read_text(dir / "chromium.log");
  std::istringstream probe(dom.substr(at + 12));
  double overflow_px = -1, labels = -1, collisions = -1;
  probe >> overflow_px >> labels >> collisions;
  EXPECT_LE(overflow_px, 0) << "the layer table scrolls sideways in a 1400 px window";
  EXPECT_GE(labels, 10) << "crowded dots still carry names or indices";
  EXPECT_EQ(collisions, 0) << "roofline labels overlap";
}

}  // namespace
}  // namespace npuvp::report
