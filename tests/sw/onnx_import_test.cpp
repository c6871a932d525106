// ONNX import: models written at run time by tests/sw/make_onnx_models.py
// (python3-onnx, numpy weights from fixed seeds) into a temporary directory,
// imported, quantized and run bit-exact on the host interpreter of the
// command format against the reference executor.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/onnx_import.h"
#include "sw/runtime/quantize/network_quantizer.h"
#include "tests/sw/runtime_test_util.h"

namespace npuvp::runtime {
namespace {

using testing::expect_invalid;

const char* const kPython = "/usr/bin/python3";

// The directory holding the generated models, or "" (with `reason`) when they
// cannot be made. Generated once per process.
const std::string& models_dir(std::string* reason) {
  static std::string why;
  static const std::string dir = [] {
    if (std::system((std::string(kPython) + " -c 'import onnx, numpy' >/dev/null 2>&1").c_str()) != 0) {
      why = std::string(kPython) + " lacks the onnx or numpy module (Debian: python3-onnx python3-numpy)";
      return std::string();
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "npuvp_onnx_XXXXXX").string();
    if (!mkdtemp(tmpl.data())) {
      why = "cannot create a temporary directory";
      return std::string();
    }
    // Removed when the process exits.
    static const struct Cleanup {
      std::string dir;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
      }
    } cleanup{tmpl};
    const std::string cmd = std::string(kPython) + " " + NPUVP_ONNX_MODEL_SCRIPT + " " + tmpl;
    if (std::system(cmd.c_str()) != 0) {
      why = "generator failed: " + cmd;
      return std::string();
    }
    return tmpl;
  }();
  if (reason) *reason = why;
  return dir;
}

#define REQUIRE_MODELS()                                     \
  do {                                                       \
    std::string reason;                                      \
    if (models_dir(&reason).empty()) GTEST_SKIP() << reason; \
  } while (0)

std::string model(const std::string& file) { return models_dir(nullptr) + "/" + file; }

std::vector<float> read_floats(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  const auto bytes = static_cast<std::size_t>(in.tellg());
  std::vector<float> v(bytes / sizeof(float));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
  return v;
}

// NCHW (batch 1) to our HWC.
std::vector<float> nchw_to_hwc(const std::vector<float>& x, TensorShape s) {
  std::vector<float> out(x.size());
  for (int c = 0; c < s.c; ++c)
    for (int y = 0; y < s.h; ++y)
      for (int w = 0; w < s.w; ++w)
        out[(static_cast<std::size_t>(y) * s.w + w) * s.c + c] = x[(static_cast<std::size_t>(c) * s.h + y) * s.w + w];
  return out;
}

void expect_host_run_exact(const QuantizedNetwork& q) {
  const NetworkRun run = run_network_on_host(q);
  ASSERT_EQ(run.layers.size(), q.network.size());
  for (const LayerCheck& l : run.layers)
    EXPECT_TRUE(l.verified) << q.network.name() << ": layer " << l.index << " '" << l.name << "' (" << l.type
                            << "): " << l.mismatches << " mismatches";
  EXPECT_TRUE(run.all_verified());
}

const QuantizedLayer& qlayer(const QuantizedNetwork& q, const std::string& name) {
  return q.layers.at(static_cast<std::size_t>(q.network.index_of(name)));
}

// ------------------------------------------------------------------ float models

TEST(OnnxFloat, ImportsShapesParamsAndMacs) {
  REQUIRE_MODELS();
  const Network n = import_onnx_float(model("float_cnn.onnx"));
  std::ifstream f(model("float_cnn.json"));
  const nlohmann::json expected = nlohmann::json::parse(f);

  EXPECT_EQ(n.name(), "float_cnn");
  EXPECT_EQ(n.input_shape(), (TensorShape{3, 32, 32}));
  EXPECT_EQ(n.layer(n.output()).out_shape, (TensorShape{6, 1, 1}));
  EXPECT_EQ(n.total_params(), expected["params"].get<std::int64_t>());
  EXPECT_EQ(n.total_macs(), expected["macs"].get<std::int64_t>());
  // Every node a layer, except the shuffle's Transpose and second Reshape and
  // the MatMul's bias Add; plus the input.
  EXPECT_EQ(n.size(), expected["nodes"].get<std::size_t>() - 3 + 1);
  EXPECT_TRUE(n.has_float_weights());

  const Layer& dw = n.layer("dw");
  EXPECT_EQ(dw.type, LayerType::kConv2d);
  EXPECT_EQ(dw.conv.groups, 16);
  EXPECT_EQ(dw.conv.stride_h, 2);
  EXPECT_EQ(dw.out_shape, (TensorShape{16, 16, 16}));
  EXPECT_EQ(n.layer("dilated").conv.dilation_h, 2);
  EXPECT_EQ(n.layer("dilated").conv.pad, Padding::uniform(2));
  EXPECT_EQ(n.layer("bn1").type, LayerType::kBatchNorm);
  EXPECT_FLOAT_EQ(n.layer("bn1").bn_eps, 1e-3f);
  EXPECT_EQ(n.layer("dw_relu6").type, LayerType::kReLU6);
  EXPECT_EQ(n.layer("cat").out_shape, (TensorShape{40, 16, 16}));
  EXPECT_EQ(n.layer("shuf_a").type, LayerType::kChannelShuffle);
  EXPECT_EQ(n.layer("shuf_a").shuffle_groups, 2);
  EXPECT_TRUE(n.layer("maxpool").pool.ceil_mode);
  EXPECT_EQ(n.layer("maxpool").out_shape, (TensorShape{40, 8, 8}));
  EXPECT_TRUE(n.layer("avgpool").pool.count_include_pad);
  EXPECT_EQ(n.layer("avgpool").out_shape, (TensorShape{40, 4, 4}));
  EXPECT_EQ(n.layer("flatten").type, LayerType::kFlatten);
  EXPECT_EQ(n.layer("gap_flat").type, LayerType::kFlatten);
  EXPECT_EQ(n.layer("fc1").fc.in_features, 128);
  EXPECT_EQ(n.layer("fc2").fc.in_features, 40);
  const Layer& fc3 = n.layer("fc3");  // MatMul + Add
  EXPECT_EQ(fc3.type, LayerType::kFullyConnected);
  EXPECT_TRUE(fc3.fc.bias);
  EXPECT_EQ(fc3.weights.bias.size(), 6u);
  EXPECT_EQ(n.index_of("fc3_bias"), -1);
}

TEST(OnnxFloat, FloatForwardMatchesTheNumpyReference) {
  REQUIRE_MODELS();
  Network n = import_onnx_float(model("float_cnn.onnx"));
  QuantizationOptions options;
  options.float_input = nchw_to_hwc(read_floats(model("float_cnn_input.bin")), n.input_shape());
  const QuantizedNetwork q = quantize_network(std::move(n), options);
  const std::vector<float> want = read_floats(model("float_cnn_output.bin"));
  ASSERT_EQ(q.float_output.size(), want.size());
  float range = 0.0f;
  for (float v : want) range = std::max(range, std::abs(v));
  ASSERT_GT(range, 0.0f);
  // The IR's float forward (BatchNorm folded, float accumulation) against
  // numpy's double one: equal to 1e-4 of the output range.
  for (std::size_t k = 0; k < want.size(); ++k)
    EXPECT_NEAR(q.float_output[k], want[k], 1e-4f * range) << "output " << k;
  // The int8 network (per-tensor activations calibrated on this one input)
  // tracks it to 3% of the output range.
  const auto int8_out = dequantize_tensor(q.layers.back().expected, q.layers.back().output);
  for (std::size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(int8_out[k], want[k], 0.03f * range) << "output " << k;
}

TEST(OnnxFloat, QuantizedImportRunsBitExactOnTheHost) {
  REQUIRE_MODELS();
  const QuantizedNetwork q = quantize_network(import_onnx_float(model("float_cnn.onnx")));
  EXPECT_EQ(q.network.index_of("bn1"), -1);  // folded into conv1
  expect_host_run_exact(q);
  const QuantizedNetwork same = import_onnx(model("float_cnn.onnx"));
  EXPECT_EQ(same.layers.back().expected, q.layers.back().expected);
}

TEST(OnnxFloat, ClipAttributesOfOpset10BecomeRelu6AndRelu) {
  REQUIRE_MODELS();
  const Network n = import_onnx_float(model("clip_attr.onnx"));
  EXPECT_EQ(n.layer("relu6").type, LayerType::kReLU6);
  EXPECT_EQ(n.layer("relu").type, LayerType::kReLU);
  expect_host_run_exact(quantize_network(n));
}

// ------------------------------------------------------------------ errors

TEST(OnnxErrors, UnsupportedOperatorIsNamedWithNodeAndFile) {
  REQUIRE_MODELS();
  const std::string path = model("unsupported.onnx");
  try {
    import_onnx_float(path);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": node 'softmax1' (Softmax): operator not supported; supported: Conv, Gemm", 0), 0u)
        << msg;
  }
}

TEST(OnnxErrors, MalformedAndMissingFilesAreNamed) {
  REQUIRE_MODELS();
  const std::string bad = model("garbage.onnx");
  {
    std::ofstream out(bad, std::ios::binary);
    out << "\x08\x07\xff\xff\xff this is not a protobuf";
  }
  expect_invalid([&] { import_onnx_float(bad); }, bad + ": not a valid ONNX model");
  const std::string empty = model("empty.onnx");
  std::ofstream(empty).close();
  expect_invalid([&] { import_onnx_quantized(empty); }, empty + ": not a valid ONNX model");
  expect_invalid([&] { import_onnx_float(model("missing.onnx")); }, "missing.onnx: cannot open");
  // Every truncation of a real model: an error naming the file, never a crash.
  std::ifstream full_in(model("float_cnn.onnx"), std::ios::binary);
  const std::string full((std::istreambuf_iterator<char>(full_in)), std::istreambuf_iterator<char>());
  const std::string cut = model("truncated.onnx");
  for (std::size_t len = 0; len < full.size(); len += 997) {
    std::ofstream(cut, std::ios::binary | std::ios::trunc).write(full.data(), static_cast<std::streamsize>(len));
    expect_invalid([&] { import_onnx_float(cut); }, cut + ": ");
  }
}

TEST(OnnxErrors, DimsWhoseProductOverflowsAreRefused) {
  // 4611686018427387914 x 4 wraps to 40 in 64 bits: the tensor was once read
  // as a 10x4 matrix from its 40 values.
  REQUIRE_MODELS();
  const std::string path = model("huge_dims.onnx");
  expect_invalid([&] { import_onnx_float(path); },
                 path + ": initializer tensor 'b': dims [4611686018427387914,4] hold more than 2^40 elements");
}

// Both were read as empty lists: "kernel_shape [0,0]: expected positive",
// "strides []: expected 2 values".
TEST(OnnxErrors, AMissingOrMistypedAttributeIsNamed) {
  REQUIRE_MODELS();
  std::string path = model("pool_without_kernel.onnx");
  expect_invalid([&] { import_onnx_float(path); },
                 path + ": node 'pool' (MaxPool): the required attribute kernel_shape is missing");
  path = model("float_strides.onnx");
  expect_invalid([&] { import_onnx_float(path); },
                 path + ": node 'conv' (Conv): attribute strides: expected INTS, got FLOATS");
}

TEST(OnnxErrors, ANodeWithoutAnOutputIsNamed) {
  // Its output 0 was read regardless: protobuf aborted the process
  // (fuzz/corpus/onnx/regression-node-without-output.onnx).
  REQUIRE_MODELS();
  const std::string path = model("node_without_output.onnx");
  expect_invalid([&] { import_onnx_quantized(path); }, path + ": node 'dq' (DequantizeLinear): missing output 0");
  expect_invalid([&] { import_onnx_float(path); }, path + ": node 'dq' (DequantizeLinear): missing output 0");
}

TEST(OnnxErrors, AQuantizeLinearWithoutItsInputIsNamed) {
  // Its input 0 was read regardless: protobuf aborted the process
  // (fuzz/corpus/onnx/regression-quantize-without-input.onnx).
  REQUIRE_MODELS();
  const std::string path = model("quantize_without_input.onnx");
  expect_invalid([&] { import_onnx_quantized(path); }, path + ": node 'q' (QuantizeLinear): missing input x");
}

TEST(OnnxErrors, AGraphInputDimensionBeyondAnIntIsRefused) {
  // Cast to int, a height of 2^32 + 8 ran as 8.
  REQUIRE_MODELS();
  const std::string path = model("wrapping_input_dims.onnx");
  expect_invalid([&] { import_onnx_float(path); },
                 path + ": graph input 'x': dimension 2 is 4294967304; expected 1 to 2147483647");
}

// The calibration pass met the NaN first and called it an overflow of the
// values reaching the layer.
TEST(OnnxErrors, NanWeightsMetByTheCalibrationAreNamedAsTheLayersParameters) {
  REQUIRE_MODELS();
  Network n = import_onnx_float(model("nan_first_weights.onnx"));
  expect_invalid([&] { quantize_network(std::move(n)); },
                 "layer 'poisoned_first' (conv2d): its float parameters hold NaN or infinite values");
}

TEST(OnnxErrors, NanWeightsNameTheLayerThatQuantizationStopsAt) {
  // The message once said only "choose_quant_params: rmin and rmax must be finite".
  REQUIRE_MODELS();
  Network n = import_onnx_float(model("nan_weights.onnx"));
  try {
    quantize_network(std::move(n));
    FAIL() << "a NaN weight was quantized";
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("layer 'poisoned'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("NaN or infinite values in its weights or in a layer before it?"), std::string::npos) << msg;
  }
}

TEST(OnnxErrors, AScaleWhoseMultiplierDoesNotFitNamesTheNode) {
  // An input scale of 1e30 once failed with "quantize_multiplier: ... (shift
  // 98 > 30)" and no node.
  REQUIRE_MODELS();
  const std::string path = model("huge_scale.onnx");
  expect_invalid([&] { import_onnx_quantized(path); },
                 path + ": node 'conv_big': quantize_multiplier: real multiplier ");
  expect_invalid([&] { import_onnx_quantized(path); }, " too large (shift 97 > 30)");
}

TEST(OnnxErrors, ABiasLessItsZeroPointOutsideInt32NamesTheChannel) {
  // An int32 bias of -2^31 with zero point 2e9 overflowed an int (UBSan;
  // fuzz/corpus/onnx/regression-bias-zero-point.onnx).
  REQUIRE_MODELS();
  const std::string path = model("bias_zero_point_overflow.onnx");
  expect_invalid([&] { import_onnx_quantized(path); },
                 path +
                     ": node 'conv' (Conv): bias 'bd' channel 3: -2147483648 less its zero point 2000000000 is "
                     "outside int32");
}

TEST(OnnxErrors, FloatImportOfAQuantizedModelPointsToTheQuantizedImport) {
  REQUIRE_MODELS();
  expect_invalid([&] { import_onnx_float(model("qdq_cnn.onnx")); }, "import_onnx_quantized");
  EXPECT_TRUE(onnx_model_is_quantized(model("qdq_cnn.onnx")));
  EXPECT_FALSE(onnx_model_is_quantized(model("float_cnn.onnx")));
}

// ------------------------------------------------------------------ quantized models

// ONNX reads a DequantizeLinear's axis only for per-axis scales: a 1-D
// bias with one scale and the default axis 1 was refused as out of range.
TEST(OnnxQuantized, APerTensorScaleIgnoresTheAxis) {
  REQUIRE_MODELS();
  const QuantizedNetwork q = import_onnx_quantized(model("per_tensor_bias.onnx"));
  const QuantizedLayer& conv = qlayer(q, "conv");
  EXPECT_EQ(conv.bias.size(), 8u);
  EXPECT_EQ(conv.weight_scales, std::vector<float>(8, 0.01f));
}

TEST(OnnxQuantized, QdqModelKeepsItsOwnParameters) {
  REQUIRE_MODELS();
  const QuantizedNetwork q = import_onnx_quantized(model("qdq_cnn.onnx"));
  const Network& n = q.network;
  EXPECT_EQ(n.name(), "qdq_cnn");
  EXPECT_EQ(n.layer(n.output()).out_shape, (TensorShape{10, 1, 1}));

  EXPECT_FLOAT_EQ(q.layers[0].output.scale, 2.0f / 255);
  EXPECT_EQ(q.layers[0].output.zero_point, -1);
  // Relu fused into conv_a, whose output carries relu_a's QuantizeLinear.
  const QuantizedLayer& conv_a = qlayer(q, "conv_a");
  EXPECT_EQ(conv_a.activation, Activation::kRelu);
  EXPECT_EQ(qlayer(q, "relu_a").fused_into, n.index_of("conv_a"));
  EXPECT_FLOAT_EQ(conv_a.output.scale, 0.02f);
  EXPECT_EQ(conv_a.output.zero_point, -128);
  EXPECT_EQ(conv_a.weight_scales.size(), 8u);
  EXPECT_NE(conv_a.weight_scales[0], conv_a.weight_scales[1]);  // per channel
  EXPECT_EQ(conv_a.bias.size(), 8u);
  EXPECT_EQ(conv_a.conv.input_zero_point, -1);
  EXPECT_EQ(qlayer(q, "conv_dw").conv.groups, 8);
  EXPECT_FLOAT_EQ(qlayer(q, "residual").output.scale, 0.04f);
  // The average pool keeps its input's parameters; its QuantizeLinear to
  // (0.035, -8) becomes a requantizing layer, and the concat input with other
  // parameters than the concat's is requantized too.
  EXPECT_FLOAT_EQ(qlayer(q, "avgpool").output.scale, 0.04f);
  const int requant = n.index_of("avgpool_requant");
  ASSERT_GE(requant, 0);
  EXPECT_FLOAT_EQ(q.layers[static_cast<std::size_t>(requant)].output.scale, 0.035f);
  EXPECT_EQ(q.layers[static_cast<std::size_t>(requant)].output.zero_point, -8);
  const Layer& cat = n.layer("cat");
  for (int in : cat.inputs) {
    EXPECT_FLOAT_EQ(q.layers[static_cast<std::size_t>(in)].output.scale, 0.05f) << n.layer(in).name;
    EXPECT_EQ(q.layers[static_cast<std::size_t>(in)].output.zero_point, 0) << n.layer(in).name;
  }
  EXPECT_EQ(n.layer("fc").fc.in_features, 16);
  EXPECT_FLOAT_EQ(q.layers.back().output.scale, 0.06f);
  EXPECT_EQ(q.layers.back().output.zero_point, 2);
  EXPECT_EQ(q.float_output.size(), 10u);
}

TEST(OnnxQuantized, QdqModelMatchesASimulationOfItsQdqSemantics) {
  REQUIRE_MODELS();
  QuantizedNetwork q = import_onnx_quantized(model("qdq_cnn.onnx"));
  q.float_input = nchw_to_hwc(read_floats(model("qdq_cnn_input.bin")), q.network.input_shape());
  q.layers[0].expected = quantize_tensor(q.float_input, q.layers[0].output);
  compute_reference_outputs(q);
  std::ifstream in(model("qdq_cnn_output_int8.bin"), std::ios::binary);
  std::vector<std::int8_t> want(10);
  in.read(reinterpret_cast<char*>(want.data()), 10);
  ASSERT_TRUE(in);
  const std::vector<std::int8_t>& got = q.layers.back().expected;
  ASSERT_EQ(got.size(), want.size());
  // Integer requantization (TFLite rounding) against float QDQ with
  // round-half-even at every QuantizeLinear: within 2 output codes (1 seen).
  for (std::size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got[k], want[k], 2) << "output " << k;
  EXPECT_GT(std::set<std::int8_t>(got.begin(), got.end()).size(), 5u);  // not saturated
}

TEST(OnnxQuantized, QdqModelRunsBitExactOnTheHost) {
  REQUIRE_MODELS();
  const QuantizedNetwork q = import_onnx(model("qdq_cnn.onnx"));
  // The seeded input spans the input's int8 range, so the network is exercised.
  const auto [lo, hi] = std::minmax_element(q.input().begin(), q.input().end());
  EXPECT_LE(*lo, -120);
  EXPECT_GE(*hi, 120);
  expect_host_run_exact(q);
}

TEST(OnnxQuantized, QLinearConvInt8AndUint8AgreeAndRunBitExact) {
  REQUIRE_MODELS();
  const QuantizedNetwork s = import_onnx_quantized(model("qlinear_int8.onnx"));
  const QuantizedNetwork u = import_onnx_quantized(model("qlinear_uint8.onnx"));
  ASSERT_EQ(s.network.size(), u.network.size());
  EXPECT_EQ(s.network.layer("qconv1").conv.pad, Padding::uniform(1));
  EXPECT_EQ(qlayer(s, "qconv1").output.zero_point, -20);
  EXPECT_EQ(qlayer(u, "qconv1").output.zero_point, -20);  // uint8 108 moved by -128
  EXPECT_EQ(qlayer(s, "qconv2").output.zero_point, 5);
  EXPECT_EQ(qlayer(s, "qconv2").weights, qlayer(u, "qconv2").weights);  // uint8 weights, zero point 128
  for (std::size_t i = 0; i < s.layers.size(); ++i) EXPECT_EQ(s.layers[i].expected, u.layers[i].expected) << i;
  expect_host_run_exact(s);
  expect_host_run_exact(u);
}

}  // namespace
}  // namespace npuvp::runtime
