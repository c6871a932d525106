// The NPU top on a bench: a host initiator and a DRAM behind a system bus, the
// NPU's IRQ line, and host software talking to it through a HostHal over the
// bench's initiator (no CPU model, no LPDDR4). Register access, doorbell, IRQ.
#include <algorithm>
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "contract/npu_regs.h"
#include "models/common/sim_control.h"
#include "models/interconnect/system_bus.h"
#include "models/npu/npu.h"
#include "sw/driver/npu_driver.h"
#include "sw/hal/host_hal.h"
#include "sw/runtime/lowering/conv_workload.h"
#include "tests/support/bench.h"

namespace npuvp::npu {
namespace {

using sc_core::sc_time;

constexpr std::uint64_t kRegs = 0x4000'0000;
constexpr std::uint64_t kDram = 0x8000'0000;
constexpr std::uint64_t kDramBytes = 4 << 20;
const sc_time kCycle = testing::cycles(800, 1);

// Four clusters and banks on a 2x2 mesh.
NpuConfig small_npu() {
  NpuConfig c;
  c.clusters = 4;
  c.sram_banks = 4;
  c.noc.width = 2;
  c.noc.height = 2;
  return c;
}

// Host software's view of the bench: MMIO synchronizes, bulk copies run
// ahead in the quantum, the interrupt is the NPU's line.
class BenchHal : public sw::HostHal {
 public:
  BenchHal(testing::Initiator& port, testing::IrqLine& irq) : port_(port), irq_(irq) {}
  std::uint32_t mmio_read32(std::uint64_t addr) override { return port_.read32(addr); }
  void mmio_write32(std::uint64_t addr, std::uint32_t value) override { port_.write32(addr, value); }
  void memory_read(std::uint64_t addr, void* dst, std::size_t bytes) override {
    copy(tlm::TLM_READ_COMMAND, addr, dst, bytes);
  }
  void memory_write(std::uint64_t addr, const void* src, std::size_t bytes) override {
    copy(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(src), bytes);
  }
  bool wait_for_interrupt(std::uint64_t timeout_ns) override {
    port_.sync();
    return irq_.wait_high(sc_time(static_cast<double>(timeout_ns), sc_core::SC_NS));
  }
  std::uint64_t now_ns() const override { return static_cast<std::uint64_t>(port_.now().to_seconds() * 1e9); }

 private:
  void copy(tlm::tlm_command cmd, std::uint64_t addr, void* data, std::size_t bytes) {
    auto* p = static_cast<std::uint8_t*>(data);
    for (std::size_t done = 0; done < bytes;) {
      const auto n = static_cast<unsigned>(std::min<std::size_t>(4096, bytes - done));
      if (port_.access(cmd, addr + done, p + done, n) != tlm::TLM_OK_RESPONSE)
        throw sw::HostBusError("bench memory access failed", addr + done);
      done += n;
    }
  }
  testing::Initiator& port_;
  testing::IrqLine& irq_;
};

struct NpuBench : testing::Bench {
  testing::Initiator host{"host"};
  testing::TlmMemory dram{"dram", kDramBytes, sc_core::SC_ZERO_TIME, 0};
  interconnect::SystemBus bus{"bus", bus_config()};
  testing::IrqLine irq{"irq"};
  sc_core::sc_signal<std::int32_t> layer{"layer", -1};
  Npu npu{"npu", small_npu()};
  BenchHal hal{host, irq};

  NpuBench() : Bench("bench") {
    host.socket.bind(bus.target_sockets[0]);
    npu.dma_system_socket.bind(bus.target_sockets[1]);
    npu.control_system_socket.bind(bus.target_sockets[2]);
    bus.initiator_sockets[0].bind(dram.target_socket);
    bus.initiator_sockets[1].bind(npu.target_socket);
    npu.host_irq(irq);
    npu.current_layer(layer);
  }
  static interconnect::SystemBusConfig bus_config() {
    interconnect::SystemBusConfig c;
    c.initiators = 3;
    c.latency_cycles = 0;
    c.regions = {{"dram", kDram, kDramBytes}, {"npu_regs", kRegs, 0x1000}};
    return c;
  }
  sw::DriverConfig driver_config() const {
    sw::DriverConfig d;
    d.npu_regs_base = kRegs;
    d.dram_base = kDram;
    d.dram_bytes = kDramBytes;
    d.timeout_ns = 10'000'000;
    return d;
  }
};

// Fewer banks than mesh nodes take one node in each row and column (4 on a
// 4x4 mesh: the anti-diagonal), so XY routes reach them over every row and
// column link; row_major puts them on the first nodes, along the top edge.
TEST(Npu, BanksSpreadOverTheMeshRowsAndColumns) {
  NpuConfig c;
  c.noc.width = 4;
  c.noc.height = 4;
  const auto nodes = [&] {
    std::vector<std::pair<unsigned, unsigned>> at;
    for (const noc::TargetAttachment& t : Npu::attach(c).targets)
      if (t.name.rfind("sram", 0) == 0) at.emplace_back(t.x, t.y);
    return at;
  };
  using Nodes = std::vector<std::pair<unsigned, unsigned>>;
  c.sram_banks = 4;
  EXPECT_EQ(nodes(), (Nodes{{0, 0}, {3, 1}, {2, 2}, {1, 3}}));
  c.sram_banks = 8;
  EXPECT_EQ(nodes(), (Nodes{{0, 0}, {2, 0}, {1, 1}, {3, 1}, {2, 2}, {0, 2}, {3, 3}, {1, 3}}));
  c.sram_banks = 2;
  EXPECT_EQ(nodes(), (Nodes{{0, 0}, {2, 2}}));
  c.sram_banks = 16;  // one per node, as the clusters
  Nodes every;
  for (unsigned k = 0; k < 16; ++k) every.emplace_back(k % 4, k / 4);
  EXPECT_EQ(nodes(), every);
  c.sram_banks = 4;
  c.sram_placement = NpuConfig::BankPlacement::kRowMajor;
  EXPECT_EQ(nodes(), (Nodes{{0, 0}, {1, 0}, {2, 0}, {3, 0}}));
}

TEST(Npu, RegistersDescribeTheConfigurationAndCostOneNpuCycle) {
  NpuBench b;
  b.body = [&] {
    EXPECT_EQ(b.host.read32(kRegs + reg::kId), kNpuId);
    EXPECT_EQ(b.host.last_delay(), kCycle);  // the bus adds nothing here
    EXPECT_EQ(b.host.read32(kRegs + reg::kCapClusters), 4u);
    EXPECT_EQ(b.host.read32(kRegs + reg::kCapArray), 8u | (8u << 16));
    EXPECT_EQ(b.host.read32(kRegs + reg::kCapSramKb), 4u * 32u);
    b.host.write32(kRegs + reg::kRingSize, 8);
    EXPECT_EQ(b.host.read32(kRegs + reg::kRingSize), 8u);
    std::uint32_t v = 0;
    EXPECT_EQ(b.host.debug(tlm::TLM_READ_COMMAND, kRegs + reg::kRingSize, &v, 4), 4u);
    EXPECT_EQ(v, 8u);
    EXPECT_FALSE(b.irq.read());
  };
  npuvp::sim::run_to_end();
}

TEST(Npu, DoorbellRunsAConvBitExactAndTheIrqSignalsCompletion) {
  NpuBench b;
  runtime::ConvLayerSpec spec;
  spec.name = "small";
  spec.in_c = 8, spec.in_h = 9, spec.in_w = 7, spec.out_c = 16;
  const runtime::PreparedConv layer = runtime::prepare_conv(spec, 5);
  std::vector<std::int32_t> decided;
  b.npu.command_processor().on_decision([&](const firmware::LayerDecision& d) { decided.push_back(d.layer_id); });
  b.body = [&] {
    sw::NpuDriver driver(b.hal, b.driver_config());
    const auto caps = driver.probe();
    EXPECT_EQ(caps.clusters, 4u);
    const runtime::ConvOnNpu run = runtime::run_conv_on_npu(driver, layer, 3);
    EXPECT_TRUE(run.verified()) << run.mismatches << " mismatches";
    EXPECT_FALSE(b.irq.read());  // the driver acknowledged it
    const auto counters = driver.counters();
    EXPECT_EQ(counters.command_buffers_done, 1u);
    EXPECT_EQ(counters.layers_done, 1u);
    EXPECT_GT(counters.busy_cycles, 0u);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.layer.read(), -1);  // idle again
  EXPECT_EQ(std::count(decided.begin(), decided.end(), 3), 1);
  EXPECT_EQ(b.npu.command_processor().stats().errors, 0u);
  std::uint64_t jobs = 0;
  for (const auto& c : b.npu.clusters()) jobs += c.stats().jobs;
  EXPECT_GT(jobs, 0u);
  EXPECT_GT(b.npu.dma().stats().system_read_bytes, 0u);
}

}  // namespace
}  // namespace npuvp::npu
