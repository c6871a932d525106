// DMA engine: strided transfers byte-exact against a host copy, descriptor
// chains, and error reporting for bad addresses and descriptors.
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "models/common/sim_control.h"
#include "models/dma/dma_engine.h"
#include "tests/support/memory_harness.h"

namespace npuvp::dma {
namespace {

using testing::kLocalBase;
using testing::kLocalBytes;
using testing::kMemBase;
using testing::kMemBytes;

// Writes a chain at `at` with `poke(address, data, length)` and runs it on
// channel `ch`; returns the IRQ bits it raised.
template <typename Poke>
std::uint32_t run_chain(testing::Initiator& driver, testing::IrqLine& irq, unsigned ch, std::vector<Descriptor> chain,
                        std::uint64_t at, Poke poke) {
  for (std::size_t i = 0; i < chain.size(); ++i) {
    chain[i].next = at + (i + 1) * sizeof(Descriptor);
    chain[i].flags = i + 1 == chain.size() ? kDescLast : 0;
  }
  poke(at, chain.data(), static_cast<unsigned>(chain.size() * sizeof(Descriptor)));
  const std::uint64_t regs = ch * kChannelStride;
  driver.write32(regs + reg::kDescLo, static_cast<std::uint32_t>(at));
  driver.write32(regs + reg::kDescHi, static_cast<std::uint32_t>(at >> 32));
  driver.write32(regs + reg::kCtrl, kCtrlStart);
  irq.wait_high();
  const std::uint32_t bits = driver.read32(regs + reg::kIrq);
  driver.write32(regs + reg::kIrq, bits);
  return bits;
}

// DMA registers sit at address 0 of the driver's socket.
struct Bench : testing::Bench {
  testing::MemoryHarness mem;
  DmaEngine dma;
  testing::Initiator driver{"driver"};
  sc_core::sc_vector<testing::IrqLine> irq{"irq", 2};

  explicit Bench(const DmaConfig& config = {}, const sram::SramBankConfig& memory_timing = {})
      : testing::Bench("bench"), mem(2, memory_timing), dma("dma", config) {
    dma.system_socket.bind(mem.bus->target_sockets[0]);
    dma.noc_sockets[0].bind(mem.bus->target_sockets[1]);
    driver.socket.bind(dma.target_socket);
    dma.irq[0](irq[0]);
    dma.irq[1](irq[1]);
  }

  // Writes a chain into local memory at `at` and runs it on channel `ch`.
  std::uint32_t run_chain(unsigned ch, std::vector<Descriptor> chain, std::uint64_t at) {
    return dma::run_chain(
        driver, irq[ch], ch, std::move(chain), at,
        [&](std::uint64_t a, const void* data, unsigned len) { testing::poke(*mem.local, a - kLocalBase, data, len); });
  }
};

// What a transfer must do, computed on host buffers.
void host_copy(const Descriptor& d, const std::vector<std::uint8_t>& src, std::uint64_t src_base,
               std::vector<std::uint8_t>& dst, std::uint64_t dst_base) {
  for (std::uint32_t p = 0; p < d.planes; ++p)
    for (std::uint32_t r = 0; r < d.rows; ++r)
      for (std::uint32_t b = 0; b < d.row_bytes; ++b)
        dst[d.dst - dst_base + std::int64_t{p} * d.dst_plane_pitch + std::int64_t{r} * d.dst_row_pitch + b] =
            src[d.src - src_base + std::int64_t{p} * d.src_plane_pitch + std::int64_t{r} * d.src_row_pitch + b];
}

TEST(Dma, RandomStridedTransfersAreByteExact) {
  Bench b;
  b.body = [&] {
    std::mt19937 rng(7);
    std::vector<std::uint8_t> dram(64 * 1024);
    for (auto& v : dram) v = static_cast<std::uint8_t>(rng());
    testing::poke(*b.mem.mem, 0, dram.data(), static_cast<unsigned>(dram.size()));
    std::vector<std::uint8_t> expected(64 * 1024, 0);
    testing::poke(*b.mem.local, 0x10000, expected.data(), static_cast<unsigned>(expected.size()));
    for (int trial = 0; trial < 20; ++trial) {
      std::uniform_int_distribution<std::uint32_t> dim(1, 9), bytes(1, 300);
      Descriptor d{};
      d.row_bytes = bytes(rng);
      d.rows = dim(rng);
      d.planes = dim(rng) % 3 + 1;
      d.src_row_pitch = static_cast<std::int32_t>(d.row_bytes + rng() % 64);
      d.src_plane_pitch = d.src_row_pitch * static_cast<std::int32_t>(d.rows + rng() % 3);
      d.dst_row_pitch = static_cast<std::int32_t>(d.row_bytes + rng() % 16);
      d.dst_plane_pitch = d.dst_row_pitch * static_cast<std::int32_t>(d.rows);
      d.src = kMemBase + rng() % 4096;
      d.dst = kLocalBase + 0x10000 + rng() % 4096;
      host_copy(d, dram, kMemBase, expected, kLocalBase + 0x10000);
      ASSERT_EQ(b.run_chain(trial % 2, {d}, kLocalBase + 0x100 * (trial % 2)), kIrqDone) << "trial " << trial;
    }
    std::vector<std::uint8_t> got(expected.size());
    testing::peek(*b.mem.local, 0x10000, got.data(), static_cast<unsigned>(got.size()));
    EXPECT_EQ(got, expected);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.dma.stats().errors, 0u);
}

TEST(Dma, ChainsRunInOrderAndCountBytes) {
  Bench b;
  b.body = [&] {
    std::vector<std::uint8_t> data(256);
    for (unsigned i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i);
    testing::poke(*b.mem.mem, 0, data.data(), 256);
    // Copy 0..255 to local, then local back to DRAM at +4096 (SRAM to DRAM).
    Descriptor in{kMemBase, kLocalBase + 0x2000, 256, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    Descriptor out{kLocalBase + 0x2000, kMemBase + 4096, 256, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(b.run_chain(0, {in, out}, kLocalBase + 0x400), kIrqDone);
    std::vector<std::uint8_t> back(256);
    testing::peek(*b.mem.mem, 4096, back.data(), 256);
    EXPECT_EQ(back, data);
    EXPECT_EQ(b.driver.read32(reg::kBytesDone), 512u);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.dma.stats().descriptors, 2u);
  EXPECT_EQ(b.dma.stats().system_read_bytes, 256u);
  EXPECT_EQ(b.dma.stats().system_write_bytes, 256u);
}

TEST(Dma, UnmappedSourceRaisesErrorWithTheAddress) {
  Bench b;
  b.body = [&] {
    Descriptor d{0x7000'0000, kLocalBase + 0x2000, 64, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(b.run_chain(1, {d}, kLocalBase + 0x400), kIrqError);
    const std::uint64_t regs = kChannelStride;
    EXPECT_EQ(b.driver.read32(regs + reg::kStatus) >> 8, static_cast<std::uint32_t>(DmaError::kSourceAccess));
    EXPECT_EQ(b.driver.read32(regs + reg::kErrorAddrLo), 0x7000'0000u);
    EXPECT_FALSE(b.irq[1].read());  // cleared by the W1C write
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.dma.stats().errors, 1u);
}

TEST(Dma, MisalignedOrEmptyDescriptorIsInvalid) {
  Bench b;
  b.body = [&] {
    b.driver.write32(reg::kDescLo, static_cast<std::uint32_t>(kLocalBase + 0x404));  // not 64-byte aligned
    b.driver.write32(reg::kDescHi, 0);
    b.driver.write32(reg::kCtrl, kCtrlStart);
    b.irq[0].wait_high();  // (it may be up already: an error is raised at once)
    EXPECT_EQ(b.driver.read32(reg::kIrq), kIrqError);
    EXPECT_EQ(b.driver.read32(reg::kStatus) >> 8, static_cast<std::uint32_t>(DmaError::kDescriptorInvalid));
    b.driver.write32(reg::kIrq, kIrqError);
    Descriptor empty{kMemBase, kLocalBase, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    EXPECT_EQ(b.run_chain(0, {empty}, kLocalBase + 0x800), kIrqError);
    EXPECT_EQ(b.driver.read32(reg::kStatus) >> 8, static_cast<std::uint32_t>(DmaError::kDescriptorInvalid));
  };
  npuvp::sim::run_to_end();
}

TEST(Dma, ReadsOverlapWritesSoATransferCostsAboutTheSlowerStream) {
  // Memories answer in 1 cycle per 32-byte word: a 16 KiB copy moves 512 words
  // each way. Serialized it would take ~1024 cycles; pipelined about 512.
  Bench b;
  sc_core::sc_time took;
  b.body = [&] {
    Descriptor d{kMemBase, kLocalBase + 0x8000, 16384, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    const sc_core::sc_time start = sc_core::sc_time_stamp();
    EXPECT_EQ(b.run_chain(0, {d}, kLocalBase), kIrqDone);
    took = sc_core::sc_time_stamp() - start;
  };
  npuvp::sim::run_to_end();
  const double cycles = took / sc_core::sc_time(1.25, sc_core::SC_NS);
  std::printf("16 KiB copy took %.0f cycles\n", cycles);
  EXPECT_GT(cycles, 512);
  EXPECT_LT(cycles, 700);
}

// Memories far away (200 cycles to the first word, like DRAM behind an
// interconnect) with 16 ports of 32 bytes per cycle: a copy streams at the
// DMA's 64 B/cycle port only with enough bursts in flight to cover the
// latency (Little's law).
sram::SramBankConfig far_memory() {
  sram::SramBankConfig m;
  m.ports = 16;
  m.read_latency_cycles = 200;
  return m;
}

double copy_cycles(const DmaConfig& config, std::vector<Descriptor> chain) {
  Bench b(config, far_memory());
  sc_core::sc_time took;
  b.body = [&] {
    const sc_core::sc_time start = sc_core::sc_time_stamp();
    EXPECT_EQ(b.run_chain(0, std::move(chain), kLocalBase), kIrqDone);
    took = sc_core::sc_time_stamp() - start;
  };
  npuvp::sim::run_to_end();
  return took / sc_core::sc_time(1.25, sc_core::SC_NS);
}

// 64 KiB in 1 KiB bursts: with 2 in flight each pair waits for the ~200-cycle
// latency (7.5 B/cycle); with 16 the stream runs at 43 B/cycle, 1024 cycles
// at the 64 B/cycle port plus the latency of the first and last bursts. One
// elaboration per process, hence one test per window.
const Descriptor kLongRead{kMemBase, kLocalBase + 0x10000, 65536, 1, 1, 0, 0, 0, 0, 0, 0, 0};

TEST(Dma, TwoBurstsInFlightPayTheLatencyEveryTwoBursts) {
  DmaConfig c;
  c.max_outstanding = 2;
  EXPECT_EQ(copy_cycles(c, {kLongRead}), 8710);
}

TEST(Dma, SixteenBurstsInFlightCoverTheLatency) {
  DmaConfig c;
  c.max_outstanding = 16;
  EXPECT_EQ(copy_cycles(c, {kLongRead}), 1514);
}

TEST(Dma, NextDescriptorIsFetchedWhileThePreviousDataIsInFlight) {
  // Eight 1 KiB descriptors: each descriptor fetch waits for the reads of the
  // previous one to issue, not to return, so each descriptor costs the latency
  // of its own fetch (~250 cycles, from the same far memory) but not that of
  // its data as well (~450 cycles each when fetches waited for the data).
  std::vector<Descriptor> chain;
  for (std::uint64_t i = 0; i < 8; ++i)
    chain.push_back({kMemBase + i * 1024, kLocalBase + 0x10000 + i * 1024, 1024, 1, 1, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(copy_cycles(DmaConfig{}, chain), 2061);
}

// 64 KiB from a source 448 bytes past a burst boundary to an aligned
// destination: the reads stay whole 1 KiB bursts (65 of them, the first and
// last partial) and each one's data is written in two pieces, so the window
// of 16 covers the latency as for the aligned stream above instead of
// holding 129 bursts of about half a KiB. The bytes arrive where they belong.
TEST(Dma, MisalignedSourceStillReadsWholeBursts) {
  DmaConfig c;
  c.max_outstanding = 16;
  Bench b(c, far_memory());
  double cycles = 0;
  b.body = [&] {
    std::vector<std::uint8_t> data(65536);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 3);
    testing::poke(*b.mem.mem, 448, data.data(), static_cast<unsigned>(data.size()));
    const sc_core::sc_time start = sc_core::sc_time_stamp();
    EXPECT_EQ(b.run_chain(0, {{kMemBase + 448, kLocalBase + 0x10000, 65536, 1, 1, 0, 0, 0, 0, 0, 0, 0}}, kLocalBase),
              kIrqDone);
    cycles = (sc_core::sc_time_stamp() - start) / sc_core::sc_time(1.25, sc_core::SC_NS);
    std::vector<std::uint8_t> got(data.size());
    testing::peek(*b.mem.local, 0x10000, got.data(), static_cast<unsigned>(got.size()));
    EXPECT_EQ(got, data);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(cycles, 1484);
  EXPECT_EQ(b.dma.stats().system_read_bytes, 65536u);
}

// Memories that record each transaction's annotated delay: the system side
// 250 ns from the engine (DRAM behind an interconnect), the local side 100 ns
// (SRAM across the NoC). No port limits, so the timing is the engine's alone.
struct RecordingBench : testing::Bench {
  testing::TlmMemory system{"system", kMemBytes, sc_core::sc_time(250, sc_core::SC_NS), kMemBase};
  testing::TlmMemory local{"local", kLocalBytes, sc_core::sc_time(100, sc_core::SC_NS), kLocalBase};
  DmaEngine dma{"dma", DmaConfig{}};
  testing::Initiator driver{"driver"};
  sc_core::sc_vector<testing::IrqLine> irq{"irq", 2};

  RecordingBench() : testing::Bench("bench") {
    dma.system_socket.bind(system.target_socket);
    dma.noc_sockets[0].bind(local.target_socket);
    driver.socket.bind(dma.target_socket);
    dma.irq[0](irq[0]);
    dma.irq[1](irq[1]);
  }

  std::uint32_t run_chain(std::vector<Descriptor> chain, std::uint64_t at) {
    return dma::run_chain(driver, irq[0], 0, std::move(chain), at,
                          [&](std::uint64_t a, const void* data, unsigned len) { local.write(a, data, len); });
  }
};

std::vector<std::uint8_t> pattern(std::size_t bytes) {
  std::vector<std::uint8_t> data(bytes);
  // No two 256-byte blocks alike: a byte copied from the wrong place shows.
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 13 + (i >> 8) * 7 + 5);
  return data;
}

// A burst's write is due when its read's data arrives, 250 ns after the
// read, and the ninth read when the first burst's write has completed,
// 100 ns after the write. Before 2026-12-06 every write was issued with its
// read, reaching the local memory 250 ns or more ahead of simulated time and
// booking it before transactions due earlier, and a read waiting for a
// buffer entry went out up to 100 ns early. Each is now issued within the
// engine's 10 ns quantum of its time. The copy takes as long as it did (764
// cycles for 16 KiB in 1 KiB bursts, 8 in flight): the times are the same,
// only the order the targets see them in changed.
TEST(Dma, WritesLeaveWithinAQuantumOfTheirTime) {
  RecordingBench b;
  const std::vector<std::uint8_t> data = pattern(16384);
  double cycles = 0;
  b.body = [&] {
    b.system.write(kMemBase, data.data(), data.size());
    const sc_core::sc_time start = sc_core::sc_time_stamp();
    EXPECT_EQ(b.run_chain({{kMemBase, kLocalBase + 0x10000, 16384, 1, 1, 0, 0, 0, 0, 0, 0, 0}}, kLocalBase), kIrqDone);
    cycles = (sc_core::sc_time_stamp() - start) / sc_core::sc_time(1.25, sc_core::SC_NS);
  };
  npuvp::sim::run_to_end();
  std::vector<std::uint8_t> got(data.size());
  b.local.read(kLocalBase + 0x10000, got.data(), got.size());
  EXPECT_EQ(got, data);
  unsigned writes = 0;
  for (std::size_t i = 0; i < b.local.seen_addresses.size(); ++i) {
    if (b.local.seen_addresses[i] < kLocalBase + 0x10000) continue;  // the descriptor's fetch
    ++writes;
    EXPECT_LE(b.local.seen_delays[i], DmaConfig{}.quantum) << "write " << writes;
  }
  EXPECT_EQ(writes, 16u);
  for (const sc_core::sc_time& d : b.system.seen_delays) EXPECT_LE(d, DmaConfig{}.quantum);
  EXPECT_EQ(cycles, 764);
}

// Two descriptors of one chain: the first copies 4 KiB from the system side
// into local memory, the second copies those local bytes back out. The
// second's reads come due while the first's data is still on its way (250 ns)
// and waiting in the burst buffer; each goes after the write of the bytes it
// reads, so the copy of the copy is the original.
TEST(Dma, AReadOfBytesStillInTheBurstBufferFollowsTheirWrite) {
  RecordingBench b;
  const std::vector<std::uint8_t> data = pattern(4096);
  b.body = [&] {
    b.system.write(kMemBase, data.data(), data.size());
    EXPECT_EQ(b.run_chain({{kMemBase, kLocalBase + 0x10000, 4096, 1, 1, 0, 0, 0, 0, 0, 0, 0},
                           {kLocalBase + 0x10000, kMemBase + 0x8000, 4096, 1, 1, 0, 0, 0, 0, 0, 0, 0}},
                          kLocalBase),
              kIrqDone);
  };
  npuvp::sim::run_to_end();
  std::vector<std::uint8_t> got(data.size());
  b.system.read(kMemBase + 0x8000, got.data(), got.size());
  EXPECT_EQ(got, data);
}

// Both channels at once, each copying 8 KiB in a chain of two descriptors
// into a local memory that waits out its latency inside b_transport (as a
// target that synchronizes may): while one channel waits in a write, the
// other runs, with bursts of the first still waiting in its burst buffer.
// Every byte lands where it belongs.
TEST(Dma, ChannelsCopyExactlyThroughATargetThatWaits) {
  RecordingBench b;
  b.local.synchronizes = true;
  const std::vector<std::uint8_t> data = pattern(16384);
  b.body = [&] {
    b.system.write(kMemBase, data.data(), data.size());
    auto run = [&](unsigned ch, std::uint64_t chain_at) {
      const std::uint64_t from = kMemBase + ch * 8192, to = kLocalBase + 0x10000 + ch * 8192;
      EXPECT_EQ(
          dma::run_chain(
              b.driver, b.irq[ch], ch,
              {{from, to, 4096, 1, 1, 0, 0, 0, 0, 0, 0, 0}, {from + 4096, to + 4096, 4096, 1, 1, 0, 0, 0, 0, 0, 0, 0}},
              chain_at, [&](std::uint64_t a, const void* d, unsigned len) { b.local.write(a, d, len); }),
          kIrqDone);
    };
    bool second_done = false;
    sc_core::sc_spawn([&] {
      run(1, kLocalBase + 0x400);
      second_done = true;
    });
    run(0, kLocalBase);
    for (int i = 0; i < 1000 && !second_done; ++i) sc_core::wait(sc_core::sc_time(10, sc_core::SC_NS));
    EXPECT_TRUE(second_done);
  };
  npuvp::sim::run_to_end();
  std::vector<std::uint8_t> got(data.size());
  b.local.read(kLocalBase + 0x10000, got.data(), got.size());
  EXPECT_EQ(got, data);
  EXPECT_EQ(b.dma.stats().system_read_bytes, 16384u);
  EXPECT_EQ(b.dma.stats().local_write_bytes, 16384u);
}

}  // namespace
}  // namespace npuvp::dma
