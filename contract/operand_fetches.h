#pragma once
// How many operand words a convolution job fetches from its cluster's buffers
// (the level above the PE register files), derived from the job's loop nest
// the way Timeloop counts: an operand is fetched again whenever the loops that
// reuse it do not fit in the level below. Pure logic: the cluster model counts
// and prices these, the firmware's cost model estimates with them, and tests
// derive them by hand. docs/memory-hierarchy.md states the model.
//
// A job is `runs` GEMMs of m pixels × n filters × k reduction elements on an
// R × C array (systolic_timing.h). Each PE's register file has `rf_entries`
// (E) words for its stationary operands; E = 1 is SCALE-Sim's PE, which holds
// exactly one:
//
//   weight-stationary: rows hold k, columns hold n, pixels stream. A PE holds
//     the weights of E filters (n, n + C, ..., n + (E-1)·C), so an input that
//     enters an array row is used by C·E filters before the next one is
//     fetched. Inputs are fetched ceil(n / (C·E)) times each; every weight
//     once.
//   output-stationary: rows hold m, columns hold n, the reduction streams. A
//     PE accumulates the outputs of E pixels (m, m + R, ..., m + (E-1)·R), so
//     a weight that enters an array column serves R·E pixels before the next
//     one is fetched. Weights are fetched ceil(m / (R·E)) times each; inputs
//     ceil(n / C) times.
//
//   spatial output-stationary (os2d): a PE accumulates one output pixel of E
//     output channels, so the inputs a patch reads serve E channels before
//     they are fetched again. Per patch and input channel, at stride and
//     dilation 1 the inputs shift between PEs and the patch's input region
//     ((rows + kernel_h - 1) × (cols + kernel_w - 1), padding included) is
//     fetched once; otherwise each PE fetches each of its taps. That is done
//     ceil(n / E) times. Every weight is broadcast once per patch and channel.
//
// Partial sums: weight-stationary's rows hold at most R reduction steps of
// k; a longer reduction runs as ceil(k / R) row folds, and every fold but the
// last leaves its m × n partial sums at the array's bottom edge. They are
// written to the input buffer and read back into the next fold's top row
// (kAccumulatorBytes each): psum_words of each. Both output-stationary
// dataflows keep the whole reduction in the PE.
//
// Both reuse distances are spatial (the array's edge) times temporal (E).
// A depthwise job spread over the columns (each column its own channel)
// shares no input between columns: every column fetches its own, so inputs
// are fetched m·k·n times whatever E. Words are elements: a packed int4 lane
// takes two per cycle but fetches each.

#include <cstdint>

#include "contract/systolic_timing.h"

namespace npuvp::pe_array {

struct OperandFetches {
  std::uint64_t input_words = 0;   // from the input buffer
  std::uint64_t weight_words = 0;  // from the weight buffer
  std::uint64_t psum_words = 0;    // partial sums written to the input buffer, and as many read back
  std::uint64_t input_port_bytes(unsigned element_bytes) const {
    return input_words * element_bytes + 2 * psum_words * kAccumulatorBytes;
  }
};

// The fetches of `job` (its gemm.k the reduction in elements, not steps;
// `steps` the reduction steps a lane takes, which the rows hold).
OperandFetches conv_operand_fetches(Dataflow dataflow, ArrayShape array, ConvJobShape job, ArrayFeatures features,
                                    unsigned rf_entries, std::uint64_t steps);

// Cycles a job needs when the buffers deliver at most `port_bytes` per cycle
// each (0: as fast as the array consumes): the longer of the array's schedule
// and either buffer's traffic (the input buffer's includes the partial sums).
std::uint64_t port_limited_cycles(std::uint64_t array_cycles, OperandFetches fetches, unsigned element_bytes,
                                  unsigned port_bytes);

// Input-buffer bytes a job's spilled partial sums occupy beside its input
// tile: one column fold's m × min(n, C) sums, since a column fold's row folds
// run back to back (systolic_timing.h). 0 when nothing spills.
std::uint64_t psum_footprint_bytes(Dataflow dataflow, ArrayShape array, ArrayFeatures features, const ConvJobShape& job,
                                   std::uint64_t steps);

// Everything a dense convolution job does to the array and its buffers, as
// the cluster model runs it and the firmware estimates it: `job.gemm.k` in
// elements; packed int4 lanes take two per step.
struct ConvJobWork {
  std::uint64_t macs = 0;
  std::uint64_t array_cycles = 0;  // the schedule
  std::uint64_t cycles = 0;        // with the buffer ports' limit
  std::uint64_t folds = 0;
  RegisterFileAccesses rf;
  OperandFetches fetches;
};
ConvJobWork conv_job_work(Dataflow dataflow, ArrayShape array, ArrayFeatures features, ConvJobShape job, bool packed,
                          unsigned rf_entries, unsigned element_bytes, unsigned port_bytes);

}  // namespace npuvp::pe_array
