#include "contract/systolic_timing.h"

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
  const std::uint64_t spatial = ws ? gemm.k : gemm.m;   // what the rows hold
  const std::uint64_t streamed = ws ? gemm.m : gemm.k;  // what flows through in time
  t.row_folds = ceil_div(spatial, rows);
  t.col_folds = ceil_div(gemm.n, cols);
  t.folds = t.row_folds * t.col_folds;
  t.stream_cycles = streamed + rows + cols - 2;
  t.compute_cycles = t.folds * t.stream_cycles;
  // The next fold's weights shift in (rows cycles) while the current fold
  // streams, which always takes at least as long, so overlap hides all but
  // the first preload.
  if (ws) t.load_cycles = (preload_overlap ? 1 : t.folds) * rows;
  return t;
}

ConvJobTiming conv_job_timing(Dataflow dataflow, ArrayShape array, ConvJobShape job, ArrayFeatures features) {
  const bool channel_parallel = features.depthwise_channel_parallel && job.depthwise;
  const GemmShape gemm = channel_parallel ? GemmShape{job.gemm.m, job.groups, job.gemm.k} : job.gemm;
  const std::uint64_t runs = channel_parallel ? 1 : job.groups;
  const TileTiming t = systolic_tile_timing(dataflow, array, gemm, features.preload_overlap);
  return {runs * t.total_cycles(), runs * t.folds};
}

RegisterFileAccesses conv_rf_accesses(Dataflow dataflow, ArrayShape array, std::uint64_t macs, std::uint64_t folds) {
  return {macs * (dataflow == Dataflow::kWeightStationary ? 2 : 3), macs + folds * array.rows * array.cols};
}

PostProcessWork postprocess_work(ArrayShape array, std::uint64_t outputs, std::uint64_t taps) {
  return {ceil_div(outputs * taps, array.cols), {outputs * taps, outputs}};
}

std::uint64_t scalesim_reported_cycles(const TileTiming& timing) {
  const std::uint64_t total = timing.total_cycles();
  return total == 0 ? 0 : total - 1;
}

}  // namespace npuvp::pe_array
