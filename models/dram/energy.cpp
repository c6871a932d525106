#include "models/dram/energy.h"

namespace npuvp::dram {
namespace {

// Sums a current difference over both core rails: Σ (a − b)·V, in mA·V = mW.
template <typename Pick>
double core_mw(const Memspec& s, Pick pick) {
  return pick(s.vdd1_currents) * s.vdd1 + pick(s.vdd2_currents) * s.vdd2;
}

}  // namespace

EnergyBreakdown& EnergyBreakdown::operator+=(const EnergyBreakdown& o) {
  act_pj += o.act_pj;
  pre_pj += o.pre_pj;
  read_pj += o.read_pj;
  write_pj += o.write_pj;
  refresh_pj += o.refresh_pj;
  background_active_pj += o.background_active_pj;
  background_precharged_pj += o.background_precharged_pj;
  io_pj += o.io_pj;
  return *this;
}

nlohmann::json EnergyBreakdown::to_json() const {
  return {{"act", act_pj},
          {"pre", pre_pj},
          {"read", read_pj},
          {"write", write_pj},
          {"refresh", refresh_pj},
          {"background_active", background_active_pj},
          {"background_precharged", background_precharged_pj},
          {"core", core_pj()},
          {"io", io_pj},
          {"total", total_pj()}};
}

EnergyModel::EnergyModel(const Memspec& s) {
  const double tck = s.tck_ns;
  act_pj = core_mw(s, [](const RailCurrents& c) { return c.idd0 - c.idd3n; }) * s.tras * tck;
  pre_pj = core_mw(s, [](const RailCurrents& c) { return c.idd0 - c.idd2n; }) * (s.trc - s.tras) * tck;
  read_pj = core_mw(s, [](const RailCurrents& c) { return c.idd4r - c.idd3n; }) * s.burst_cycles() * tck;
  write_pj = core_mw(s, [](const RailCurrents& c) { return c.idd4w - c.idd3n; }) * s.burst_cycles() * tck;
  refresh_all_pj = core_mw(s, [](const RailCurrents& c) { return c.idd5 - c.idd2n; }) * s.trfcab * tck;
  refresh_bank_pj = core_mw(s, [](const RailCurrents& c) { return c.idd5pb - c.idd2n; }) * s.trefipb() * tck;
  io_burst_pj = double(s.burst_length) * s.width_bits * s.io_activity * s.io_capacitance_pf * s.vddq * s.vddq;
  active_pj_per_cycle = core_mw(s, [](const RailCurrents& c) { return c.idd3n; }) * tck;
  precharged_pj_per_cycle = core_mw(s, [](const RailCurrents& c) { return c.idd2n; }) * tck;
}

}  // namespace npuvp::dram
