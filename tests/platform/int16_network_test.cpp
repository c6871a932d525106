// int16 networks end to end on the default preset: every layer bit-exact
// against the host reference, each layer's datatype and an SQNR above int8's
// in the report, twice int8's DRAM bytes, and bad datatypes refused naming
// where they came from.
#include <filesystem>
#include <fstream>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"

namespace npuvp::platform {
namespace {

// One run of the CLI (each its own process and platform) and its report.
nlohmann::json run_cli_report(const std::string& network, const std::string& datatype, const std::string& extra = "") {
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("npuvp_int16_" + datatype + "_" + std::filesystem::path(network).stem().string()))
                              .string();
  const auto r = npuvp::test::run_cli("run --network " + network + " --datatype " + datatype + " --out " + dir +
                                      " --quiet " + extra);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::ifstream in(dir + "/report.json");
  return nlohmann::json::parse(in);
}

void expect_all_verified(const nlohmann::json& r) {
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  for (const auto& layer : r["layers"]) EXPECT_TRUE(layer["verified"].get<bool>()) << layer["name"];
}

std::uint64_t dram_bytes(const nlohmann::json& r) {
  return r["dram"]["read_bytes"].get<std::uint64_t>() + r["dram"]["write_bytes"].get<std::uint64_t>();
}

void expect_int16_beats_int8(const std::string& network, const std::string& extra, double low, double high) {
  const nlohmann::json r16 = run_cli_report(network, "int16", extra);
  const nlohmann::json r8 = run_cli_report(network, "int8", extra);
  expect_all_verified(r16);
  ASSERT_EQ(r16["layers"].size(), r8["layers"].size());
  for (std::size_t i = 0; i < r16["layers"].size(); ++i) {
    const auto& layer = r16["layers"][i];
    EXPECT_EQ(layer["datatype"], "int16") << layer["name"];
    if (!r8["layers"][i]["sqnr_db"].is_number()) continue;
    // 8 more bits: about 48 dB more headroom; every layer gains.
    EXPECT_GT(layer["sqnr_db"].get<double>(), r8["layers"][i]["sqnr_db"].get<double>() + 20) << layer["name"];
  }
  const double ratio = static_cast<double>(dram_bytes(r16)) / static_cast<double>(dram_bytes(r8));
  EXPECT_GT(ratio, low);
  EXPECT_LT(ratio, high);
}

// Activations and weights double; biases, requantization tables and commands
// do not. More than 2x: int8's residual adds are fused (no output written)
// where int16's run on their own, and tiles of twice the bytes fit the SRAM
// fewer times (more re-reads).
TEST(Int16Network, ResNet20CifarAtInt16IsBitExactAboveInt8SqnrAtAboutTwiceTheDramBytes) {
  expect_int16_beats_int8("resnet20_cifar", "", 2.0, 2.35);
}

TEST(Int16Network, MobileNetV1AtInt16IsBitExactAboveInt8SqnrAtAboutTwiceTheDramBytes) {
  expect_int16_beats_int8("mobilenet_v1", "", 2.0, 2.2);
}

TEST(Int16Network, MixedInt8Int16YamlIsBitExactOnTheNpu) {
  // tests/platform/mixed_int16.yaml: `a` and `mid` are int8 convolutions
  // writing int16 tensors, `c` an int16 one writing int8, each converting in
  // its output stage on the clusters.
  const nlohmann::json r = run_cli_report("tests/platform/mixed_int16.yaml", "int8");
  expect_all_verified(r);
  std::map<std::string, std::string> datatype;
  for (const auto& layer : r["layers"]) datatype[layer["name"]] = layer["datatype"];
  const std::map<std::string, std::string> expected{
      {"input", "int8"}, {"a", "int8"},  {"a_relu", "int16"}, {"pool", "int16"}, {"b", "int16"}, {"mid", "int8"},
      {"sum", "int16"},  {"c", "int16"}, {"d", "int8"},       {"gap", "int8"},   {"fc", "int8"}};
  EXPECT_EQ(datatype, expected);
}

TEST(Int16Network, BadDatatypesNameTheOptionOrTheFileLayerAndKey) {
  const auto option = npuvp::test::run_cli("run --network resnet20_cifar --datatype int32 --quiet");
  EXPECT_NE(option.exit_code, 0);
  EXPECT_NE(option.err.find("--datatype"), std::string::npos) << option.err;
  const auto file = std::filesystem::temp_directory_path() / "npuvp_int16_bad.yaml";
  std::ofstream(file) << "name: x\ninput: [8, 8, 8]\nlayers:\n  - {name: a, type: conv2d, out_channels: 8, kernel: 1}\n"
                         "  - {name: head, type: fully_connected, out_features: 4, datatype: int12}\n";
  const auto yaml = npuvp::test::run_cli("run --network " + file.string() + " --quiet");
  EXPECT_NE(yaml.exit_code, 0);
  EXPECT_NE(yaml.err.find(file.string() + ":5:"), std::string::npos) << yaml.err;
  EXPECT_NE(yaml.err.find("layer 'head': key 'datatype': expected int4 or int8 or int16, got 'int12'"),
            std::string::npos)
      << yaml.err;
}

}  // namespace
}  // namespace npuvp::platform
