#include <sstream>

#include <gtest/gtest.h>

#include "models/common/vcd_recorder.h"

namespace npuvp::trace {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

TEST(VcdRecorder, WritesScopesAndSortedChanges) {
  VcdRecorder rec;
  Wire busy;
  busy.bind(rec, "top.npu.busy");
  Wire state;
  state.bind(rec, "top.dram.ch0.state", 3);
  // Recorded out of time order, as loosely-timed models do.
  busy.set(sc_time(20, SC_NS), 0);
  busy.set(sc_time(10, SC_NS), 1);
  state.set(sc_time(10, SC_NS), 5);
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  EXPECT_NE(vcd.find("$scope module top $end"), std::string::npos);
  EXPECT_NE(vcd.find("$scope module npu $end"), std::string::npos);
  EXPECT_NE(vcd.find("$var wire 1 ! busy $end"), std::string::npos);
  EXPECT_NE(vcd.find("$var wire 3 \" state $end"), std::string::npos);
  const auto t10 = vcd.find("#10000\n1!\nb101 \"\n");
  const auto t20 = vcd.find("#20000\n0!\n");
  ASSERT_NE(t10, std::string::npos) << vcd;
  ASSERT_NE(t20, std::string::npos) << vcd;
  EXPECT_LT(t10, t20);
}

TEST(VcdRecorder, LastChangeAtATimestampWinsAndRepeatsAreDropped) {
  VcdRecorder rec;
  Wire w;
  w.bind(rec, "a.w");
  w.set(sc_time(5, SC_NS), 1);
  w.set(sc_time(5, SC_NS), 0);  // a zero-length pulse leaves the value unchanged
  w.set(sc_time(7, SC_NS), 1);
  w.set(sc_time(9, SC_NS), 1);
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  EXPECT_EQ(vcd.find("#5000"), std::string::npos) << vcd;
  EXPECT_NE(vcd.find("#7000\n1!\n"), std::string::npos) << vcd;
  EXPECT_EQ(vcd.find("#9000"), std::string::npos) << vcd;
}

TEST(VcdRecorder, PrefixFilterAndLimit) {
  VcdRecorder rec(VcdOptions{{"top.dma"}, 2});
  Wire kept, dropped;
  kept.bind(rec, "top.dma.busy");
  dropped.bind(rec, "top.npu.busy");
  EXPECT_TRUE(kept.bound());
  EXPECT_FALSE(dropped.bound());
  for (int i = 0; i < 4; ++i) kept.set(sc_time(i, SC_NS), i & 1);
  EXPECT_EQ(rec.change_count(), 2u);
  EXPECT_TRUE(rec.truncated());
}

TEST(VcdRecorder, RealValues) {
  VcdRecorder rec;
  RealWire p;
  p.bind(rec, "top.power.total_mw");
  p.set(sc_time(1, SC_NS), 12.5);
  std::ostringstream os;
  rec.write(os);
  EXPECT_NE(os.str().find("$var real 64 ! total_mw $end"), std::string::npos);
  EXPECT_NE(os.str().find("#1000\nr12.5 !\n"), std::string::npos) << os.str();
}

}  // namespace
}  // namespace npuvp::trace
