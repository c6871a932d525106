// The quantizer's calibration computes each layer's quantization, reference
// output and SQNR as soon as what they depend on is known, in one float pass:
// every field must equal what the separate steps give (the quantization
// alone, compute_reference_outputs, then layer_sqnr_db's own float pass).
#include "sw/runtime/quantize/network_quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/network_yaml.h"
#include "sw/runtime/frontend/zoo.h"
#include "sw/runtime/reference/reference_executor.h"
#include "tests/sw/runtime_test_util.h"

namespace npuvp::runtime {
namespace {

void expect_same_params(const QuantParams& a, const QuantParams& b, const std::string& where) {
  EXPECT_EQ(a.scale, b.scale) << where;
  EXPECT_EQ(a.zero_point, b.zero_point) << where;
  EXPECT_EQ(a.qmin, b.qmin) << where;
  EXPECT_EQ(a.qmax, b.qmax) << where;
}

void expect_same_layer(const QuantizedLayer& a, const QuantizedLayer& b, const std::string& where) {
  expect_same_params(a.output, b.output, where);
  EXPECT_EQ(a.conv.input_zero_point, b.conv.input_zero_point) << where;
  EXPECT_EQ(a.conv.out_channels, b.conv.out_channels) << where;
  EXPECT_EQ(a.weights, b.weights) << where;
  EXPECT_EQ(a.weight_scales, b.weight_scales) << where;
  EXPECT_EQ(a.bias, b.bias) << where;
  ASSERT_EQ(a.requant.per_channel.size(), b.requant.per_channel.size()) << where;
  for (std::size_t k = 0; k < a.requant.per_channel.size(); ++k) {
    EXPECT_EQ(a.requant.per_channel[k].multiplier, b.requant.per_channel[k].multiplier) << where;
    EXPECT_EQ(a.requant.per_channel[k].shift, b.requant.per_channel[k].shift) << where;
  }
  EXPECT_EQ(a.requant.output_zero_point, b.requant.output_zero_point) << where;
  EXPECT_EQ(a.requant.act_min, b.requant.act_min) << where;
  EXPECT_EQ(a.requant.act_max, b.requant.act_max) << where;
  EXPECT_EQ(a.activation, b.activation) << where;
  EXPECT_EQ(a.fused_into, b.fused_into) << where;
  EXPECT_EQ(a.bits, b.bits) << where;
  EXPECT_EQ(a.expected, b.expected) << where;
}

// The network quantized with its SQNR in one pass, against the separate steps.
void expect_one_pass_matches_steps(const Network& n, QuantizationOptions options) {
  options.reference_outputs = true;
  std::vector<double> db;
  const QuantizedNetwork one = quantize_network(n, options, db);
  options.reference_outputs = false;
  QuantizedNetwork steps = quantize_network(n, options);
  for (std::size_t i = 1; i < steps.layers.size(); ++i) EXPECT_TRUE(steps.layers[i].expected.empty()) << i;
  compute_reference_outputs(steps);
  const std::vector<double> steps_db = layer_sqnr_db(steps);
  ASSERT_EQ(one.layers.size(), steps.layers.size());
  ASSERT_EQ(db.size(), steps_db.size());
  for (std::size_t i = 0; i < one.layers.size(); ++i) {
    const std::string where = n.name() + " layer " + std::to_string(i) + " '" + one.network.layer(int(i)).name + "'";
    expect_same_layer(one.layers[i], steps.layers[i], where);
    if (std::isnan(steps_db[i]))
      EXPECT_TRUE(std::isnan(db[i])) << where;
    else
      EXPECT_EQ(db[i], steps_db[i]) << where;
  }
  EXPECT_EQ(one.float_output, steps.float_output) << n.name();
  EXPECT_EQ(one.float_input, steps.float_input) << n.name();
  // The SQNR is defined for layers with an output of their own (fused ReLUs: their producer's).
  EXPECT_TRUE(std::isfinite(db.back())) << n.name();
}

Network zoo_at(const std::string& name, int h, int w) {
  Network n = make_network(name);
  n.infer_shapes({n.input_shape().c, h, w});
  return n;
}

// Residual adds, concats of several producers (one quantization group spanning
// layers), fused and standalone ReLUs, pools sharing their input's
// parameters, channel shuffles and shifts.
TEST(Calibration, OnePassEqualsTheSeparateStepsOnTheZoo) {
  for (const char* name :
       {"resnet18", "squeezenet1_1", "mobilenet_v1", "mobilenet_v2", "shufflenet_v2_x1_0", "squeezenext", "resnet50"})
    expect_one_pass_matches_steps(zoo_at(name, 64, 64), {});
  // Its 7x7 average pool needs the full resolution.
  expect_one_pass_matches_steps(make_network("diracdeltanet"), {});
  expect_one_pass_matches_steps(make_network("resnet20_cifar"), {});
}

// ResNet-20 at int4 and int16, and a network mixing int8 and int16 layers.
template <class Check>
void for_int4_and_int16(Check&& check) {
  for (int bits : {4, 16}) {
    QuantizationOptions options;
    options.bits = bits;
    check(make_network("resnet20_cifar"), options);
  }
  check(load_network_yaml("tests/platform/mixed_int16.yaml"), QuantizationOptions{});
}

TEST(Calibration, OnePassEqualsTheSeparateStepsAtInt4AndInt16) {
  for_int4_and_int16([](const Network& n, const QuantizationOptions& o) { expect_one_pass_matches_steps(n, o); });
}

// A ReLU that is the last of several readers of a convolution is not fused:
// it clamps the convolution's float output, which the convolution's own SQNR
// must still see unclamped.
TEST(Calibration, AStandaloneReluLastReaderKeepsItsInputForTheSqnr) {
  Network n("branches", {8, 10, 10});
  const int conv = n.conv("conv", 0, 16, 3, 1, 1);
  const int side = n.conv("side", conv, 16, 1, 1, 0);
  const int relu = n.relu("relu", conv);
  n.add("sum", side, relu);
  QuantizationOptions options;
  options.input_seed = 7;
  expect_one_pass_matches_steps(n, options);
}

// A layer's SQNR is the same number on every CPU: eight interleaved double
// sums of x^2 and (x - its code's value)^2, added up in order, whichever
// ISA's build of the sum the loader picked.
TEST(Calibration, TheSqnrIsEightInterleavedSumsAddedInOrder) {
  Network n("one_conv", {16, 24, 24});
  n.conv("conv", 0, 32, 3, 1, 1);
  QuantizationOptions options;
  options.input_seed = 3;
  std::vector<double> db;
  const QuantizedNetwork q = quantize_network(n, options, db);
  const std::vector<float>& y = q.float_output;
  const std::vector<std::int8_t>& codes = q.expected(1);
  ASSERT_EQ(y.size(), codes.size());
  double signal[8] = {}, noise[8] = {};
  for (std::size_t k = 0; k < y.size(); ++k) {
    const double x = y[k], e = x - double(dequantize_value(codes[k], q.layers[1].output));
    const double x2 = x * x, e2 = e * e;
    signal[k % 8] += x2;
    noise[k % 8] += e2;
  }
  double s = 0, e = 0;
  for (int j = 0; j < 8; ++j) s += signal[j], e += noise[j];
  EXPECT_EQ(db[1], 10 * std::log10(s / e));
}

// Generated float weights freed layer by layer as the calibration quantizes
// them: the same quantization, reference outputs and SQNR, and no weights left.
TEST(Calibration, FreeingGeneratedWeightsLayerByLayerChangesNothing) {
  for (const char* name : {"resnet18", "mobilenet_v2", "squeezenet1_1"}) {
    const Network n = zoo_at(name, 64, 64);
    QuantizationOptions options;
    std::vector<double> kept_db, freed_db;
    const QuantizedNetwork kept = quantize_network(n, options, kept_db);
    options.keep_generated_weights = false;
    const QuantizedNetwork freed = quantize_network(n, options, freed_db);
    EXPECT_TRUE(kept.network.has_float_weights()) << name;
    for (const Layer& l : freed.network.layers()) EXPECT_TRUE(l.weights.empty()) << name << " " << l.name;
    ASSERT_EQ(freed.layers.size(), kept.layers.size()) << name;
    for (std::size_t i = 0; i < kept.layers.size(); ++i)
      expect_same_layer(freed.layers[i], kept.layers[i], std::string(name) + " layer " + std::to_string(i));
    EXPECT_EQ(freed.float_output, kept.float_output) << name;
    ASSERT_EQ(freed_db.size(), kept_db.size()) << name;
    for (std::size_t i = 0; i < kept_db.size(); ++i)
      EXPECT_TRUE(freed_db[i] == kept_db[i] || (std::isnan(freed_db[i]) && std::isnan(kept_db[i]))) << name << " " << i;
  }
}

TEST(Calibration, TheSqnrNeedsTheReferenceOutputs) {
  QuantizationOptions options;
  options.reference_outputs = false;
  std::vector<double> db;
  try {
    quantize_network(make_network("resnet20_cifar"), options, db);
    FAIL() << "an SQNR without reference outputs";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "network 'resnet20_cifar': the SQNR needs the reference outputs");
  }
}

// Reference outputs released to their digests as the calibration goes
// (QuantizationOptions::keep_reference_outputs false), as a run prepares its
// network: the same digests as the values kept, the input's and the network
// output's values still held, every value recomputable; and the check of
// layer outputs against them (ReferenceCheck) counting mismatches as it does
// against held values.

struct KeptAndReleased {
  QuantizedNetwork kept, released;
  std::vector<double> kept_db, released_db;
};

KeptAndReleased quantize_both(const Network& n, QuantizationOptions options) {
  std::vector<double> kept_db, released_db;
  QuantizedNetwork kept = quantize_network(n, options, kept_db);
  options.keep_reference_outputs = false;
  QuantizedNetwork released = quantize_network(n, options, released_db);
  return {std::move(kept), std::move(released), std::move(kept_db), std::move(released_db)};
}

void expect_released_like_kept(const Network& unfolded, const QuantizationOptions& options) {
  const KeptAndReleased q = quantize_both(unfolded, options);
  const Network& n = q.kept.network;  // BatchNorms folded: the layer indices
  const int last = static_cast<int>(n.size()) - 1;
  ASSERT_EQ(q.released.layers.size(), q.kept.layers.size());
  std::size_t released = 0;
  for (int i = 0; i < static_cast<int>(n.size()); ++i) {
    const std::string where = n.name() + " layer " + std::to_string(i) + " '" + n.layer(i).name + "'";
    const QuantizedLayer& r = q.released.layers[static_cast<std::size_t>(i)];
    const QuantizedLayer& k = q.kept.layers[static_cast<std::size_t>(i)];
    EXPECT_EQ(q.released.expected_digest(i), digest_of(q.kept.expected(i))) << where;
    if (i == 0 || i == q.released.expected_holder(last)) {
      EXPECT_FALSE(q.released.expected_released(i)) << where;
      EXPECT_EQ(q.released.expected(i), q.kept.expected(i)) << where;
    } else if (!k.expected.empty()) {
      EXPECT_TRUE(r.expected.empty()) << where;
      EXPECT_TRUE(q.released.expected_released(i)) << where;
      EXPECT_EQ(r.expected_digest, digest_of(k.expected)) << where;
      ++released;
    }
    const double a = q.released_db[static_cast<std::size_t>(i)], b = q.kept_db[static_cast<std::size_t>(i)];
    EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b))) << where;
  }
  EXPECT_GT(released, 0u) << n.name();
  // The values come back whole from the input's.
  QuantizedNetwork recomputed = q.released;
  compute_reference_outputs(recomputed);
  for (int i = 0; i < static_cast<int>(n.size()); ++i) {
    EXPECT_EQ(recomputed.expected(i), q.kept.expected(i)) << n.name() << " layer " << i;
    EXPECT_FALSE(recomputed.expected_released(i)) << n.name() << " layer " << i;
  }
  // Releasing them all at once leaves what releasing them as read left.
  QuantizedNetwork at_once = q.kept;
  release_reference_outputs(at_once);
  for (int i = 0; i < static_cast<int>(n.size()); ++i) {
    const std::size_t k = static_cast<std::size_t>(i);
    EXPECT_EQ(at_once.layers[k].expected, q.released.layers[k].expected) << n.name() << " layer " << i;
    EXPECT_EQ(at_once.layers[k].expected_digest, q.released.layers[k].expected_digest) << n.name() << " layer " << i;
  }
}

// Residual adds, concats, fused and standalone ReLUs, channel shuffles.
TEST(ReleasedReferenceOutputs, KeepTheDigestsOfTheValues) {
  for (const char* name : {"resnet18", "squeezenet1_1", "mobilenet_v2", "shufflenet_v2_x1_0"})
    expect_released_like_kept(zoo_at(name, 64, 64), {});
}

TEST(ReleasedReferenceOutputs, KeepTheDigestsAtInt4AndInt16) {
  for_int4_and_int16([](const Network& n, const QuantizationOptions& o) { expect_released_like_kept(n, o); });
}

// A network ending in a ReLU fused into its producer: the producer holds the
// network's output, which stays.
TEST(ReleasedReferenceOutputs, KeepTheOutputOfAFusedReluAtTheEnd) {
  Network n("relu_last", {8, 10, 10});
  const int a = n.conv("a", 0, 16, 3, 1, 1);
  const int b = n.conv("b", a, 16, 3, 1, 1);
  n.relu("relu", b);
  QuantizationOptions options;
  options.keep_reference_outputs = false;
  const QuantizedNetwork q = quantize_network(n, options);
  EXPECT_EQ(q.expected_holder(3), b);
  EXPECT_TRUE(q.expected_released(a));
  EXPECT_FALSE(q.expected_released(3));
  EXPECT_EQ(q.expected(3).size(), 16u * 10 * 10);
  expect_released_like_kept(n, {});
}

TEST(ReferenceCheck, CountsMismatchesAgainstReleasedOutputsAsAgainstHeldOnes) {
  const KeptAndReleased q = quantize_both(zoo_at("resnet18", 64, 64), {});
  ReferenceCheck kept(q.kept), released(q.released);
  int checked = 0;
  for (int i = 1; i < static_cast<int>(q.kept.layers.size()); ++i) {
    if (!q.released.expected_released(i)) continue;
    std::vector<std::int8_t> actual = q.kept.expected(i);
    ASSERT_EQ(released.bytes(i), actual.size()) << i;
    EXPECT_EQ(released.mismatches(i, actual), 0u) << i;
    for (std::size_t k : {std::size_t{0}, actual.size() / 2, actual.size() - 1}) actual[k] = ~actual[k];
    EXPECT_EQ(released.mismatches(i, actual), 3u) << i;
    EXPECT_EQ(kept.mismatches(i, actual), 3u) << i;
    ++checked;
  }
  EXPECT_GT(checked, 10);
  testing::expect_invalid([&] { released.mismatches(1, std::vector<std::int8_t>(3)); },
                          "layer 1: an output of 3 bytes, expected ");
}

// A further image of a batch holds no weights of its own (drop_weights): a
// mismatch in it is counted from the values recomputed with the first image's.
TEST(ReferenceCheck, AnImageWithoutWeightsRecomputesWithTheFirstImagesWeights) {
  const KeptAndReleased q = quantize_both(zoo_at("resnet18", 64, 64), {});
  QuantizedNetwork image = q.released;
  drop_weights(image);
  for (const QuantizedLayer& l : image.layers) ASSERT_TRUE(l.weights.empty());
  ReferenceCheck check(image, &q.released);
  int checked = 0;
  for (int i = 1; i < static_cast<int>(image.layers.size()) && checked < 4; ++i) {
    if (!image.expected_released(i)) continue;
    std::vector<std::int8_t> actual = q.kept.expected(i);
    EXPECT_EQ(check.mismatches(i, actual), 0u) << i;
    for (std::size_t k : {std::size_t{0}, actual.size() - 1}) actual[k] = ~actual[k];
    EXPECT_EQ(check.mismatches(i, actual), 2u) << i;
    ++checked;
  }
  EXPECT_EQ(checked, 4);
  EXPECT_TRUE(image.layers[1].weights.empty());  // the image's own stay dropped
}

TEST(ReferenceCheck, AReleasedNetworkRunsExactOnTheHost) {
  const KeptAndReleased q = quantize_both(zoo_at("squeezenet1_1", 64, 64), {});
  const NetworkRun run = run_network_on_host(q.released);
  ASSERT_EQ(run.layers.size(), q.released.network.size());
  for (const LayerCheck& l : run.layers) EXPECT_TRUE(l.verified) << l.index << " " << l.name;
}

}  // namespace
}  // namespace npuvp::runtime
