#include "models/dram/memspec.h"

#include <stdexcept>

namespace npuvp::dram {
namespace {

bool power_of_two(std::uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

void require(bool ok, const char* field, const std::string& expected) {
  if (!ok) throw std::invalid_argument(std::string(field) + ": expected " + expected);
}

}  // namespace

void Memspec::validate() const {
  require(banks >= 1 && banks <= 64 && power_of_two(banks), "banks", "a power of two from 1 to 64");
  require(power_of_two(rows), "rows", "a power of two");
  require(power_of_two(columns) && columns >= burst_length, "columns", "a power of two >= burst_length");
  require(width_bits == 8 || width_bits == 16 || width_bits == 32, "width_bits", "8, 16 or 32");
  require(burst_length == 16 || burst_length == 32, "burst_length", "16 or 32");
  require(tck_ns > 0, "tck_ns", "a positive clock period");
  require(rl > 0 && wl > 0, "rl/wl", "positive latencies");
  require(tccd >= 1, "tccd", "at least 1");
  require(trc >= tras + trppb, "trc", "at least tras + trppb (JEDEC tRC = tRAS + tRPpb)");
  require(trpab >= trppb, "trpab", "at least trppb");
  require(tfaw >= trrd, "tfaw", "at least trrd");
  require(trefi > trfcab, "trefi", "longer than trfcab");
  require(trefi / banks > trfcpb, "trefi", "longer than banks * trfcpb (per-bank refresh must fit)");
  require(act_cycles >= 2 && act_cycles % 2 == 0 && cas_cycles >= 2 && cas_cycles % 2 == 0, "act/cas cycles",
          "an even count of at least 2 (two command words of equal length)");
  require(pre_cycles >= 1 && ref_cycles >= 1, "pre/ref cycles", "at least 1");
  // tRP and tRFC count to ACT-2, so ACT-1 may start act2_edge() before they
  // end; a shorter one would put ACT-1 before the PRE or REF it follows.
  require(trppb >= act2_edge() && trfcpb >= act2_edge() && trfcab >= act2_edge(), "trppb/trfcpb/trfcab",
          "at least act/2 (they count to ACT-2)");
  require(vdd1 >= 0 && vdd2 >= 0 && vddq >= 0, "vdd", "non-negative voltages");
  require(io_activity >= 0 && io_activity <= 1, "io_activity", "a probability in [0, 1]");
  require(io_capacitance_pf >= 0, "io_capacitance_pf", "a non-negative capacitance");
  // The energy model charges each command the current above the standby it
  // replaces; a current below its standby would give negative energy.
  for (const RailCurrents* c : {&vdd1_currents, &vdd2_currents}) {
    const char* rail = c == &vdd1_currents ? "vdd1 currents" : "vdd2 currents";
    require(c->idd2n >= 0, rail, "idd2n >= 0");
    require(c->idd3n >= c->idd2n, rail, "idd3n >= idd2n");
    require(c->idd0 >= c->idd3n, rail, "idd0 >= idd3n");
    require(c->idd4r >= c->idd3n && c->idd4w >= c->idd3n, rail, "idd4r and idd4w >= idd3n");
    require(c->idd5 >= c->idd2n && c->idd5pb >= c->idd2n, rail, "idd5 and idd5pb >= idd2n");
  }
}

}  // namespace npuvp::dram
