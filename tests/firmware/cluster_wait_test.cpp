// The firmware's wait for a tile's cluster jobs against a scripted HAL: the
// job table's status words and the clusters' IRQ lines, a job ending only
// when the firmware waits with no line of its mask high.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <gtest/gtest.h>

#include "firmware/layer_runner.h"

namespace npuvp::firmware {
namespace {

constexpr std::uint64_t kTable = 0x1000'0000;
constexpr std::uint64_t kClusterRegs = 0x2000'0000;

class ScriptedHal : public Hal {
 public:
  explicit ScriptedHal(unsigned clusters) : status(clusters, 0), irq(clusters, 0) {
    layout_.cluster_regs_base = kClusterRegs;
    layout_.cluster_irq_base = 16;
  }

  std::vector<std::uint32_t> status, irq;
  unsigned table_reads = 0, waits = 0;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> writes;  // (address, value), multicasts per address

  const NpuLayout& layout() const override { return layout_; }
  std::uint32_t read32(std::uint64_t addr) override { return irq.at(cluster_of(addr)); }
  void write32(std::uint64_t addr, std::uint32_t value) override {
    writes.emplace_back(addr, value);
    irq.at(cluster_of(addr)) &= ~value;  // W1C
  }
  void read(std::uint64_t addr, void* dst, std::size_t bytes) override {
    if (addr != kTable || bytes > status.size() * 4) throw std::logic_error("read outside the job table");
    ++table_reads;
    std::memcpy(dst, status.data(), bytes);
  }
  void write(std::uint64_t, const void*, std::size_t) override { throw std::logic_error("unexpected write"); }
  void write_multicast(const std::vector<std::uint64_t>& addrs, const void* src, std::size_t) override {
    std::uint32_t value;
    std::memcpy(&value, src, sizeof value);
    for (std::uint64_t a : addrs) write32(a, value);
  }
  std::uint64_t wait_events(std::uint64_t mask) override {
    if (++waits > 100) throw std::runtime_error("the firmware spins on a line it does not clear");
    if (const std::uint64_t high = lines() & mask) return high;
    // Time passes: the first unfinished job of the mask ends, its status word
    // landing before its line rises.
    for (unsigned c = 0; c < status.size(); ++c)
      if ((mask >> (16 + c) & 1) != 0 && status[c] == 0) {
        status[c] = pe_array::kJobStatusDone;
        irq[c] |= pe_array::kIrqDone;
        return lines() & mask;
      }
    throw std::logic_error("waits with no job to end");
  }
  void wait_for_work() override {}
  Ring ring() const override { return {}; }
  void complete_entry(std::uint32_t) override {}
  void report_error(std::uint32_t, std::uint32_t) override {}
  void mark_layer(std::int32_t) override {}
  void record_decision(const LayerDecision&) override {}
  void spend_cycles(std::uint64_t) override {}

 private:
  unsigned cluster_of(std::uint64_t addr) const {
    if (addr < kClusterRegs || (addr - kClusterRegs) % pe_array::kClusterStride != pe_array::reg::kIrq)
      throw std::logic_error("access to a register other than IRQ");
    return static_cast<unsigned>((addr - kClusterRegs) / pe_array::kClusterStride);
  }
  std::uint64_t lines() const {
    std::uint64_t high = 0;
    for (unsigned c = 0; c < irq.size(); ++c) high |= std::uint64_t{irq[c] != 0} << (16 + c);
    return high;
  }
  NpuLayout layout_;
};

constexpr std::uint64_t irq_register(unsigned cluster) {
  return kClusterRegs + cluster * pe_array::kClusterStride + pe_array::reg::kIrq;
}

TEST(ClusterWait, EachJobEndingWakesTheFirmwareOnce) {
  ScriptedHal hal(2);
  wait_cluster_jobs(hal, kTable, 2);
  // Table read, wait (job 0 ends), read, wait (job 1 ends), read: all done.
  EXPECT_EQ(hal.table_reads, 3u);
  EXPECT_EQ(hal.waits, 2u);
  using Write = std::pair<std::uint64_t, std::uint32_t>;
  EXPECT_EQ(hal.writes,
            (std::vector<Write>{{irq_register(0), pe_array::kIrqDone}, {irq_register(1), pe_array::kIrqDone}}));
  EXPECT_EQ(hal.irq, (std::vector<std::uint32_t>{0, 0}));
}

// Cluster 0's line is high from its job before, raised after the last wait
// had read that job's status word and cleared the lines. The wait clears it
// and reads the table again rather than waking at once, again and again,
// until this job ends (the default run's command processor made 2,653 bus
// accesses so, 104 since).
TEST(ClusterWait, AStaleDoneIrqIsClearedOnceNotSpunOn) {
  ScriptedHal hal(2);
  hal.irq[0] = pe_array::kIrqDone;
  wait_cluster_jobs(hal, kTable, 2);
  // Read; wait (the stale line); read, clear it; read; wait (job 0 ends);
  // read; wait (job 1 ends); read.
  EXPECT_EQ(hal.table_reads, 5u);
  EXPECT_EQ(hal.waits, 3u);
  using Write = std::pair<std::uint64_t, std::uint32_t>;
  EXPECT_EQ(hal.writes, (std::vector<Write>{{irq_register(0), pe_array::kIrqDone},
                                            {irq_register(0), pe_array::kIrqDone},
                                            {irq_register(1), pe_array::kIrqDone}}));
}

TEST(ClusterWait, AClusterErrorIsAFaultOfThatCluster) {
  ScriptedHal hal(3);
  hal.irq[2] = pe_array::kIrqError;
  try {
    wait_cluster_jobs(hal, kTable, 3);
    FAIL() << "no fault";
  } catch (const FirmwareError& e) {
    EXPECT_EQ(e.code, npu::NpuError::kClusterFault);
    EXPECT_EQ(e.info, 2u);
  }
  ScriptedHal failed(2);
  failed.status[1] = pe_array::kJobStatusDone | 4u << 8;  // kResultWrite
  try {
    wait_cluster_jobs(failed, kTable, 2);
    FAIL() << "no fault";
  } catch (const FirmwareError& e) {
    EXPECT_EQ(e.info, 1u);
  }
}

}  // namespace
}  // namespace npuvp::firmware
