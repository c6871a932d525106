// What each dataflow does to the array and its buffers (contract/
// systolic_timing.h, contract/operand_fetches.h), derived by hand from each
// job's loop nest: weight-stationary's spilled partial sums, the spatial
// output-stationary schedule and its fetches, register-file bytes.
#include <gtest/gtest.h>

#include "contract/operand_fetches.h"

namespace npuvp::pe_array {
namespace {

constexpr ArrayShape kArray{8, 8};
constexpr ArrayFeatures kPlain{false, false};
constexpr auto kWs = Dataflow::kWeightStationary;
constexpr auto kOs = Dataflow::kOutputStationary;
constexpr auto kOs2d = Dataflow::kSpatialOutputStationary;

// A 3x3 convolution of 4 channels into 16 filters over 5x5 outputs:
// M = 25 pixels, N = 16 filters, K = 3·3·4 = 36.
ConvJobShape conv(unsigned stride = 1) { return {1, {25, 16, 36}, false, {5, 5, 3, 3, stride, stride, 1, 1}}; }

TEST(DataflowWork, WeightStationarySpillsThePartialSumsOfEveryRowFoldButTheLast) {
  // 36 reduction steps on 8 rows: 5 row folds; the first 4 each write the
  // 25 × 16 partial sums out and the next fold reads them back.
  const OperandFetches f = conv_operand_fetches(kWs, kArray, conv(), kPlain, 1, 36);
  EXPECT_EQ(f.psum_words, 4u * 25u * 16u);
  // On the input buffer's port: 25 × 36 inputs twice (two column folds) and
  // 1600 sums out and back at four bytes.
  EXPECT_EQ(f.input_port_bytes(1), 2u * 25u * 36u + 2u * 1600u * 4u);
  // A column fold's 25 × 8 sums wait in the input buffer at once.
  EXPECT_EQ(psum_footprint_bytes(kWs, kArray, kPlain, conv(), 36), 25u * 8u * 4u);
  // A reduction the rows hold spills nothing; neither does output-stationary.
  EXPECT_EQ(conv_operand_fetches(kWs, kArray, conv(), kPlain, 1, 8).psum_words, 0u);
  EXPECT_EQ(psum_footprint_bytes(kWs, kArray, kPlain, conv(), 8), 0u);
  EXPECT_EQ(conv_operand_fetches(kOs, kArray, conv(), kPlain, 1, 36).psum_words, 0u);
  EXPECT_EQ(conv_operand_fetches(kOs2d, kArray, conv(), kPlain, 1, 36).psum_words, 0u);
}

TEST(DataflowWork, SpatialOutputStationaryRunsOnePatchOfOneChannelPerFold) {
  // 5x5 outputs fit one 8x8 patch: 16 folds (one per filter) of 36 cycles,
  // the first load and the last drain (8 cycles each) exposed.
  const TileTiming t = spatial_tile_timing(kArray, conv().spatial, 16, 36);
  EXPECT_EQ(t.folds, 16u);
  EXPECT_EQ(t.total_cycles(), 8u + 36u + 15u * 36u + 8u);
  // On a 4x4 array: 2 × 2 patches × 16 filters = 64 folds.
  EXPECT_EQ(spatial_tile_timing({4, 4}, conv().spatial, 16, 36).total_cycles(), 4u + 36u + 63u * 36u + 4u);
  // Depthwise 3x3 over 16x16 outputs, 16 channels: per channel 4 patches of
  // 9 taps, each waiting for the previous patch's 8-row drain only when
  // shorter (9 > 8: it is not).
  const ConvJobShape depthwise{16, {256, 1, 9}, true, {16, 16, 3, 3, 1, 1, 1, 1}};
  const ConvJobTiming d = conv_job_timing(kOs2d, kArray, depthwise, kPlain);
  EXPECT_EQ(d.folds, 16u * 4u);
  EXPECT_EQ(d.cycles, 16u * (8u + 9u + 3u * 9u + 8u));
  // 1x1 over 4 channels: 4 steps < 8 rows, so each fold waits for the drain.
  const SpatialShape pointwise{8, 8, 1, 1, 1, 1, 1, 1};
  EXPECT_EQ(spatial_tile_timing(kArray, pointwise, 3, 4).total_cycles(), 8u + 4u + 2u * 8u + 8u);
}

TEST(DataflowWork, AJobsWeightsStreamInColumnFoldByColumnFold) {
  // Dense: 16 filters on 8 columns, two folds of 8 filters.
  WeightStream w = weight_stream(kOs, kArray, conv(), kPlain);
  EXPECT_EQ(w.column_folds(), 2u);
  EXPECT_EQ(w.fold(0), std::make_pair(std::uint64_t{0}, std::uint64_t{8}));
  EXPECT_EQ(w.fold(1), std::make_pair(std::uint64_t{8}, std::uint64_t{16}));
  EXPECT_EQ(weight_stream(kWs, kArray, conv(), kPlain).column_folds(), 2u);
  // Two groups of 12 filters run one after another: folds of 8 and 4 each.
  w = weight_stream(kOs, kArray, {2, {25, 12, 18}, false, {5, 5, 3, 3, 1, 1, 1, 1}}, kPlain);
  EXPECT_EQ(w.column_folds(), 4u);
  EXPECT_EQ(w.fold(1), std::make_pair(std::uint64_t{8}, std::uint64_t{12}));
  EXPECT_EQ(w.fold(2), std::make_pair(std::uint64_t{12}, std::uint64_t{20}));
  // Depthwise, 20 channels spread over the columns: one GEMM, folds of 8, 8, 4.
  const ConvJobShape depthwise{20, {25, 1, 9}, true, {5, 5, 3, 3, 1, 1, 1, 1}};
  w = weight_stream(kOs, kArray, depthwise, {false, true});
  EXPECT_EQ(w.column_folds(), 3u);
  EXPECT_EQ(w.fold(2), std::make_pair(std::uint64_t{16}, std::uint64_t{20}));
  // Without spreading, each channel is a run of one filter.
  EXPECT_EQ(weight_stream(kOs, kArray, depthwise, kPlain).column_folds(), 20u);
  // The spatial dataflow starts with every filter in.
  w = weight_stream(kOs2d, kArray, conv(), kPlain);
  EXPECT_EQ(w.column_folds(), 1u);
  EXPECT_EQ(w.fold(0).second, 16u);
  // Late weights: 16 folds of 1052 cycles, 15 × 128 cycles of weights behind
  // 100 cycles of inputs: all in time. 300-cycle folds behind 400-cycle
  // chunks: the first waits 200 (100 + 400 - 300), each later one 100.
  EXPECT_EQ(streamed_weights_late(16, 1052, 15 * 128, 100), 0);
  EXPECT_EQ(streamed_weights_late(4, 300, 3 * 400, 100), 200 + 2 * 100);
  EXPECT_EQ(streamed_weights_late(1, 300, 0, 100), 0);
}

TEST(DataflowWork, SpatialOutputStationaryFetchesThePatchRegionOncePerChannelPass) {
  // Stride 1: the 5x5 patch's 7x7 input region per input channel (4), once
  // per pass of E output channels; every weight once per patch.
  for (const auto& [e, passes] : {std::pair{1u, 16u}, {4u, 4u}, {16u, 1u}, {64u, 1u}}) {
    const OperandFetches f = conv_operand_fetches(kOs2d, kArray, conv(), kPlain, e, 36);
    EXPECT_EQ(f.input_words, 7u * 7u * 4u * passes) << "E = " << e;
    EXPECT_EQ(f.weight_words, 16u * 36u) << "E = " << e;
  }
  // Stride 2: no shifting, each PE fetches its 9 taps of each channel.
  EXPECT_EQ(conv_operand_fetches(kOs2d, kArray, conv(2), kPlain, 1, 36).input_words, 25u * 9u * 4u * 16u);
  // A 4x4 array: patches of 4x4, 4x1, 1x4 and 1x1 outputs read regions of
  // 6x6, 6x3, 3x6 and 3x3; the weights once per patch.
  const OperandFetches small = conv_operand_fetches(kOs2d, {4, 4}, conv(), kPlain, 16, 36);
  EXPECT_EQ(small.input_words, (36u + 18u + 18u + 9u) * 4u);
  EXPECT_EQ(small.weight_words, 4u * 16u * 36u);
}

TEST(DataflowWork, RegisterFileBytesCountPartialSumsAtFourBytes) {
  // 14400 MACs in 10 folds of an 8x8 array. WS: 2 operand reads per MAC, a
  // partial sum written onward per MAC, 64 weights loaded per fold.
  const RegisterFileAccesses ws = conv_rf_accesses(kWs, kArray, 14400, 10);
  EXPECT_EQ(ws.reads, 28800u);
  EXPECT_EQ(ws.writes, 14400u + 640u);
  EXPECT_EQ(ws.bytes(1), 28800u + 640u + 14400u * 4u);
  // OS: the accumulator is read and written per MAC and cleared per fold.
  const RegisterFileAccesses os = conv_rf_accesses(kOs, kArray, 14400, 10);
  EXPECT_EQ(os.bytes(1), 28800u + (14400u * 2u + 640u) * 4u);
  EXPECT_EQ(os.bytes(2), 28800u * 2u + (14400u * 2u + 640u) * 4u);
  EXPECT_EQ(conv_rf_accesses(kOs2d, kArray, 14400, 10).bytes(1), os.bytes(1));
}

TEST(DataflowWork, OneFunctionGivesTheClusterAndTheFirmwareTheSameJob) {
  const ConvJobWork w = conv_job_work(kWs, kArray, kPlain, conv(), false, 1, 1, 4);
  EXPECT_EQ(w.macs, 25u * 16u * 36u);
  EXPECT_EQ(w.folds, 5u * 2u);
  EXPECT_EQ(w.array_cycles, 10u * (25u + 8u + 8u - 2u) + 10u * 8u);
  // The input port carries 1800 + 12800 bytes at 4 per cycle.
  EXPECT_EQ(w.cycles, (1800u + 12800u) / 4u);
  EXPECT_EQ(w.fetches.psum_words, 1600u);
}

}  // namespace
}  // namespace npuvp::pe_array
