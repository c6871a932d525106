#pragma once
// Silicon area of a platform from the sizes of its structures and an area
// table (configs/area). Pure logic: the platform derives the sizes from its
// typed configuration; the table's sources are stated in the table file.

#include <cstdint>

namespace npuvp::power {

// Areas of one structure at the table's node, in µm².
struct AreaTable {
  double node_nm = 45;
  // One MAC unit (multiplier + accumulator) per datatype.
  double mac_int8_um2 = 419;
  double mac_int4_um2 = 207.5;
  double mac_int16_um2 = 1130;
  double mac_fp16_um2 = 3000;
  // Flip-flop register files: storage plus the read multiplexer, per bit.
  double rf_um2_per_bit = 6.384;
  unsigned rf_word_bits = 16;
  // An SRAM macro: cells plus periphery growing with the side of the array.
  double sram_cell_um2 = 0.346;
  double sram_periphery_um2_per_sqrt_bit = 76;
  // A NoC router: flip-flop input buffers, a multiplexer crossbar, allocators.
  double noc_buffer_um2_per_bit = 4.522;
  double noc_crosspoint_um2_per_bit = 1.862;
  double noc_allocator_um2_per_port = 798;
  double noc_link_um2_per_bit = 3.192;
  // Control logic, as NAND2-equivalent gates.
  double nand2_um2 = 0.798;
  double dma_channel_kgates = 20;
  double cluster_control_kgates = 10;
  double command_processor_kgates = 100;
};

// The datatypes a PE computes. Integer types share the widest integer
// multiplier; fp16 has its own datapath; packed int4 adds a second int4 lane.
struct DatatypeSupport {
  bool int8 = true, int4 = true, int16 = true, fp16 = true;
  bool int4_packed = false;
};

// The sizes area depends on, from the platform's configuration.
struct AreaSizes {
  unsigned clusters = 1;
  unsigned rows = 1, cols = 1;  // PEs per cluster
  DatatypeSupport datatypes;
  unsigned rf_entries = 16;                          // per PE
  double weight_buffer_kb = 0, input_buffer_kb = 0;  // per cluster, one SRAM macro each
  unsigned sram_banks = 0;
  double sram_bank_kb = 0;
  unsigned mesh_width = 1, mesh_height = 1;
  unsigned flit_bytes = 32, virtual_channels = 2, buffer_flits = 8;
  unsigned dma_channels = 2;
};

// In mm².
struct AreaBreakdown {
  double pe = 0, rf = 0, buffer = 0, sram = 0, noc = 0, other = 0;
  double total() const { return pe + rf + buffer + sram + noc + other; }
};

double pe_um2(const AreaTable& table, const DatatypeSupport& datatypes);
double sram_macro_um2(const AreaTable& table, double kb);
double router_um2(const AreaTable& table, unsigned ports, const AreaSizes& sizes);

// A table at another node: every area × (node_nm / table node)².
AreaTable scale_area(const AreaTable& table, double node_nm);

AreaBreakdown area(const AreaTable& table, const AreaSizes& sizes);

}  // namespace npuvp::power
