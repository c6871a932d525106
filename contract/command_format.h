#pragma once
// What host software hands the NPU: ring entries pointing at command buffers,
// each an array of LayerCommands in DRAM. The host runtime writes these and the
// firmware reads them; the layout is the interface between the two.
//
// Tensors are HWC (channels innermost), packed unless a pitch says otherwise,
// int8 unless a convolution's `datatype` says otherwise. Quantization follows
// TFLite's int8 scheme. Pitches and addresses are in bytes.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "contract/conv_params.h"
#include "contract/register_spec.h"

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
//   kInt4:  values in [-8, 7]; weights two per byte, each filter padded to a
//           byte (contract/int4_storage.h); input and output one per byte,
//           sign-extended to the byte, unless flags say they are packed
//           (kInt4PackedInput / kInt4PackedOutput); int32 accumulation,
//           requantization as int8, output clamped to [-8, 7].
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
  kSpatialOutputStationary = 4,
};

inline constexpr std::uint32_t kPoolCountIncludePad = 1u << 0;  // in `flags`: average counts padded taps
inline constexpr std::uint32_t kFp16Relu = 1u << 1;             // in `flags`: fp16 convolution clamps at 0
// In `flags` of kConv2d (int4 or int8), kMaxPool, kAvgPool and kAdd: the
// input (both inputs of kAdd) or the output holds int4 values two per byte,
// a pixel of c channels in ceil(c / 2) bytes (contract/int4_storage.h);
// pitches stay in bytes. Not with a gathered input, int16 or fp16.
inline constexpr std::uint32_t kInt4PackedInput = 1u << 2;
inline constexpr std::uint32_t kInt4PackedOutput = 1u << 3;

// What a convolution's epilogue does after requantizing (LayerCommand::fuse).
enum class Fuse : std::uint32_t { kNone = 0, kAdd = 1 };

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
  // kConv2d, kMaxPool, kAvgPool, kAdd (first input): with a count, the input
  // is gathered from `input_segment_count` InputSegments at
  // `input_segments_addr` instead of read at input_addr / input_row_pitch.
  std::uint32_t input_segment_count;
  std::uint64_t input_segments_addr;
  // Bytes between output pixels in DRAM; 0 means packed (out_c elements).
  // Lets a layer write its channels into a slice of a wider tensor.
  std::uint32_t output_pixel_pitch;
  // kConv2d, kMaxPool, kAvgPool, kAdd: the command runs `batch_count` images
  // (0 and 1: one) with the same weights and shape. Image 0 is the command's
  // own addresses; images 1 to batch_count - 1 are the BatchImages at
  // batch_table_addr. The host vouches that no image reads another's output,
  // so the firmware may interleave them (a K block's weights are loaded once
  // for all images).
  std::uint32_t batch_count;
  std::uint64_t batch_table_addr;
  // kConv2d (int8): with kFuseAdd the convolution's epilogue adds its
  // requantized int8 result (input 1, zero point output_zero_point) to the
  // tensor at input2_addr (packed, out_h × out_w × out_c, zero point
  // add.input2_zero_point) with the add's arithmetic (add_params), and writes
  // the sum, clamped to [fused_act_min, fused_act_max] around
  // fused_output_zero_point, at output_addr: the convolution's own output is
  // never written.
  std::uint32_t fuse;
  std::int32_t fused_output_zero_point;
  std::int32_t fused_act_min, fused_act_max;
  std::uint32_t reserved[4];
};
static_assert(sizeof(LayerCommand) == 256);

// Where one further image of a batched command reads and writes: the fields of
// the same names in LayerCommand, for that image (input_row_pitch,
// output_pixel_pitch and the segment count are the command's).
struct BatchImage {
  std::uint64_t input_addr;
  std::uint64_t input2_addr;
  std::uint64_t output_addr;
  std::uint64_t input_segments_addr;
};
static_assert(sizeof(BatchImage) == 32);

// A batch is bounded so that a command's plan stays bounded (kMaxLayerSteps).
inline constexpr std::uint32_t kMaxBatchImages = 64;

// The one-image command that image `b` of a batched command amounts to.
inline LayerCommand image_command(LayerCommand c, const BatchImage& b) {
  c.input_addr = b.input_addr;
  c.input2_addr = b.input2_addr;
  c.output_addr = b.output_addr;
  c.input_segments_addr = b.input_segments_addr;
  c.batch_count = 0;
  c.batch_table_addr = 0;
  return c;
}

// One piece of a gathered input: `channels` consecutive channels of the
// layer's input, in segment order, read from a tensor of the layer's input
// height and width whose pixels lie `pixel_pitch` bytes apart (rows in_w ×
// pixel_pitch apart) starting at `addr`, moved by (dy, dx): the input's
// channel at (y, x) is the source's at (y - dy, x - dx), and the input zero
// point where that lies outside the image. Concatenated or sliced tensors and
// channel shifts are read this way without being copied first.
struct InputSegment {
  std::uint64_t addr;
  std::uint32_t pixel_pitch;
  std::uint16_t channels;
  std::int8_t dy, dx;
};
static_assert(sizeof(InputSegment) == 16);

inline constexpr std::uint32_t kMaxInputSegments = 8;

// The firmware plans a tiled command (convolution, pooling, add) row tile by
// row tile and K block by K block, and the plan's time grows with both: a
// command whose channels, height or width exceed 16 bits is a kBadCommand,
// and one that needs more than kMaxLayerSteps steps (row tiles × K blocks ×
// images) to fit is kLayerTooLarge, rather than a firmware that plans for hours.
// Real layers stay far below either (docs/architecture.md).
inline constexpr std::uint32_t kMaxLayerDim = 65535;
inline constexpr std::uint64_t kMaxLayerSteps = 65536;

// The h × w × (Σ channels) tensor `segments` describe, packed HWC, with
// `fill` outside the shifted sources; `read(addr, dst, bytes)` reads memory.
template <class Read>
void gather_segments(const InputSegment* segments, std::size_t count, std::uint32_t h, std::uint32_t w,
                     std::int8_t fill, std::int8_t* out, Read&& read) {
  std::uint32_t channels = 0;
  for (std::size_t s = 0; s < count; ++s) channels += segments[s].channels;
  for (std::uint32_t y = 0; y < h; ++y)
    for (std::uint32_t x = 0; x < w; ++x) {
      std::int8_t* pixel = out + (std::uint64_t{y} * w + x) * channels;
      for (std::size_t s = 0; s < count; ++s) {
        const InputSegment& g = segments[s];
        const std::int64_t sy = std::int64_t{y} - g.dy, sx = std::int64_t{x} - g.dx;
        if (sy < 0 || sx < 0 || sy >= h || sx >= w) {
          for (std::uint32_t c = 0; c < g.channels; ++c) pixel[c] = fill;
        } else {
          read(g.addr + (static_cast<std::uint64_t>(sy) * w + static_cast<std::uint64_t>(sx)) * g.pixel_pitch, pixel,
               std::size_t{g.channels});
        }
        pixel += g.channels;
      }
    }
}

// The byte layout of the in-memory formats, for docs/registers.md.
using FieldSpec = regs::FieldSpec;

// The LayerCommand fields that say where a layer reads and writes.
inline constexpr std::array<FieldSpec, 13> kLayerCommandAddressing{{
    {"input_addr", offsetof(LayerCommand, input_addr), 8, "first byte of the input tensor (unless gathered)"},
    {"output_addr", offsetof(LayerCommand, output_addr), 8, "first byte of the output tensor"},
    {"input_row_pitch", offsetof(LayerCommand, input_row_pitch), 4, "bytes between input rows; 0: packed"},
    {"input2_addr", offsetof(LayerCommand, input2_addr), 8, "kAdd, kConv2d with fuse 1: the second input, packed"},
    {"input_segment_count", offsetof(LayerCommand, input_segment_count), 4,
     "0: input read at input_addr; 1 to 8: gathered from that many InputSegments (int8 conv and pooling)"},
    {"input_segments_addr", offsetof(LayerCommand, input_segments_addr), 8, "DRAM address of the InputSegments"},
    {"output_pixel_pitch", offsetof(LayerCommand, output_pixel_pitch), 4,
     "bytes between output pixels; 0: packed (out_c elements); more writes a channel slice of a wider tensor"},
    {"batch_count", offsetof(LayerCommand, batch_count), 4,
     "images the command runs (0, 1: one; at most 64; conv, pooling, add), weights loaded once per K block"},
    {"batch_table_addr", offsetof(LayerCommand, batch_table_addr), 8,
     "DRAM address of batch_count - 1 BatchImages: images 1 and up"},
    {"fuse", offsetof(LayerCommand, fuse), 4,
     "kConv2d int8: 0 none; 1 add: the epilogue adds input2_addr's tensor (add_params) and writes only the sum"},
    {"fused_output_zero_point", offsetof(LayerCommand, fused_output_zero_point), 4, "fuse 1: the sum's zero point"},
    {"fused_act_min", offsetof(LayerCommand, fused_act_min), 4, "fuse 1: the sum's lower clamp"},
    {"fused_act_max", offsetof(LayerCommand, fused_act_max), 4, "fuse 1: the sum's upper clamp"},
}};

inline constexpr std::array<FieldSpec, 4> kBatchImageFields{{
    {"input_addr", offsetof(BatchImage, input_addr), 8, "the image's input (unless gathered)"},
    {"input2_addr", offsetof(BatchImage, input2_addr), 8, "kAdd: the image's second input"},
    {"output_addr", offsetof(BatchImage, output_addr), 8, "the image's output"},
    {"input_segments_addr", offsetof(BatchImage, input_segments_addr), 8,
     "the image's InputSegments (input_segment_count of them) when the command gathers its input"},
}};

inline constexpr std::array<FieldSpec, 5> kInputSegmentFields{{
    {"addr", offsetof(InputSegment, addr), 8, "the segment's first channel at pixel (0, 0) of its source"},
    {"pixel_pitch", offsetof(InputSegment, pixel_pitch), 4, "bytes between the source's pixels (rows: in_w of them)"},
    {"channels", offsetof(InputSegment, channels), 2, "consecutive channels it adds to the input"},
    {"dy", offsetof(InputSegment, dy), 1, "input (y, x) reads source (y - dy, x - dx); the input zero point outside"},
    {"dx", offsetof(InputSegment, dx), 1, "as dy, along x"},
}};

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
