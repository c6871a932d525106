#pragma once
// The one place tests run host software on a whole, fresh platform::Soc: build
// it from a PlatformConfig, run the program as the host CPU's software, and
// hand back what the run left behind. Tests needing a whole SoC go through
// here, so a change of the Soc's API is absorbed in soc_harness.cpp.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "models/cpu/host_cpu.h"
#include "models/dma/dma_engine.h"
#include "models/npu/command_processor.h"
#include "platform/platform_config.h"
#include "sw/driver/npu_driver.h"
#include "sw/hal/host_hal.h"

namespace npuvp::testing {

inline constexpr const char* kEdgeIpPlatform = "configs/platforms/edge-ip.yaml";

// A platform file with `key=value` overrides.
platform::PlatformConfig platform_config(const std::string& file = kEdgeIpPlatform,
                                         const std::vector<std::string>& overrides = {});

// What a run on the SoC leaves behind once the Soc is gone.
struct SocRun {
  bool finished = false;  // the program returned (or threw: see failure)
  std::string failure;    // what the program threw, empty if it returned
  double end_ns = 0;      // simulated time when the simulation stopped
  cpu::HostCpuStats host;
  npu::CommandProcessorStats control;
  dma::DmaStats dma;
};

// Runs `program` as the host software of a fresh SoC. Call once per process.
SocRun run_on_soc(const platform::PlatformConfig& config, const std::function<void(sw::HostHal&)>& program);

// As run_on_soc, but the run is stopped from inside at `stop_ns` simulated
// (sim::stop(), as SIGINT, SIGTERM and the watchdog stop it).
SocRun run_on_soc_stopped_at(const platform::PlatformConfig& config, const std::function<void(sw::HostHal&)>& program,
                             double stop_ns);

// The driver's view of the platform's address map.
sw::DriverConfig driver_config(const platform::PlatformConfig& config);

// Runs `program` over a probed NpuDriver; EXPECTs that it ran to its end
// without throwing.
SocRun run_driver_on_soc(const platform::PlatformConfig& config, const sw::DriverConfig& driver,
                         const std::function<void(sw::NpuDriver&)>& program);
inline SocRun run_driver_on_soc(const platform::PlatformConfig& config,
                                const std::function<void(sw::NpuDriver&)>& program) {
  return run_driver_on_soc(config, driver_config(config), program);
}

}  // namespace npuvp::testing
