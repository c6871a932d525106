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
};

// The fetches of `job` (its gemm.k the reduction in elements, not steps).
OperandFetches conv_operand_fetches(Dataflow dataflow, ArrayShape array, ConvJobShape job, ArrayFeatures features,
                                    unsigned rf_entries);

// Cycles a job needs when the buffers deliver at most `port_bytes` per cycle
// each (0: as fast as the array consumes): the longer of the array's schedule
// and either buffer's reads.
std::uint64_t port_limited_cycles(std::uint64_t array_cycles, OperandFetches fetches, unsigned element_bytes,
                                  unsigned port_bytes);

}  // namespace npuvp::pe_array
