// Quantized networks lowered and run on the whole platform through the
// driver, every layer's output read back and compared with the reference
// executor. Each TEST builds its own platform (its own process under ctest).
#include <gtest/gtest.h>

#include "sw/driver/npu_driver.h"
#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/zoo.h"
#include "sw/runtime/quantize/network_quantizer.h"
#include "tests/support/soc_harness.h"

namespace npuvp::runtime {
namespace {

// Runs `program` as the host software of a fresh edge-ip platform.
void simulate(const std::function<void(sw::NpuDriver&)>& program) {
  testing::run_driver_on_soc(testing::platform_config(), program);
}

void expect_all_verified(const NetworkRun& run) {
  for (const LayerCheck& l : run.layers)
    EXPECT_TRUE(l.verified) << "layer " << l.index << " '" << l.name << "' (" << l.type << "): " << l.mismatches
                            << " mismatches";
  EXPECT_TRUE(run.all_verified());
}

// Only kConv2d commands: convs with fused ReLU/ReLU6, a depthwise conv, a
// shift (a depthwise conv) and an FC (a conv over the flattened input).
QuantizedNetwork conv_only_network() {
  Network n("conv_only", {5, 12, 10});
  int x = n.conv("conv1", 0, 16, 3, 2, 1);
  x = n.bn("bn1", x);
  x = n.relu("relu1", x);
  x = n.conv("dw", x, 16, 3, 1, 1, 16);
  x = n.relu6("relu6", x);
  x = n.shift("shift", x, five_direction_shifts(16));
  x = n.conv("pw", x, 24, 1, 1, 0, 1, true);
  x = n.flatten("flatten", x);
  n.fc("fc", x, 10);
  return quantize_network(std::move(n));
}

// With runs of three or four channels folded (as if the DRAM's access were
// one byte), the shift is pw's gathered input: four commands.
TEST(LoweringOnNpu, ConvNetworkInOneCommandBufferIsBitExact) {
  const QuantizedNetwork q = conv_only_network();
  simulate([&](sw::NpuDriver& driver) {
    ExecutionOptions options;
    options.dram_access_bytes = 1;
    const NetworkRun run = run_network_on_npu(driver, q, options);
    EXPECT_EQ(run.command_buffers, 1u);
    EXPECT_EQ(run.commands, 4u);
    expect_all_verified(run);
    EXPECT_EQ(driver.counters().layers_done, 4u);
  });
}

TEST(LoweringOnNpu, OneBufferPerLayerWithEachDataflowIsBitExact) {
  const QuantizedNetwork q = conv_only_network();
  simulate([&](sw::NpuDriver& driver) {
    for (auto df : {firmware::DataflowChoice::kWeightStationary, firmware::DataflowChoice::kOutputStationary}) {
      for (bool fold : {true, false}) {
        ExecutionOptions options;
        options.dataflow = df;
        options.one_buffer_per_layer = true;
        options.fold_data_movement = fold;
        options.dram_access_bytes = 1;
        const NetworkRun run = run_network_on_npu(driver, q, options);
        EXPECT_EQ(run.command_buffers, fold ? 4u : 5u);  // unfolded, the shift is a depthwise conv
        expect_all_verified(run);
        driver.free_all();
      }
    }
  });
}

// Every opcode the network lowers to; an NPU fault fails the test.
void run_zoo_network(const std::string& name, int h, int w) {
  Network n = make_network(name);
  n.infer_shapes({3, h, w});
  const QuantizedNetwork q = quantize_network(std::move(n));
  simulate([&](sw::NpuDriver& driver) { expect_all_verified(run_network_on_npu(driver, q)); });
}

TEST(LoweringOnNpu, Resnet20CifarIsBitExact) { run_zoo_network("resnet20_cifar", 32, 32); }

TEST(LoweringOnNpu, Squeezenet11At64IsBitExact) { run_zoo_network("squeezenet1_1", 64, 64); }

// Gathered inputs of up to eight runs, permuted weights, and readers that copy more runs.
TEST(LoweringOnNpu, ShufflenetV2At64IsBitExact) { run_zoo_network("shufflenet_v2_x1_0", 64, 64); }

}  // namespace
}  // namespace npuvp::runtime
