// Area composition of a PE by the datatypes it computes. Pure logic.
#include <gtest/gtest.h>

#include "models/power/area_model.h"

namespace npuvp::power {
namespace {

TEST(AreaModel, IntegerTypesShareTheWidestMultiplier) {
  const AreaTable t;
  DatatypeSupport int8_only{true, false, false, false, false};
  EXPECT_DOUBLE_EQ(pe_um2(t, int8_only), t.mac_int8_um2);
  DatatypeSupport integers{true, true, true, false, false};
  EXPECT_DOUBLE_EQ(pe_um2(t, integers), t.mac_int16_um2);
  const DatatypeSupport all_packed{true, true, true, true, true};
  EXPECT_DOUBLE_EQ(pe_um2(t, all_packed), t.mac_int16_um2 + t.mac_fp16_um2 + t.mac_int4_um2);
}

}  // namespace
}  // namespace npuvp::power
