// The driver against register files that stand in for the NPU: misuse is
// refused before the hardware is touched, and the watchdog tells a long
// network from a hung NPU.
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "contract/address_map.h"
#include "contract/npu_regs.h"
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

// An NPU that completes one layer in each watchdog period the driver waits,
// `layers_to_go` of them, then one DMA chain or job in each period,
// `events_to_go` of them, then raises its completion interrupt, or, when
// `hangs`, nothing more.
struct SlowNpu : HostHal {
  std::uint32_t layers_to_go = 0, layers_done = 0, events_to_go = 0, events_done = 0, tail = 0;
  bool hangs = false, complete = false;
  int waits = 0;
  std::uint32_t mmio_read32(std::uint64_t address) override {
    switch (address - address_map::kNpuRegsBase) {
      case npu::reg::kId:
        return npu::kNpuId;
      case npu::reg::kLayersDone:
        return layers_done;
      case npu::reg::kEventsDone:
        return events_done;
      case npu::reg::kRingHead:
        return complete ? tail : 0;
      case npu::reg::kIrqStatus:
        return complete ? npu::kIrqComplete : 0;
      default:
        return 0;
    }
  }
  void mmio_write32(std::uint64_t address, std::uint32_t v) override {
    if (address - address_map::kNpuRegsBase == npu::reg::kRingTail) tail = v;
  }
  void memory_read(std::uint64_t, void*, std::size_t) override {}
  void memory_write(std::uint64_t, const void*, std::size_t) override {}
  bool wait_for_interrupt(std::uint64_t) override {
    ++waits;
    if (layers_to_go > 0) {
      --layers_to_go;
      ++layers_done;
      return false;
    }
    if (events_to_go > 0) {
      --events_to_go;
      ++events_done;
      return false;
    }
    complete = !hangs;
    return complete;
  }
  std::uint64_t now_ns() const override { return 0; }
};

// Submits a command buffer of `layers` layers to `npu` with a watchdog
// period of 1000 ns, and waits for it.
void run_to_idle(SlowNpu& npu, std::uint32_t layers) {
  DriverConfig config;
  config.timeout_ns = 1000;
  NpuDriver driver(npu, config);
  driver.probe();
  driver.submit(driver.alloc(64), layers);
  driver.wait_idle();
}

// A network longer than the watchdog's period runs on while its layers
// complete (VGG-16 at --batch 12 once failed after 1 s of simulated time).
TEST(DriverWatchdog, LayersCompletingKeepItWaiting) {
  SlowNpu npu;
  npu.layers_to_go = 5;
  run_to_idle(npu, 5);
  EXPECT_EQ(npu.waits, 6);
}

// One layer longer than the period runs on while its steps complete (a 1x1
// array at 224x224 once failed after 2 s of its 2.3 s first layer).
TEST(DriverWatchdog, StepsCompletingWithinALayerKeepItWaiting) {
  SlowNpu npu;
  npu.events_to_go = 4;
  run_to_idle(npu, 1);
  EXPECT_EQ(npu.waits, 5);
}

TEST(DriverWatchdog, AnNpuThatCompletesNothingForAPeriodIsHung) {
  SlowNpu npu;
  npu.layers_to_go = 2;
  npu.hangs = true;
  try {
    run_to_idle(npu, 5);
    ADD_FAILURE() << "a hung NPU was waited for";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "NPU timeout: no interrupt and no progress within 1000 ns of simulated time (LAYERS_DONE 2, "
              "EVENTS_DONE 0, RING_HEAD 0, RING_TAIL 1, STATUS 0x0)");
  }
  EXPECT_EQ(npu.waits, 3);
}

}  // namespace
}  // namespace npuvp::sw
