// The quantizer's calibration computes each layer's quantization, reference
// output and SQNR as soon as what they depend on is known, in one float pass:
// every field must equal what the separate steps give (the quantization
// alone, compute_reference_outputs, then layer_sqnr_db's own float pass).
#include "sw/runtime/quantize/network_quantizer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "sw/runtime/frontend/network_yaml.h"
#include "sw/runtime/frontend/zoo.h"
#include "sw/runtime/reference/reference_executor.h"

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

TEST(Calibration, OnePassEqualsTheSeparateStepsAtInt4AndInt16) {
  for (int bits : {4, 16}) {
    QuantizationOptions options;
    options.bits = bits;
    expect_one_pass_matches_steps(make_network("resnet20_cifar"), options);
  }
  expect_one_pass_matches_steps(load_network_yaml("tests/platform/mixed_int16.yaml"), {});
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

}  // namespace
}  // namespace npuvp::runtime
