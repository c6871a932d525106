// The simulated time every log line starts with.
#include <gtest/gtest.h>

#include "models/common/log.h"

namespace npuvp::log {
namespace {

// Nanoseconds at any size, the picoseconds as a trimmed fraction: one unit
// down a log, where sc_time's text wrote "9242500 ps" beside "9230 ns".
TEST(LogTime, IsInNanosecondsWithPicosecondsAsAFraction) {
  EXPECT_EQ(time_text(0), "0 ns");
  EXPECT_EQ(time_text(9'230'000), "9230 ns");
  EXPECT_EQ(time_text(9'242'500), "9242.5 ns");
  EXPECT_EQ(time_text(1'250), "1.25 ns");
  EXPECT_EQ(time_text(7), "0.007 ns");
  EXPECT_EQ(time_text(65'021'163'480'001), "65021163480.001 ns");
}

}  // namespace
}  // namespace npuvp::log
