#include "contract/operand_fetches.h"

#include <algorithm>

namespace npuvp::pe_array {
namespace {
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }

// The inputs one pass over a group's patches fetches (see the header).
std::uint64_t spatial_input_words(ArrayShape array, const SpatialShape& s, std::uint64_t channels) {
  std::uint64_t words = 0;
  for (std::uint64_t y = 0; y < s.out_h; y += array.rows)
    for (std::uint64_t x = 0; x < s.out_w; x += array.cols) {
      const std::uint64_t rows = std::min<std::uint64_t>(array.rows, s.out_h - y);
      const std::uint64_t cols = std::min<std::uint64_t>(array.cols, s.out_w - x);
      words += s.shifts() ? (rows + s.kernel_h - 1) * (cols + s.kernel_w - 1) : rows * cols * s.kernel_h * s.kernel_w;
    }
  return words * channels;
}

}  // namespace

OperandFetches conv_operand_fetches(Dataflow dataflow, ArrayShape array, ConvJobShape job, ArrayFeatures features,
                                    unsigned rf_entries, std::uint64_t steps) {
  const std::uint64_t e = std::max(1u, rf_entries);
  OperandFetches f;
  if (dataflow == Dataflow::kSpatialOutputStationary) {
    const SpatialShape& s = job.spatial;
    const std::uint64_t channels = job.gemm.k / (std::uint64_t{s.kernel_h} * s.kernel_w);
    const std::uint64_t patches = ceil_div(s.out_h, array.rows) * ceil_div(s.out_w, array.cols);
    f.input_words = job.groups * spatial_input_words(array, s, channels) * ceil_div(job.gemm.n, e);
    f.weight_words = job.groups * patches * job.gemm.n * job.gemm.k;
    return f;
  }
  const bool channel_parallel = features.depthwise_channel_parallel && job.depthwise;
  const GemmShape g = channel_parallel ? GemmShape{job.gemm.m, job.groups, job.gemm.k} : job.gemm;
  const std::uint64_t runs = channel_parallel ? 1 : job.groups;
  if (dataflow == Dataflow::kWeightStationary) {
    f.input_words = g.m * g.k * (channel_parallel ? g.n : ceil_div(g.n, array.cols * e));
    f.weight_words = g.n * g.k;
    f.psum_words = (ceil_div(steps, array.rows) - 1) * g.m * g.n;
  } else {
    f.input_words = g.m * g.k * (channel_parallel ? g.n : ceil_div(g.n, array.cols));
    f.weight_words = ceil_div(g.m, array.rows * e) * g.k * g.n;
  }
  f.input_words *= runs;
  f.weight_words *= runs;
  f.psum_words *= runs;
  return f;
}

std::uint64_t port_limited_cycles(std::uint64_t array_cycles, OperandFetches fetches, unsigned element_bytes,
                                  unsigned port_bytes) {
  if (port_bytes == 0) return array_cycles;
  const std::uint64_t bytes = std::max(fetches.input_port_bytes(element_bytes), fetches.weight_words * element_bytes);
  return std::max(array_cycles, ceil_div(bytes, port_bytes));
}

std::uint64_t psum_footprint_bytes(Dataflow dataflow, ArrayShape array, ArrayFeatures features, const ConvJobShape& job,
                                   std::uint64_t steps) {
  if (dataflow != Dataflow::kWeightStationary || steps <= array.rows) return 0;
  const bool channel_parallel = features.depthwise_channel_parallel && job.depthwise;
  const std::uint64_t n = channel_parallel ? job.groups : job.gemm.n;
  return job.gemm.m * std::min<std::uint64_t>(n, array.cols) * kAccumulatorBytes;
}

ConvJobWork conv_job_work(Dataflow dataflow, ArrayShape array, ArrayFeatures features, ConvJobShape job, bool packed,
                          unsigned rf_entries, unsigned element_bytes, unsigned port_bytes) {
  ConvJobShape steps = job;
  steps.gemm.k = reduction_steps(job.gemm.k, packed);
  const ConvJobTiming timing = conv_job_timing(dataflow, array, steps, features);
  ConvJobWork w;
  w.macs = job.groups * job.gemm.m * job.gemm.n * job.gemm.k;
  w.array_cycles = timing.cycles;
  w.folds = timing.folds;
  w.rf = conv_rf_accesses(dataflow, array, w.macs, w.folds);
  w.fetches = conv_operand_fetches(dataflow, array, job, features, rf_entries, steps.gemm.k);
  w.cycles = port_limited_cycles(w.array_cycles, w.fetches, element_bytes, port_bytes);
  return w;
}

}  // namespace npuvp::pe_array
