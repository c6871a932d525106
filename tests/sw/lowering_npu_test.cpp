// Quantized networks lowered and run on the whole platform through the
// driver, every layer's output read back and compared with the reference
// executor. Each TEST builds its own platform (its own process under ctest).
#include <string>

#include <gtest/gtest.h>

#include "sw/driver/npu_driver.h"
#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/network_yaml.h"
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

// A run stopped while the firmware has the next layer's loads in flight (what
// SIGINT, SIGTERM and the watchdog do at any moment) ends cleanly: the
// firmware thread is killed in the middle of a layer, and a stack being
// unwound must not wait for those loads (SystemC's E537, "wait() not allowed
// during unwinding", used to end such a run). On pool_fc, unfused, the DMA
// writes into the global buffer the conv's 8,192 input and 38,400 parameter
// bytes, then during the conv's last step the pool's 32,768 input bytes (the
// conv's output, forwarded), then during the pool's last step the fc's first K
// block of 512 × (128 + 4 + 8) = 71,680 bytes (tests/platform/prefetch_test.cpp).
// Each stop time falls inside one of those last two loads, which the bytes
// written by then confirm.
struct StopPoint {
  double ns;
  std::uint64_t written_before, written_by_the_end;  // of that load
};

void PrintTo(const StopPoint& p, std::ostream* os) { *os << p.ns << " ns"; }

class StoppedRun : public ::testing::TestWithParam<StopPoint> {};

TEST_P(StoppedRun, EndsCleanlyWithTheNextLayersLoadsInFlight) {
  const StopPoint& at = GetParam();
  const QuantizedNetwork q = quantize_network(load_network_yaml("tests/platform/pool_fc.yaml"));
  const platform::PlatformConfig config = testing::platform_config();
  const testing::SocRun run = testing::run_on_soc_stopped_at(
      config,
      [&](sw::HostHal& hal) {
        sw::NpuDriver driver(hal, testing::driver_config(config));
        driver.probe();
        ExecutionOptions options;
        options.fuse_layers = false;
        run_network_on_npu(driver, q, options);
      },
      at.ns);
  EXPECT_FALSE(run.finished);
  EXPECT_DOUBLE_EQ(run.end_ns, at.ns);
  EXPECT_GT(run.dma.local_write_bytes, at.written_before);
  EXPECT_LT(run.dma.local_write_bytes, at.written_by_the_end);
  EXPECT_EQ(run.control.errors, 0u);
}

INSTANTIATE_TEST_SUITE_P(LoweringOnNpu, StoppedRun,
                         ::testing::Values(StopPoint{24'000, 46'592, 46'592 + 32'768},
                                           StopPoint{27'000, 79'360, 79'360 + 71'680}),
                         [](const ::testing::TestParamInfo<StopPoint>& p) {
                           return std::to_string(static_cast<int>(p.param.ns)) + "ns";
                         });

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
