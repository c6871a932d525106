// The driver against a register file that records what it is asked: misuse is
// refused before the hardware is touched.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "sw/driver/npu_driver.h"

namespace npuvp::sw {
namespace {

// Counts accesses; answers nothing useful, so a test fails loudly if the
// driver gets as far as the hardware.
struct CountingHal : HostHal {
  int accesses = 0;
  std::uint32_t mmio_read32(std::uint64_t) override { return ++accesses, 0; }
  void mmio_write32(std::uint64_t, std::uint32_t) override { ++accesses; }
  void memory_read(std::uint64_t, void*, std::size_t) override { ++accesses; }
  void memory_write(std::uint64_t, const void*, std::size_t) override { ++accesses; }
  bool wait_for_interrupt(std::uint64_t) override { return ++accesses, false; }
  std::uint64_t now_ns() const override { return 0; }
};

TEST(DriverConfig, ARingTooSmallToHoldACommandIsRefusedBeforeTheHardware) {
  // 0 entries divided by zero on submit; 1 entry never accepted a command.
  for (std::uint32_t entries : {0u, 1u}) {
    CountingHal hal;
    DriverConfig config;
    config.ring_entries = entries;
    NpuDriver driver(hal, config);
    try {
      driver.probe();
      ADD_FAILURE() << entries << " ring entries accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(std::string(e.what()),
                "DriverConfig.ring_entries: expected at least 2 (a ring of N entries holds N - 1 command buffers), "
                "got " +
                    std::to_string(entries));
    }
    EXPECT_EQ(hal.accesses, 0);
  }
}

}  // namespace
}  // namespace npuvp::sw
