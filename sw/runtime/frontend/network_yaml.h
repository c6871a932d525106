#pragma once
// The YAML network format (`npuvp run --network file.yaml`) and its writer.
//
//   name: tiny                      # optional; defaults to the file's stem
//   input: [3, 32, 32]              # C, H, W at the default resolution
//   layers:                         # in topological order
//     - {name: conv1, type: conv2d, out_channels: 16, kernel: 3, padding: 1}
//     - {name: bn1, type: batch_norm}
//     - {name: relu1, type: relu}
//     - {name: sum, type: add, inputs: [relu1, conv1]}
//
// Every layer has `name` and `type` (a layer_type_name of network.h) and reads
// the previous layer unless `inputs` lists earlier layer names ("input" is the
// network input). Type-specific keys, with defaults:
//   conv2d            out_channels (required), kernel (required), stride: 1,
//                     padding: 0, dilation: 1, groups: 1, bias: false,
//                     dataflow: ws | os | os2d, datatype: int4 | int8
//   fully_connected   out_features (required), bias: true, datatype: int4 | int8
// (dataflow and datatype default to the run's --dataflow and --datatype.)
//   max_pool/avg_pool kernel (required), stride: kernel, padding: 0,
//                     ceil_mode: false, count_include_pad: true (avg_pool only)
//   adaptive_avg_pool output (required)
//   batch_norm        eps: 1e-5
//   channel_shuffle   groups (required)
//   shift             one of: pattern: five_direction | kernel_size: k (ShiftNet
//                     grouped shift) | shifts: [[dy, dx], ...] (one per channel)
//   slice_channels    begin, end (required)
//   pad_channels      before: 0, after: 0
// kernel/stride/dilation/output take n or [h, w]; padding takes n, [h, w] or
// [top, left, bottom, right]. An unknown key, a wrong type or a value the IR
// rejects is an error naming the file, the line and the key.

#include <string>

#include "sw/runtime/ir/network.h"

namespace npuvp::runtime {

// Parses `text`; `source` names it in error messages (a path or "<string>").
// Throws std::invalid_argument "<source>:<line>:<col>: ..." on any error.
Network parse_network_yaml(const std::string& text, const std::string& source = "<string>");

// Reads and parses a network file; an unreadable file is an error naming it.
Network load_network_yaml(const std::string& path);

// The network in this format (one flow mapping per layer, default values
// omitted), at its default input. parse_network_yaml(network_to_yaml(n))
// rebuilds the same layers.
std::string network_to_yaml(const Network& network);

}  // namespace npuvp::runtime
