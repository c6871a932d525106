#include "tests/support/soc_harness.h"

#include <gtest/gtest.h>

#include <optional>

// sc_spawn, for the thread that stops a run.
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include <systemc>

#include "contract/address_map.h"
#include "models/common/sim_control.h"
#include "platform/soc.h"

namespace npuvp::testing {

platform::PlatformConfig platform_config(const std::string& file, const std::vector<std::string>& overrides) {
  return platform::load_platform(file, overrides);
}

namespace {

SocRun simulate(const platform::PlatformConfig& config, const std::function<void(sw::HostHal&)>& program,
                std::optional<double> stop_ns) {
  SocRun run;
  platform::Soc soc("soc", config, [&](sw::HostHal& hal) { program(hal); });
  if (stop_ns)
    sc_core::sc_spawn(
        [ns = *stop_ns] {
          sc_core::wait(sc_core::sc_time(ns, sc_core::SC_NS));
          sim::stop();
        },
        "stop_at");
  sim::run_to_end();
  run.finished = soc.host().finished();
  run.failure = soc.host().failure();
  run.end_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
  run.host = soc.host().stats();
  run.control = soc.npu().command_processor().stats();
  run.dma = soc.npu().dma().stats();
  return run;
}

}  // namespace

SocRun run_on_soc(const platform::PlatformConfig& config, const std::function<void(sw::HostHal&)>& program) {
  return simulate(config, program, std::nullopt);
}

SocRun run_on_soc_stopped_at(const platform::PlatformConfig& config, const std::function<void(sw::HostHal&)>& program,
                             double stop_ns) {
  return simulate(config, program, stop_ns);
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
