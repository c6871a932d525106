// Operand groups (contract/cluster_regs.h): three PE clusters and an SRAM on
// a 2x2 mesh NoC. The leader reads the shared weights once, the NoC forks the
// response into the followers' fill windows after their READY tokens, and
// every cluster computes exactly what it would alone. A group that is
// programmed wrong ends in JobError::kGroup, never a hang. The same windows
// take streamed weights: another initiator (here the command processor's
// port, in the NPU the DMA) writes a job's weights into a slot of the
// cluster's window and the job waits for them. Each test runs in its own
// process (one elaboration each).
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "contract/address_map.h"
#include "models/common/sim_control.h"
#include "models/noc/mesh_noc.h"
#include "models/pe_array/cluster_kernel.h"
#include "models/pe_array/pe_cluster.h"
#include "tests/support/bench.h"

namespace npuvp::pe_array {
namespace {

using sc_core::sc_time;

constexpr std::uint64_t kSram = address_map::kSramBase;
constexpr std::uint32_t kTable = kSram + 0x6000, kWeights = kSram + 0x2000, kBias = kSram + 0x3000,
                        kRequant = kSram + 0x3400;
constexpr unsigned kClusters = 3;
const sc_time kCycle = testing::cycles(800, 1);
const sc_time kTimeout = kCycle * static_cast<double>(kGroupTimeoutCycles);

// Cluster k's 3x3 convolution: its own 7x7x4 tile and outputs, 16 filters
// shared by all; grouped as asked.
ClusterJob job_of(unsigned k, unsigned stride, unsigned size) {
  ClusterJob j{};
  j.op = static_cast<std::uint32_t>(JobOp::kConv2d);
  j.flags = kJobLoadWeights;
  j.dataflow = static_cast<std::uint32_t>(Dataflow::kOutputStationary);
  j.in_addr = static_cast<std::uint32_t>(kSram + 0x1000 + k * 0x100);
  j.in_h = 7, j.in_w = 7, j.in_c = 4, j.in_row_pitch = 7 * 4;
  j.out_addr = static_cast<std::uint32_t>(kSram + 0x4000 + k * 0x200);
  j.out_h = 5, j.out_w = 5, j.k_count = 16;
  j.out_pixel_pitch = 16, j.out_row_pitch = 5 * 16;
  j.weights_addr = kWeights, j.bias_addr = kBias, j.requant_addr = kRequant;
  j.kernel_h = j.kernel_w = 3;
  j.stride_h = j.stride_w = j.dilation_h = j.dilation_w = 1;
  j.act_min = -128, j.act_max = 127;
  j.group_in = 4, j.group_out = 16;
  j.datatype = static_cast<std::uint32_t>(Datatype::kInt8);
  j.group_stride = static_cast<std::uint8_t>(stride);
  j.group_size = static_cast<std::uint8_t>(size);
  return j;
}

// Clusters 0, 1, 2 at (0,0), (1,0), (0,1); the SRAM and the command
// processor at (1,1).
struct GroupBench : testing::Bench {
  std::unique_ptr<noc::MeshNoc> noc;
  testing::TlmMemory sram{"sram", 0x1'0000};
  testing::Initiator cp{"cp"};
  std::vector<std::unique_ptr<PeCluster>> clusters;
  std::vector<std::unique_ptr<testing::IrqLine>> irqs;
  std::vector<std::int8_t> tiles, weights;
  std::vector<std::int32_t> bias;
  std::vector<RequantEntry> requant;

  explicit GroupBench(const PeClusterConfig& base = {}) : Bench("bench") {
    noc::NocConfig c;
    c.width = c.height = 2;
    c.initiators.push_back({"cp", 1, 1});
    c.targets.push_back({{"sram", 1, 1}, kSram, 0x1'0000});
    for (unsigned k = 0; k < kClusters; ++k) {
      c.initiators.push_back({"cluster" + std::to_string(k), k % 2, k / 2});
      c.targets.push_back({{"regs" + std::to_string(k), k % 2, k / 2},
                           address_map::kClusterRegsBase + k * kClusterStride,
                           kClusterStride});
      c.targets.push_back({{"fill" + std::to_string(k), k % 2, k / 2},
                           address_map::kClusterFillBase + k * address_map::kClusterFillStride,
                           address_map::kClusterFillStride});
    }
    noc = std::make_unique<noc::MeshNoc>("noc", c);
    cp.socket.bind(noc->target_sockets[0]);
    noc->initiator_sockets[0].bind(sram.target_socket);
    for (unsigned k = 0; k < kClusters; ++k) {
      PeClusterConfig config = base;
      config.index = k;
      clusters.push_back(std::make_unique<PeCluster>(("cluster" + std::to_string(k)).c_str(), config));
      irqs.push_back(std::make_unique<testing::IrqLine>(("irq" + std::to_string(k)).c_str()));
      clusters[k]->noc_socket.bind(noc->target_sockets[1 + k]);
      noc->initiator_sockets[1 + 2 * k].bind(clusters[k]->target_socket);
      noc->initiator_sockets[2 + 2 * k].bind(clusters[k]->fill_socket);
      clusters[k]->irq(*irqs[k]);
    }
    std::mt19937 rng(7);
    tiles.resize(kClusters * 0x100);
    weights.resize(16 * 9 * 4);
    for (auto& v : tiles) v = static_cast<std::int8_t>(rng());
    for (auto& v : weights) v = static_cast<std::int8_t>(rng());
    for (std::uint32_t k = 0; k < 16; ++k) {
      bias.push_back(static_cast<std::int32_t>(rng() % 2001) - 1000);
      requant.push_back({static_cast<std::int32_t>((1u << 30) + rng() % (1u << 30)), -6});
    }
    sram.write(0x1000, tiles.data(), tiles.size());
    sram.write(kWeights - kSram, weights.data(), weights.size());
    sram.write(kBias - kSram, bias.data(), bias.size() * 4);
    sram.write(kRequant - kSram, requant.data(), requant.size() * 8);
  }

  std::uint64_t reg(unsigned k, std::uint32_t r) const {
    return address_map::kClusterRegsBase + k * kClusterStride + r;
  }
  // Writes the table and starts every cluster from it.
  void start(const std::vector<ClusterJob>& jobs) {
    sram.write(kTable - kSram, jobs.data(), jobs.size() * sizeof(ClusterJob));
    for (unsigned k = 0; k < jobs.size(); ++k) {
      cp.write32(reg(k, reg::kJobAddr), kTable);
      cp.write32(reg(k, reg::kCtrl), kCtrlStartTable);
    }
  }
  // The job's error code once its IRQ is up, and when that was.
  std::uint32_t error_of(unsigned k, sc_time* at = nullptr) {
    EXPECT_TRUE(irqs[k]->wait_high(kTimeout * 2)) << "cluster " << k;
    if (at != nullptr) *at = sc_core::sc_time_stamp();
    return cp.read32(reg(k, reg::kStatus)) >> 8;
  }
  std::vector<std::int8_t> expected(const ClusterJob& j) {
    std::vector<std::int8_t> out(j.out_h * j.out_w * j.k_count);
    run_job(
        j,
        JobOperands{tiles.data() + (j.in_addr - kSram - 0x1000), nullptr, weights.data(), bias.data(), requant.data()},
        out.data());
    return out;
  }
  std::vector<std::int8_t> output(const ClusterJob& j) const {
    std::vector<std::int8_t> got(j.out_h * j.out_w * j.k_count);
    sram.read(j.out_addr - kSram, got.data(), got.size());
    return got;
  }
  unsigned weight_reads() const {
    unsigned n = 0;
    for (std::uint64_t a : sram.seen_addresses) n += a == kWeights - kSram;
    return n;
  }
};

TEST(OperandGroup, TheLeaderReadsTheWeightsOnceForEveryMember) {
  GroupBench b;
  std::vector<ClusterJob> jobs;
  for (unsigned k = 0; k < kClusters; ++k) jobs.push_back(job_of(k, 1, kClusters));
  std::vector<sc_time> done(kClusters);
  b.body = [&] {
    b.start(jobs);
    for (unsigned k = 0; k < kClusters; ++k) EXPECT_EQ(b.error_of(k, &done[k]), 0u) << k;
  };
  npuvp::sim::run_to_end();
  for (unsigned k = 0; k < kClusters; ++k) EXPECT_EQ(b.output(jobs[k]), b.expected(jobs[k])) << "cluster " << k;
  EXPECT_EQ(b.weight_reads(), 1u);
  // The weights' two column folds of 8 filters (288 bytes each, streamed:
  // docs/dataflows.md), bias and requantization: one forked response each, a
  // fold's in two packets of at most a buffer (7 flits of data and 2).
  EXPECT_EQ(b.noc->stats().multicast_packets, 6u);
  EXPECT_EQ(b.clusters[0]->stats().operand_read_bytes, 576u + 16 * 12 + 7 * 28);
  for (unsigned k = 1; k < kClusters; ++k) {
    EXPECT_EQ(b.clusters[k]->stats().operand_read_bytes, 7u * 28) << k;
    EXPECT_EQ(b.clusters[k]->stats().weight_buffer_write_bytes, 576u) << k;
  }
}

TEST(OperandGroup, AnEarlyTokenWaitsForTheLeadersJobOfItsTable) {
  // Cluster 0 runs an ungrouped job, then leads a group from another table;
  // cluster 1's token for that table arrives during the first job and waits.
  PeClusterConfig config;
  config.job_queue_depth = 2;
  GroupBench b(config);
  constexpr std::uint32_t kSecond = kTable + 0x400;
  const ClusterJob alone = job_of(0, 0, 0);
  ClusterJob leader = job_of(0, 1, 2), follower = job_of(1, 1, 2);
  leader.out_addr += 0x800;
  b.body = [&] {
    b.sram.write(kTable - kSram, &alone, sizeof alone);
    b.sram.write(kSecond - kSram, &leader, sizeof leader);
    b.sram.write(kSecond - kSram + sizeof(ClusterJob), &follower, sizeof follower);
    for (const std::uint32_t table : {kTable, kSecond}) {
      b.cp.write32(b.reg(0, reg::kJobAddr), table);
      b.cp.write32(b.reg(0, reg::kCtrl), kCtrlStartTable);
    }
    b.cp.write32(b.reg(1, reg::kJobAddr), kSecond);
    b.cp.write32(b.reg(1, reg::kCtrl), kCtrlStartTable);
    EXPECT_EQ(b.error_of(1), 0u);
    sc_core::wait(10, sc_core::SC_US);
    EXPECT_EQ(b.cp.read32(b.reg(0, reg::kJobsDone)), 2u);
    EXPECT_EQ(b.cp.read32(b.reg(0, reg::kStatus)), 0u);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.output(alone), b.expected(alone));
  EXPECT_EQ(b.output(leader), b.expected(leader));
  EXPECT_EQ(b.output(follower), b.expected(follower));
  EXPECT_EQ(b.weight_reads(), 2u);  // cluster 0 alone, then for the group
}

TEST(OperandGroup, ATokenForAnotherTableDoesNotCount) {
  GroupBench b;
  constexpr std::uint32_t kOther = kTable + 0x400;
  b.body = [&] {
    const ClusterJob leader = job_of(0, 1, 2), follower = job_of(1, 1, 2);
    b.sram.write(kTable - kSram, &leader, sizeof leader);
    b.sram.write(kOther - kSram + sizeof(ClusterJob), &follower, sizeof follower);
    b.cp.write32(b.reg(0, reg::kJobAddr), kTable);
    b.cp.write32(b.reg(0, reg::kCtrl), kCtrlStartTable);
    b.cp.write32(b.reg(1, reg::kJobAddr), kOther);
    b.cp.write32(b.reg(1, reg::kCtrl), kCtrlStartTable);
    EXPECT_EQ(b.error_of(0), static_cast<std::uint32_t>(JobError::kGroup));
    EXPECT_EQ(b.error_of(1), static_cast<std::uint32_t>(JobError::kGroup));
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.weight_reads(), 0u);
}

TEST(OperandGroup, AFollowerWhoseLeaderNeverReadsEndsWithAGroupError) {
  GroupBench b;
  b.body = [&] {
    b.start({job_of(0, 0, 0), job_of(1, 1, 2)});  // cluster 0 does not lead
    sc_time at;
    EXPECT_EQ(b.error_of(0), 0u);
    EXPECT_EQ(b.error_of(1, &at), static_cast<std::uint32_t>(JobError::kGroup));
    EXPECT_GE(at, kTimeout);
    EXPECT_LT(at, kTimeout + kCycle * 1000.0);
    EXPECT_EQ(b.cp.read32(b.reg(1, reg::kIrq)), kIrqError);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.clusters[1]->stats().errors, 1u);
}

TEST(OperandGroup, ALeaderWhoseFollowerNeverComesEndsWithAGroupError) {
  GroupBench b;
  b.body = [&] {
    b.start({job_of(0, 1, 2), job_of(1, 0, 0)});  // cluster 1 does not follow
    sc_time at;
    EXPECT_EQ(b.error_of(1), 0u);
    EXPECT_EQ(b.error_of(0, &at), static_cast<std::uint32_t>(JobError::kGroup));
    EXPECT_GE(at, kTimeout);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.weight_reads(), 1u) << "only cluster 1's own read";
}

// A cluster's group waits share one timed notification, armed for the
// earliest deadline: a later wait it wakes too early arms it again, and times
// out kGroupTimeoutCycles after its own start, not after the first wait's.
TEST(OperandGroup, ALaterGroupTimesOutFromItsOwnStart) {
  GroupBench b;
  constexpr std::uint32_t kSecond = kTable + 0x400;
  ClusterJob leader = job_of(0, 1, 2);
  leader.out_addr += 0x800;
  b.body = [&] {
    b.start({job_of(0, 1, 2), job_of(1, 1, 2)});
    EXPECT_EQ(b.error_of(0), 0u);
    b.cp.write32(b.reg(0, reg::kIrq), kIrqDone);
    sc_core::wait(kTimeout / 2);
    b.sram.write(kSecond - kSram, &leader, sizeof leader);
    const sc_time second = sc_core::sc_time_stamp();
    b.cp.write32(b.reg(0, reg::kJobAddr), kSecond);
    b.cp.write32(b.reg(0, reg::kCtrl), kCtrlStartTable);  // cluster 1 never follows
    sc_time at;
    EXPECT_EQ(b.error_of(0, &at), static_cast<std::uint32_t>(JobError::kGroup));
    EXPECT_GE(at, second + kTimeout);
    EXPECT_LT(at, second + kTimeout + kCycle * 1000.0);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.clusters[0]->stats().errors, 1u);
}

TEST(OperandGroup, APlatformWithoutOperandGroupsRefusesThemAtOnce) {
  PeClusterConfig off;
  off.operand_multicast = false;
  GroupBench b(off);
  b.body = [&] {
    b.start({job_of(0, 1, 2), job_of(1, 1, 2)});
    for (unsigned k = 0; k < 2; ++k) {
      sc_time at;
      EXPECT_EQ(b.error_of(k, &at), static_cast<std::uint32_t>(JobError::kGroup)) << k;
      EXPECT_LT(at, kCycle * 1000.0);
    }
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.weight_reads(), 0u);
}

TEST(OperandGroup, AClusterOutsideItsJobsGroupFailsAtOnce) {
  GroupBench b;
  b.body = [&] {
    // Stride 1, 2 members: clusters 0 and 1, not 2.
    b.start({job_of(0, 0, 0), job_of(1, 0, 0), job_of(2, 1, 2)});
    sc_time at;
    EXPECT_EQ(b.error_of(2, &at), static_cast<std::uint32_t>(JobError::kGroup));
    EXPECT_LT(at, kCycle * 1000.0);
  };
  npuvp::sim::run_to_end();
}

TEST(OperandGroup, AGroupNeedsAJobTable) {
  GroupBench b;
  b.body = [&] {
    const ClusterJob job = job_of(0, 1, 2);
    b.sram.write(kTable - kSram, &job, sizeof job);
    b.cp.write32(b.reg(0, reg::kJobAddr), kTable);
    b.cp.write32(b.reg(0, reg::kCtrl), kCtrlStart);
    EXPECT_EQ(b.error_of(0), static_cast<std::uint32_t>(JobError::kGroup));
  };
  npuvp::sim::run_to_end();
}

// Cluster k's streamed slot `slot`, where its job names its weights.
std::uint32_t slot_addr(unsigned k, unsigned slot) {
  return static_cast<std::uint32_t>(address_map::kClusterFillBase + k * address_map::kClusterFillStride +
                                    kFillStreamOffset + slot * kFillStreamSlotBytes);
}

ClusterJob streamed_job(unsigned k, unsigned slot) {
  ClusterJob j = job_of(k, 0, 0);
  j.weights_addr = slot_addr(k, slot);
  return j;
}

TEST(StreamedWeights, AJobTakesTheWeightsWrittenIntoItsSlotWithoutReadingThemFromSram) {
  GroupBench b;
  const ClusterJob job = streamed_job(1, 1);
  sc_time done;
  b.body = [&] {
    // Written before the job starts, in two pieces as bursts would.
    EXPECT_EQ(b.cp.access(tlm::TLM_WRITE_COMMAND, slot_addr(1, 1), b.weights.data(), 300), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b.cp.access(tlm::TLM_WRITE_COMMAND, slot_addr(1, 1) + 300, b.weights.data() + 300, 276),
              tlm::TLM_OK_RESPONSE);
    b.cp.sync();
    b.start({job_of(0, 0, 0), job});
    EXPECT_EQ(b.error_of(1, &done), 0u);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.output(job), b.expected(job));
  EXPECT_EQ(b.weight_reads(), 1u) << "cluster 0's own read; cluster 1 reads none";
  // Bias, requantization and the tile over the NoC; the weights were written in.
  EXPECT_EQ(b.clusters[1]->stats().operand_read_bytes, 16u * 12 + 7 * 28);
  EXPECT_EQ(b.clusters[1]->stats().weight_buffer_write_bytes, 576u);
}

TEST(StreamedWeights, AJobWaitsForItsSlotToFillAndFreesItForTheNext) {
  PeClusterConfig config;
  config.job_queue_depth = 2;
  GroupBench b(config);
  ClusterJob first = streamed_job(0, 0), second = streamed_job(0, 0);
  second.out_addr += 0x800;
  constexpr std::uint32_t kSecond = kTable + 0x400;
  sc_time done;
  b.body = [&] {
    b.sram.write(kTable - kSram, &first, sizeof first);
    b.sram.write(kSecond - kSram, &second, sizeof second);
    for (const std::uint32_t table : {kTable, kSecond}) {
      b.cp.write32(b.reg(0, reg::kJobAddr), table);
      b.cp.write32(b.reg(0, reg::kCtrl), kCtrlStartTable);
    }
    sc_core::wait(5, sc_core::SC_US);
    EXPECT_EQ(b.cp.read32(b.reg(0, reg::kJobsDone)), 0u) << "nothing in the slot yet";
    for (int pass = 0; pass < 2; ++pass) {
      EXPECT_EQ(b.cp.access(tlm::TLM_WRITE_COMMAND, slot_addr(0, 0), b.weights.data(), 576), tlm::TLM_OK_RESPONSE);
      b.cp.sync();
      sc_core::wait(5, sc_core::SC_US);
      EXPECT_EQ(b.cp.read32(b.reg(0, reg::kJobsDone)), pass + 1u) << "one fill, one job";
    }
    EXPECT_EQ(b.cp.read32(b.reg(0, reg::kStatus)), 0u);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.output(first), b.expected(first));
  EXPECT_EQ(b.output(second), b.expected(second));
}

TEST(StreamedWeights, AProgrammingErrorEndsTheJobWithItsCode) {
  PeClusterConfig small;
  small.weight_buffer_bytes = 1024;  // slots of 512 bytes: 576 do not fit
  GroupBench b(small);
  b.body = [&] {
    // Cluster 1 names cluster 0's slot; cluster 2's weights exceed a slot;
    // cluster 0's slot is written but not whole, so it never fills.
    EXPECT_EQ(b.cp.access(tlm::TLM_WRITE_COMMAND, slot_addr(0, 0), b.weights.data(), 100), tlm::TLM_OK_RESPONSE);
    sc_time delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(b.cp.transport(tlm::TLM_WRITE_COMMAND, slot_addr(0, 1), b.weights.data(), 576, delay),
              tlm::TLM_ADDRESS_ERROR_RESPONSE)
        << "more than a slot";
    b.cp.sync();
    ClusterJob other = streamed_job(1, 0);
    other.weights_addr = slot_addr(0, 0);
    ClusterJob half = streamed_job(0, 0);  // 8 filters, 288 bytes: they fit
    half.k_count = half.group_out = 8;
    b.start({half, other, streamed_job(2, 0)});
    EXPECT_EQ(b.error_of(1), static_cast<std::uint32_t>(JobError::kInvalid));
    EXPECT_EQ(b.error_of(2), static_cast<std::uint32_t>(JobError::kWeightBuffer));
    sc_time at;
    EXPECT_EQ(b.error_of(0, &at), static_cast<std::uint32_t>(JobError::kOperandRead));
    EXPECT_GE(at, kTimeout);
  };
  npuvp::sim::run_to_end();
}

}  // namespace
}  // namespace npuvp::pe_array
