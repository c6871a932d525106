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

namespace npuvp::runtime {

struct AddFusionPlan {
  std::vector<int> add_of;  // per layer: the add a convolution's epilogue may compute, or -1
  // Per layer: an add's other input (the residual) when add_of names it, or -1.
  std::vector<int> residual_of;
  std::vector<std::string> unfused_reason;  // per add that no convolution may take: why
};

// `consumers[i]`: the layers reading layer i's output, once per input.
AddFusionPlan plan_add_fusion(const QuantizedNetwork& q, const std::vector<std::vector<int>>& consumers);

// Sets a convolution command's fused add: its result (quantized as `conv`)
// plus the packed residual at `residual_addr`, as the add layer `add` computes.
void set_fused_add(firmware::LayerCommand& c, QuantParams conv, QuantParams residual, const QuantizedLayer& add,
                   std::uint64_t residual_addr);

}  // namespace npuvp::runtime
