#include "models/power/area_model.h"

#include <algorithm>
#include <cmath>

namespace npuvp::power {
namespace {

constexpr double kUm2PerMm2 = 1e6;

// Unidirectional links of a width × height mesh.
unsigned mesh_links(unsigned width, unsigned height) { return 2 * ((width - 1) * height + width * (height - 1)); }

// A router's neighbours plus its local port.
unsigned mesh_ports(unsigned x, unsigned y, unsigned width, unsigned height) {
  return 1 + (x > 0) + (x + 1 < width) + (y > 0) + (y + 1 < height);
}

}  // namespace

double pe_um2(const AreaTable& t, const DatatypeSupport& d) {
  double integer = 0;
  if (d.int4) integer = std::max(integer, t.mac_int4_um2);
  if (d.int8) integer = std::max(integer, t.mac_int8_um2);
  if (d.int16) integer = std::max(integer, t.mac_int16_um2);
  return integer + (d.fp16 ? t.mac_fp16_um2 : 0) + (d.int4_packed ? t.mac_int4_um2 : 0);
}

double sram_macro_um2(const AreaTable& t, double kb) {
  const double bits = kb * 1024 * 8;
  return bits * t.sram_cell_um2 + t.sram_periphery_um2_per_sqrt_bit * std::sqrt(bits);
}

double router_um2(const AreaTable& t, unsigned ports, const AreaSizes& s) {
  const double flit_bits = 8.0 * s.flit_bytes;
  const double buffers = double(ports) * s.virtual_channels * s.buffer_flits * flit_bits * t.noc_buffer_um2_per_bit;
  // Each output selects among the other inputs.
  const double crossbar = double(ports) * (ports - 1) * flit_bits * t.noc_crosspoint_um2_per_bit;
  return buffers + crossbar + ports * t.noc_allocator_um2_per_port;
}

AreaTable scale_area(const AreaTable& t, double node_nm) {
  const double f = (node_nm / t.node_nm) * (node_nm / t.node_nm);
  AreaTable s = t;
  s.node_nm = node_nm;
  for (double* a :
       {&s.mac_int8_um2, &s.mac_int4_um2, &s.mac_int16_um2, &s.mac_fp16_um2, &s.rf_um2_per_bit, &s.sram_cell_um2,
        &s.sram_periphery_um2_per_sqrt_bit, &s.noc_buffer_um2_per_bit, &s.noc_crosspoint_um2_per_bit,
        &s.noc_allocator_um2_per_port, &s.noc_link_um2_per_bit, &s.nand2_um2})
    *a *= f;
  return s;
}

AreaBreakdown area(const AreaTable& t, const AreaSizes& s) {
  const double pes = double(s.clusters) * s.rows * s.cols;
  AreaBreakdown a;
  a.pe = pes * pe_um2(t, s.datatypes) / kUm2PerMm2;
  a.rf = pes * s.rf_entries * t.rf_word_bits * t.rf_um2_per_bit / kUm2PerMm2;
  a.buffer = s.clusters * (sram_macro_um2(t, s.weight_buffer_kb) + sram_macro_um2(t, s.input_buffer_kb)) / kUm2PerMm2;
  a.sram = s.sram_banks * sram_macro_um2(t, s.sram_bank_kb) / kUm2PerMm2;
  double noc = mesh_links(s.mesh_width, s.mesh_height) * 8.0 * s.flit_bytes * t.noc_link_um2_per_bit;
  for (unsigned y = 0; y < s.mesh_height; ++y)
    for (unsigned x = 0; x < s.mesh_width; ++x) noc += router_um2(t, mesh_ports(x, y, s.mesh_width, s.mesh_height), s);
  a.noc = noc / kUm2PerMm2;
  const double kgates =
      s.dma_channels * t.dma_channel_kgates + s.clusters * t.cluster_control_kgates + t.command_processor_kgates;
  a.other = kgates * 1e3 * t.nand2_um2 / kUm2PerMm2;
  return a;
}

}  // namespace npuvp::power
