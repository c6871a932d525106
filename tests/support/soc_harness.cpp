#include "tests/support/soc_harness.h"

#include <gtest/gtest.h>
#include <systemc>

#include "contract/address_map.h"
#include "models/common/sim_control.h"
#include "platform/soc.h"

namespace npuvp::testing {

platform::PlatformConfig platform_config(const std::string& file, const std::vector<std::string>& overrides) {
  return platform::load_platform(file, overrides);
}

SocRun run_on_soc(const platform::PlatformConfig& config, const std::function<void(sw::HostHal&)>& program) {
  SocRun run;
  platform::Soc soc("soc", config, [&](sw::HostHal& hal) { program(hal); });
  sim::run_to_end();
  run.finished = soc.host().finished();
  run.failure = soc.host().failure();
  run.end_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
  run.host = soc.host().stats();
  run.control = soc.npu().command_processor().stats();
  return run;
}

sw::DriverConfig driver_config(const platform::PlatformConfig& config) {
  sw::DriverConfig d;
  d.npu_regs_base = address_map::kNpuRegsBase;
  d.dram_base = address_map::kDramBase;
  d.dram_bytes = config.dram.backing_bytes;
  return d;
}

SocRun run_driver_on_soc(const platform::PlatformConfig& config, const sw::DriverConfig& driver,
                         const std::function<void(sw::NpuDriver&)>& program) {
  bool returned = false;
  SocRun run = run_on_soc(config, [&](sw::HostHal& hal) {
    sw::NpuDriver d(hal, driver);
    d.probe();
    program(d);
    returned = true;
  });
  EXPECT_TRUE(returned && run.failure.empty()) << "the host program did not return: " << run.failure;
  return run;
}

}  // namespace npuvp::testing
