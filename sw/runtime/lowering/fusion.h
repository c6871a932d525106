#pragma once
// Which layers a convolution's epilogue may compute (docs/lowering.md): a
// residual add whose one input is the convolution's output, read by nothing
// else, and whose other input is computed before the convolution runs. The
// lowering fuses it when the convolution writes its channels in order and the
// other input is one packed tensor.

#include <cstdint>
#include <string>
#include <vector>

#include "contract/command_format.h"

#include "sw/runtime/quantize/quantized_network.h"
#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime {

struct AddFusionPlan {
  std::vector<int> add_of;  // per layer: the add a convolution's epilogue may compute, or -1
  // Per layer: an add's other input (the residual) when add_of names it, or -1.
  std::vector<int> residual_of;
  std::vector<std::string> unfused_reason;  // per add that no convolution may take: why
};

// `consumers[i]`: the layers reading layer i's output, once per input.
AddFusionPlan plan_add_fusion(const QuantizedNetwork& q, const std::vector<std::vector<int>>& consumers);

struct PoolFusionPlan {
  std::vector<int> pool_of;                 // per layer: the pool a convolution's epilogue may compute, or -1
  std::vector<std::string> unfused_reason;  // per pool that no convolution may take: why
};

// A max or average pool (adaptive and global ones included) whose input is a
// convolution's output (through an activation fused into it), read by
// nothing else, and whose convolution takes no add.
PoolFusionPlan plan_pool_fusion(const QuantizedNetwork& q, const std::vector<std::vector<int>>& consumers,
                                const AddFusionPlan& adds);

// Whether layer `pool` is a pooling layer, and its window and opcode.
bool is_pool(LayerType t);
PoolParams pool_window(const Network& n, int pool, firmware::Opcode& op);

// Sets a convolution command's fused pool: its results (conv_out_h ×
// conv_out_w, quantized as `pool_input`) pooled with the pool layer's window
// `p` into the command's out_h × out_w, clamped to int8 as the pool's own
// command is. Returns why not, when the command's fields cannot hold it.
std::string set_fused_pool(firmware::LayerCommand& c, firmware::Opcode op, const PoolParams& p, TensorShape pooled,
                           QuantParams pool_input);

// Sets a convolution command's fused add: its result (quantized as `conv`)
// plus the packed residual at `residual_addr`, as the add layer `add` computes.
// An add's parameters as a command carries them.
firmware::AddParams command_add_params(const AddParams& p, std::int32_t input2_zero_point);

void set_fused_add(firmware::LayerCommand& c, QuantParams conv, QuantParams residual, const QuantizedLayer& add,
                   std::uint64_t residual_addr);

}  // namespace npuvp::runtime
