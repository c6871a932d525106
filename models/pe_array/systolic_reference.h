#pragma once
// Cycle-level reference model of a rows × cols systolic MAC array: a PE-by-PE
// simulation that moves every operand and partial sum one PE per cycle and
// computes the real product. Slow by design (R × C work per cycle); tests use
// it to prove the per-tile formula in systolic_timing.h exact. Pure C++.
//
// The hardware it steps (for both dataflows, columns folds outer, row folds
// inner, zero-padded partial folds, a fold starting only once the previous
// one has left the array):
//  - weight-stationary: a vertical load chain shifts one row of weights per
//    cycle into the array (bottom row first); inputs enter each row from the
//    left, row r delayed r cycles, and move right one PE per cycle; partial
//    sums start at row 0 and move down one PE per cycle, and the bottom row
//    hands them to the output collector, which adds the row folds' partial
//    results. With preload_overlap the chain feeds shadow registers that are
//    copied into the active ones when the next fold starts.
//  - output-stationary: inputs enter from the left (row r delayed r cycles),
//    weights from the top (column c delayed c cycles); each PE accumulates the
//    products of operands tagged first..last and, on the last one, drives its
//    column's output port (one word per column per cycle; the model checks
//    that no two PEs of a column drive it in the same cycle).
// Each cycle a PE works on the operands its neighbours latched in the
// previous cycle; the count is the number of cycles from the first weight push
// or input until the last result is collected.

#include <cstdint>
#include <vector>

#include "contract/systolic_timing.h"

namespace npuvp::pe_array {

struct SystolicRun {
  std::vector<std::int32_t> product;  // m × n, row-major
  std::uint64_t cycles = 0;
  std::uint64_t macs = 0;  // MACs on real operands (not padding): m × n × k
};

// a: m × k row-major (pixels × reduction), b: k × n row-major (reduction ×
// filters). Throws std::invalid_argument if the sizes do not match gemm or the
// array has a zero dimension, std::logic_error if the simulated hardware
// misaligns operands or deadlocks.
SystolicRun simulate_systolic_array(Dataflow dataflow, ArrayShape array, GemmShape gemm,
                                    const std::vector<std::int8_t>& a, const std::vector<std::int8_t>& b,
                                    bool preload_overlap);

}  // namespace npuvp::pe_array
