#pragma once
// The NPU command processor's firmware: takes command buffers from the host's
// ring and runs each layer. Convolution, pooling and add run as tile loops that
// program the DMA and the PE clusters, double-buffered so that loading tile
// n+1 and storing tile n-1 overlap computing tile n; copies and fills are DMA
// transfers from DRAM to DRAM.

#include <cstdint>

#include "firmware/command_format.h"
#include "firmware/hal.h"

namespace npuvp::firmware {

// How a convolution, pooling or add layer is cut to fit the SRAM and spread
// over the clusters (exposed for tests and reports). Offsets are from the
// start of SRAM; every buffer is double-buffered.
struct LayerTiling {
  std::uint32_t k_block = 0;         // output channels per weight load
  std::uint32_t rows_per_tile = 0;   // output rows per tile
  std::uint32_t row_groups = 0;      // clusters split a tile's rows into this many groups...
  std::uint32_t k_groups = 0;        // ...and a K block into this many channel slices
  std::uint32_t k_slice = 0;         // channels per slice (a multiple of the channels per group)
  std::uint64_t weights_offset = 0, bias_offset = 0, requant_offset = 0;
  std::uint64_t input_offset[2] = {0, 0};
  std::uint64_t input2_offset[2] = {0, 0};  // kAdd's second operand
  std::uint64_t output_offset[2] = {0, 0};
  std::uint64_t bytes_used = 0;
};

// Chooses a tiling, or returns false when no tiling fits.
bool plan_layer_tiling(const LayerCommand& layer, const NpuLayout& npu, LayerTiling& tiling);

// The firmware's estimate behind a hybrid (kAuto) dataflow choice: the
// systolic schedule of one cluster's share of a tile, each way. The cheaper
// one runs; a tie goes to weight-stationary.
struct DataflowCosts {
  std::uint64_t weight_stationary_cycles = 0;
  std::uint64_t output_stationary_cycles = 0;
  bool output_stationary_wins() const { return output_stationary_cycles < weight_stationary_cycles; }
};
DataflowCosts dataflow_costs(const LayerCommand& layer, const NpuLayout& npu, const LayerTiling& tiling);

// Firmware entry point: never returns (runs as the command processor's thread).
[[noreturn]] void firmware_main(Hal& hal);

}  // namespace npuvp::firmware
