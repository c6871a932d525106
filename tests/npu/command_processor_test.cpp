// CommandProcessor on a bench: a host initiator on its registers, a DRAM for
// the ring and command buffers, an NPU-local memory on its NoC port, its
// event lines and host IRQ. The register block, the doorbell, completion and
// fault reporting, with the firmware running inside.
#include <cstdint>

#include <gtest/gtest.h>

#include "contract/command_format.h"
#include "contract/npu_regs.h"
#include "models/common/sim_control.h"
#include "models/npu/command_processor.h"
#include "tests/support/bench.h"

namespace npuvp::npu {
namespace {

using sc_core::sc_time;

constexpr std::uint64_t kDram = 0x8000'0000;
constexpr std::uint64_t kRing = kDram + 0x1000;
constexpr std::uint64_t kCommands = kDram + 0x2000;
constexpr std::uint64_t kLocal = 0x1000'0000;
constexpr std::uint64_t kDramLatencyCycles = 20;
const sc_time kCycle = testing::cycles(800, 1);

CommandProcessorConfig config() {
  CommandProcessorConfig c;
  c.layout.clusters = 2;
  c.layout.array_rows = 8;
  c.layout.array_cols = 16;
  c.layout.sram_base = kLocal;
  c.layout.sram_bytes = 256 * 1024;
  c.layout.sram_banks = 2;
  c.layout.dma_channels = 2;
  c.layout.cluster_irq_base = 2;
  c.event_lines = 4;
  return c;
}

struct CommandProcessorBench : testing::Bench {
  testing::Initiator host{"host"};
  testing::TlmMemory dram{"dram", 64 * 1024, kCycle* static_cast<double>(kDramLatencyCycles), kDram};
  testing::TlmMemory local{"local", 0x1000, sc_core::SC_ZERO_TIME, kLocal};
  sc_core::sc_vector<testing::IrqLine> events{"event", 4};
  testing::IrqLine irq{"irq"};
  sc_core::sc_signal<std::int32_t> layer{"layer", -1};
  CommandProcessor cp{"cp", config()};

  CommandProcessorBench() : Bench("bench") {
    host.socket.bind(cp.target_socket);
    cp.system_socket.bind(dram.target_socket);
    cp.noc_socket.bind(local.target_socket);
    for (unsigned i = 0; i < events.size(); ++i) cp.event_lines[i](events[i]);
    cp.host_irq(irq);
    cp.current_layer(layer);
  }

  // A 4-entry ring at kRing, the IRQs enabled, the NPU enabled.
  void set_up_ring(bool enable = true) {
    host.write32(reg::kRingBaseLo, static_cast<std::uint32_t>(kRing));
    host.write32(reg::kRingBaseHi, static_cast<std::uint32_t>(kRing >> 32));
    host.write32(reg::kRingSize, 4);
    host.write32(reg::kIrqEnable, kIrqComplete | kIrqError);
    if (enable) host.write32(reg::kCtrl, kCtrlEnable);
  }
  void put_entry(std::uint32_t index, std::uint64_t buffer, std::uint32_t layers) {
    const firmware::RingEntry e{buffer, layers, 0};
    dram.write(kRing + index * sizeof e, &e, sizeof e);
  }
  // Acknowledges all raised IRQs; returns them.
  std::uint32_t acknowledge() {
    const std::uint32_t bits = host.read32(reg::kIrqStatus);
    host.write32(reg::kIrqStatus, bits);
    EXPECT_FALSE(irq.read());
    return bits;
  }
};

TEST(CommandProcessor, RegistersDescribeTheLayoutAndEachAccessTakesOneCycle) {
  CommandProcessorBench b;
  b.body = [&] {
    EXPECT_EQ(b.host.read32(reg::kId), kNpuId);
    EXPECT_EQ(b.host.last_delay(), kCycle);
    EXPECT_EQ(b.host.read32(reg::kVersion), kNpuVersion);
    EXPECT_EQ(b.host.read32(reg::kCapClusters), 2u);
    EXPECT_EQ(b.host.read32(reg::kCapArray), 8u | (16u << 16));
    EXPECT_EQ(b.host.read32(reg::kCapSramKb), 256u);
    EXPECT_EQ(b.host.read32(reg::kStatus), 0u);
    EXPECT_EQ(sc_core::sc_time_stamp(), kCycle * 6.0);
    // Debug reads take no time and see the same values.
    std::uint32_t id = 0;
    EXPECT_EQ(b.host.debug(tlm::TLM_READ_COMMAND, reg::kId, &id, 4), 4u);
    EXPECT_EQ(id, kNpuId);
    EXPECT_EQ(sc_core::sc_time_stamp(), kCycle * 6.0);
    // Outside the block or not a whole aligned word: an error, not silence.
    std::uint32_t v = 0;
    EXPECT_NE(b.host.access(tlm::TLM_READ_COMMAND, 0x400, &v, 4), tlm::TLM_OK_RESPONSE);
    EXPECT_NE(b.host.access(tlm::TLM_READ_COMMAND, reg::kId + 2, &v, 4), tlm::TLM_OK_RESPONSE);
    // CYCLES counts clock periods since reset; reading LO latches HI.
    sc_core::wait(sc_time(1, sc_core::SC_MS) - sc_core::sc_time_stamp());
    EXPECT_EQ(b.host.read32(reg::kCyclesLo), 800'000u);
    EXPECT_EQ(b.host.read32(reg::kCyclesHi), 0u);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cp.stats().command_buffers, 0u);
}

TEST(CommandProcessor, DoorbellRunsTheRingEntryAndRaisesCompleteAfterTheRingRead) {
  CommandProcessorBench b;
  b.put_entry(0, kCommands, 0);  // an empty command buffer: the ring read is all the work
  b.put_entry(1, kCommands, 0);
  b.body = [&] {
    b.set_up_ring();
    const sc_time rang = sc_core::sc_time_stamp();
    b.host.write32(reg::kRingTail, 1);
    ASSERT_TRUE(b.irq.wait_high(sc_time(1, sc_core::SC_MS)));
    EXPECT_EQ(sc_core::sc_time_stamp() - rang, kCycle * static_cast<double>(kDramLatencyCycles));
    EXPECT_EQ(b.host.read32(reg::kRingHead), 1u);
    EXPECT_EQ(b.host.read32(reg::kStatus), 0u);  // not busy any more, no error
    EXPECT_EQ(b.host.read32(reg::kCmdBufsDone), 1u);
    EXPECT_EQ(b.host.read32(reg::kBusyCyclesLo), kDramLatencyCycles);
    EXPECT_EQ(b.acknowledge(), kIrqComplete);
    b.host.write32(reg::kRingTail, 2);
    ASSERT_TRUE(b.irq.wait_high(sc_time(1, sc_core::SC_MS)));
    EXPECT_EQ(b.host.read32(reg::kRingHead), 2u);
    EXPECT_EQ(b.host.read32(reg::kCmdBufsDone), 2u);
    EXPECT_EQ(b.host.read32(reg::kBusyCyclesLo), 2 * kDramLatencyCycles);
    EXPECT_EQ(b.acknowledge(), kIrqComplete);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.dram.seen_addresses, (std::vector<std::uint64_t>{kRing, kRing + 16}));
  EXPECT_TRUE(b.local.seen_addresses.empty());
  EXPECT_EQ(b.cp.stats().command_buffers, 2u);
  EXPECT_EQ(b.cp.stats().errors, 0u);
}

TEST(CommandProcessor, NothingRunsWhileDisabledAndIrqEnableMasksTheLine) {
  CommandProcessorBench b;
  b.put_entry(0, kCommands, 0);
  b.body = [&] {
    b.set_up_ring(false);
    b.host.write32(reg::kIrqEnable, 0);
    b.host.write32(reg::kRingTail, 1);
    sc_core::wait(sc_time(10, sc_core::SC_US));
    EXPECT_EQ(b.host.read32(reg::kRingHead), 0u);
    EXPECT_EQ(b.host.read32(reg::kIrqStatus), 0u);
    b.host.write32(reg::kCtrl, kCtrlEnable);  // enabling rings as well
    sc_core::wait(sc_time(10, sc_core::SC_US));
    EXPECT_EQ(b.host.read32(reg::kRingHead), 1u);
    EXPECT_EQ(b.host.read32(reg::kIrqStatus), kIrqComplete);
    EXPECT_FALSE(b.irq.read());  // masked
    b.host.write32(reg::kIrqEnable, kIrqComplete);
    EXPECT_TRUE(b.irq.read());
    b.host.write32(reg::kIrqEnable, kIrqError);
    EXPECT_FALSE(b.irq.read());
    EXPECT_EQ(b.acknowledge(), kIrqComplete);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cp.stats().command_buffers, 1u);
}

TEST(CommandProcessor, FaultsRaiseErrorWithCodeAndInfoAndTheRingMovesOn) {
  CommandProcessorBench b;
  b.put_entry(0, 0x7000'0000, 1);  // the command buffer is nowhere
  firmware::LayerCommand bad{};
  bad.opcode = static_cast<std::uint32_t>(firmware::Opcode::kConv2d);
  bad.groups = 0;  // a convolution needs at least one group
  b.dram.write(kCommands, &bad, sizeof bad);
  b.put_entry(1, kCommands, 1);
  b.body = [&] {
    b.set_up_ring();
    auto expect_error = [&](NpuError code, std::uint32_t info) {
      ASSERT_TRUE(b.irq.wait_high(sc_time(1, sc_core::SC_MS)));
      EXPECT_EQ(b.host.read32(reg::kErrorCode), static_cast<std::uint32_t>(code));
      EXPECT_EQ(b.host.read32(reg::kErrorInfo), info);
      EXPECT_EQ(b.host.read32(reg::kStatus), kStatusError);
      EXPECT_EQ(b.acknowledge() & kIrqError, kIrqError);
      EXPECT_EQ(b.host.read32(reg::kStatus), 0u);  // cleared with the ERROR irq
    };
    b.host.write32(reg::kRingTail, 7);  // outside the 4-entry ring: dropped
    expect_error(NpuError::kBadRingTail, 7);
    EXPECT_EQ(b.host.read32(reg::kRingTail), 0u);
    EXPECT_EQ(b.host.read32(reg::kRingHead), 0u);
    b.host.write32(reg::kRingTail, 1);
    expect_error(NpuError::kRingAccess, 0x7000'0000);
    EXPECT_EQ(b.host.read32(reg::kRingHead), 1u);
    b.host.write32(reg::kRingTail, 2);
    expect_error(NpuError::kBadCommand, 0);  // layer 0 of the buffer
    EXPECT_EQ(b.host.read32(reg::kRingHead), 2u);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cp.stats().errors, 3u);
  EXPECT_TRUE(b.local.seen_addresses.empty());
}

// A driver that writes RING_TAIL behind its previous value, so far ahead that
// the queue passes the head, or outside the ring (a ring of 0 entries holds
// none): each is an error interrupt naming the tail, the queue stays as it
// was, and nothing runs that the host did not queue.
TEST(CommandProcessor, ATailThatDoesNotExtendTheQueueIsDroppedWithAnError) {
  CommandProcessorBench b;
  firmware::LayerCommand nothing{};
  b.dram.write(kCommands, &nothing, sizeof nothing);
  for (std::uint32_t i = 0; i < 4; ++i) b.put_entry(i, kCommands, 0);  // no layers: done at once
  b.body = [&] {
    b.set_up_ring(false);  // disabled: queued entries wait
    auto ring_tail = [&](std::uint32_t tail) {
      b.host.write32(reg::kRingTail, tail);
      sc_core::wait(sc_time(100, sc_core::SC_NS));
    };
    auto expect_bad_tail = [&](std::uint32_t tail, std::uint32_t kept) {
      EXPECT_TRUE(b.irq.read());
      EXPECT_EQ(b.host.read32(reg::kErrorCode), static_cast<std::uint32_t>(NpuError::kBadRingTail));
      EXPECT_EQ(b.host.read32(reg::kErrorInfo), tail);
      EXPECT_EQ(b.host.read32(reg::kErrorLayer), 0xFFFFFFFFu);  // no layer ran
      EXPECT_EQ(b.acknowledge(), kIrqError);
      EXPECT_EQ(b.host.read32(reg::kRingTail), kept);
    };
    ring_tail(2);  // entries 0 and 1 queued
    EXPECT_FALSE(b.irq.read());
    ring_tail(1);  // behind the tail before
    expect_bad_tail(1, 2);
    ring_tail(0);  // four entries on from 0: past the head (a ring holds 3)
    expect_bad_tail(0, 2);
    ring_tail(3);  // entries 0, 1 and 2
    EXPECT_FALSE(b.irq.read());
    b.host.write32(reg::kCtrl, kCtrlEnable);
    sc_core::wait(sc_time(10, sc_core::SC_US));
    EXPECT_EQ(b.acknowledge(), kIrqComplete);
    EXPECT_EQ(b.host.read32(reg::kRingHead), 3u);
    EXPECT_EQ(b.host.read32(reg::kCmdBufsDone), 3u);
    b.host.write32(reg::kRingSize, 0);
    ring_tail(0);  // no ring at all
    expect_bad_tail(0, 3);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cp.stats().errors, 3u);
  EXPECT_EQ(b.cp.stats().command_buffers, 3u);
}

}  // namespace
}  // namespace npuvp::npu
