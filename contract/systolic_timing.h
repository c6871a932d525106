#pragma once
// Cycle counts of one tile on a rows × cols systolic MAC array, from its
// schedule rather than by stepping it. Pure logic: used by the cluster model
// and the firmware, and proven equal to the PE-by-PE reference
// (systolic_reference.h) by tests/pe_array.
//
// The schedule is SCALE-Sim v2's (scalesim-project/scale-sim-v2), read from
// scalesim/compute/systolic_compute_ws.py and systolic_compute_os.py (how the
// per-fold demand matrices are built, padded and skewed),
// scalesim/compute/operand_matrix.py and scalesim/topology_utils.py (the
// operand matrices of a convolution) and
// scalesim/memory/double_buffered_scratchpad_mem.py (what "Total Cycles" in
// COMPUTE_REPORT.csv is). In our words:
//
// A layer is the product of an M × K input matrix (M output pixels, each a
// K = filter_h × filter_w × channels window) and a K × N filter matrix
// (N filters). With R = rows, C = cols:
//
//   weight-stationary  (SCALE-Sim "ws"): rows hold K, columns hold N, the M
//     pixels stream through in time. folds = ceil(K/R) × ceil(N/C). A fold
//     first shifts R rows of weights into the array (R cycles, unused rows and
//     columns padded), then streams the M pixels with the input wavefront
//     skewed by one cycle per row, partial sums moving down and inputs moving
//     right; the last sum leaves the bottom-right PE after M + R + C - 2
//     cycles. One fold = R + M + R + C - 2 = 2R + C + M - 2 cycles.
//   output-stationary  (SCALE-Sim "os"): rows hold M, columns hold N, the
//     K-long reduction streams through in time. folds = ceil(M/R) × ceil(N/C).
//     Inputs enter from the left skewed by row, weights from the top skewed by
//     column; PE (r, c) finishes its sum in cycle K - 1 + r + c and hands it to
//     its column's output port in that cycle (the column's PEs finish in
//     distinct cycles, so one word per column per cycle suffices). One fold =
//     K + R + C - 2 cycles; there is no separate drain or load phase.
//
//   spatial output-stationary (ShiDianNao's, "os2d"): the array holds an
//     R × C patch of adjacent output pixels (R output rows, C output columns)
//     of ONE output channel. Each cycle one weight is broadcast to every PE
//     and each PE multiplies it with the input under it; between taps of a
//     kernel row the inputs shift one PE sideways (at stride 1; otherwise each
//     PE reads its own), so only the patch's edge reads new inputs. A fold is
//     one patch of one output channel: k cycles (one weight each). Its R × C
//     sums drain through the C column ports, R cycles, while the next fold
//     computes, and the next fold's first inputs load (R cycles over the C
//     ports) while the previous one computes: a fold takes max(k, R) cycles,
//     except that the first load and the last drain are exposed:
//     R + k + (folds - 1) · max(k, R) + R. folds = patches × n, patches =
//     ceil(out_h / R) × ceil(out_w / C) of the job's output rectangle. The
//     schedule is ours from the ShiDianNao paper's description (Du et al.,
//     ISCA 2015); no simulator to match exists.
//
// Folds run one after another (SCALE-Sim walks column folds outer, row folds
// inner; the order does not change the count), each starting when the previous
// one has left the array. Partial folds cost as much as full ones: SCALE-Sim
// pads the unused rows and columns with null requests and keeps the full skew.
// Ideal memory (no stalls) is assumed; SCALE-Sim adds its memory stalls on top.
//
// preload_overlap = false reproduces SCALE-Sim v2 exactly: total_cycles() =
// folds × fold cycles. SCALE-Sim's COMPUTE_REPORT "Total Cycles" of a stall-free
// layer is the 0-based index of the cycle of the last output write, which is
// one less (scalesim_reported_cycles()); with stalls it is that plus "Stall
// Cycles".
// preload_overlap = true models double-buffered stationary registers (the
// TPU's weight FIFO): the next fold's weights shift into shadow registers
// while the current fold streams (always long enough: M + R + C - 2 >= R), so
// only the first fold's R-cycle preload is exposed. Output-stationary has
// nothing to preload (its accumulators restart with the fold's first product
// and drain through the column ports as they finish), so the flag does not
// change its timing.

#include <algorithm>
#include <cstdint>
#include <utility>

#include "contract/cluster_regs.h"

namespace npuvp::pe_array {

// A partial sum: int32 (fp16 accumulates in fp32, also four bytes).
inline constexpr unsigned kAccumulatorBytes = 4;

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
  std::uint64_t row_folds = 0;       // pieces of the dimension the rows hold (WS: k, OS: m; os2d: patches)
  std::uint64_t col_folds = 0;       // pieces of n (os2d: n)
  std::uint64_t folds = 0;           // row_folds × col_folds
  std::uint64_t stream_cycles = 0;   // one fold's skewed stream incl. fill and drain: streamed + rows + cols - 2
  std::uint64_t compute_cycles = 0;  // folds × stream_cycles
  std::uint64_t load_cycles = 0;  // exposed stationary preloads: WS rows per fold (first fold only with overlap), OS 0
  std::uint64_t total_cycles() const { return compute_cycles + load_cycles; }
};

// The tile's schedule; all zeros if a dimension is 0. Requires rows, cols >= 1.
// The spatial dataflow needs the output rectangle: spatial_tile_timing.
TileTiming systolic_tile_timing(Dataflow dataflow, ArrayShape array, GemmShape gemm, bool preload_overlap);

// A job's output rectangle and window: what the spatial dataflow maps.
struct SpatialShape {
  std::uint64_t out_h = 0, out_w = 0;
  unsigned kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  // Inputs shift between neighbouring PEs from one tap to the next.
  bool shifts() const { return stride_h == 1 && stride_w == 1 && dilation_h == 1 && dilation_w == 1; }
};
// How a cluster runs a dense convolution job (zero skipping aside): `groups`
// independent GEMMs of m × n × k, one after another, unless every group has a
// single input and output channel (depthwise) and the array spreads the
// channels over its columns, which makes them one m × groups × k GEMM. The
// spatial dataflow runs each group's n filters over its output rectangle.
struct ConvJobShape {
  std::uint64_t groups = 1;
  GemmShape gemm;          // one group's (gemm.m = spatial.out_h × spatial.out_w)
  bool depthwise = false;  // one input and one output channel per group
  SpatialShape spatial;    // needed by the spatial dataflow only
};
struct ArrayFeatures {
  bool preload_overlap = false;
  bool depthwise_channel_parallel = false;
};
struct ConvJobTiming {
  std::uint64_t cycles = 0;  // Σ total_cycles() of the GEMMs run
  std::uint64_t folds = 0;
};
TileTiming spatial_tile_timing(ArrayShape array, const SpatialShape& spatial, std::uint64_t n, std::uint64_t k);
ConvJobTiming conv_job_timing(Dataflow dataflow, ArrayShape array, ConvJobShape job, ArrayFeatures features);

// How a convolution job's weights reach the array: the cluster fetches them
// in filter order (OHWI, a filter's weights contiguous) into the weight
// buffer, and the array, walking column folds outer, needs only the filters
// of the column fold it computes; each later fold's filters arrive while the
// earlier folds compute, as the input rows after the first do. Every column
// fold takes an equal share of the job's cycles (partial folds cost as much
// as full ones). The spatial dataflow broadcasts one filter's weights per
// fold over every patch (no fold order to stream behind is assumed): one
// fold of all its filters.
struct WeightStream {
  std::uint64_t run_filters = 0;   // filters of one GEMM run (the groups run one after another)
  std::uint64_t fold_filters = 0;  // filters of a column fold (the last of a run may hold fewer)
  std::uint64_t runs = 1;
  std::uint64_t column_folds() const {
    return fold_filters == 0 ? 0 : runs * ((run_filters + fold_filters - 1) / fold_filters);
  }
  // Column fold j's filters: [first, second).
  std::pair<std::uint64_t, std::uint64_t> fold(std::uint64_t j) const {
    const std::uint64_t per_run = (run_filters + fold_filters - 1) / fold_filters;
    const std::uint64_t run = j / per_run, first = run * run_filters + j % per_run * fold_filters;
    return {first, std::min(first + fold_filters, (run + 1) * run_filters)};
  }
};
// `stream` false: one fold of all the filters (the array waits for them all).
WeightStream weight_stream(Dataflow dataflow, ArrayShape array, const ConvJobShape& job, ArrayFeatures features,
                           bool stream = true);

// How much later a job's last column fold ends than its schedule says when
// the cluster fetches fold j's weights once fold j - 1 has started, the
// first of them after the other input rows (`inputs` cycles from the
// array's start; operand_group.cpp): `folds` folds of `fold` cycles, the
// later folds' weights `rest` cycles over the link in all.
inline double streamed_weights_late(std::uint64_t folds, double fold, double rest, double inputs) {
  if (folds < 2 || rest <= 0) return 0;
  const double chunk = rest / double(folds - 1);
  return std::max(fold, inputs + chunk) - fold + double(folds - 2) * std::max(0.0, chunk - fold);
}

// The reduction steps a lane needs for `reduction` MACs: a packed int4 lane
// does two per step.
inline std::uint64_t reduction_steps(std::uint64_t reduction, bool packed_int4) {
  return packed_int4 ? (reduction + 1) / 2 : reduction;
}

struct RegisterFileAccesses {
  std::uint64_t reads = 0;
  std::uint64_t writes = 0;
  // Of reads + writes, those of a partial sum (kAccumulatorBytes wide); the
  // rest are operands, one element wide.
  std::uint64_t accumulator = 0;
  std::uint64_t bytes(unsigned element_bytes) const {
    return (reads + writes - accumulator) * element_bytes + accumulator * kAccumulatorBytes;
  }
};
// A convolution job's: per MAC every dataflow reads two operand registers; WS
// writes the partial sum onward, both output-stationary ones read and write
// their stationary accumulator; every fold writes each PE once (WS: a
// weight, OS: an accumulator cleared).
RegisterFileAccesses conv_rf_accesses(Dataflow dataflow, ArrayShape array, std::uint64_t macs, std::uint64_t folds);

// Pooling and add run on the post-processing unit, one lane per column:
// `outputs` results of `taps` inputs each.
struct PostProcessWork {
  std::uint64_t cycles = 0;
  RegisterFileAccesses rf;
};
PostProcessWork postprocess_work(ArrayShape array, std::uint64_t outputs, std::uint64_t taps);

// SCALE-Sim v2's COMPUTE_REPORT "Total Cycles" for a stall-free layer run as
// this one tile (computed with preload_overlap = false): total_cycles() - 1,
// because SCALE-Sim reports the 0-based cycle index of the last output write.
std::uint64_t scalesim_reported_cycles(const TileTiming& timing);

}  // namespace npuvp::pe_array
