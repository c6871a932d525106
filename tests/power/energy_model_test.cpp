// Energy pricing: price() of hand-made activity against hand-computed pJ.
// Pure logic, no simulation.
#include <gtest/gtest.h>

#include "models/power/energy_model.h"

namespace npuvp::power {
namespace {

// Within a part in 10^12 of the hand-computed value.
void expect_pj(double got, double want) { EXPECT_NEAR(got, want, 1e-12 * (want < 0 ? -want : want) + 1e-12); }

TEST(EnergyModel, MacsArePricedByDatatypeTheRestAsInt8) {
  Activity a;
  a.macs = 1000;  // of which 100 int4, 10 int16, 1 fp16, so 889 int8
  a.int4_macs = 100;
  a.int16_macs = 10;
  a.fp16_macs = 1;
  const EnergyBreakdown e = price(EnergyTable{}, a, PricedSizes{}, 0);
  // 889 × 0.3 + 100 × 0.075 + 10 × 0.72 + 1 × 1.5 = 266.7 + 7.5 + 7.2 + 1.5
  expect_pj(e.mac, 282.9);
  EXPECT_EQ(e.rf + e.buffer + e.sram + e.noc + e.dram + e.leakage, 0.0);
  expect_pj(e.total(), 282.9);
}

TEST(EnergyModel, RegisterFileAndSramScaleWithTheirSize) {
  Activity a;
  a.rf_accesses = 500;
  a.sram_bytes = 1000;
  PricedSizes at_reference;
  at_reference.rf_entries = 16;   // the table's reference: 0.12 pJ
  at_reference.sram_bank_kb = 8;  // 4.0 pJ/byte
  EnergyBreakdown e = price(EnergyTable{}, a, at_reference, 0);
  expect_pj(e.rf, 60.0);    // 500 × 0.12
  expect_pj(e.sram, 4000);  // 1000 × 4.0
  PricedSizes larger;
  larger.rf_entries = 64;    // 4× the entries: × 4^0.469 = 1.915870436445393
  larger.sram_bank_kb = 32;  // 4× the bank: × 4^0.153 = 1.2362752609209515
  e = price(EnergyTable{}, a, larger, 0);
  expect_pj(e.rf, 500 * 0.12 * 1.915870436445393);
  expect_pj(e.sram, 1000 * 4.0 * 1.2362752609209515);
  expect_pj(rf_pj_per_access(EnergyTable{}, 8), 0.08669582387541153);  // 0.12 × 0.5^0.469
  expect_pj(sram_pj_per_byte(EnergyTable{}, 64), 5.498354782288116);   // 4.0 × 8^0.153
}

TEST(EnergyModel, ClusterBuffersArePricedByTheSramLawAtTheirOwnSizes) {
  Activity a;
  a.weight_buffer_bytes = 1000;
  a.input_buffer_bytes = 10;
  PricedSizes s;
  s.weight_buffer_kb = 8;    // the law's reference: 4.0 pJ/byte
  s.input_buffer_kb = 64;    // 8× the reference: × 8^0.153
  s.sram_bank_kb = 1 << 20;  // the global buffer's size does not enter
  const EnergyBreakdown e = price(EnergyTable{}, a, s, 0);
  expect_pj(e.buffer, 1000 * 4.0 + 10 * 5.498354782288116);
  EXPECT_EQ(e.sram, 0.0);
  expect_pj(e.total(), e.buffer);
}

TEST(EnergyModel, ClusterBuffersLeakAsSramDoes) {
  PricedSizes s;
  s.leakage.buffer_kb = 16 * 192;  // 3072 KiB × 0.02 mW = 61.44 mW; control 1 mW
  expect_pj(leakage_mw(EnergyTable{}, s.leakage), 62.44);
}

TEST(EnergyModel, NocIsPerFlitByteHopAndDramIsPassedThrough) {
  Activity a;
  a.noc_flit_hops = 7;
  a.dram_pj = 1234.5;
  PricedSizes s;
  s.flit_bytes = 16;
  const EnergyBreakdown e = price(EnergyTable{}, a, s, 0);
  expect_pj(e.noc, 7 * 16 * 0.5);
  expect_pj(e.dram, 1234.5);
  expect_pj(e.total(), 56 + 1234.5);
}

TEST(EnergyModel, LeakageIsPowerOfEverySourceTimesTime) {
  PricedSizes s;
  s.leakage.mac_units = 1024;  // 1024 × 0.01 mW = 10.24 mW
  s.leakage.sram_kb = 512;     // 512 × 0.02 mW = 10.24 mW
  s.leakage.routers = 16;      // 16 × 0.1 mW  = 1.6 mW; control 1 mW
  expect_pj(leakage_mw(EnergyTable{}, s.leakage), 23.08);
  // 23.08 mW for 1 ms is 23.08 µJ = 2.308e7 pJ.
  const EnergyBreakdown e = price(EnergyTable{}, Activity{}, s, 1e-3);
  expect_pj(e.leakage, 2.308e7);
  expect_pj(e.total(), 2.308e7);
}

TEST(EnergyModel, ADifferenceOfSnapshotsPricesTheWorkBetweenThem) {
  Activity before, after;
  before.macs = 100, before.int4_macs = 10, before.rf_accesses = 5, before.sram_bytes = 64, before.dram_pj = 1.0;
  after.macs = 300, after.int4_macs = 50, after.rf_accesses = 25, after.sram_bytes = 128, after.dram_pj = 3.5;
  const Activity d = after - before;
  EXPECT_EQ(d.macs, 200u);
  EXPECT_EQ(d.int4_macs, 40u);
  EXPECT_EQ(d.rf_accesses, 20u);
  EXPECT_EQ(d.sram_bytes, 64u);
  PricedSizes s;
  s.sram_bank_kb = 8;
  const EnergyBreakdown e = price(EnergyTable{}, d, s, 0);
  expect_pj(e.mac, 160 * 0.3 + 40 * 0.075);  // 51
  expect_pj(e.rf, 20 * 0.12);
  expect_pj(e.sram, 64 * 4.0);
  expect_pj(e.dram, 2.5);
}

TEST(EnergyModel, ATableChangesOnlyWhatItPrices) {
  EnergyTable t;
  t.mac_int8_pj = 1.0;
  t.noc_pj_per_flit_byte_hop = 0;
  Activity a;
  a.macs = 10;
  a.noc_flit_hops = 99;
  const EnergyBreakdown e = price(t, a, PricedSizes{}, 0);
  expect_pj(e.mac, 10.0);
  EXPECT_EQ(e.noc, 0.0);
}

}  // namespace
}  // namespace npuvp::power
