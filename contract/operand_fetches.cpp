#include "contract/operand_fetches.h"

#include <algorithm>

namespace npuvp::pe_array {
namespace {
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }
}  // namespace

OperandFetches conv_operand_fetches(Dataflow dataflow, ArrayShape array, ConvJobShape job, ArrayFeatures features,
                                    unsigned rf_entries) {
  const bool channel_parallel = features.depthwise_channel_parallel && job.depthwise;
  const GemmShape g = channel_parallel ? GemmShape{job.gemm.m, job.groups, job.gemm.k} : job.gemm;
  const std::uint64_t runs = channel_parallel ? 1 : job.groups;
  const std::uint64_t e = std::max(1u, rf_entries);
  OperandFetches f;
  if (dataflow == Dataflow::kWeightStationary) {
    f.input_words = g.m * g.k * (channel_parallel ? g.n : ceil_div(g.n, array.cols * e));
    f.weight_words = g.n * g.k;
  } else {
    f.input_words = g.m * g.k * (channel_parallel ? g.n : ceil_div(g.n, array.cols));
    f.weight_words = ceil_div(g.m, array.rows * e) * g.k * g.n;
  }
  f.input_words *= runs;
  f.weight_words *= runs;
  return f;
}

std::uint64_t port_limited_cycles(std::uint64_t array_cycles, OperandFetches fetches, unsigned element_bytes,
                                  unsigned port_bytes) {
  if (port_bytes == 0) return array_cycles;
  const std::uint64_t words = std::max(fetches.input_words, fetches.weight_words);
  return std::max(array_cycles, ceil_div(words * element_bytes, port_bytes));
}

}  // namespace npuvp::pe_array
