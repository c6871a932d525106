#include "models/power/energy_model.h"

#include <cmath>

namespace npuvp::power {

double sram_pj_per_byte(const EnergyTable& t, double bank_kb) {
  return t.sram_pj_per_byte * std::pow(bank_kb / t.sram_reference_kb, t.sram_size_exponent);
}

double rf_pj_per_access(const EnergyTable& t, unsigned entries) {
  return t.rf_access_pj * std::pow(entries / t.rf_reference_entries, t.rf_size_exponent);
}

double leakage_mw(const EnergyTable& t, const LeakageSources& s) {
  return t.leakage_pe_mw_per_mac * static_cast<double>(s.mac_units) +
         t.leakage_sram_mw_per_kb * (s.sram_kb + s.buffer_kb) + t.leakage_noc_mw_per_router * s.routers +
         t.leakage_control_mw;
}

Activity activity(const stats::Counters& c) {
  auto whole = [&](stats::Counter counter) { return static_cast<std::uint64_t>(c[counter] + 0.5); };
  Activity a;
  a.macs = whole(stats::Counter::kMacs);
  a.int4_macs = whole(stats::Counter::kInt4Macs);
  a.int16_macs = whole(stats::Counter::kInt16Macs);
  a.fp16_macs = whole(stats::Counter::kFp16Macs);
  a.rf_accesses = whole(stats::Counter::kRfAccesses);
  a.sram_bytes = whole(stats::Counter::kSramBytes);
  a.weight_buffer_bytes =
      whole(stats::Counter::kWeightBufferReadBytes) + whole(stats::Counter::kWeightBufferWriteBytes);
  a.input_buffer_bytes = whole(stats::Counter::kInputBufferReadBytes) + whole(stats::Counter::kInputBufferWriteBytes);
  a.noc_flit_hops = whole(stats::Counter::kNocFlitHops);
  a.dram_pj = c[stats::Counter::kDramEnergy];
  a.dram_background_pj = c[stats::Counter::kDramBackgroundEnergy];
  return a;
}

Activity Activity::over(double seconds, double simulated) const {
  Activity a = *this;
  const double background = simulated > 0 ? dram_background_pj * seconds / simulated : 0.0;
  a.dram_pj += background - dram_background_pj;
  a.dram_background_pj = background;
  return a;
}

EnergyBreakdown price(const EnergyTable& t, const Activity& a, const PricedSizes& sizes, double seconds) {
  EnergyBreakdown e;
  const std::uint64_t int8_macs = a.macs - a.int4_macs - a.int16_macs - a.fp16_macs;
  e.mac = t.mac_int8_pj * static_cast<double>(int8_macs) + t.mac_int4_pj * static_cast<double>(a.int4_macs) +
          t.mac_int16_pj * static_cast<double>(a.int16_macs) + t.mac_fp16_pj * static_cast<double>(a.fp16_macs);
  e.rf = rf_pj_per_access(t, sizes.rf_entries) * static_cast<double>(a.rf_accesses);
  e.buffer = sram_pj_per_byte(t, sizes.weight_buffer_kb) * static_cast<double>(a.weight_buffer_bytes) +
             sram_pj_per_byte(t, sizes.input_buffer_kb) * static_cast<double>(a.input_buffer_bytes);
  e.sram = sram_pj_per_byte(t, sizes.sram_bank_kb) * static_cast<double>(a.sram_bytes);
  e.noc = t.noc_pj_per_flit_byte_hop * sizes.flit_bytes * static_cast<double>(a.noc_flit_hops);
  e.dram = a.dram_pj;
  e.leakage = leakage_mw(t, sizes.leakage) * 1e-3 * seconds * 1e12;  // mW × s → pJ
  return e;
}

}  // namespace npuvp::power
