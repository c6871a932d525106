#pragma once
// A DRAM part as the model sees it: JEDEC timings in clock cycles, geometry and
// the datasheet currents that the energy model needs. Filled by the config
// layer from a memspec file; the model never reads files.

#include <cstdint>
#include <string>

namespace npuvp::dram {

// Supply currents of one rail set, in mA, following the JEDEC IDD definitions.
// LPDDR4 has two core rails (VDD1, VDD2); I/O (VDDQ) is modelled separately.
struct RailCurrents {
  double idd0 = 0;    // one bank ACT-PRE every tRC
  double idd2n = 0;   // all banks precharged, standby
  double idd3n = 0;   // a bank active, standby
  double idd4r = 0;   // burst read
  double idd4w = 0;   // burst write
  double idd5 = 0;    // all-bank refresh burst (REFab every tRFCab)
  double idd5pb = 0;  // per-bank refresh average (REFpb every tREFIpb)
};

struct Memspec {
  std::string name;  // e.g. "LPDDR4-3200 8Gb x16"

  // Geometry of one channel.
  unsigned banks = 8;
  unsigned rows = 65536;
  unsigned columns = 1024;
  unsigned width_bits = 16;    // data bus width of a channel
  unsigned burst_length = 16;  // 16 or 32

  // Clock period and timings (every t* in tCK units).
  double tck_ns = 0.625;
  unsigned rl = 28, wl = 14;
  unsigned tdqsck = 6;  // read DQS access time, rounded up to whole clocks
  unsigned trcd = 29, trppb = 29, trpab = 34, tras = 68, trc = 97;
  unsigned trrd = 16, tfaw = 64, tccd = 8;
  unsigned twr = 29, twtr = 16, trtp = 12;
  unsigned twpre = 2, trpst = 0;  // write preamble, read postamble (rounded down, as JEDEC RD→WR uses it)
  unsigned trfcab = 448, trfcpb = 224, trefi = 6246;

  // Command/address bus occupancy of each command (LPDDR4 sends ACT as
  // ACT-1 + ACT-2 and RD/WR as RD-1/WR-1 + CAS-2, two words of two clock
  // edges each; PRE and REF as one word).
  unsigned act_cycles = 4, cas_cycles = 4, pre_cycles = 2, ref_cycles = 2;

  // Energy inputs.
  double vdd1 = 1.8, vdd2 = 1.1, vddq = 1.1;  // V
  RailCurrents vdd1_currents;                 // mA
  RailCurrents vdd2_currents;                 // mA
  double io_capacitance_pf = 3.0;             // switched load per DQ pin (die + package + trace)
  double io_activity = 0.25;                  // probability of a 0→1 transition per bit per beat

  // Derived quantities.
  unsigned burst_cycles() const { return burst_length / 2; }  // double data rate
  unsigned burst_bytes() const { return burst_length * width_bits / 8; }
  std::uint64_t page_bytes() const { return std::uint64_t(columns) * width_bits / 8; }
  std::uint64_t channel_bytes() const { return page_bytes() * rows * banks; }
  unsigned trefipb() const { return trefi / banks; }
  // Peak data-bus bandwidth of one channel, GB/s (1e9 bytes/s).
  double peak_gbps() const { return 2.0 * width_bits / 8 / tck_ns; }

  // Where JESD209-4 counts from inside a two-word command, in tCK after its
  // first edge (docs/dram.md has the edge of every constraint and why): the
  // row opens at the first edge of ACT-2, and RL, WL, tRTP and tWR count from
  // the last edge of CAS-2, when the column command is complete.
  unsigned act2_edge() const { return act_cycles / 2; }
  unsigned cas2_last_edge() const { return cas_cycles - 1; }
  // The last data beat of a burst, in tCK after RD-1 / WR-1: RL + tDQSCK or
  // WL + tDQSS (1 tCK), then BL/2.
  unsigned read_data_end() const { return cas2_last_edge() + rl + tdqsck + burst_cycles(); }
  unsigned write_data_end() const { return cas2_last_edge() + wl + 1 + burst_cycles(); }
  // Minimum distances between the first edges of two commands, from the
  // JESD209-4 formulas and the edges they count from. The protocol checker
  // keeps its own rules; the controller and the benchmark's bound use these.
  unsigned ccd() const { return tccd > burst_cycles() ? tccd : burst_cycles(); }
  // RD→WR = RL + tDQSCK + BL/2 − WL + tWPRE + RD(tRPST): a data-bus distance
  // between the two CAS-2, so the same between RD-1 and WR-1.
  unsigned rd_to_wr() const {
    const int d = int(rl + tdqsck + burst_cycles() + twpre + trpst) - int(wl);
    return d > 1 ? unsigned(d) : 1u;
  }
  // WR→RD: tWTR from the end of the write data to RD-1.
  unsigned wr_to_rd() const { return write_data_end() + twtr; }
  // What one RD→WR and one WR→RD turnaround cost the data bus beyond the
  // tCCD that back-to-back bursts of one direction keep anyway.
  unsigned turnaround_pair() const {
    const unsigned c = ccd();
    return (rd_to_wr() > c ? rd_to_wr() - c : 0) + (wr_to_rd() > c ? wr_to_rd() - c : 0);
  }
  // RD→PRE = BL/2 + max(8, nRTP) − 8 and WR→PRE = WL + 1 + BL/2 + nWR, both
  // from the last edge of CAS-2.
  unsigned rd_to_pre() const { return cas2_last_edge() + burst_cycles() + (trtp > 8 ? trtp : 8) - 8; }
  unsigned wr_to_pre() const { return write_data_end() + twr; }

  // Throws std::invalid_argument naming the first inconsistent field; the
  // config layer turns this into an error naming the file.
  void validate() const;
};

}  // namespace npuvp::dram
