// A whole network on the NPU through the host software stack, with the SoC
// built and simulated by hand (no reports: see layer_on_npu for those): the
// runtime quantizes a zoo network, lowers it to LayerCommands, runs it through
// the driver and checks every layer's output against its reference executor.
//
// usage: network_on_npu [NETWORK [PLATFORM]]   (defaults: resnet20_cifar, edge-ip)
// Exit code 0 when every layer matched its reference, 1 otherwise.
#include <cstdio>
#include <exception>
#include <string>

#include <systemc>

#include "contract/address_map.h"
#include "platform/config/data_root.h"
#include "platform/platform_config.h"
#include "platform/soc.h"
#include "sw/driver/npu_driver.h"
#include "sw/runtime/exec/network_executor.h"
#include "sw/runtime/frontend/zoo.h"
#include "sw/runtime/quantize/network_quantizer.h"

using namespace npuvp;

int sc_main(int argc, char* argv[]) {
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  const std::string network = argc > 1 ? argv[1] : "resnet20_cifar";
  const std::string platform_name = argc > 2 ? argv[2] : "edge-ip";
  try {
    const platform::PlatformConfig config = platform::load_platform(config::find_platform(platform_name), {});
    // The network by name (npuvp list networks), its weights seeded and its
    // scales calibrated on a seeded input; the reference outputs come with it.
    const runtime::QuantizedNetwork q = runtime::quantize_network(runtime::make_network(network));

    // The driver's view of the platform's address map.
    sw::DriverConfig driver_config;
    driver_config.npu_regs_base = address_map::kNpuRegsBase;
    driver_config.dram_base = address_map::kDramBase;
    driver_config.dram_bytes = config.dram.backing_bytes;

    runtime::NetworkRun result;
    // The host program runs on the SoC's CPU model once the simulation starts.
    platform::Soc soc("soc", config, [&](sw::HostHal& hal) {
      sw::NpuDriver driver(hal, driver_config);
      driver.probe();
      result = runtime::run_network_on_npu(driver, q);
    });
    sc_core::sc_start();  // returns when the host program has returned and the NPU is idle
    if (!soc.host().finished() || !soc.host().failure().empty()) {
      std::fprintf(stderr, "network_on_npu: the host program failed: %s\n", soc.host().failure().c_str());
      return 1;
    }

    std::printf("%-28s %-16s %8s %10s\n", "layer", "type", "commands", "mismatches");
    for (const runtime::LayerCheck& layer : result.layers)
      std::printf("%-28s %-16s %8zu %10zu%s\n", layer.name.c_str(), layer.type.c_str(), layer.commands,
                  layer.mismatches, layer.verified ? "" : "  MISMATCH");
    std::printf("%s: %zu layers, %zu commands in %zu command buffers, %.3f ms simulated, %s\n", network.c_str(),
                result.layers.size(), result.commands, result.command_buffers,
                sc_core::sc_time_stamp().to_seconds() * 1e3,
                result.all_verified() ? "every layer bit-exact" : "MISMATCHES");
    return result.all_verified() ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "network_on_npu: %s\n", e.what());
    return 1;
  }
}
