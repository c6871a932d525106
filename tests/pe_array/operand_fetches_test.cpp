// Operand fetches from the cluster buffers (contract/operand_fetches.h),
// derived by hand from each job's loop nest for every register-file size
// that changes them.
#include <gtest/gtest.h>

#include "contract/operand_fetches.h"

namespace npuvp::pe_array {
namespace {

constexpr ArrayShape kArray{8, 8};
constexpr ArrayFeatures kPlain{false, false};
// A 3x3 convolution of 4 channels into 16 filters over 5x5 outputs:
// M = 25 pixels, N = 16 filters, K = 3·3·4 = 36.
constexpr ConvJobShape kConv{1, {25, 16, 36}, false, {}};

OperandFetches fetches(Dataflow d, ConvJobShape job, unsigned rf_entries, ArrayFeatures f = kPlain) {
  return conv_operand_fetches(d, kArray, job, f, rf_entries, job.gemm.k);
}

TEST(OperandFetches, WeightStationaryRegisterFilesReuseEachInputAcrossTheirFilters) {
  // Each input is fetched once per pass of C·E filters: ceil(16 / (8·E))
  // passes of 25 × 36 inputs; each of the 16 × 36 weights once.
  for (const auto& [e, passes] : {std::pair{1u, 2u}, {2u, 1u}, {4u, 1u}, {1024u, 1u}}) {
    const OperandFetches f = fetches(Dataflow::kWeightStationary, kConv, e);
    EXPECT_EQ(f.input_words, 25u * 36u * passes) << "E = " << e;
    EXPECT_EQ(f.weight_words, 16u * 36u) << "E = " << e;
  }
  // 20 filters: 3 column folds at E = 1, ceil(20 / 16) = 2 passes at E = 2, one at E = 3.
  const ConvJobShape wide{1, {25, 20, 36}, false, {}};
  EXPECT_EQ(fetches(Dataflow::kWeightStationary, wide, 1).input_words, 25u * 36u * 3u);
  EXPECT_EQ(fetches(Dataflow::kWeightStationary, wide, 2).input_words, 25u * 36u * 2u);
  EXPECT_EQ(fetches(Dataflow::kWeightStationary, wide, 3).input_words, 25u * 36u);
}

TEST(OperandFetches, OutputStationaryRegisterFilesReuseEachWeightAcrossTheirPixels) {
  // Each weight is fetched once per pass of R·E pixels: ceil(25 / (8·E));
  // inputs once per column fold of filters: ceil(16 / 8) = 2.
  for (const auto& [e, passes] : {std::pair{1u, 4u}, {2u, 2u}, {3u, 2u}, {4u, 1u}, {64u, 1u}}) {
    const OperandFetches f = fetches(Dataflow::kOutputStationary, kConv, e);
    EXPECT_EQ(f.weight_words, 16u * 36u * passes) << "E = " << e;
    EXPECT_EQ(f.input_words, 25u * 36u * 2u) << "E = " << e;
  }
}

TEST(OperandFetches, GroupsRunOneAfterAnotherEachWithItsOwnOperands) {
  // Two groups of 8 filters over 18 channels each: per group ceil(8 / 8E) = 1 pass.
  const ConvJobShape grouped{2, {25, 8, 18}, false, {}};
  const OperandFetches ws = fetches(Dataflow::kWeightStationary, grouped, 1);
  EXPECT_EQ(ws.input_words, 2u * 25u * 18u);
  EXPECT_EQ(ws.weight_words, 2u * 8u * 18u);
  const OperandFetches os = fetches(Dataflow::kOutputStationary, grouped, 2);
  EXPECT_EQ(os.weight_words, 2u * 2u * 8u * 18u);  // ceil(25 / 16) = 2 passes per group
}

TEST(OperandFetches, ChannelParallelDepthwiseSharesNoInputBetweenColumns) {
  // 16 channels, 3x3 taps, 25 pixels: every column fetches its own channel's
  // 25 × 9 inputs whatever the register file holds.
  const ConvJobShape depthwise{16, {25, 1, 9}, true, {}};
  const ArrayFeatures parallel{false, true};
  for (unsigned e : {1u, 4u, 256u}) {
    EXPECT_EQ(fetches(Dataflow::kWeightStationary, depthwise, e, parallel).input_words, 16u * 25u * 9u);
    EXPECT_EQ(fetches(Dataflow::kWeightStationary, depthwise, e, parallel).weight_words, 16u * 9u);
    EXPECT_EQ(fetches(Dataflow::kOutputStationary, depthwise, e, parallel).input_words, 16u * 25u * 9u);
  }
  EXPECT_EQ(fetches(Dataflow::kOutputStationary, depthwise, 1, parallel).weight_words, 4u * 16u * 9u);
  EXPECT_EQ(fetches(Dataflow::kOutputStationary, depthwise, 4, parallel).weight_words, 16u * 9u);
  // One channel at a time: 16 runs of a 25 × 1 × 9 GEMM, the same inputs.
  EXPECT_EQ(fetches(Dataflow::kWeightStationary, depthwise, 1).input_words, 16u * 25u * 9u);
  EXPECT_EQ(fetches(Dataflow::kOutputStationary, depthwise, 1).weight_words, 16u * 4u * 9u);
}

TEST(OperandFetches, APortNarrowerThanTheReadsStretchesTheJob) {
  const OperandFetches f{1800, 576};
  EXPECT_EQ(port_limited_cycles(470, f, 1, 0), 470u);  // no port limit
  EXPECT_EQ(port_limited_cycles(470, f, 1, 4), 470u);  // 1800 / 4 = 450 cycles of reads fit in 470
  EXPECT_EQ(port_limited_cycles(470, f, 1, 2), 900u);  // the input buffer's 1800 bytes at 2 per cycle
  EXPECT_EQ(port_limited_cycles(470, f, 2, 4), 900u);  // int16: 3600 bytes at 4
  EXPECT_EQ(port_limited_cycles(470, f, 1, 3), 600u);  // ceil(1800 / 3)
}

}  // namespace
}  // namespace npuvp::pe_array
