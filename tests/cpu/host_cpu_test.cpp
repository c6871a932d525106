// HostCpu on a bench: a device memory on its bus socket and an interrupt line
// the bench drives. MMIO cost and synchronization, bursts and the quantum,
// waiting for the interrupt, bus errors. The CPU stops the simulation itself
// when its program ends.
#include <cstdint>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "models/common/sim_control.h"
#include "models/cpu/host_cpu.h"
#include "tests/support/bench.h"

namespace npuvp::cpu {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

constexpr std::uint64_t kDev = 0x4000'0000;
const sc_time kDevLatency(10, SC_NS);

HostCpuConfig config() {
  HostCpuConfig c;
  c.clock_mhz = 1000;  // 1 ns cycles
  c.mmio_cycles = 20;
  return c;
}

struct HostBench : testing::Bench {
  testing::TlmMemory dev{"dev", 0x10000, kDevLatency, kDev};
  testing::IrqLine irq{"irq"};
  std::function<void(sw::HostHal&)> program;
  HostCpu cpu{"cpu", config(), [this](sw::HostHal& hal) { program(hal); }};

  explicit HostBench(sc_time quantum = sc_core::SC_ZERO_TIME) : Bench("bench") {
    stop_at_end_ = false;  // the CPU stops the simulation when its program ends
    tlm::tlm_global_quantum::instance().set(quantum);
    cpu.initiator_socket.bind(dev.target_socket);
    cpu.irq(irq);
  }
};

double now(sw::HostHal& hal) { return static_cast<double>(hal.now_ns()); }
sc_time ns(double n) { return sc_time(n, SC_NS); }

TEST(HostCpu, MmioCostsCoreCyclesPlusTheBusAndIsSynchronized) {
  HostBench b;
  b.program = [&](sw::HostHal& hal) {
    hal.mmio_write32(kDev + 4, 0xABC);
    EXPECT_EQ(now(hal), 30);  // 20 core cycles + 10 ns device
    EXPECT_EQ(sc_core::sc_time_stamp(), ns(30));
    EXPECT_EQ(hal.mmio_read32(kDev + 4), 0xABCu);
    EXPECT_EQ(sc_core::sc_time_stamp(), ns(60));
  };
  npuvp::sim::run_to_end();
  EXPECT_TRUE(b.cpu.finished());
  EXPECT_EQ(b.cpu.failure(), "");
  EXPECT_EQ(b.cpu.stats().mmio_writes, 1u);
  EXPECT_EQ(b.cpu.stats().mmio_reads, 1u);
  EXPECT_EQ(b.dev.seen_addresses, (std::vector<std::uint64_t>{kDev + 4, kDev + 4}));
  EXPECT_EQ(sc_core::sc_time_stamp(), sc_time(60, SC_NS));
}

TEST(HostCpu, BulkCopiesGoOutAsBurstsAndRunAheadWithinTheQuantum) {
  // Each burst costs 1 core cycle + 10 ns. With a 20 ns quantum the second
  // burst crosses the first boundary (sync at 22 ns); the third stays ahead.
  HostBench b(sc_time(20, SC_NS));
  std::vector<std::uint8_t> data(10000);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 13 + 7);
  b.program = [&](sw::HostHal& hal) {
    hal.memory_write(kDev + 0x100, data.data(), data.size());
    EXPECT_EQ(now(hal), 33);
    EXPECT_EQ(sc_core::sc_time_stamp(), ns(22));
    hal.mmio_write32(kDev, 1);  // MMIO synchronizes
    EXPECT_EQ(sc_core::sc_time_stamp(), ns(33 + 30));
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cpu.failure(), "");
  EXPECT_EQ(b.dev.seen_addresses, (std::vector<std::uint64_t>{kDev + 0x100, kDev + 0x1100, kDev + 0x2100, kDev}));
  EXPECT_EQ(std::vector<std::uint8_t>(b.dev.bytes.begin() + 0x100, b.dev.bytes.begin() + 0x100 + 10000), data);
  EXPECT_EQ(b.cpu.stats().bytes_written, 10000u);
}

TEST(HostCpu, WaitsForTheInterruptUntilItRisesOrTimesOut) {
  HostBench b;
  b.body = [&] {  // the device: interrupt high from 500 ns to 700 ns
    sc_core::wait(sc_time(500, SC_NS));
    b.irq.write(true);
    sc_core::wait(sc_time(200, SC_NS));
    b.irq.write(false);
  };
  b.program = [&](sw::HostHal& hal) {
    hal.mmio_write32(kDev, 1);
    EXPECT_TRUE(hal.wait_for_interrupt(10'000));
    EXPECT_EQ(now(hal), 500);
    EXPECT_TRUE(hal.wait_for_interrupt(10'000));  // still high: at once
    EXPECT_EQ(now(hal), 500);
    sc_core::wait(sc_time(300, SC_NS));
    EXPECT_FALSE(hal.wait_for_interrupt(2'000));
    EXPECT_EQ(now(hal), 800 + 2'000);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cpu.failure(), "");
  EXPECT_TRUE(b.cpu.finished());
  EXPECT_EQ(b.cpu.stats().interrupts, 2u);
}

TEST(HostCpu, ABusErrorEndsTheProgramNamingTheAddress) {
  HostBench b;
  bool went_on = false;
  b.program = [&](sw::HostHal& hal) {
    hal.mmio_write32(kDev + 8, 1);
    hal.mmio_read32(0x5000'0000);  // nothing there
    went_on = true;
  };
  npuvp::sim::run_to_end();
  EXPECT_TRUE(b.cpu.finished());
  EXPECT_FALSE(went_on);
  EXPECT_NE(b.cpu.failure().find("0x50000000"), std::string::npos) << b.cpu.failure();
  EXPECT_EQ(b.cpu.stats().mmio_writes, 1u);
  EXPECT_EQ(b.cpu.stats().mmio_reads, 0u);
}

// A program that waits on a raised line without ever acknowledging it spun
// forever with no simulated time passing: a hang no watchdog could see.
TEST(HostCpu, WaitingAgainAndAgainOnAnUnacknowledgedInterruptEndsTheProgram) {
  HostBench b;
  b.body = [&] {
    sc_core::wait(sc_time(100, SC_NS));
    b.irq.write(true);  // and nothing the program does lowers it
  };
  std::size_t waits = 0;
  b.program = [&](sw::HostHal& hal) {
    for (;;) {
      hal.wait_for_interrupt(10'000);
      ++waits;
      if (waits == 500) hal.mmio_read32(kDev);  // a bus access starts the count again
    }
  };
  npuvp::sim::run_to_end();
  EXPECT_TRUE(b.cpu.finished());
  EXPECT_EQ(b.cpu.failure(),
            "the host program waited 1001 times for an interrupt on irq that has stayed raised, without a bus "
            "access in between: it does not acknowledge the interrupt (the device's IRQ status register)");
  // The first wait found the line low; 499 found it high, a read, 1000 more
  // and the one refused.
  EXPECT_EQ(waits, 1500u);
}

}  // namespace
}  // namespace npuvp::cpu
