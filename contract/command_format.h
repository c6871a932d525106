#pragma once
// What host software hands the NPU: ring entries pointing at command buffers,
// each an array of LayerCommands in DRAM. The host runtime writes these and the
// firmware reads them; the layout is the interface between the two.
//
// Tensors are HWC (channels innermost), packed unless a pitch says otherwise,
// int8 unless a convolution's `datatype` says otherwise. Quantization follows
// TFLite's int8 scheme. Pitches and addresses are in bytes.

#include <array>
#include <cstdint>
#include <limits>

#include "contract/conv_params.h"

namespace npuvp::firmware {

struct RingEntry {
  std::uint64_t command_buffer;  // DRAM address of LayerCommand[layer_count]
  std::uint32_t layer_count;
  std::uint32_t flags;
};
static_assert(sizeof(RingEntry) == 16);

enum class Opcode : std::uint32_t {
  // Convolution of any kernel, stride, padding, dilation and groups (depthwise
  // when groups == in_c == out_c). A fully connected layer is a convolution
  // whose kernel covers the whole input. Weights OHWI int8 (I = in_c/groups),
  // bias int32 per output channel, requant per output channel as
  // {int32 multiplier, int32 shift}.
  kConv2d = 1,
  // Max / average pooling (TFLite rounding), input and output sharing scale
  // and zero point; kernel, stride and padding as for kConv2d.
  kMaxPool = 2,
  kAvgPool = 3,
  // Elementwise add of input and input2 with TFLite int8 ADD semantics
  // (add_params below).
  kAdd = 4,
  // A strided DMA copy (concat, slice, channel shuffle, layout changes): the
  // copy fields below, input_addr -> output_addr.
  kCopy = 5,
  // Fills copy.row_bytes × rows × planes bytes at output_addr (with the dst
  // pitches) with fill_value (padding channels with the zero point).
  kFill = 6,
};

// Element format of a convolution's input, weights and output (other opcodes
// are int8). Multi-byte elements are little-endian.
//   kInt8:  as described above.
//   kInt4:  values in [-8, 7], one per byte, sign-extended to the byte; int32
//           accumulation, requantization as int8, output clamped to [-8, 7].
//   kInt16: 2 bytes; int32 accumulation wrapping modulo 2^32, requantization
//           as int8, act_min/act_max within [-32768, 32767].
//   kFp16:  IEEE binary16; fp32 accumulation, bias fp32 (4 bytes like int32),
//           no requantization (the table is not read for arithmetic), zero
//           points and act_min/act_max ignored, padding 0.0, ReLU by kFp16Relu.
enum class Datatype : std::uint32_t { kInt8 = 0, kInt4 = 1, kInt16 = 2, kFp16 = 3 };

// The hybrid choices leave it to the firmware's cost model (layer_plan.h),
// minimizing the layer's latency or its energy.
enum class DataflowChoice : std::uint32_t {
  kWeightStationary = 0,
  kOutputStationary = 1,
  kHybridLatency = 2,
  kHybridEnergy = 3,
};

inline constexpr std::uint32_t kPoolCountIncludePad = 1u << 0;  // in `flags`: average counts padded taps
inline constexpr std::uint32_t kFp16Relu = 1u << 1;             // in `flags`: fp16 convolution clamps at 0

struct AddParams {
  std::int32_t input2_zero_point;
  std::int32_t left_shift;  // TFLite uses 20
  std::int32_t input1_multiplier, input1_shift;
  std::int32_t input2_multiplier, input2_shift;
  std::int32_t output_multiplier, output_shift;
};

struct CopyParams {
  std::uint32_t row_bytes, rows, planes;
  std::int32_t src_row_pitch, dst_row_pitch;
  std::int32_t src_plane_pitch, dst_plane_pitch;
  std::int32_t fill_value;
};

struct LayerCommand {
  std::uint32_t opcode;
  std::uint32_t dataflow;  // DataflowChoice (kConv2d)
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
  std::uint32_t flags;
  std::uint64_t input2_addr;  // kAdd
  AddParams add;
  CopyParams copy;
  std::uint32_t datatype;  // Datatype (kConv2d)
  std::uint32_t reserved[15];
};
static_assert(sizeof(LayerCommand) == 256);

// A window value and the range its narrow command field holds, so that the
// host can name what a layer asks beyond the format before write_window
// truncates it.
struct WindowField {
  const char* name;
  long long value, lo, hi;
};

inline std::array<WindowField, 11> window_fields(const contract::ConvWindow& w) {
  constexpr long long u8 = std::numeric_limits<std::uint8_t>::max();
  constexpr long long u16 = std::numeric_limits<std::uint16_t>::max();
  constexpr long long groups = std::numeric_limits<std::int32_t>::max();
  return {{{"kernel_h", w.kernel_h, 1, u8},
           {"kernel_w", w.kernel_w, 1, u8},
           {"stride_h", w.stride_h, 1, u8},
           {"stride_w", w.stride_w, 1, u8},
           {"pad_top", w.pad.top, 0, u16},
           {"pad_left", w.pad.left, 0, u16},
           {"pad_bottom", w.pad.bottom, 0, u16},
           {"pad_right", w.pad.right, 0, u16},
           {"dilation_h", w.dilation_h, 1, u8},
           {"dilation_w", w.dilation_w, 1, u8},
           {"groups", w.groups, 1, groups}}};
}

// Pooling and add commands carry a window of dilation 1 and one group.
inline void write_window(LayerCommand& c, const contract::ConvWindow& w) {
  contract::write_window_fields(c, w);
  c.groups = static_cast<std::uint32_t>(w.groups);
}

inline contract::ConvWindow read_window(const LayerCommand& c) {
  contract::ConvWindow w;
  w.kernel_h = c.kernel_h;
  w.kernel_w = c.kernel_w;
  w.stride_h = c.stride_h;
  w.stride_w = c.stride_w;
  w.dilation_h = c.dilation_h;
  w.dilation_w = c.dilation_w;
  w.pad = {c.pad_top, c.pad_left, c.pad_bottom, c.pad_right};
  w.groups = static_cast<int>(c.groups);
  return w;
}

}  // namespace npuvp::firmware
