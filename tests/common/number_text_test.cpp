#include "models/common/number_text.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace npuvp::text {
namespace {

std::string shortest(double value) {
  char text[kLongestNumber];
  return std::string(text, write_shortest(text, value));
}

double from_bits(std::uint64_t bits) {
  double value;
  std::memcpy(&value, &bits, sizeof value);
  return value;
}

TEST(WriteShortest, SpellsEachNotationAsFmt) {
  EXPECT_EQ(shortest(0.0), "0");
  EXPECT_EQ(shortest(-0.0), "-0");
  EXPECT_EQ(shortest(1000.0), "1000");
  EXPECT_EQ(shortest(1044.4473276800006), "1044.4473276800006");
  EXPECT_EQ(shortest(0.001234), "0.001234");
  EXPECT_EQ(shortest(0.0001), "0.0001");
  EXPECT_EQ(shortest(0.00001), "1e-05");
  EXPECT_EQ(shortest(1e15), "1000000000000000");
  EXPECT_EQ(shortest(1e16), "1e+16");
  EXPECT_EQ(shortest(-1.5e300), "-1.5e+300");
  EXPECT_EQ(shortest(std::numeric_limits<double>::denorm_min()), "5e-324");
  EXPECT_EQ(shortest(-std::numeric_limits<double>::min()), "-2.2250738585072014e-308");
  EXPECT_EQ(shortest(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(shortest(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(shortest(std::nan("")), "nan");
}

// Every exponent, both sides of each notation's boundaries, and the values
// the traces carry (milliwatts, nanoseconds, microseconds with fractions).
TEST(WriteShortest, AgreesWithFmtOnRandomAndBoundaryValues) {
  std::mt19937_64 random(7);
  auto check = [](double value) { ASSERT_EQ(shortest(value), fmt::format("{}", value)) << fmt::format("{:a}", value); };
  for (int i = 0; i < 300'000; ++i) check(from_bits(random()));
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  for (int scale = -8; scale <= 18; ++scale)
    for (int i = 0; i < 5'000; ++i) check(unit(random) * std::pow(10.0, scale));
  for (int i = 0; i < 50'000; ++i) check(static_cast<double>(random() >> (random() % 64)) / 800.0);
  for (int e = -324; e <= 308; ++e) {
    const double power = std::pow(10.0, e);
    check(power);
    check(std::nextafter(power, 0.0));
    check(std::nextafter(power, HUGE_VAL));
    check(-power);
  }
}

}  // namespace
}  // namespace npuvp::text
