#include "sw/runtime/lowering/fusion.h"

#include <algorithm>
#include <string>

#include "sw/runtime/reference/reference_executor.h"
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

bool is_pool(LayerType t) {
  return t == LayerType::kMaxPool || t == LayerType::kAvgPool || t == LayerType::kAdaptiveAvgPool ||
         t == LayerType::kGlobalAvgPool;
}

PoolParams pool_window(const Network& n, int pool, firmware::Opcode& op) {
  const Layer& l = n.layer(pool);
  const TensorShape in = n.layer(l.inputs[0]).out_shape;
  op = l.type == LayerType::kMaxPool ? firmware::Opcode::kMaxPool : firmware::Opcode::kAvgPool;
  if (l.type == LayerType::kAdaptiveAvgPool) return adaptive_pool_as_uniform(l, in);
  if (l.type != LayerType::kGlobalAvgPool) return pool_params(n, pool, in);
  // TFLite MEAN and AVERAGE_POOL_2D round alike here: the reference
  // global_average_pool and a window of the whole map give the same bits.
  PoolParams p;
  p.kernel_h = in.h;
  p.kernel_w = in.w;
  return p;
}

PoolFusionPlan plan_pool_fusion(const QuantizedNetwork& q, const std::vector<std::vector<int>>& consumers,
                                const AddFusionPlan& adds) {
  const Network& n = q.network;
  PoolFusionPlan plan{std::vector<int>(n.size(), -1), std::vector<std::string>(n.size())};
  const auto only_reader = [&](int layer, int reader) {
    return consumers[layer].size() == 1 && consumers[layer][0] == reader;
  };
  for (int pool = 0; pool < static_cast<int>(n.size()); ++pool) {
    const Layer& l = n.layer(pool);
    if (!is_pool(l.type) || l.inputs.size() != 1) continue;
    const int src = l.inputs[0];
    const int conv = q.layers[src].fused_into >= 0 ? q.layers[src].fused_into : src;
    const LayerType t = n.layer(conv).type;
    const bool reads_only = conv == src ? only_reader(conv, pool) : only_reader(conv, src) && only_reader(src, pool);
    const std::string name = "'" + n.layer(conv).name + "'";
    std::string& why = plan.unfused_reason[static_cast<std::size_t>(pool)];
    if (t != LayerType::kConv2d && t != LayerType::kBatchNorm)
      why = name + " is not a convolution";
    else if (q.layers[conv].bits != 8 || q.layers[pool].bits != 8)
      why = name + " is not int8";
    else if (!reads_only)
      why = name + " feeds other layers too";
    else if (adds.add_of[conv] >= 0)
      why = name + " takes the add '" + n.layer(adds.add_of[conv]).name + "'";
    else
      plan.pool_of[conv] = pool;
  }
  return plan;
}

std::string set_fused_pool(firmware::LayerCommand& c, firmware::Opcode op, const PoolParams& p, TensorShape pooled,
                           QuantParams pool_input) {
  if (std::max({p.kernel_h, p.kernel_w, p.stride_h, p.stride_w, p.pad.top, p.pad.left, p.pad.bottom, p.pad.right}) >
          255 ||
      std::max(c.out_h, c.out_w) > 65535)
    return "its window does not fit the command's 8-bit pool fields";
  // An activation fused into the convolution keeps its quantization: the pool reads it as stored.
  if (pool_input.zero_point != c.output_zero_point) return "the convolution requantizes to another zero point";
  c.fuse = static_cast<std::uint32_t>(op == firmware::Opcode::kMaxPool ? firmware::Fuse::kMaxPool
                                                                       : firmware::Fuse::kAvgPool);
  c.conv_out_h = static_cast<std::uint16_t>(c.out_h);
  c.conv_out_w = static_cast<std::uint16_t>(c.out_w);
  c.out_h = static_cast<std::uint32_t>(pooled.h);
  c.out_w = static_cast<std::uint32_t>(pooled.w);
  firmware::write_pool_window(c, p);
  if (op == firmware::Opcode::kAvgPool && p.count_include_pad && p.pad.any()) c.flags |= firmware::kPoolCountIncludePad;
  c.fused_output_zero_point = c.output_zero_point;
  c.fused_act_min = -128;
  c.fused_act_max = 127;
  return {};
}

firmware::AddParams command_add_params(const AddParams& p, std::int32_t input2_zero_point) {
  return {input2_zero_point,
          p.left_shift,
          p.input1_multiplier.multiplier,
          p.input1_multiplier.shift,
          p.input2_multiplier.multiplier,
          p.input2_multiplier.shift,
          p.output_multiplier.multiplier,
          p.output_multiplier.shift};
}

void set_fused_add(firmware::LayerCommand& c, QuantParams conv, QuantParams residual, const QuantizedLayer& add,
                   std::uint64_t residual_addr) {
  // Input 1 is the convolution's result: the add is symmetric in its inputs.
  const AddParams p = make_add_params(conv, residual, add.output, add.activation);
  c.fuse = static_cast<std::uint32_t>(firmware::Fuse::kAdd);
  c.input2_addr = residual_addr;
  c.add = command_add_params(p, residual.zero_point);
  c.fused_output_zero_point = add.output.zero_point;
  c.fused_act_min = p.act_min;
  c.fused_act_max = p.act_max;
}

}  // namespace npuvp::runtime
