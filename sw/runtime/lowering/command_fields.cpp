#include "sw/runtime/lowering/command_fields.h"

#include <string>

namespace npuvp::runtime {

firmware::LayerCommand layer_command(const Network& n, int layer, firmware::Opcode op, TensorShape in, TensorShape out,
                                     firmware::DataflowChoice dataflow) {
  firmware::LayerCommand c{};
  c.opcode = static_cast<std::uint32_t>(op);
  c.dataflow = static_cast<std::uint32_t>(dataflow);
  const std::string& forced = n.layer(layer).conv.dataflow;
  if (!forced.empty())
    c.dataflow = static_cast<std::uint32_t>(forced == "ws"   ? firmware::DataflowChoice::kWeightStationary
                                            : forced == "os" ? firmware::DataflowChoice::kOutputStationary
                                                             : firmware::DataflowChoice::kSpatialOutputStationary);
  c.layer_id = static_cast<std::uint32_t>(layer);
  c.in_c = static_cast<std::uint32_t>(in.c);
  c.in_h = static_cast<std::uint32_t>(in.h);
  c.in_w = static_cast<std::uint32_t>(in.w);
  c.out_c = static_cast<std::uint32_t>(out.c);
  c.out_h = static_cast<std::uint32_t>(out.h);
  c.out_w = static_cast<std::uint32_t>(out.w);
  c.act_min = -128;
  c.act_max = 127;
  firmware::write_window(c, {});
  return c;
}

void set_command_window(firmware::LayerCommand& c, const Network& n, int layer, const ConvWindow& w) {
  for (const firmware::WindowField& f : firmware::window_fields(w))
    if (f.value < f.lo || f.value > f.hi)
      fail_layer(n, layer,
                 std::string(f.name) + " " + std::to_string(f.value) + " does not fit the command field (supported: " +
                     std::to_string(f.lo) + ".." + std::to_string(f.hi) + ")");
  firmware::write_window(c, w);
}

}  // namespace npuvp::runtime
