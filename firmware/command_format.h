#pragma once
// What host software hands the NPU: ring entries pointing at command buffers,
// each an array of LayerCommands in DRAM. The host runtime writes these and the
// firmware reads them; the layout is the interface between the two.

#include <cstdint>

namespace npuvp::firmware {

struct RingEntry {
  std::uint64_t command_buffer;  // DRAM address of LayerCommand[layer_count]
  std::uint32_t layer_count;
  std::uint32_t flags;
};
static_assert(sizeof(RingEntry) == 16);

enum class Opcode : std::uint32_t { kConv2d = 1 };
enum class DataflowChoice : std::uint32_t { kWeightStationary = 0, kOutputStationary = 1, kAuto = 2 };

// One layer. Tensors are int8 HWC in DRAM; weights OHWI int8; bias int32 per
// output channel; requant per output channel {int32 multiplier, int32 shift}.
struct LayerCommand {
  std::uint32_t opcode;
  std::uint32_t dataflow;  // DataflowChoice
  std::uint64_t input_addr;
  std::uint64_t output_addr;
  std::uint64_t weights_addr;
  std::uint64_t bias_addr;
  std::uint64_t requant_addr;
  std::uint32_t in_c, in_h, in_w;
  std::uint32_t out_c, out_h, out_w;
  std::uint8_t kernel_h, kernel_w, stride_h, stride_w;
  std::uint8_t dilation_h, dilation_w, reserved0, reserved1;
  std::uint16_t pad_top, pad_left, pad_bottom, pad_right;
  std::uint32_t groups;
  std::int32_t input_zero_point;
  std::int32_t output_zero_point;
  std::int32_t act_min, act_max;
  std::uint32_t layer_id;
  // Bytes between input rows in DRAM; 0 means packed (in_w * in_c). Lets a
  // layer read a view of a larger tensor.
  std::uint32_t input_row_pitch;
  std::uint32_t reserved[35];
};
static_assert(sizeof(LayerCommand) == 256);

}  // namespace npuvp::firmware
