#pragma once
// From a quantized network to what the NPU runs: lower_network emits one or
// more firmware::LayerCommand per IR layer (layer_id = the layer's index in
// QuantizedNetwork::network), every tensor and parameter block placed in DRAM
// through a caller-supplied allocator.
//
// Unsupported layers or parameters throw std::invalid_argument naming the
// network, the layer and what is supported.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "contract/command_format.h"
#include "sw/runtime/ir/network.h"
#include "sw/runtime/quantize/quantized_network.h"
#include "sw/runtime/reference/reference_executor.h"
#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime {

// Returns the DRAM address of a fresh buffer of `bytes` bytes.
using DramAllocator = std::function<std::uint64_t(std::uint64_t bytes)>;

struct LoweringOptions {
  firmware::DataflowChoice dataflow = firmware::DataflowChoice::kHybridLatency;  // of every kConv2d
  // Concat, slice, channel shuffle and shift run no command: producers write
  // into their slice of a concatenation and consumers gather their input
  // (docs/lowering.md). Off, each runs as copies (shift as a depthwise conv).
  bool fold_data_movement = true;
  // A folded shift is read as one run per direction and pixel; runs shorter
  // than the DRAM's access (its burst) waste most of each access, so a shift
  // whose directions have fewer channels than this stays a depthwise conv
  // (docs/lowering.md).
  std::uint32_t dram_access_bytes = 32;
  // A residual add, or a pool, runs in the epilogue of the convolution
  // producing (one of) its inputs (fusion.h); off, each runs as its own command.
  bool fuse_layers = true;
  // Whether a command's smallest tile fits the NPU (unset: every one does).
  // A convolution whose fused pool makes it too tall for that runs unfused.
  std::function<bool(const firmware::LayerCommand&)> tile_fits;
  // false: LoweredNetwork::initial_data stays empty (the same commands and
  // addresses, for a caller that only reads the commands).
  bool initial_data = true;
  // Set: each block of initial data is handed to it as it is lowered, in the
  // order initial_data would hold them (the network input, then every
  // parameter block), instead of being kept there. A host writing them
  // straight into DRAM keeps no second copy of the weights (ResNet-50: 23 MB).
  std::function<void(std::uint64_t addr, const std::uint8_t* bytes, std::size_t size)> write_initial_data;
};

struct DramRegion {
  std::uint64_t addr = 0;
  std::uint64_t bytes = 0;
};

// Bytes the host must write to DRAM before the commands run.
struct DramBlock {
  std::uint64_t addr = 0;
  std::vector<std::uint8_t> bytes;
};

struct LoweredLayer {
  std::size_t first_command = 0;  // into LoweredNetwork::commands
  std::size_t command_count = 0;  // 0 for the input, flatten, fused activations and folded layers
  DramRegion output;              // the tensor the layer owns (HWC, packed); bytes 0 if it owns none
  // The output's int4 values are stored two per byte, a pixel's channels a
  // run (contract/int4_storage.h); `output.bytes` counts the packed bytes.
  bool int4_packed = false;
  // Where the output's channels live when they are not `output` packed: a
  // folded layer's view of other tensors, or a slice of a concatenation (of a
  // packed one: one segment whose `channels` counts the slice's bytes).
  std::vector<firmware::InputSegment> view;
  // A folded layer: the layers that do its work (the producers writing into
  // its slices, or the layers gathering it as their input).
  std::vector<int> folded_into;
  // A layer whose output is never written (a convolution whose epilogue
  // writes the add it feeds instead, and activations fused into it): that
  // add, whose output vouches for it; -1 otherwise.
  int unwritten_for = -1;
  // An add that runs as its own command though fusion is on: why.
  std::string not_fused;
};

struct LoweredNetwork {
  std::vector<firmware::LayerCommand> commands;  // in execution order
  std::vector<LoweredLayer> layers;              // one per IR layer
  std::vector<DramBlock> initial_data;           // the network input and every parameter block
  std::vector<DramRegion> scratch;               // activations no layer owns: packed copies of gathered views
  std::uint64_t allocated_bytes = 0;
};

LoweredNetwork lower_network(const QuantizedNetwork& q, const DramAllocator& alloc,
                             const LoweringOptions& options = {});

// The network input as the lowered network stores it (packed int4 where
// its layer 0 tensor is).
std::vector<std::uint8_t> stored_input(const QuantizedNetwork& q, const LoweredNetwork& lowered);

// The commands of a Shift layer: a depthwise conv of kernel 2r+1 (3x3 for the
// unit shifts of DiracDeltaNet) whose one-hot OHWI weights select each
// channel's source tap, with zero bias and the exact unit requantization
// (multiplier 2^30, shift 1, same zero point in and out); `bits` 16: int16
// weights (as stored) and clamp. Exposed for tests.
struct ShiftAsConv {
  ConvParams conv;
  std::vector<std::int8_t> weights;
  Requantization requant;
};
ShiftAsConv shift_as_depthwise_conv(const std::vector<ChannelShift>& shifts, std::int32_t zero_point, int bits = 8);

}  // namespace npuvp::runtime
