#include "contract/systolic_timing.h"

#include <algorithm>

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

TileTiming spatial_tile_timing(ArrayShape array, const SpatialShape& spatial, std::uint64_t n, std::uint64_t k) {
  TileTiming t;
  if (spatial.out_h == 0 || spatial.out_w == 0 || n == 0 || k == 0) return t;
  const std::uint64_t rows = array.rows;
  t.row_folds = ceil_div(spatial.out_h, rows) * ceil_div(spatial.out_w, array.cols);
  t.col_folds = n;
  t.folds = t.row_folds * t.col_folds;
  t.stream_cycles = std::max(k, rows);
  // The first fold computes for k cycles, the others wait for their
  // predecessor's drain when that is longer; the last drain follows.
  t.compute_cycles = k + (t.folds - 1) * t.stream_cycles + rows;
  t.load_cycles = rows;
  return t;
}

ConvJobTiming conv_job_timing(Dataflow dataflow, ArrayShape array, ConvJobShape job, ArrayFeatures features) {
  if (dataflow == Dataflow::kSpatialOutputStationary) {
    // Each group's output channels are folds of their own: channels are
    // never spread over the array, so depthwise needs no special case.
    const TileTiming t = spatial_tile_timing(array, job.spatial, job.gemm.n, job.gemm.k);
    return {job.groups * t.total_cycles(), job.groups * t.folds};
  }
  const bool channel_parallel = features.depthwise_channel_parallel && job.depthwise;
  const GemmShape gemm = channel_parallel ? GemmShape{job.gemm.m, job.groups, job.gemm.k} : job.gemm;
  const std::uint64_t runs = channel_parallel ? 1 : job.groups;
  const TileTiming t = systolic_tile_timing(dataflow, array, gemm, features.preload_overlap);
  return {runs * t.total_cycles(), runs * t.folds};
}

WeightStream weight_stream(Dataflow dataflow, ArrayShape array, const ConvJobShape& job, ArrayFeatures features,
                           bool stream) {
  const std::uint64_t filters = job.groups * job.gemm.n;
  if (!stream || dataflow == Dataflow::kSpatialOutputStationary || filters == 0) return {filters, filters, 1};
  // As conv_job_timing runs the job: one GEMM of the channels spread over
  // the columns, or the groups one after another.
  const bool channel_parallel = features.depthwise_channel_parallel && job.depthwise;
  const std::uint64_t n = channel_parallel ? job.groups : job.gemm.n;
  return {n, std::min<std::uint64_t>(array.cols, n), channel_parallel ? 1 : job.groups};
}

RegisterFileAccesses conv_rf_accesses(Dataflow dataflow, ArrayShape array, std::uint64_t macs, std::uint64_t folds) {
  const std::uint64_t loads = folds * array.rows * array.cols;
  if (dataflow == Dataflow::kWeightStationary) return {2 * macs, macs + loads, macs};
  return {3 * macs, macs + loads, 2 * macs + loads};
}

PostProcessWork postprocess_work(ArrayShape array, std::uint64_t outputs, std::uint64_t taps) {
  return {ceil_div(outputs * taps, array.cols), {outputs * taps, outputs}};
}

std::uint64_t scalesim_reported_cycles(const TileTiming& timing) {
  const std::uint64_t total = timing.total_cycles();
  return total == 0 ? 0 : total - 1;
}

}  // namespace npuvp::pe_array
