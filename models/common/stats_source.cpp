#include "models/common/stats_source.h"

namespace npuvp::stats {

const CounterInfo& info(Counter counter) {
  static const std::array<CounterInfo, kCounterCount> kInfo = {{
      {"macs", Unit::kMacs},
      {"int4_macs", Unit::kMacs},
      {"int16_macs", Unit::kMacs},
      {"fp16_macs", Unit::kMacs},
      {"rf_accesses", Unit::kAccesses},
      {"rf_bytes", Unit::kBytes},
      {"weight_buffer_read_bytes", Unit::kBytes},
      {"weight_buffer_write_bytes", Unit::kBytes},
      {"input_buffer_read_bytes", Unit::kBytes},
      {"input_buffer_write_bytes", Unit::kBytes},
      {"compute_cycles", Unit::kCycles},
      {"stall_cycles", Unit::kCycles},
      {"buffer_port_stall_cycles", Unit::kCycles},
      {"ws_jobs", Unit::kCount},
      {"os_jobs", Unit::kCount},
      {"os2d_jobs", Unit::kCount},
      {"sram_bytes", Unit::kBytes},
      {"sram_conflict_cycles", Unit::kCycles},
      {"noc_flit_hops", Unit::kFlitHops},
      {"noc_bytes", Unit::kBytes},
      {"noc_byte_hops", Unit::kByteHops},
      {"dma_wait_cycles", Unit::kCycles},
      {"dma_system_bytes", Unit::kBytes},
      {"dma_local_bytes", Unit::kBytes},
      {"dram_read_bytes", Unit::kBytes},
      {"dram_write_bytes", Unit::kBytes},
      {"dram_energy", Unit::kPicojoules},
      {"dram_background_energy", Unit::kPicojoules},
  }};
  return kInfo[static_cast<std::size_t>(counter)];
}

const char* unit_name(Unit unit) {
  switch (unit) {
    case Unit::kMacs:
      return "MAC";
    case Unit::kAccesses:
      return "access";
    case Unit::kBytes:
      return "B";
    case Unit::kCycles:
      return "cycle";
    case Unit::kByteHops:
      return "B-hop";
    case Unit::kFlitHops:
      return "flit-hop";
    case Unit::kPicojoules:
      return "pJ";
    case Unit::kCount:
      break;
  }
  return "";
}

Counters Counters::operator-(const Counters& earlier) const {
  Counters out;
  for (std::size_t i = 0; i < kCounterCount; ++i) out.values_[i] = values_[i] - earlier.values_[i];
  return out;
}

}  // namespace npuvp::stats
