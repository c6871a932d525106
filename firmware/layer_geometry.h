#pragma once
// Arithmetic on a LayerCommand's shape that the firmware's planner and its
// layer loops share: which input rows and channels a piece of the output
// reads, and how big its operands are.

#include <algorithm>
#include <cstdint>
#include <utility>

#include "contract/address_map.h"
#include "contract/cluster_regs.h"
#include "contract/command_format.h"
#include "contract/dma_regs.h"
#include "contract/int4_storage.h"
#include "contract/sram_interleave.h"
#include "firmware/hal.h"

namespace npuvp::firmware {

inline contract::BankInterleave sram_map(const NpuLayout& npu) {
  return {npu.sram_base, npu.sram_bytes / std::max(1u, npu.sram_banks), std::max(1u, npu.sram_banks),
          npu.sram_interleave_bytes};
}

inline Opcode opcode_of(const LayerCommand& l) { return static_cast<Opcode>(l.opcode); }

// A convolution whose epilogue adds a residual (LayerCommand::fuse).
inline bool fuses_add(const LayerCommand& l) {
  return opcode_of(l) == Opcode::kConv2d && l.fuse == static_cast<std::uint32_t>(Fuse::kAdd);
}

// The most descriptors one image's input loads take in a convolution's chain:
// one copy, or with a gathered input up to five per segment (its copy and the
// zero-point strips a shift leaves); and a fused add's residual. (An add's two
// loads are one image's chain; it never holds several.)
inline std::uint64_t image_load_descriptors(const LayerCommand& l) {
  return (l.input_segment_count == 0 ? 1 : 5 * std::uint64_t{l.input_segment_count}) + (fuses_add(l) ? 1 : 0);
}

// The first bytes of SRAM hold what the firmware hands the engines: DMA
// descriptor slots per channel and one job slot per cluster. A chain holds a
// K block's three parameter loads and the input loads of one image, or (a
// plain input) of every image of a batch, which a batch whose images share
// each pass of the weights loads at once (LayerTiling::images_per_tile). A
// plain input keeps eight at least: the next layer's first chain, loaded
// during this layer's last step (layer_prefetch.cpp), goes into this layer's
// slots.
inline std::uint64_t dma_slots(const LayerCommand& l) {
  const std::uint64_t images = l.input_segment_count == 0 ? std::max(1u, l.batch_count) : 1;
  const std::uint64_t slots = 3 + image_load_descriptors(l) * images;
  return l.input_segment_count == 0 ? std::max<std::uint64_t>(8, slots) : slots;
}

// After the descriptor slots, two job tables (a tile's jobs start from one
// while the previous tile's may still run from the other), each a completion
// word per cluster (64-byte aligned) then a job per cluster.
inline std::uint64_t job_tables_offset(const LayerCommand& l, const NpuLayout& npu) {
  return (npu.dma_channels * dma_slots(l) * sizeof(dma::Descriptor) + 63) & ~std::uint64_t{63};
}
inline std::uint64_t job_status_bytes(const NpuLayout& npu) { return (std::uint64_t{npu.clusters} * 4 + 63) & ~63ull; }
inline std::uint64_t job_table_bytes(const NpuLayout& npu) {
  return job_status_bytes(npu) + std::uint64_t{npu.clusters} * sizeof(pe_array::ClusterJob);
}

// Cycles the command processor spends deciding and writing one tile's work.
inline constexpr std::uint64_t kTileSetupCycles = 64;

inline std::uint64_t align64(std::uint64_t v) { return (v + 63) & ~std::uint64_t{63}; }
inline std::uint32_t ceil_div(std::uint32_t a, std::uint32_t b) { return (a + b - 1) / b; }

inline bool is_tiled(Opcode op) {
  return op == Opcode::kConv2d || op == Opcode::kMaxPool || op == Opcode::kAvgPool || op == Opcode::kAdd;
}

// The map the convolution computes: the command's output, or with a fused
// pool the map the epilogue pools.
inline std::uint32_t conv_height(const LayerCommand& l) { return fuses_pool(l) ? l.conv_out_h : l.out_h; }
inline std::uint32_t conv_width(const LayerCommand& l) { return fuses_pool(l) ? l.conv_out_w : l.out_w; }

// The convolution rows a run of output rows needs: those rows, or with a
// fused pool the rows of their windows inside the map, [first, last + 1).
// Neighbouring runs share (kernel - stride) rows: each computes them.
inline std::pair<std::uint32_t, std::uint32_t> conv_row_range(const LayerCommand& l, std::uint32_t out_row0,
                                                              std::uint32_t out_rows) {
  if (!fuses_pool(l)) return {out_row0, out_row0 + out_rows};
  const std::int64_t first = std::int64_t{out_row0} * l.pool_stride_h - l.pool_pad_top;
  const std::int64_t last =
      std::int64_t{out_row0 + out_rows - 1} * l.pool_stride_h - l.pool_pad_top + l.pool_kernel_h - 1;
  return {static_cast<std::uint32_t>(std::max<std::int64_t>(0, first)),
          static_cast<std::uint32_t>(std::min<std::int64_t>(l.conv_out_h - 1, last) + 1)};
}

// At most how many convolution rows `out_rows` consecutive output rows need.
inline std::uint32_t conv_rows_for(const LayerCommand& l, std::uint32_t out_rows) {
  if (!fuses_pool(l)) return out_rows;
  return std::min<std::uint32_t>(l.conv_out_h, (out_rows - 1) * l.pool_stride_h + l.pool_kernel_h);
}

// Input rows that `out_rows` consecutive output rows read (padding included).
inline std::uint32_t input_rows_for(const LayerCommand& l, std::uint32_t out_rows) {
  return (conv_rows_for(l, out_rows) - 1) * l.stride_h + (l.kernel_h - 1) * l.dilation_h + 1;
}

// Input rows a run of output rows reads, clipped to the image (the rest is
// padding): [first, last + 1).
inline std::pair<std::uint32_t, std::uint32_t> input_row_range(const LayerCommand& l, std::uint32_t out_row0,
                                                               std::uint32_t out_rows) {
  const auto [c0, c1] = conv_row_range(l, out_row0, out_rows);
  const std::int64_t first = std::int64_t{c0} * l.stride_h - l.pad_top;
  const std::int64_t last = first + std::int64_t{c1 - c0 - 1} * l.stride_h + (l.kernel_h - 1) * l.dilation_h;
  return {static_cast<std::uint32_t>(std::max<std::int64_t>(0, first)),
          static_cast<std::uint32_t>(std::min<std::int64_t>(l.in_h - 1, last) + 1)};
}

// Input columns a run of output columns reads, clipped to the image (the
// rest is padding): [first, last + 1). A column strip is a convolution's
// without a fused pool (LayerTiling::cols_per_tile).
inline std::pair<std::uint32_t, std::uint32_t> input_col_range(const LayerCommand& l, std::uint32_t out_col0,
                                                               std::uint32_t out_cols) {
  const std::int64_t first = std::int64_t{out_col0} * l.stride_w - l.pad_left;
  const std::int64_t last = first + std::int64_t{out_cols - 1} * l.stride_w + (l.kernel_w - 1) * l.dilation_w;
  return {static_cast<std::uint32_t>(std::max<std::int64_t>(0, first)),
          static_cast<std::uint32_t>(std::min<std::int64_t>(l.in_w - 1, last) + 1)};
}

// At most how many input columns `out_cols` consecutive output columns read.
inline std::uint32_t input_cols_for(const LayerCommand& l, std::uint32_t out_cols) {
  return std::min<std::uint32_t>(l.in_w, (out_cols - 1) * l.stride_w + (l.kernel_w - 1) * l.dilation_w + 1);
}

// Whether the command's input or output holds int4 values two per byte.
inline bool packed_input(const LayerCommand& l) { return (l.flags & kInt4PackedInput) != 0; }
inline bool packed_output(const LayerCommand& l) { return (l.flags & kInt4PackedOutput) != 0; }

// The granularity in which output channels can be split between weight loads
// and clusters: a group of a grouped convolution reads its own input channels
// and stays whole; a dense convolution's channels split anywhere. With packed
// int4 tensors a split falls on an even channel of the output and (for a
// channelwise layer) of the input, so every piece starts on a byte (a layer
// of one odd unit is never split).
inline std::uint32_t k_unit(const LayerCommand& l) {
  const bool grouped = opcode_of(l) == Opcode::kConv2d && l.groups > 1;
  const bool channelwise_input = opcode_of(l) != Opcode::kConv2d || grouped;
  const std::uint32_t unit = grouped ? l.out_c / l.groups : 1;
  const std::uint32_t unit_in = grouped ? l.in_c / l.groups : 1;
  const bool odd = (packed_output(l) && unit % 2 != 0) || (packed_input(l) && channelwise_input && unit_in % 2 != 0);
  return odd && 2 * unit <= l.out_c ? 2 * unit : unit;
}

// Channelwise layers (pooling, add, grouped convolution) read only the input
// channels of the K block they compute; a dense convolution reads them all.
inline bool channelwise(const LayerCommand& l) { return opcode_of(l) != Opcode::kConv2d || l.groups > 1; }

inline std::uint32_t block_input_channels(const LayerCommand& l, std::uint32_t kb) {
  if (opcode_of(l) != Opcode::kConv2d) return kb;
  return l.groups > 1 ? kb / (l.out_c / l.groups) * (l.in_c / l.groups) : l.in_c;
}

// Channels per pixel of a tile's residual in SRAM: the K block's, or every
// channel when the tile's inputs load once for all K blocks (row tiles outer).
inline std::uint32_t residual_channels(const LayerCommand& l, bool all_blocks, std::uint32_t kb) {
  return all_blocks ? l.out_c : kb;
}

// Bytes per tensor element of the layer (convolutions, pooling and adds have
// a datatype; copies move bytes).
inline std::uint32_t element_bytes(const LayerCommand& l) {
  return is_tiled(opcode_of(l)) ? pe_array::element_bytes(static_cast<pe_array::Datatype>(l.datatype)) : 1;
}

// Bytes of `channels` channels of one input or output pixel (from an even
// channel when packed): int4 two per byte where the flags say so.
inline std::uint32_t input_bytes(const LayerCommand& l, std::uint32_t channels) {
  return packed_input(l) ? (channels + 1) / 2 : channels * element_bytes(l);
}
// Bytes per output element: the operands' unless the output stage converts
// (kInt16Output, kInt8Output).
inline std::uint32_t output_element_bytes(const LayerCommand& l) {
  return l.flags & kInt16Output ? 2 : l.flags & kInt8Output ? 1 : element_bytes(l);
}
inline std::uint32_t output_bytes(const LayerCommand& l, std::uint32_t channels) {
  return packed_output(l) ? (channels + 1) / 2 : channels * output_element_bytes(l);
}

inline std::uint64_t filter_elements(const LayerCommand& l) {
  return opcode_of(l) == Opcode::kConv2d ? std::uint64_t{l.kernel_h} * l.kernel_w * (l.in_c / l.groups) : 0;
}

// Bytes of one filter in memory: int4 two values per byte, each filter
// padded to a byte (contract/int4_storage.h).
inline std::uint64_t filter_bytes(const LayerCommand& l) {
  return opcode_of(l) == Opcode::kConv2d
             ? pe_array::storage_bytes(filter_elements(l), static_cast<pe_array::Datatype>(l.datatype))
             : 0;
}

// Where the DMA writes a streamed K block's slice for cluster `cluster`, and
// the job names its weights: the cluster's streamed slot `slot`
// (contract/cluster_regs.h).
inline std::uint64_t streamed_weights_addr(std::uint64_t cluster, unsigned slot) {
  return address_map::kClusterFillBase + cluster * address_map::kClusterFillStride + pe_array::kFillStreamOffset +
         std::uint64_t{slot} * pe_array::kFillStreamSlotBytes;
}

// `rows` rows of `pixels` pixels, `run` bytes of each moved: pixels
// src_pixel and dst_pixel bytes apart, rows src_row and dst_row apart (a
// column strip's pixels of a tensor, or a channel block of each). The
// firmware programs it as one descriptor (descriptor()), the estimate cuts
// it the same way (DmaModel::add).
struct PixelBlock {
  std::uint64_t src, dst;
  std::uint32_t run, pixels, rows;
  std::uint32_t src_pixel, dst_pixel, src_row, dst_row;

  // Pixels back to back on both sides: each row is one run of bytes.
  bool rows_are_runs() const { return run == src_pixel && run == dst_pixel; }
  // A row per descriptor row, or a plane per row of pixels.
  dma::Descriptor descriptor() const {
    const auto pitch = [](std::uint32_t p) { return static_cast<std::int32_t>(p); };
    if (rows_are_runs()) return {src, dst, pixels * run, rows, 1, 0, pitch(src_row), pitch(dst_row), 0, 0, 0, 0};
    return {src, dst, run, pixels, rows, 0, pitch(src_pixel), pitch(dst_pixel), pitch(src_row), pitch(dst_row), 0, 0};
  }
};

// Bias (int32) and requantization ({int32, int32}) bytes per output channel.
inline constexpr std::uint64_t kParamBytesPerChannel = 12;

}  // namespace npuvp::firmware
