// SystemBus on a bench: two initiators, a RAM and a register block behind it.
// Routing and address translation, the latency added to the caller's delay,
// address errors, debug transport and DMI in system addresses.
#include <array>
#include <cstdint>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "models/common/sim_control.h"
#include "models/interconnect/system_bus.h"
#include "tests/support/bench.h"

namespace npuvp::interconnect {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

constexpr std::uint64_t kRamBase = 0x8000'0000;
constexpr std::uint64_t kRamBytes = 0x1'0000;
constexpr std::uint64_t kRegsBase = 0x4000'0000;
constexpr std::uint64_t kRegsBytes = 0x100;
const sc_time kBusLatency = sc_time(5, SC_NS);  // 4 cycles at 800 MHz

struct BusBench : testing::Bench {
  testing::Initiator cpu{"cpu"}, dma{"dma"};
  testing::TlmMemory ram{"ram", kRamBytes, sc_time(10, SC_NS)};
  testing::TlmMemory regs{"regs", kRegsBytes, sc_time(2, SC_NS)};
  SystemBus bus{"bus", config()};

  BusBench() : Bench("bench") {
    cpu.socket.bind(bus.target_sockets[0]);
    dma.socket.bind(bus.target_sockets[1]);
    bus.initiator_sockets[0].bind(ram.target_socket);
    bus.initiator_sockets[1].bind(regs.target_socket);
  }
  static SystemBusConfig config() {
    SystemBusConfig c;
    c.initiators = 2;
    c.latency_cycles = 4;
    c.clock_mhz = 800;
    c.regions = {{"ram", kRamBase, kRamBytes}, {"regs", kRegsBase, kRegsBytes}};
    return c;
  }
};

TEST(SystemBus, RoutesEachWindowToItsTargetAtTheTargetsOwnAddresses) {
  BusBench b;
  b.body = [&] {
    const std::uint32_t word = 0xCAFE'F00D;
    b.cpu.write32(kRamBase + 0x10, word);
    b.dma.write32(kRegsBase + 0xFC, 0x1234'5678);
    EXPECT_EQ(b.ram.get<std::uint32_t>(0x10), word);
    EXPECT_EQ(b.regs.get<std::uint32_t>(0xFC), 0x1234'5678u);
    EXPECT_EQ(b.dma.read32(kRamBase + 0x10), word);  // any initiator reaches any target
    std::array<std::uint8_t, 64> burst{};
    for (std::size_t i = 0; i < burst.size(); ++i) burst[i] = static_cast<std::uint8_t>(3 * i + 1);
    EXPECT_EQ(b.cpu.access(tlm::TLM_WRITE_COMMAND, kRamBase + kRamBytes - 64, burst.data(), 64),
              tlm::TLM_OK_RESPONSE);  // the last bytes of a window are in it
    std::array<std::uint8_t, 64> back{};
    b.ram.read(kRamBytes - 64, back.data(), 64);
    EXPECT_EQ(back, burst);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.ram.seen_addresses, (std::vector<std::uint64_t>{0x10, 0x10, kRamBytes - 64}));
  EXPECT_EQ(b.regs.seen_addresses, (std::vector<std::uint64_t>{0xFC}));
  EXPECT_EQ(b.bus.stats().transactions, 4u);
  EXPECT_EQ(b.bus.stats().bytes, 4u + 4u + 4u + 64u);
  EXPECT_EQ(b.bus.stats().decode_errors, 0u);
}

TEST(SystemBus, AddsItsLatencyToTheCallersDelayOnTopOfTheTargets) {
  BusBench b;
  b.body = [&] {
    std::uint32_t v = 0;
    sc_time delay(3, SC_NS);  // the initiator's own time ahead of the kernel
    EXPECT_EQ(b.cpu.transport(tlm::TLM_READ_COMMAND, kRamBase, &v, 4, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(delay, sc_time(3, SC_NS) + kBusLatency + sc_time(10, SC_NS));
    delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(b.dma.transport(tlm::TLM_WRITE_COMMAND, kRegsBase + 4, &v, 4, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(delay, kBusLatency + sc_time(2, SC_NS));
    // Annotated, not waited: the bus itself never advances simulated time.
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
    // A synchronizing target's wait shows in time, the bus latency in the delay.
    b.ram.synchronizes = true;
    delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(b.cpu.transport(tlm::TLM_READ_COMMAND, kRamBase, &v, 4, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(delay, sc_core::SC_ZERO_TIME);
    EXPECT_EQ(sc_core::sc_time_stamp(), kBusLatency + sc_time(10, SC_NS));
  };
  npuvp::sim::run_to_end();
}

TEST(SystemBus, UnmappedOrStraddlingAccessesAreAddressErrorsThatReachNoTarget) {
  BusBench b;
  b.body = [&] {
    std::uint64_t v = 0;
    sc_time delay(1, SC_NS);
    EXPECT_EQ(b.cpu.transport(tlm::TLM_READ_COMMAND, 0x7000'0000, &v, 4, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(delay, sc_time(1, SC_NS));  // no latency for a decode error
    // Starts in the RAM window, ends 4 bytes past it.
    EXPECT_EQ(b.cpu.transport(tlm::TLM_WRITE_COMMAND, kRamBase + kRamBytes - 4, &v, 8, delay),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(b.dma.transport(tlm::TLM_READ_COMMAND, kRegsBase + kRegsBytes, &v, 4, delay),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // A target's own error comes back through the bus as it is.
    b.regs.forced = tlm::TLM_GENERIC_ERROR_RESPONSE;
    EXPECT_EQ(b.dma.transport(tlm::TLM_READ_COMMAND, kRegsBase, &v, 4, delay), tlm::TLM_GENERIC_ERROR_RESPONSE);
  };
  npuvp::sim::run_to_end();
  EXPECT_TRUE(b.ram.seen_addresses.empty());
  EXPECT_EQ(b.regs.seen_addresses.size(), 1u);
  EXPECT_EQ(b.bus.stats().decode_errors, 3u);
  EXPECT_EQ(b.bus.stats().transactions, 1u);
}

TEST(SystemBus, DebugTransportRoutesWithoutTimeOrStatistics) {
  BusBench b;
  b.body = [&] {
    const std::uint32_t in = 0xA5A5'0001;
    EXPECT_EQ(b.cpu.debug(tlm::TLM_WRITE_COMMAND, kRamBase + 0x200, const_cast<std::uint32_t*>(&in), 4), 4u);
    std::uint32_t out = 0;
    EXPECT_EQ(b.dma.debug(tlm::TLM_READ_COMMAND, kRamBase + 0x200, &out, 4), 4u);
    EXPECT_EQ(out, in);
    EXPECT_EQ(b.cpu.debug(tlm::TLM_READ_COMMAND, 0x7000'0000, &out, 4), 0u);
    EXPECT_EQ(b.cpu.debug(tlm::TLM_READ_COMMAND, kRegsBase + kRegsBytes - 2, &out, 4), 0u);
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.ram.get<std::uint32_t>(0x200), 0xA5A5'0001u);
  EXPECT_TRUE(b.ram.seen_addresses.empty());
  EXPECT_EQ(b.bus.stats().transactions, 0u);
  EXPECT_EQ(b.bus.stats().decode_errors, 0u);
}

TEST(SystemBus, DmiRegionsAreGivenInSystemAddressesAndClippedToTheWindow) {
  BusBench b;
  b.ram.allow_dmi = true;
  b.body = [&] {
    tlm::tlm_generic_payload gp;
    std::uint32_t v = 0;
    testing::fill_payload(gp, tlm::TLM_READ_COMMAND, kRamBase + 0x40, &v, 4);
    tlm::tlm_dmi dmi;
    ASSERT_TRUE(b.cpu.socket->get_direct_mem_ptr(gp, dmi));
    EXPECT_EQ(gp.get_address(), kRamBase + 0x40);
    EXPECT_EQ(dmi.get_start_address(), kRamBase);
    EXPECT_EQ(dmi.get_end_address(), kRamBase + kRamBytes - 1);
    EXPECT_EQ(dmi.get_dmi_ptr(), b.ram.bytes.data());
    testing::fill_payload(gp, tlm::TLM_READ_COMMAND, kRegsBase, &v, 4);
    EXPECT_FALSE(b.cpu.socket->get_direct_mem_ptr(gp, dmi));  // the register block grants none
    testing::fill_payload(gp, tlm::TLM_READ_COMMAND, 0x7000'0000, &v, 4);
    EXPECT_FALSE(b.cpu.socket->get_direct_mem_ptr(gp, dmi));
  };
  npuvp::sim::run_to_end();
}

// What a waveform shows of the bus: per initiator, busy while a transaction
// is in flight (back-to-back ones as one run), the address and direction of
// its latest, at the times the initiator's delay annotates.
TEST(SystemBus, TracesEachInitiatorsBusyRunsAddressAndDirection) {
  BusBench b;
  trace::VcdRecorder rec;
  b.bus.attach_trace(rec);
  b.body = [&] {
    b.cpu.write32(kRegsBase + 4, 1);    // [0, 7 ns): the bus's 5 ns and the registers' 2 ns
    b.cpu.read32(kRamBase + 0x10);      // [7, 22 ns): the RAM's 10 ns
    b.dma.write32(kRamBase + 0x20, 2);  // [22, 37 ns)
  };
  npuvp::sim::run_to_end();
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  const auto body = vcd.substr(vcd.find("$enddefinitions $end\n"));
  auto bin = [](std::uint64_t v) {
    std::string s;
    for (; v != 0; v >>= 1) s.insert(s.begin(), static_cast<char>('0' + (v & 1)));
    return s;
  };
  // At one time, changes in the order they were recorded: a request's
  // address and direction as it completes, the busy runs as they end.
  EXPECT_EQ(body,
            "$enddefinitions $end\n#0\n$dumpvars\n0!\nb0 \"\n0#\n0$\nb0 %\n0&\n$end\n"
            "#0\nb" +
                bin(kRegsBase + 4) +
                " \"\n1#\n1!\n"
                "#7000\nb" +
                bin(kRamBase + 0x10) +
                " \"\n0#\n"
                "#22000\nb" +
                bin(kRamBase + 0x20) +
                " %\n1&\n0!\n1$\n"
                "#37000\n0$\n");
  for (const char* s : {"$scope module initiator0 $end\n$var wire 1 ! busy $end\n$var wire 40 \" address $end\n"
                        "$var wire 1 # write $end\n",
                        "$scope module initiator1 $end"})
    EXPECT_NE(vcd.find(s), std::string::npos) << s << vcd;
}

}  // namespace
}  // namespace npuvp::interconnect
