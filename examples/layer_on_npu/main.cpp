// A host program of one's own on the NPU, start to finish: probe the NPU
// through its registers, load one convolution layer into DRAM, run it, read
// the output back and check it bit-exact against the host reference. The run
// goes through platform::run, so it writes the same reports as `npuvp run`
// (report.json, layers.csv, report.html, traces) into OUT_DIR.
//
// usage: layer_on_npu [PLATFORM [OUT_DIR]]   (defaults: edge-ip, layer_on_npu_out)
// Exit code 0 when the output matched the reference, 1 otherwise.
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <systemc>

#include "contract/address_map.h"
#include "contract/npu_regs.h"
#include "platform/config/data_root.h"
#include "platform/platform_config.h"
#include "platform/run.h"
#include "sw/apps/workloads.h"
#include "sw/driver/npu_driver.h"
#include "sw/runtime/lowering/conv_workload.h"

using namespace npuvp;

namespace {

// Reads the identification and capability registers (docs/registers.md), as
// a driver's probe does; NpuDriver::probe() has already checked ID and
// enabled the NPU before the program runs.
void print_npu(sw::HostHal& hal) {
  auto reg = [&](std::uint32_t offset) { return hal.mmio_read32(address_map::kNpuRegsBase + offset); };
  const std::uint32_t version = reg(npu::reg::kVersion);
  const std::uint32_t array = reg(npu::reg::kCapArray);  // rows in bits 15:0, columns in 31:16
  std::printf("NPU id 0x%08x, version %u.%u: %u clusters of %ux%u PEs, %u KiB SRAM\n", reg(npu::reg::kId),
              version >> 16, version & 0xffff, reg(npu::reg::kCapClusters), array & 0xffff, array >> 16,
              reg(npu::reg::kCapSramKb));
}

// Writes the layer's tensors and its LayerCommand into DRAM, submits the
// command buffer, sleeps on the NPU's interrupt until it is done and returns
// the output as the NPU wrote it. (runtime::run_conv_on_npu does the same for
// every datatype; it is written out here to show the steps.)
std::vector<std::int8_t> run_layer(sw::NpuDriver& driver, const runtime::PreparedConv& layer) {
  sw::HostHal& hal = driver.hal();
  runtime::ConvAddresses at;
  at.input = driver.alloc(layer.input.size());
  at.weights = driver.alloc(layer.weights.size());
  at.bias = driver.alloc(layer.bias.size() * 4);
  at.requant = driver.alloc(std::uint64_t(layer.spec.out_c) * 8);
  at.output = driver.alloc(layer.expected.size());
  hal.memory_write(at.input, layer.input.data(), layer.input.size());
  hal.memory_write(at.weights, layer.weights.data(), layer.weights.size());
  hal.memory_write(at.bias, layer.bias.data(), layer.bias.size() * 4);
  // The requantization table: (multiplier, shift) per output channel, int32 each.
  std::vector<std::int32_t> requant;
  for (int k = 0; k < layer.spec.out_c; ++k) {
    const auto& m = layer.requant.per_channel.size() == 1 ? layer.requant.per_channel[0] : layer.requant.per_channel[k];
    requant.push_back(m.multiplier);
    requant.push_back(m.shift);
  }
  hal.memory_write(at.requant, requant.data(), requant.size() * 4);

  // A command buffer is an array of LayerCommands in DRAM; this one holds one.
  const firmware::LayerCommand command = runtime::conv_command(layer, /*layer_id=*/0, at);
  const std::uint64_t buffer = driver.alloc(sizeof command);
  hal.memory_write(buffer, &command, sizeof command);
  driver.submit(buffer, 1);
  driver.wait_idle();  // throws sw::NpuFault if the NPU reports an error

  std::vector<std::int8_t> output(layer.expected.size());
  hal.memory_read(at.output, output.data(), output.size());
  return output;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  const std::string platform_name = argc > 1 ? argv[1] : "edge-ip";
  platform::RunOptions options;
  options.out_dir = argc > 2 ? argv[2] : "layer_on_npu_out";
  options.network = "layer_on_npu";  // recorded in report.json
  options.quiet = true;
  try {
    // A preset by name (npuvp list platforms) or a platform file.
    const platform::PlatformConfig config = platform::load_platform(config::find_platform(platform_name), {});

    // The layer: a 3x3 int8 convolution, 16 to 32 channels over 28x28, with
    // seeded weights and input, and its reference output computed on the host.
    runtime::ConvLayerSpec spec;
    spec.name = "conv3x3";
    spec.in_c = 16, spec.in_h = 28, spec.in_w = 28, spec.out_c = 32;
    const runtime::PreparedConv layer = runtime::prepare_conv(spec, /*seed=*/7);

    // What the report lists (one layer) and how the program records its verdict.
    apps::Workload work;
    work.name = "layer_on_npu";
    work.input_shape = {layer.in_shape.c, layer.in_shape.h, layer.in_shape.w};
    work.layers.push_back(apps::describe_conv_layer(layer));
    work.commands.push_back(runtime::conv_command(layer, 0));  // checked to fit the NPU before simulating
    auto verdicts = work.verdicts = std::make_shared<apps::LayerVerdicts>();
    verdicts->mismatches = {0};
    verdicts->verified = {false};
    // The host software: runs on the host CPU model inside the simulation.
    work.program = [&layer, verdicts](sw::NpuDriver& driver) {
      print_npu(driver.hal());
      const std::vector<std::int8_t> output = run_layer(driver, layer);
      for (std::size_t i = 0; i < output.size(); ++i) verdicts->mismatches[0] += output[i] != layer.expected[i];
      verdicts->verified[0] = verdicts->mismatches[0] == 0;
    };

    const nlohmann::json report = platform::run(config, options, work);
    std::printf("%s", platform::format_report(report).c_str());
    std::printf("%zu of %zu output bytes differ from the reference; reports in %s\n", verdicts->mismatches[0],
                layer.expected.size(), options.out_dir.c_str());
    return report["totals"]["all_verified"].get<bool>() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "layer_on_npu: %s\n", e.what());
    return 1;
  }
}
