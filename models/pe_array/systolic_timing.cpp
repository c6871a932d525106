#include "models/pe_array/systolic_timing.h"

namespace npuvp::pe_array {
namespace {
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }
}  // namespace

TileTiming systolic_tile_timing(Dataflow dataflow, ArrayShape array, GemmShape gemm, bool preload_overlap) {
  TileTiming t;
  if (gemm.m == 0 || gemm.n == 0 || gemm.k == 0) return t;
  const std::uint64_t rows = array.rows;
  const std::uint64_t cols = array.cols;
  const bool ws = dataflow == Dataflow::kWeightStationary;
  const std::uint64_t spatial = ws ? gemm.k : gemm.m;  // what the rows hold
  const std::uint64_t streamed = ws ? gemm.m : gemm.k;  // what flows through in time
  t.folds = ceil_div(spatial, rows) * ceil_div(gemm.n, cols);
  t.compute_cycles = t.folds * (streamed + rows + cols - 2);
  t.load_cycles = (preload_overlap ? 1 : t.folds) * rows;
  return t;
}

}  // namespace npuvp::pe_array
