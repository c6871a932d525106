#pragma once
// DRAM energy by the DRAMPower method: each command costs the current it
// draws above the standby current it replaces, times its duration and the
// rail voltage; standby (background) energy is integrated over time, active
// while any bank of a channel has a row open and precharged otherwise. I/O
// energy is the charge moved on the data pins and is reported apart.
//
// Units: mA × V × ns = pJ.

#include <nlohmann/json.hpp>

#include "models/dram/memspec.h"

namespace npuvp::dram {

struct EnergyBreakdown {
  double act_pj = 0;
  double pre_pj = 0;
  double read_pj = 0;
  double write_pj = 0;
  double refresh_pj = 0;
  double background_active_pj = 0;
  double background_precharged_pj = 0;
  double io_pj = 0;

  double core_pj() const {
    return act_pj + pre_pj + read_pj + write_pj + refresh_pj + background_active_pj + background_precharged_pj;
  }
  double total_pj() const { return core_pj() + io_pj; }
  EnergyBreakdown& operator+=(const EnergyBreakdown& o);
  nlohmann::json to_json() const;
};

// Energy of each command and background power of one channel, precomputed
// from the memspec so that counting costs an addition per command.
struct EnergyModel {
  explicit EnergyModel(const Memspec& spec);

  double act_pj;                   // (IDD0 − IDD3N) over tRAS
  double pre_pj;                   // (IDD0 − IDD2N) over tRC − tRAS
  double read_pj;                  // (IDD4R − IDD3N) over one burst
  double write_pj;                 // (IDD4W − IDD3N) over one burst
  double refresh_all_pj;           // (IDD5 − IDD2N) over tRFCab
  double refresh_bank_pj;          // (IDD5PB − IDD2N) over tREFIpb
  double io_burst_pj;              // C·VDDQ² per 0→1 transition, all bits of a burst
  double active_pj_per_cycle;      // IDD3N background
  double precharged_pj_per_cycle;  // IDD2N background
};

}  // namespace npuvp::dram
