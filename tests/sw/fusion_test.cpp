// Residual adds fused into the epilogue of the convolution that feeds them
// (docs/lowering.md): which convolution takes which add, what its command
// carries, when the add stays its own command, and that the host interpreter
// of the command format still reproduces the reference executor bit for bit.
#include <utility>

#include <gtest/gtest.h>

#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/zoo.h"
#include "sw/runtime/lowering/lowering.h"
#include "sw/runtime/quantize/network_quantizer.h"

namespace npuvp::runtime {
namespace {

using firmware::LayerCommand;
using firmware::Opcode;

LoweredNetwork lower(const QuantizedNetwork& q, bool fuse = true) {
  HostDram dram;
  LoweringOptions options;
  options.fuse_layers = fuse;
  return lower_network(
      q, [&](std::uint64_t bytes) { return dram.alloc(bytes); }, options);
}

const LayerCommand& only_command(const LoweredNetwork& n, int layer) {
  EXPECT_EQ(n.layers[static_cast<std::size_t>(layer)].command_count, 1u) << "layer " << layer;
  return n.commands[n.layers[static_cast<std::size_t>(layer)].first_command];
}

void expect_host_run_exact(const QuantizedNetwork& q, bool fuse = true) {
  ExecutionOptions options;
  options.fuse_layers = fuse;
  const NetworkRun run = run_network_on_host(q, options);
  for (const LayerCheck& l : run.layers)
    EXPECT_TRUE(l.verified) << "layer " << l.index << " '" << l.name << "': " << l.mismatches << " mismatches";
  EXPECT_TRUE(run.all_verified());
}

// conv a (ReLU) -> conv b -> add(b, a) -> ReLU: b's epilogue computes the add.
struct Block {
  int a, relu_a, b, add, relu;
};

std::pair<Block, QuantizedNetwork> residual_block(bool b_feeds_another_layer = false) {
  Network n("block", {8, 6, 5});
  Block k{};
  k.a = n.conv("a", 0, 8, 3, 1, 1, 1, true);
  k.relu_a = n.relu("a.relu", k.a);
  k.b = n.conv("b", k.relu_a, 8, 3, 1, 1, 1, true);
  k.add = n.add("add", k.b, k.relu_a);
  k.relu = n.relu("add.relu", k.add);
  if (b_feeds_another_layer) n.conv("c", k.b, 4, 1);
  return {k, quantize_network(std::move(n))};
}

TEST(Fusion, ResidualAddRunsInTheEpilogueOfTheConvolutionFeedingIt) {
  const auto [k, q] = residual_block();
  const LoweredNetwork l = lower(q);
  const auto& layers = l.layers;
  EXPECT_EQ(layers[k.add].command_count, 0u);
  EXPECT_EQ(layers[k.add].folded_into, std::vector<int>{k.b});
  const LayerCommand& c = only_command(l, k.b);
  EXPECT_EQ(c.fuse, static_cast<std::uint32_t>(firmware::Fuse::kAdd));
  EXPECT_EQ(c.input2_addr, layers[k.a].output.addr);  // the ReLU fused into a: a's tensor
  EXPECT_EQ(c.output_addr, layers[k.add].output.addr);
  EXPECT_EQ(c.output_zero_point, q.layers[k.b].output.zero_point);  // b requantizes as before
  EXPECT_EQ(c.fused_output_zero_point, q.layers[k.add].output.zero_point);
  EXPECT_EQ(c.add.input2_zero_point, q.layers[k.relu_a].output.zero_point);
  // The ReLU after the add clamps the sum at its zero point.
  EXPECT_EQ(c.fused_act_min, q.layers[k.add].output.zero_point);
  EXPECT_EQ(c.fused_act_max, 127);
  // b's own output is never written: the add's vouches for it.
  EXPECT_EQ(layers[k.b].unwritten_for, k.add);
  EXPECT_EQ(layers[k.add].unwritten_for, -1);
  EXPECT_EQ(l.commands.size(), 2u);
  expect_host_run_exact(q);
}

TEST(Fusion, AConvolutionAnotherLayerReadsKeepsItsAddSeparate) {
  const auto [k, q] = residual_block(true);
  const LoweredNetwork l = lower(q);
  EXPECT_EQ(only_command(l, k.add).opcode, static_cast<std::uint32_t>(Opcode::kAdd));
  EXPECT_EQ(only_command(l, k.b).fuse, 0u);
  EXPECT_TRUE(l.layers[k.add].folded_into.empty());
  EXPECT_EQ(l.layers[k.add].not_fused, "'b' feeds other layers too; 'a' feeds other layers too");
  expect_host_run_exact(q);
}

// A downsampling block: both inputs of the add are convolutions read only by
// it; the one that runs later takes the add, the other's output is the residual.
TEST(Fusion, TheLaterOfTwoConvolutionsTakesTheAdd) {
  Network n("down", {8, 6, 6});
  const int body = n.conv("body", 0, 16, 3, 2, 1, 1, true);
  const int shortcut = n.conv("shortcut", 0, 16, 1, 2, 0, 1, true);
  const int add = n.add("add", body, shortcut);
  const QuantizedNetwork q = quantize_network(std::move(n));
  const LoweredNetwork l = lower(q);
  EXPECT_EQ(l.layers[add].folded_into, std::vector<int>{shortcut});
  EXPECT_EQ(only_command(l, body).fuse, 0u);
  EXPECT_EQ(only_command(l, shortcut).input2_addr, l.layers[body].output.addr);
  expect_host_run_exact(q);
}

TEST(Fusion, OffEveryAddIsItsOwnCommandAndTheCommandsAreAsBefore) {
  const auto [k, q] = residual_block();
  const LoweredNetwork fused = lower(q), unfused = lower(q, false);
  EXPECT_EQ(only_command(unfused, k.add).opcode, static_cast<std::uint32_t>(Opcode::kAdd));
  EXPECT_EQ(only_command(unfused, k.b).fuse, 0u);
  EXPECT_EQ(only_command(unfused, k.b).output_addr, unfused.layers[k.b].output.addr);
  EXPECT_EQ(unfused.layers[k.b].unwritten_for, -1);
  EXPECT_EQ(unfused.layers[k.add].not_fused, "");  // not asked for
  EXPECT_EQ(unfused.commands.size(), fused.commands.size() + 1);
  expect_host_run_exact(q, false);
}

QuantizedNetwork quantize_zoo(const std::string& name, int h, int w) {
  Network n = make_network(name);
  n.infer_shapes({n.input_shape().c, h, w});
  return quantize_network(std::move(n));
}

// Every add of ResNet-18 (8), ResNet-50 (16) and MobileNet v2 (10) is fused.
TEST(Fusion, EveryResidualAddOfTheZoosResNetsAndMobileNetV2IsFusedAndExact) {
  for (const auto& [name, adds] :
       {std::pair{"resnet18", 8}, std::pair{"resnet50", 16}, std::pair{"mobilenet_v2", 10}}) {
    const QuantizedNetwork q = quantize_zoo(name, 64, 64);
    const LoweredNetwork l = lower(q);
    int fused = 0;
    for (std::size_t i = 0; i < l.layers.size(); ++i)
      if (q.network.layer(static_cast<int>(i)).type == LayerType::kAdd) {
        EXPECT_EQ(l.layers[i].command_count, 0u) << name << " " << q.network.layer(static_cast<int>(i)).name;
        fused += l.layers[i].folded_into.size() == 1;
      }
    EXPECT_EQ(fused, adds) << name;
    expect_host_run_exact(q);
  }
}

}  // namespace
}  // namespace npuvp::runtime
