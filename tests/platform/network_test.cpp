// Whole networks from the zoo, end to end on the default preset: every layer's
// output bit-exact against the host reference executor.
#include <filesystem>

#include <gtest/gtest.h>

#include "platform/platform_config.h"
#include "platform/run.h"

namespace npuvp::platform {
namespace {

nlohmann::json run_network(const std::string& name, int h = 0, int w = 0, const std::string& dataflow = "hybrid") {
  const PlatformConfig config = load_platform("configs/platforms/edge-ip.yaml", {});
  RunOptions options;
  options.network = name;
  options.input_h = h;
  options.input_w = w;
  options.dataflow = dataflow;
  options.out_dir = (std::filesystem::temp_directory_path() / ("npuvp_net_" + name)).string();
  return run(config, options);
}

void expect_all_layers_exact(const nlohmann::json& r) {
  EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
  std::uint64_t macs = 0;
  for (const auto& layer : r["layers"]) {
    EXPECT_TRUE(layer["verified"].get<bool>()) << layer["name"];
    macs += layer["macs"].get<std::uint64_t>();
  }
  EXPECT_EQ(macs, r["network"]["total_macs"].get<std::uint64_t>());
  // At 1024 MACs per cycle no run can be faster than this.
  EXPECT_GE(r["totals"]["cycles"].get<std::uint64_t>(), macs / 1024);
}

TEST(Network, SqueezeNet11At224IsBitExact) {
  const auto r = run_network("squeezenet1_1");
  expect_all_layers_exact(r);
  EXPECT_EQ(r["network"]["total_macs"].get<std::uint64_t>(), 349'151'936u);
  EXPECT_EQ(r["network"]["input_shape"], nlohmann::json({3, 224, 224}));
}

TEST(Network, MobileNetV1At224IsBitExact) {
  const auto r = run_network("mobilenet_v1");
  expect_all_layers_exact(r);
  EXPECT_EQ(r["network"]["total_macs"].get<std::uint64_t>(), 568'740'352u);
}

TEST(Network, ResNet20CifarIsBitExact) { expect_all_layers_exact(run_network("resnet20_cifar")); }

TEST(Network, ShuffleNetV2AtASmallInputIsBitExact) {
  const auto r = run_network("shufflenet_v2_x1_0", 64, 64);
  expect_all_layers_exact(r);
  EXPECT_EQ(r["network"]["input_shape"], nlohmann::json({3, 64, 64}));
}

TEST(Network, DiracDeltaNetShiftLayersAreBitExact) { expect_all_layers_exact(run_network("diracdeltanet")); }

TEST(Network, ForcedWeightStationaryMobileNetV2IsBitExact) {
  const auto r = run_network("mobilenet_v2", 96, 96, "ws");
  expect_all_layers_exact(r);
  for (const auto& layer : r["layers"]) {
    if (layer["type"] == "conv2d") {
      EXPECT_EQ(layer["dataflow"], "ws") << layer["name"];
    }
  }
}

TEST(Network, UnknownNetworkIsNamed) {
  try {
    run_network("no_such_net");
    FAIL() << "an unknown network was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("unknown network 'no_such_net'"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace npuvp::platform
