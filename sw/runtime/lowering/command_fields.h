#pragma once
// The fields every LayerCommand of an IR layer starts from, and its window
// checked against the command's narrow fields.

#include "contract/command_format.h"
#include "sw/runtime/ir/network.h"
#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime {

// Opcode, dataflow (the layer's forced one, else `dataflow`), layer_id, the
// shapes, the int8 clamp and a unit window.
firmware::LayerCommand layer_command(const Network& n, int layer, firmware::Opcode op, TensorShape in, TensorShape out,
                                     firmware::DataflowChoice dataflow);

// Writes `w` into c, or throws std::invalid_argument naming the layer and
// the field it does not fit.
void set_command_window(firmware::LayerCommand& c, const Network& n, int layer, const ConvWindow& w);

}  // namespace npuvp::runtime
