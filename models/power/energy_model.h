#pragma once
// Energy = activity counts × energy per action (from configs/energy) + leakage
// power × time. Pure logic: the platform takes counter snapshots at layer
// boundaries and power windows and prices the differences here.

#include <cstdint>

#include "models/common/stats_source.h"

namespace npuvp::power {

struct EnergyTable {
  double mac_int8_pj = 0.3;    // 8-bit multiply + 32-bit accumulate
  double mac_int4_pj = 0.075;  // 4-bit multiply + accumulate (an estimate, see the table file)
  double mac_int16_pj = 0.72;  // 16-bit multiply + 32-bit accumulate
  double mac_fp16_pj = 1.5;    // fp16 multiply + fp16-class add
  double rf_access_pj = 0.12;  // one access of a register file of rf_reference_entries words
  double rf_reference_entries = 16;
  double rf_size_exponent = 0.469;  // energy grows as (entries / reference)^exponent
  double sram_pj_per_byte = 4.0;    // at the reference bank size
  double sram_reference_kb = 8.0;
  double sram_size_exponent = 0.153;  // energy grows as (bank size / reference)^exponent
  double noc_pj_per_flit_byte_hop = 0.5;
  // Leakage power per component while the platform is powered.
  double leakage_pe_mw_per_mac = 0.01;
  double leakage_sram_mw_per_kb = 0.02;
  double leakage_noc_mw_per_router = 0.1;
  double leakage_control_mw = 1.0;
};

// Monotonic counters of everything that costs energy, summed over the NPU.
struct Activity {
  std::uint64_t macs = 0;  // all datatypes; those below are int4, int16, fp16, the rest int8
  std::uint64_t int4_macs = 0, int16_macs = 0, fp16_macs = 0;
  std::uint64_t rf_accesses = 0;
  std::uint64_t sram_bytes = 0;  // bytes moved in/out of the SRAM banks (whole words)
  // Bytes read from and written into each cluster buffer (all clusters).
  std::uint64_t weight_buffer_bytes = 0, input_buffer_bytes = 0;
  std::uint64_t noc_flit_hops = 0;
  double dram_pj = 0;             // the DRAM model prices its own commands and background
  double dram_background_pj = 0;  // the share of dram_pj that accrues with time

  Activity operator-(const Activity& o) const {
    return {macs - o.macs,
            int4_macs - o.int4_macs,
            int16_macs - o.int16_macs,
            fp16_macs - o.fp16_macs,
            rf_accesses - o.rf_accesses,
            sram_bytes - o.sram_bytes,
            weight_buffer_bytes - o.weight_buffer_bytes,
            input_buffer_bytes - o.input_buffer_bytes,
            noc_flit_hops - o.noc_flit_hops,
            dram_pj - o.dram_pj,
            dram_background_pj - o.dram_background_pj};
  }
  // The same work over `seconds` instead of the `simulated` seconds it took:
  // the DRAM's background at its mean power over the span (leakage is priced
  // by the time given to price()).
  Activity over(double seconds, double simulated) const;
};

// The priced counters of a sample; work spread over time rounds to whole actions.
Activity activity(const stats::Counters& counters);

// What leaks, sized from the platform.
struct LeakageSources {
  std::uint64_t mac_units = 0;
  double sram_kb = 0;
  unsigned routers = 0;
  double buffer_kb = 0;  // the clusters' weight and input buffers, leaking as SRAM does
};

struct EnergyBreakdown {
  double mac = 0, rf = 0, buffer = 0, sram = 0, noc = 0, dram = 0, leakage = 0;
  double total() const { return mac + rf + buffer + sram + noc + dram + leakage; }
  EnergyBreakdown& operator+=(const EnergyBreakdown& o) {
    mac += o.mac, rf += o.rf, buffer += o.buffer, sram += o.sram, noc += o.noc, dram += o.dram, leakage += o.leakage;
    return *this;
  }
};

// The sizes of the priced structures, which the energy per action depends on.
struct PricedSizes {
  double sram_bank_kb = 32;
  unsigned flit_bytes = 32;
  unsigned rf_entries = 16;  // per PE
  // Each cluster's buffers, priced per byte by the SRAM banks' size law.
  double weight_buffer_kb = 64, input_buffer_kb = 64;
  LeakageSources leakage;
};

double sram_pj_per_byte(const EnergyTable& table, double bank_kb);
double rf_pj_per_access(const EnergyTable& table, unsigned entries);
double leakage_mw(const EnergyTable& table, const LeakageSources& sources);

EnergyBreakdown price(const EnergyTable& table, const Activity& activity, const PricedSizes& sizes, double seconds);

}  // namespace npuvp::power
