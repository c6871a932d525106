// The outputs as the tools users open them with see them: GTKWave's vcd2fst
// must convert the VCD, headless Chromium must render report.html. A missing
// tool skips (with the reason) rather than fails, so a build without them
// still runs the rest of the suite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

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

TEST(Viewers, ReportRendersInHeadlessChromium) {
  const char* chromium = "/usr/bin/chromium";
  if (!std::filesystem::exists(chromium))
    GTEST_SKIP() << chromium << " not found (Debian package chromium); cannot render report.html";
  const ScratchDir dir("chromium");
  write_run_outputs(testing::crafted_record(), dir.path().string());
  const auto profile = dir / "profile";
  std::filesystem::create_directories(profile);
  // Flags keep Chromium from reaching the network or a display: the report
  // must render from the file alone.
  // timeout(1) turns a hung browser into a failure with a log, not a ctest kill.
  const std::string command = "timeout 90 " + std::string(chromium) +
                              " --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
                              " --disable-background-networking --disable-component-update --disable-sync"
                              " --user-data-dir='" +
                              profile.string() + "' --dump-dom 'file://" + (dir / "report.html").string() + "' >'" +
                              (dir / "dom.html").string() + "' 2>'" + (dir / "chromium.log").string() + "'";
  ASSERT_EQ(run(command), 0) << read_text(dir / "chromium.log");
  const std::string dom = read_text(dir / "dom.html");
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

}  // namespace
}  // namespace npuvp::report
