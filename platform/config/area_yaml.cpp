#include "platform/config/area_yaml.h"

#include "platform/config/config_node.h"

namespace npuvp::config {

power::AreaTable parse_area_file(const std::string& file) {
  const ConfigNode root = ConfigNode::load_file(file);
  root.reject_unknown({"name", "node_nm", "mac", "register_file", "sram", "noc", "control"});
  power::AreaTable t;
  t.node_nm = root.get_positive("node_nm");
  const ConfigNode mac = root.child("mac");
  mac.reject_unknown({"int8_um2", "int4_um2", "int16_um2", "fp16_um2"});
  t.mac_int8_um2 = mac.get_positive("int8_um2");
  t.mac_int4_um2 = mac.get_positive("int4_um2");
  t.mac_int16_um2 = mac.get_positive("int16_um2");
  t.mac_fp16_um2 = mac.get_positive("fp16_um2");
  const ConfigNode rf = root.child("register_file");
  rf.reject_unknown({"um2_per_bit", "word_bits"});
  t.rf_um2_per_bit = rf.get_positive("um2_per_bit");
  t.rf_word_bits = static_cast<unsigned>(rf.get_int_in("word_bits", 1, 1024));
  const ConfigNode sram = root.child("sram");
  sram.reject_unknown({"cell_um2", "periphery_um2_per_sqrt_bit"});
  t.sram_cell_um2 = sram.get_positive("cell_um2");
  t.sram_periphery_um2_per_sqrt_bit = sram.get_positive("periphery_um2_per_sqrt_bit");
  const ConfigNode noc = root.child("noc");
  noc.reject_unknown({"buffer_um2_per_bit", "crosspoint_um2_per_bit", "allocator_um2_per_port", "link_um2_per_bit"});
  t.noc_buffer_um2_per_bit = noc.get_positive("buffer_um2_per_bit");
  t.noc_crosspoint_um2_per_bit = noc.get_positive("crosspoint_um2_per_bit");
  t.noc_allocator_um2_per_port = noc.get_positive("allocator_um2_per_port");
  t.noc_link_um2_per_bit = noc.get_positive("link_um2_per_bit");
  const ConfigNode control = root.child("control");
  control.reject_unknown({"nand2_um2", "dma_channel_kgates", "cluster_control_kgates", "command_processor_kgates"});
  t.nand2_um2 = control.get_positive("nand2_um2");
  t.dma_channel_kgates = control.get_positive("dma_channel_kgates");
  t.cluster_control_kgates = control.get_positive("cluster_control_kgates");
  t.command_processor_kgates = control.get_positive("command_processor_kgates");
  return t;
}

}  // namespace npuvp::config
