#include "platform/report/progress_line.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace npuvp::report {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(ProgressLine, DisabledWritesNothing) {
  std::ostringstream os;
  {
    ProgressLine p(os, false);
    p.update(1, 3, 1000, "conv1");
    p.update(3, 3, 5000, "fc");
  }
  EXPECT_EQ(os.str(), "");
}

TEST(ProgressLine, QuietOnStderrIsDisabled) { EXPECT_FALSE(ProgressLine::for_stderr(true).enabled()); }

TEST(ProgressLine, RedrawsInPlaceAndEndsWithOneNewline) {
  std::ostringstream os;
  {
    ProgressLine p(os, true);
    p.update(1, 3, 2500, "a_long_layer_name");
    p.update(3, 3, 1.5e6, "fc");
  }
  const std::string out = os.str();
  EXPECT_THAT(out, StartsWith("\rlayer 1/3 a_long_layer_name | simulated 2.5 us | wall "));
  const auto second = out.find("\rlayer 3/3 fc | simulated 1.500 ms | wall ");
  ASSERT_NE(second, std::string::npos) << out;
  // The shorter second line blanks what is left of the first.
  const std::string first_line = out.substr(0, second);
  EXPECT_EQ(out.size() - second - 1, first_line.size()) << out;
  EXPECT_EQ(out.back(), '\n');
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST(ProgressLine, MovedFromLineStaysSilent) {
  std::ostringstream os;
  {
    ProgressLine a(os, true);
    a.update(1, 2, 0);
    ProgressLine b(std::move(a));
    b.update(2, 2, 10);
  }
  const std::string out = os.str();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

}  // namespace
}  // namespace npuvp::report
