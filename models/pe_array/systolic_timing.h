#pragma once
// Cycle counts of one tile on a rows × cols systolic MAC array, from its
// schedule rather than by stepping it. Pure logic: used by the cluster model
// and checked against a PE-by-PE reference in the tests.

#include <cstdint>

#include "models/pe_array/cluster_regs.h"

namespace npuvp::pe_array {

struct ArrayShape {
  unsigned rows = 8;
  unsigned cols = 8;
};

// A convolution tile seen as a matrix product: m output pixels × n output
// channels, each a reduction over k = kernel_h × kernel_w × in_channels.
struct GemmShape {
  std::uint64_t m = 0;
  std::uint64_t n = 0;
  std::uint64_t k = 0;
};

struct TileTiming {
  std::uint64_t folds = 0;         // array-sized pieces the tile is cut into
  std::uint64_t compute_cycles = 0;
  std::uint64_t load_cycles = 0;   // stationary operands shifted in (WS weights, OS result drain)
  std::uint64_t total_cycles() const { return compute_cycles + load_cycles; }
};

// Weight-stationary: array rows hold the reduction, columns the output
// channels; a fold preloads rows weights per column, then streams m inputs,
// skewed across rows (rows-1 cycles) and drained across columns (cols-1).
// Output-stationary: rows hold output pixels, columns output channels; a fold
// streams the k-long reduction with the same skew, then shifts its results out.
// With preload_overlap, only the first fold's preload/drain is exposed (the
// PE registers are double-buffered, as the TPU's are).
TileTiming systolic_tile_timing(Dataflow dataflow, ArrayShape array, GemmShape gemm, bool preload_overlap);

}  // namespace npuvp::pe_array
