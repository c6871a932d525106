// int4 and mixed int4/int8 networks end to end on the default preset: every
// layer bit-exact against the host reference, each layer's datatype and SQNR
// in the report, and bad datatypes refused naming where they came from.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "platform/platform_config.h"
#include "platform/run.h"
#include "sw/runtime/frontend/zoo.h"
#include "sw/runtime/quantize/network_quantizer.h"

namespace npuvp::platform {
namespace {

nlohmann::json run_int4(const std::string& network, const std::string& datatype, const std::string& tag) {
  const PlatformConfig config = load_platform("configs/platforms/edge-ip.yaml", {});
  RunOptions options;
  options.network = network;
  options.datatype = datatype;
  options.out_dir = (std::filesystem::temp_directory_path() / ("npuvp_int4_" + tag)).string();
  return run(config, options);
}

void expect_all_verified(const nlohmann::json& r) {
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  for (const auto& layer : r["layers"]) EXPECT_TRUE(layer["verified"].get<bool>()) << layer["name"];
}

// The int8 SQNR of the same network, seeds and input, from the host runtime
// alone (one platform per process).
std::vector<double> int8_sqnr(const std::string& network) {
  runtime::QuantizationOptions options;
  options.weight_seed = 1;
  options.input_seed = 2;
  return runtime::layer_sqnr_db(runtime::quantize_network(runtime::make_network(network), options));
}

TEST(Int4Network, ResNet20CifarAtInt4IsBitExactAndPaysItsAccuracyInSqnr) {
  const nlohmann::json r = run_int4("resnet20_cifar", "int4", "resnet20");
  expect_all_verified(r);
  const std::vector<double> int8_db = int8_sqnr("resnet20_cifar");
  ASSERT_EQ(r["layers"].size(), int8_db.size());
  for (std::size_t i = 0; i < int8_db.size(); ++i) {
    const auto& layer = r["layers"][i];
    EXPECT_EQ(layer["datatype"], "int4") << layer["name"];
    ASSERT_TRUE(layer["sqnr_db"].is_number()) << layer["name"];
    // 4 bits leave about 24 dB less headroom than 8; every layer loses some.
    EXPECT_LT(layer["sqnr_db"].get<double>(), int8_db[i]) << layer["name"];
  }
}

// A batch keeps each K block's packed int4 weights resident for both images
// (the cluster reuses the unpacked copy).
TEST(Int4Network, ABatchOfTwoAtInt4IsBitExact) {
  const PlatformConfig config = load_platform("configs/platforms/edge-ip.yaml", {});
  RunOptions options;
  options.network = "resnet20_cifar";
  options.datatype = "int4";
  options.batch = 2;
  options.out_dir = (std::filesystem::temp_directory_path() / "npuvp_int4_batch").string();
  expect_all_verified(run(config, options));
}

constexpr const char* kMixed = R"(name: mixed
input: [8, 16, 16]
layers:
  - {name: a, type: conv2d, out_channels: 16, kernel: 3, padding: 1, bias: true}
  - {name: a_relu, type: relu}
  - {name: b, type: conv2d, out_channels: 16, kernel: 3, padding: 1, groups: 16, datatype: int4}
  - {name: pool, type: max_pool, kernel: 2}
  - {name: c, type: conv2d, out_channels: 24, kernel: 1, bias: true}
  - {name: sum_in, type: conv2d, inputs: [pool], out_channels: 24, kernel: 1, datatype: int4}
  - {name: sum, type: add, inputs: [c, sum_in]}
  - {name: gap, type: global_avg_pool}
  - {name: fc, type: fully_connected, out_features: 10}
)";

TEST(Int4Network, MixedPrecisionYamlIsBitExactWithEachLayersDatatype) {
  const auto file = std::filesystem::temp_directory_path() / "npuvp_int4_mixed.yaml";
  std::ofstream(file) << kMixed;
  const nlohmann::json r = run_int4(file.string(), "int8", "mixed");
  expect_all_verified(r);
  std::map<std::string, std::string> datatype;
  for (const auto& layer : r["layers"]) datatype[layer["name"]] = layer["datatype"];
  // Convolutions compute in their own type; other layers report their output
  // tensor's, int4 where an int4 layer reads or writes it.
  const std::map<std::string, std::string> expected{
      {"input", "int8"}, {"a", "int8"},      {"a_relu", "int4"}, {"b", "int4"},   {"pool", "int4"},
      {"c", "int8"},     {"sum_in", "int4"}, {"sum", "int8"},    {"gap", "int8"}, {"fc", "int8"}};
  EXPECT_EQ(datatype, expected);
}

// Fusion and packed int4 (docs/lowering.md): the int8 convolution `c` reads a
// packed int4 tile and takes `sum` into its epilogue (its output and the
// residual one value a byte); `sum2`'s output feeds an int4 layer, so it is
// stored two values a byte and the add stays its own command.
constexpr const char* kFusedMixed = R"(name: fused_mixed
input: [8, 16, 16]
layers:
  - {name: a, type: conv2d, out_channels: 16, kernel: 3, padding: 1, bias: true}
  - {name: a_relu, type: relu}
  - {name: b, type: conv2d, out_channels: 16, kernel: 3, padding: 1, groups: 16, datatype: int4}
  - {name: pool, type: max_pool, kernel: 2}
  - {name: sum_in, type: conv2d, out_channels: 24, kernel: 1, datatype: int4}
  - {name: c, type: conv2d, inputs: [pool], out_channels: 24, kernel: 1, bias: true}
  - {name: sum, type: add, inputs: [c, sum_in]}
  - {name: d, type: conv2d, out_channels: 24, kernel: 1}
  - {name: sum2, type: add, inputs: [d, sum]}
  - {name: e, type: conv2d, out_channels: 8, kernel: 1, datatype: int4}
  - {name: gap, type: global_avg_pool}
  - {name: fc, type: fully_connected, out_features: 10}
)";

TEST(Int4Network, AddsFuseUnlessTheirTensorsArePackedInt4) {
  const auto file = std::filesystem::temp_directory_path() / "npuvp_int4_fused_mixed.yaml";
  std::ofstream(file) << kFusedMixed;
  const nlohmann::json r = run_int4(file.string(), "int8", "fused_mixed");
  expect_all_verified(r);
  std::map<std::string, nlohmann::json> layer;
  for (const auto& l : r["layers"]) layer[l["name"]] = l;
  EXPECT_EQ(layer["sum"]["folded_into"], nlohmann::json::array({"c"}));
  EXPECT_FALSE(layer["sum"].contains("not_fused"));
  EXPECT_FALSE(layer["sum2"].contains("folded_into"));
  EXPECT_EQ(layer["sum2"]["not_fused"], "its tensors are stored as packed int4");
  EXPECT_EQ(layer["sum2"]["datatype"], "int4");
}

// Odd channel counts (3, 5) end each packed pixel in a padding nibble; the
// depthwise layer's K blocks and cluster slices stay on even channels; two
// 1x1 convolutions write their slices of a packed concatenation (6 + 5
// channels: the odd slice last, its pixels' padding nibble the
// concatenation's), and a second concatenation whose second slice would start
// on an odd channel stays one value per byte (tests/sw/int4_test.cpp).
constexpr const char* kOdd = R"(name: odd
input: [3, 17, 17]
layers:
  - {name: a, type: conv2d, out_channels: 5, kernel: 3, padding: 1, bias: true}
  - {name: a_relu, type: relu}
  - {name: dw, type: conv2d, out_channels: 5, kernel: 3, padding: 1, groups: 5}
  - {name: pool, type: max_pool, kernel: 2}
  - {name: left, type: conv2d, out_channels: 6, kernel: 1}
  - {name: right, type: conv2d, inputs: [pool], out_channels: 5, kernel: 1}
  - {name: cat, type: concat, inputs: [left, right]}
  - {name: pool2, type: max_pool, kernel: 2}
  - {name: odd_left, type: conv2d, out_channels: 3, kernel: 1}
  - {name: odd_right, type: conv2d, inputs: [pool2], out_channels: 4, kernel: 1}
  - {name: cat2, type: concat, inputs: [odd_left, odd_right]}
  - {name: gap, type: global_avg_pool}
  - {name: fc, type: fully_connected, out_features: 7}
)";

TEST(Int4Network, OddChannelsAndAConcatenationAreBitExactOnTheNpu) {
  const auto file = std::filesystem::temp_directory_path() / "npuvp_int4_odd.yaml";
  std::ofstream(file) << kOdd;
  expect_all_verified(run_int4(file.string(), "int4", "odd"));
}

std::string run_error(const std::string& network, const std::string& datatype) {
  try {
    run_int4(network, datatype, "bad");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Int4Network, BadDatatypesNameTheOptionOrTheFileLayerAndKey) {
  EXPECT_EQ(run_error("resnet20_cifar", "int16"),
            "--datatype: zoo, YAML and ONNX networks take int8 or int4, got 'int16' (the network runtime quantizes "
            "to integers held in int8 and its pooling, add and copy commands are int8; int16 and fp16 run on "
            "conv_slice and SCALE-Sim layers)");
  const auto file = std::filesystem::temp_directory_path() / "npuvp_int4_bad.yaml";
  std::ofstream(file) << "name: x\ninput: [8, 8, 8]\nlayers:\n  - {name: a, type: conv2d, out_channels: 8, kernel: 1}\n"
                         "  - {name: head, type: fully_connected, out_features: 4, datatype: int16}\n";
  const std::string e = run_error(file.string(), "int8");
  EXPECT_NE(e.find(file.string() + ":5:"), std::string::npos) << e;
  EXPECT_NE(e.find("layer 'head': key 'datatype': expected int4 or int8, got 'int16'"), std::string::npos) << e;
}

}  // namespace
}  // namespace npuvp::platform
