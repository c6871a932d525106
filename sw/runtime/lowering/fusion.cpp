#include "sw/runtime/lowering/fusion.h"

#include <string>

#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime {

AddFusionPlan plan_add_fusion(const QuantizedNetwork& q, const std::vector<std::vector<int>>& consumers) {
  const Network& n = q.network;
  const auto count = static_cast<int>(n.size());
  AddFusionPlan plan{std::vector<int>(n.size(), -1), std::vector<int>(n.size(), -1),
                     std::vector<std::string>(n.size())};
  const auto only_reader = [&](int layer, int reader) {
    return consumers[layer].size() == 1 && consumers[layer][0] == reader;
  };
  for (int add = 0; add < count; ++add) {
    const Layer& l = n.layer(add);
    if (l.type != LayerType::kAdd || l.inputs.size() != 2) continue;
    int best = -1, residual = -1;
    std::string why;
    for (int side = 0; side < 2; ++side) {
      const int src = l.inputs[side], other = l.inputs[1 - side];
      // Through an activation fused into the convolution: it clamps before the add.
      const int conv = q.layers[src].fused_into >= 0 ? q.layers[src].fused_into : src;
      const LayerType t = n.layer(conv).type;
      const bool reads_only = conv == src ? only_reader(conv, add) : only_reader(conv, src) && only_reader(src, add);
      const std::string name = "'" + n.layer(conv).name + "'";
      std::string fails;
      if (t != LayerType::kConv2d && t != LayerType::kBatchNorm)
        fails = name + " is not a convolution";
      else if (q.layers[conv].bits != 8)
        fails = name + " is not int8";
      else if (!reads_only)
        fails = name + " feeds other layers too";
      else if (other >= conv)  // the epilogue runs when the convolution does: the residual must be written by then
        fails = "'" + n.layer(other).name + "' is computed after " + name;
      if (fails.empty() && conv > best) {
        best = conv;
        residual = other;
      }
      why += (why.empty() ? "" : "; ") + fails;
    }
    if (best < 0) {
      plan.unfused_reason[static_cast<std::size_t>(add)] = why;
      continue;
    }
    plan.add_of[best] = add;
    plan.residual_of[best] = residual;
  }
  return plan;
}

void set_fused_add(firmware::LayerCommand& c, QuantParams conv, QuantParams residual, const QuantizedLayer& add,
                   std::uint64_t residual_addr) {
  // Input 1 is the convolution's result: the add is symmetric in its inputs.
  const AddParams p = make_add_params(conv, residual, add.output, add.activation);
  c.fuse = static_cast<std::uint32_t>(firmware::Fuse::kAdd);
  c.input2_addr = residual_addr;
  c.add = firmware::AddParams{residual.zero_point,
                              p.left_shift,
                              p.input1_multiplier.multiplier,
                              p.input1_multiplier.shift,
                              p.input2_multiplier.multiplier,
                              p.input2_multiplier.shift,
                              p.output_multiplier.multiplier,
                              p.output_multiplier.shift};
  c.fused_output_zero_point = add.output.zero_point;
  c.fused_act_min = p.act_min;
  c.fused_act_max = p.act_max;
}

}  // namespace npuvp::runtime
