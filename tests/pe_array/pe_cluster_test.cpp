// PeCluster on a bench: a register initiator, an SRAM-like memory on its NoC
// port and its IRQ line. A job through the registers; output bytes, the
// systolic cycle count of systolic_timing.h, stalls from operand latency, and
// the error codes.
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "models/common/sim_control.h"
#include "models/pe_array/cluster_kernel.h"
#include "models/pe_array/pe_cluster.h"
#include "tests/support/bench.h"

namespace npuvp::pe_array {
namespace {

using sc_core::sc_time;

constexpr std::uint64_t kSram = 0x1000'0000;
constexpr std::uint64_t kSramBytes = 64 * 1024;
constexpr std::uint32_t kJobAt = kSram;
constexpr std::uint32_t kIn = kSram + 0x1000, kWeights = kSram + 0x2000, kBias = kSram + 0x3000,
                        kRequant = kSram + 0x3400, kOut = kSram + 0x4000;
const sc_time kCycle = testing::cycles(800, 1);

struct JobResult {
  std::uint32_t irq = 0;
  std::uint32_t status = 0;
  sc_time took;  // START to the IRQ
};

struct ClusterBench : testing::Bench {
  testing::TlmMemory sram;
  testing::Initiator cp{"cp"};
  testing::IrqLine irq{"irq"};
  PeCluster cluster;

  explicit ClusterBench(const PeClusterConfig& config = {}, sc_time latency = sc_core::SC_ZERO_TIME)
      : Bench("bench"), sram("sram", kSramBytes, latency, kSram), cluster("cluster", config) {
    cp.socket.bind(cluster.target_socket);
    cluster.noc_socket.bind(sram.target_socket);
    cluster.irq(irq);
  }

  // Writes the job to SRAM, starts it through the registers, waits for the
  // IRQ and acknowledges it.
  JobResult run_job(const ClusterJob& job, std::uint32_t at = kJobAt) {
    sram.write(at, &job, sizeof job);
    cp.write32(reg::kJobAddr, at);
    const sc_time start = sc_core::sc_time_stamp();
    cp.write32(reg::kCtrl, kCtrlStart);
    EXPECT_TRUE(irq.wait_high(sc_time(1, sc_core::SC_MS)));
    JobResult r;
    r.took = sc_core::sc_time_stamp() - start;
    r.irq = cp.read32(reg::kIrq);
    r.status = cp.read32(reg::kStatus);
    cp.write32(reg::kIrq, r.irq);  // W1C
    EXPECT_FALSE(irq.read()) << "the IRQ line must follow the cleared IRQ register";
    return r;
  }
};

// A 3x3 convolution: a 7x7x4 tile, 16 filters, 5x5 outputs (no padding).
ClusterJob conv3x3(Dataflow dataflow) {
  ClusterJob j{};
  j.op = static_cast<std::uint32_t>(JobOp::kConv2d);
  j.flags = kJobLoadWeights;
  j.dataflow = static_cast<std::uint32_t>(dataflow);
  j.in_addr = kIn;
  j.in_h = 7, j.in_w = 7, j.in_c = 4, j.in_row_pitch = 7 * 4;
  j.out_addr = kOut;
  j.out_h = 5, j.out_w = 5, j.k_count = 16;
  j.out_pixel_pitch = 16, j.out_row_pitch = 5 * 16;
  j.weights_addr = kWeights, j.bias_addr = kBias, j.requant_addr = kRequant;
  j.kernel_h = j.kernel_w = 3;
  j.stride_h = j.stride_w = j.dilation_h = j.dilation_w = 1;
  j.act_min = -128, j.act_max = 127;
  j.group_in = 4, j.group_out = 16;
  j.datatype = static_cast<std::uint32_t>(Datatype::kInt8);
  return j;
}

// Random operands in the bench's SRAM; the outputs the kernel computes from them.
std::vector<std::int8_t> fill_operands(testing::TlmMemory& sram, const ClusterJob& j, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::int8_t> tile(j.in_h * j.in_row_pitch), weights(j.k_count * j.kernel_h * j.kernel_w * j.group_in);
  for (auto& v : tile) v = static_cast<std::int8_t>(rng());
  for (auto& v : weights) v = static_cast<std::int8_t>(rng());
  std::vector<std::int32_t> bias(j.k_count);
  std::vector<RequantEntry> requant(j.k_count);
  for (std::uint32_t k = 0; k < j.k_count; ++k) {
    bias[k] = static_cast<std::int32_t>(rng() % 2001) - 1000;
    requant[k] = {static_cast<std::int32_t>((1u << 30) + rng() % (1u << 30)), -6};
  }
  sram.write(j.in_addr, tile.data(), tile.size());
  sram.write(j.weights_addr, weights.data(), weights.size());
  sram.write(j.bias_addr, bias.data(), bias.size() * 4);
  sram.write(j.requant_addr, requant.data(), requant.size() * 8);
  std::vector<std::int8_t> out(j.out_h * j.out_w * j.k_count);
  run_job(j, JobOperands{tile.data(), nullptr, weights.data(), bias.data(), requant.data()}, out.data());
  return out;
}

// systolic_timing.h: weight-stationary folds = ceil(K/R) × ceil(N/C), each
// 2R + C + M - 2 cycles; output-stationary folds = ceil(M/R) × ceil(N/C), each
// K + R + C - 2. Here M = 25 pixels, N = 16 filters, K = 3·3·4 = 36, R = C = 8.
constexpr std::uint64_t kWsCycles = (5 * 2) * (2 * 8 + 8 + 25 - 2);  // 470
constexpr std::uint64_t kOsCycles = (4 * 2) * (36 + 8 + 8 - 2);      // 400

void expect_conv_job(Dataflow dataflow, std::uint64_t cycles) {
  ClusterBench b;
  const ClusterJob job = conv3x3(dataflow);
  const std::vector<std::int8_t> expected = fill_operands(b.sram, job, 11);
  b.body = [&] {
    const JobResult r = b.run_job(job);
    EXPECT_EQ(r.irq, kIrqDone);
    EXPECT_EQ(r.status, 0u);
    EXPECT_EQ(r.took, kCycle * static_cast<double>(cycles));  // memory answers at once: no stall
    EXPECT_EQ(b.cp.read32(reg::kBusyCycles), cycles);
    EXPECT_EQ(b.cp.read32(reg::kJobsDone), 1u);
  };
  npuvp::sim::run_to_end();
  std::vector<std::int8_t> got(expected.size());
  b.sram.read(kOut, got.data(), got.size());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(b.cluster.stats().compute_cycles, cycles);
  EXPECT_EQ(b.cluster.stats().stall_cycles, 0u);
  EXPECT_EQ(b.cluster.stats().macs, 25u * 16u * 36u);
  EXPECT_EQ(b.cluster.stats().operand_read_bytes, 576u + 16u * 12u + 7u * 28u);
  EXPECT_EQ(b.cluster.stats().result_write_bytes, 25u * 16u);
}

TEST(PeCluster, WeightStationaryConvIsExactInBytesAndCycles) {
  expect_conv_job(Dataflow::kWeightStationary, kWsCycles);
}

// A job's result writes as the memory received them: their annotated
// delays, one per output row; its outputs checked against the kernel's.
struct ResultWrites {
  std::vector<sc_time> delays;
  sc_time took;  // START to the IRQ
};

ResultWrites result_writes(const PeClusterConfig& config, sc_time latency) {
  ClusterBench b(config, latency);
  const ClusterJob job = conv3x3(Dataflow::kWeightStationary);
  const std::vector<std::int8_t> expected = fill_operands(b.sram, job, 11);
  ResultWrites w;
  b.body = [&] {
    const JobResult r = b.run_job(job);
    EXPECT_EQ(r.status, 0u);
    w.took = r.took;
  };
  npuvp::sim::run_to_end();
  std::vector<std::int8_t> got(expected.size());
  b.sram.read(kOut, got.data(), got.size());
  EXPECT_EQ(got, expected);
  for (std::size_t i = 0; i < b.sram.seen_addresses.size(); ++i)
    if (b.sram.seen_addresses[i] >= kOut && b.sram.seen_addresses[i] < kOut + 25 * 16)
      w.delays.push_back(b.sram.seen_delays[i]);
  EXPECT_EQ(w.delays.size(), 5u);  // one per output row
  return w;
}

// A job's results leave when its array finishes, and the cluster issues them
// then, within a quantum, not when the job starts with the whole job as their
// delay: traffic issued during the job would otherwise have to fit around
// them at the banks and on the NoC (docs/architecture.md, "Loosely timed,
// within a quantum"). The job takes as long either way.
TEST(PeCluster, ResultsAreIssuedWithinAQuantumOfWhenTheyLeave) {
  PeClusterConfig config;
  config.quantum = kCycle * 50.0;  // the 470-cycle job runs well past it
  const ResultWrites w = result_writes(config, sc_core::SC_ZERO_TIME);
  for (const sc_time& delay : w.delays) EXPECT_LE(delay, config.quantum);
  EXPECT_EQ(w.took, kCycle * static_cast<double>(kWsCycles));
}

// Each output row leaves once the row before it is written, and is issued
// then: with 100-cycle writes, rows issued together with the first would run
// up to 400 cycles ahead.
TEST(PeCluster, EachResultRowIsIssuedWithinAQuantumOfItsOwnTime) {
  PeClusterConfig config;
  config.quantum = kCycle * 50.0;
  for (const sc_time& delay : result_writes(config, kCycle * 100.0).delays) EXPECT_LE(delay, config.quantum);
}

TEST(PeCluster, OutputStationaryConvIsExactInBytesAndCycles) {
  expect_conv_job(Dataflow::kOutputStationary, kOsCycles);
}

TEST(PeCluster, OperandLatencyIsStallOnTopOfTheSchedule) {
  // Every access takes L = 10 cycles. Job fetch, weights, bias and requant
  // one after another (4L), then the first input row (L): the array starts at
  // 5L, the other 6 rows stream in while it computes. The 5 result rows go
  // out one after another once it ends (5L).
  constexpr std::uint64_t kL = 10;
  ClusterBench b({}, kCycle * static_cast<double>(kL));
  const ClusterJob job = conv3x3(Dataflow::kWeightStationary);
  fill_operands(b.sram, job, 3);
  b.body = [&] {
    const JobResult r = b.run_job(job);
    EXPECT_EQ(r.irq, kIrqDone);
    EXPECT_EQ(r.took, kCycle * static_cast<double>(10 * kL + kWsCycles));
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cluster.stats().compute_cycles, kWsCycles);
  EXPECT_EQ(b.cluster.stats().stall_cycles, 10 * kL);
}

// The array needs only the first column fold's weights to start
// (systolic_timing.h, weight_stream): the 16 filters of conv3x3 are two
// column folds of 8 (200 cycles each, output-stationary), and filters 8-15
// are fetched after the input rows, once fold 0 has started. Every access
// takes L: job, fold 0's weights, bias, requant and the first row (5L), the
// other 6 rows (11L), fold 1's weights (12L). With L = 10 they are in long
// before fold 1 (at 5L + 200) and the job is the schedule and its 10
// accesses; with L = 300 fold 1 waits for them and ends at 12L + 200,
// then the 5 result rows (5L).
void expect_streamed_conv_job(std::uint64_t latency, std::uint64_t took) {
  ClusterBench b({}, kCycle * static_cast<double>(latency));
  const ClusterJob job = conv3x3(Dataflow::kOutputStationary);
  const std::vector<std::int8_t> expected = fill_operands(b.sram, job, 5);
  b.body = [&] {
    const JobResult r = b.run_job(job);
    EXPECT_EQ(r.irq, kIrqDone);
    EXPECT_EQ(r.took, kCycle * static_cast<double>(took));
  };
  npuvp::sim::run_to_end();
  std::vector<std::int8_t> got(expected.size());
  b.sram.read(kOut, got.data(), got.size());
  EXPECT_EQ(got, expected);
  EXPECT_EQ(b.cluster.stats().compute_cycles, kOsCycles);
  EXPECT_EQ(b.cluster.stats().stall_cycles, took - kOsCycles);
}

// Every operand read is issued within a quantum of its own time, as the
// results are (docs/architecture.md, "Loosely timed, within a quantum"): the
// input rows one after another, fold 1's weights behind them. Issued at the
// job's start, the last row would carry 6 × 300 cycles of delay and fold 1's
// weights 11 × 300. The job takes as long either way.
TEST(PeCluster, OperandReadsAreIssuedWithinAQuantumOfTheirTime) {
  PeClusterConfig config;
  config.quantum = kCycle * 50.0;
  ClusterBench b(config, kCycle * 300.0);
  const ClusterJob job = conv3x3(Dataflow::kOutputStationary);
  fill_operands(b.sram, job, 5);
  b.body = [&] { EXPECT_EQ(b.run_job(job).took, kCycle * (17 * 300.0 + kOsCycles / 2)); };
  npuvp::sim::run_to_end();
  std::size_t operand_reads = 0;
  for (std::size_t i = 0; i < b.sram.seen_addresses.size(); ++i) {
    const std::uint64_t at = b.sram.seen_addresses[i];
    if (at < kIn || at >= kOut) continue;
    ++operand_reads;
    EXPECT_LE(b.sram.seen_delays[i], config.quantum) << "the read at " << std::hex << at;
  }
  EXPECT_EQ(operand_reads, 7u + 2u + 2u);  // the rows, both folds' weights, bias and requantization
}

// The run monitor prices power windows by sampling the cluster's counters as
// time passes, so a job's work must be recorded before the cycles it lands in
// have passed, and land where the array does it. With operands 300 cycles
// away (the late-weights job above), fold 0 runs at 1500-1700 and fold 1,
// its weights fetched behind the 7 input rows, at 3600-3800; each does half
// of the 14,400 MACs, evenly, and none land while the array waits. Sampled
// every 100 cycles as the monitor does, each window holds what the array did
// in it: 3600 MACs in each of fold 0's and fold 1's two windows, none
// between. Recorded once fold 1's weights were in, fold 0's work would land
// in a window after its own, at twice the array's rate.
TEST(PeCluster, AJobsWorkLandsInTheWindowsItsFoldsRunIn) {
  ClusterBench b({}, kCycle * 300.0);
  const ClusterJob job = conv3x3(Dataflow::kOutputStationary);
  fill_operands(b.sram, job, 5);
  std::vector<double> macs;
  sc_core::sc_spawn([&] {
    sc_core::wait(kCycle);  // the job starts as the START write lands, a cycle in: windows count from there
    double before = 0;
    for (int w = 0; w < 50; ++w) {
      sc_core::wait(kCycle * 100.0);
      stats::Counters c;
      b.cluster.sample(c, sc_core::sc_time_stamp());
      macs.push_back(c[stats::Counter::kMacs] - before);
      before = c[stats::Counter::kMacs];
    }
  });
  b.body = [&] { b.run_job(job); };
  npuvp::sim::run_to_end();
  ASSERT_EQ(macs.size(), 50u);
  for (std::size_t w = 0; w < macs.size(); ++w) {
    const bool folding = w == 15 || w == 16 || w == 36 || w == 37;
    EXPECT_NEAR(macs[w], folding ? 3600.0 : 0.0, 1e-6) << "window " << w;
  }
}

// With zero skipping the work depends on how many weights are zero, which a
// streamed job's timed reads bring in only with its last fold. The counts are
// taken from the weights in SRAM as the job starts (the per-filter counts a
// compressed filter format carries), so the job reads its operands in time
// order as a dense one does and records its work as its folds start: every
// read within a quantum, no window above the array's 64 MACs a cycle, and the
// windows summing to the MACs the job performed, fewer than the dense 14,400.
TEST(PeCluster, WithZeroSkippingAStreamedJobKnowsItsWorkAsItStarts) {
  PeClusterConfig config;
  config.zero_skipping = true;
  config.quantum = kCycle * 50.0;
  ClusterBench b(config, kCycle * 300.0);
  ClusterJob job = conv3x3(Dataflow::kOutputStationary);
  fill_operands(b.sram, job, 5);
  // Filters 8-15, fold 1's, are zero from their 9th weight on.
  std::vector<std::int8_t> weights(16 * 36);
  b.sram.read(kWeights, weights.data(), weights.size());
  for (std::size_t k = 8; k < 16; ++k) std::fill_n(&weights[k * 36 + 8], 28, std::int8_t{0});
  b.sram.write(kWeights, weights.data(), weights.size());
  double sampled = 0, most = 0;
  sc_core::sc_spawn([&] {
    sc_core::wait(kCycle);
    for (int w = 0; w < 50; ++w) {
      sc_core::wait(kCycle * 100.0);
      stats::Counters c;
      b.cluster.sample(c, sc_core::sc_time_stamp());
      most = std::max(most, c[stats::Counter::kMacs] - sampled);
      sampled = c[stats::Counter::kMacs];
    }
  });
  b.body = [&] { b.run_job(job); };
  npuvp::sim::run_to_end();
  EXPECT_EQ(sampled, static_cast<double>(b.cluster.stats().macs));
  EXPECT_LE(b.cluster.stats().macs, 25u * (8 * 36 + 8 * 8));
  EXPECT_LE(most, 64 * 100.0) << "more MACs in a window than the 8 x 8 array does in it";
  for (std::size_t i = 0; i < b.sram.seen_addresses.size(); ++i) {
    if (b.sram.seen_addresses[i] >= kIn && b.sram.seen_addresses[i] < kOut) {
      EXPECT_LE(b.sram.seen_delays[i], config.quantum) << "the read at " << std::hex << b.sram.seen_addresses[i];
    }
  }
}

TEST(PeCluster, LaterColumnFoldsWeightsStreamInWhileTheArrayComputes) {
  expect_streamed_conv_job(10, 10 * 10 + kOsCycles);
}

TEST(PeCluster, AColumnFoldWaitsForItsLateWeights) { expect_streamed_conv_job(300, 17 * 300 + kOsCycles / 2); }

// The job of conv3x3 through the buffers (contract/operand_fetches.h): the
// fills are its 576 weight bytes and 7 × 28 input bytes; the array reads
// them back as often as the register files miss. WS also writes the partial
// sums of each of its row folds but the last to the input buffer and reads
// them back: K = 36 on 8 rows is 5 row folds, so 4 × 25 × 16 sums of 4 bytes.
struct BufferCase {
  Dataflow dataflow;
  unsigned rf_entries;
  std::uint64_t weight_reads, input_reads;
  std::uint64_t psum_bytes = 0;
};

void expect_buffer_traffic(const BufferCase& c) {
  PeClusterConfig config;
  config.rf_entries = c.rf_entries;
  ClusterBench b(config);
  const ClusterJob job = conv3x3(c.dataflow);
  fill_operands(b.sram, job, 5);
  b.body = [&] { b.run_job(job); };
  npuvp::sim::run_to_end();
  const PeClusterStats& s = b.cluster.stats();
  EXPECT_EQ(s.weight_buffer_write_bytes, 576u);
  EXPECT_EQ(s.input_buffer_write_bytes, 7u * 28u + c.psum_bytes);
  EXPECT_EQ(s.weight_buffer_read_bytes, c.weight_reads);
  EXPECT_EQ(s.input_buffer_read_bytes, c.input_reads + c.psum_bytes);
  EXPECT_EQ(s.psum_bytes, c.psum_bytes);
  stats::Counters counters;
  b.cluster.sample(counters, sc_core::sc_time_stamp());
  EXPECT_EQ(counters[stats::Counter::kWeightBufferReadBytes], static_cast<double>(c.weight_reads));
  EXPECT_EQ(counters[stats::Counter::kInputBufferWriteBytes], 7.0 * 28.0 + static_cast<double>(c.psum_bytes));
}

// WS: inputs fetched ceil(16 / (8·E)) times, weights once. M = 25, K = 36.
TEST(PeCluster, WeightStationaryOneEntryRegisterFilesFetchEachInputPerColumnFold) {
  expect_buffer_traffic({Dataflow::kWeightStationary, 1, 576, 2 * 25 * 36, 4 * 25 * 16 * 4});
}
TEST(PeCluster, WeightStationaryTwoEntryRegisterFilesFetchEachInputOnce) {
  expect_buffer_traffic({Dataflow::kWeightStationary, 2, 576, 25 * 36, 4 * 25 * 16 * 4});
}
// OS: weights fetched ceil(25 / (8·E)) times, inputs ceil(16 / 8) = 2 times.
TEST(PeCluster, OutputStationaryOneEntryRegisterFilesFetchEachWeightPerRowFold) {
  expect_buffer_traffic({Dataflow::kOutputStationary, 1, 4 * 576, 2 * 25 * 36});
}
TEST(PeCluster, OutputStationaryFourEntryRegisterFilesFetchEachWeightOnce) {
  expect_buffer_traffic({Dataflow::kOutputStationary, 4, 576, 2 * 25 * 36});
}

TEST(PeCluster, ANarrowBufferPortStretchesTheJob) {
  // WS with one-entry register files reads 1800 input bytes and moves 6400
  // bytes of partial sums out and back through the same port; at 2 bytes per
  // cycle that takes 7300 cycles against the schedule's 470.
  PeClusterConfig config;
  config.rf_entries = 1;
  config.buffer_port_bytes = 2;
  ClusterBench b(config);
  const ClusterJob job = conv3x3(Dataflow::kWeightStationary);
  fill_operands(b.sram, job, 7);
  b.body = [&] { EXPECT_EQ(b.run_job(job).took, kCycle * 7300.0); };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cluster.stats().compute_cycles, kWsCycles);
  EXPECT_EQ(b.cluster.stats().stall_cycles, 7300 - kWsCycles);
  EXPECT_EQ(b.cluster.stats().buffer_port_stall_cycles, 7300 - kWsCycles);
}

// The changes of one traced signal after the initial dump, as (time in
// cycles since `from`, value).
std::vector<std::pair<double, std::uint64_t>> traced(const std::string& vcd, const std::string& var, sc_time from) {
  const std::size_t decl = vcd.find(" " + var + " $end");
  const std::size_t id_start = vcd.rfind(' ', decl - 1) + 1;
  const std::string id = vcd.substr(id_start, decl - id_start);
  std::istringstream body(vcd.substr(vcd.find("$end", vcd.find("$dumpvars")) + 5));
  std::vector<std::pair<double, std::uint64_t>> out;
  double ps = 0;
  for (std::string line; std::getline(body, line);) {
    if (line[0] == '#') {
      ps = std::stod(line.substr(1));
    } else if (line[0] == 'b' && line.substr(line.find(' ') + 1) == id) {
      out.emplace_back((sc_time(ps, sc_core::SC_PS) - from) / kCycle,
                       std::stoull(line.substr(1, line.find(' ') - 1), nullptr, 2));
    } else if (line[0] != 'b' && line.substr(1) == id) {
      out.emplace_back((sc_time(ps, sc_core::SC_PS) - from) / kCycle, line[0] - '0');
    }
  }
  return out;
}

// What the job waits on, interval by interval, as OperandLatencyIsStallOnTopOfTheSchedule
// times it: the job and its weights (4L), the first input row (L), the
// schedule (470), the results (5L); busy and the IRQ around it.
TEST(PeCluster, TheStallSignalSaysWhatTheJobWaitsOn) {
  constexpr double kL = 10;
  ClusterBench b({}, kCycle * kL);
  trace::VcdRecorder rec;
  b.cluster.attach_trace(rec);
  const ClusterJob job = conv3x3(Dataflow::kWeightStationary);
  fill_operands(b.sram, job, 3);
  b.body = [&] { b.run_job(job); };
  npuvp::sim::run_to_end();
  std::ostringstream os;
  rec.write(os);
  const std::string vcd = os.str();
  const auto busy = traced(vcd, "busy", sc_core::SC_ZERO_TIME);
  ASSERT_EQ(busy.size(), 2u) << vcd;
  const sc_time start = kCycle * busy[0].first;
  using S = ClusterStall;
  auto v = [](S s) { return static_cast<std::uint64_t>(s); };
  EXPECT_EQ(traced(vcd, "stall", start),
            (std::vector<std::pair<double, std::uint64_t>>{{0, v(S::kWeights)},
                                                           {4 * kL, v(S::kInputs)},
                                                           {5 * kL, v(S::kNone)},
                                                           {5 * kL + kWsCycles, v(S::kResults)},
                                                           {10 * kL + kWsCycles, v(S::kNone)}}));
  EXPECT_EQ(traced(vcd, "busy", start),
            (std::vector<std::pair<double, std::uint64_t>>{{0, 1}, {10 * kL + kWsCycles, 0}}));
  const auto irq = traced(vcd, "irq", start);
  ASSERT_EQ(irq.size(), 2u);
  EXPECT_EQ(irq[0], std::make_pair(10 * kL + kWsCycles, std::uint64_t{1}));
  EXPECT_EQ(irq[1].second, 0u) << "acknowledged";
}

// With operands at once and ports narrower than the schedule, the job waits
// on the ports from the schedule's end (470) to the stretched end (7300).
TEST(PeCluster, TheStallSignalShowsTheBufferPorts) {
  PeClusterConfig config;
  config.rf_entries = 1;
  config.buffer_port_bytes = 2;
  ClusterBench b(config);
  trace::VcdRecorder rec;
  b.cluster.attach_trace(rec);
  const ClusterJob job = conv3x3(Dataflow::kWeightStationary);
  fill_operands(b.sram, job, 7);
  b.body = [&] { b.run_job(job); };
  npuvp::sim::run_to_end();
  std::ostringstream os;
  rec.write(os);
  const auto busy = traced(os.str(), "busy", sc_core::SC_ZERO_TIME);
  ASSERT_EQ(busy.size(), 2u);
  EXPECT_EQ(traced(os.str(), "stall", kCycle * busy[0].first),
            (std::vector<std::pair<double, std::uint64_t>>{
                {static_cast<double>(kWsCycles), static_cast<std::uint64_t>(ClusterStall::kBufferPort)},
                {7300, static_cast<std::uint64_t>(ClusterStall::kNone)}}));
}

TEST(PeCluster, NarrowResultsLeaveTheRestOfEachPixelAlone) {
  // 1x1 convolution, 2 filters into pixels 4 bytes apart: filter 0 copies
  // channel 0, filter 1 negates channel 1, both add a bias of 3. The
  // multiplier 2^30 with shift 1 requantizes x to x.
  ClusterBench b;
  ClusterJob j = conv3x3(Dataflow::kWeightStationary);
  j.in_h = 2, j.in_w = 3, j.in_row_pitch = 3 * 4;
  j.kernel_h = j.kernel_w = 1;
  j.out_h = 2, j.out_w = 3, j.k_count = 2, j.group_out = 2;
  j.out_pixel_pitch = 4, j.out_row_pitch = 3 * 4;
  const std::int8_t tile[24] = {10,  20,  30, 40, -5,   6,    7, 8, 100, -100, 0, 0,
                                127, 127, 1,  1,  -128, -128, 2, 2, 0,   1,    2, 3};
  const std::int8_t weights[8] = {1, 0, 0, 0, 0, -1, 0, 0};
  const std::int32_t bias[2] = {3, 3};
  const RequantEntry requant[2] = {{1 << 30, 1}, {1 << 30, 1}};
  b.sram.write(kIn, tile, sizeof tile);
  b.sram.write(kWeights, weights, sizeof weights);
  b.sram.write(kBias, bias, sizeof bias);
  b.sram.write(kRequant, requant, sizeof requant);
  const std::vector<std::uint8_t> untouched(24, 0xEE);
  b.sram.write(kOut, untouched.data(), untouched.size());
  b.body = [&] { EXPECT_EQ(b.run_job(j).irq, kIrqDone); };
  npuvp::sim::run_to_end();
  std::int8_t out[24];
  b.sram.read(kOut, out, sizeof out);
  const auto e = static_cast<std::int8_t>(0xEE);
  const std::int8_t expected[24] = {13,  -17,  e, e, -2,   -3,  e, e, 103, 103, e, e,
                                    127, -124, e, e, -125, 127, e, e, 3,   2,   e, e};
  EXPECT_EQ(std::vector<std::int8_t>(out, out + 24), std::vector<std::int8_t>(expected, expected + 24));
}

// Cluster 1 of a job table, with room for a second job: it fetches its job
// at JOB_ADDR + 192, runs a job started while it is busy right after the
// first, ignores a third START while it holds two, and writes each job's
// completion word before its IRQ.
TEST(PeCluster, AStartWhileBusyIsQueuedAndATableStartFetchesTheClustersSlot) {
  PeClusterConfig config;
  config.job_queue_depth = 2;
  config.index = 1;
  ClusterBench b(config);
  constexpr std::uint32_t kTable = kSram + 0x6000, kSecond = kSram + 0x7000, kWords = kSram + 0x5000;
  ClusterJob first = conv3x3(Dataflow::kWeightStationary);
  const std::vector<std::int8_t> expected = fill_operands(b.sram, first, 11);
  first.status_addr = kWords;
  ClusterJob second = first;
  second.flags = 0;  // the weights stay
  second.out_addr = kOut + 0x800;
  second.status_addr = kWords + 4;
  b.body = [&] {
    b.sram.write(kTable + sizeof(ClusterJob), &first, sizeof first);
    b.sram.write(kSecond, &second, sizeof second);
    b.cp.write32(reg::kJobAddr, kTable);
    b.cp.write32(reg::kCtrl, kCtrlStartTable);
    b.cp.write32(reg::kJobAddr, kSecond);
    b.cp.write32(reg::kCtrl, kCtrlStart);
    b.cp.write32(reg::kCtrl, kCtrlStart);  // a third: no room
    b.cp.sync();
    EXPECT_EQ(b.cp.read32(reg::kClusterId), 1u);
    ASSERT_TRUE(b.irq.wait_high(sc_time(1, sc_core::SC_MS)));
    // The first START lands after the one-cycle JOB_ADDR write.
    EXPECT_EQ(sc_core::sc_time_stamp(), kCycle * static_cast<double>(1 + kWsCycles));
    std::uint32_t words[2] = {};
    b.sram.read(kWords, words, sizeof words);
    EXPECT_EQ(words[0], kJobStatusDone);
    EXPECT_EQ(words[1], 0u);
    b.cp.write32(reg::kIrq, kIrqDone);
    ASSERT_TRUE(b.irq.wait_high(sc_time(1, sc_core::SC_MS)));
    // Back to back: the second job ends one schedule after the first.
    EXPECT_EQ(sc_core::sc_time_stamp(), kCycle * static_cast<double>(1 + 2 * kWsCycles));
    b.sram.read(kWords, words, sizeof words);
    EXPECT_EQ(words[1], kJobStatusDone);
    EXPECT_EQ(b.cp.read32(reg::kJobsDone), 2u);
    EXPECT_EQ(b.cp.read32(reg::kStatus), 0u);
  };
  npuvp::sim::run_to_end();
  for (const std::uint32_t out : {kOut, kOut + 0x800}) {
    std::vector<std::int8_t> got(expected.size());
    b.sram.read(out, got.data(), got.size());
    EXPECT_EQ(got, expected);
  }
  EXPECT_EQ(b.cluster.stats().jobs, 2u);
}

// kJobKeepInput: the second job reads the tile the first loaded from the
// input buffer. With every access taking L = 10 cycles the first job is
// OperandLatencyIsStallOnTopOfTheSchedule's 10L + 470; the second fetches
// its job, weights, bias and requantization (4L), starts at once, and writes
// its 5 result rows (5L): 9L + 470, and none of the tile's 7 x 28 bytes
// crosses the port or is written into the input buffer again.
TEST(PeCluster, AJobThatKeepsItsInputTileFetchesNoRowsAndStaysExact) {
  constexpr std::uint64_t kL = 10;
  ClusterBench b({}, kCycle * static_cast<double>(kL));
  const ClusterJob first = conv3x3(Dataflow::kWeightStationary);
  const std::vector<std::int8_t> expected = fill_operands(b.sram, first, 5);
  ClusterJob kept = first;
  kept.flags |= kJobKeepInput;
  kept.out_addr = kOut + 0x800;
  b.body = [&] {
    EXPECT_EQ(b.run_job(first).took, kCycle * static_cast<double>(10 * kL + kWsCycles));
    const JobResult r = b.run_job(kept);
    EXPECT_EQ(r.irq, kIrqDone);
    EXPECT_EQ(r.took, kCycle * static_cast<double>(9 * kL + kWsCycles));
  };
  npuvp::sim::run_to_end();
  for (const std::uint32_t out : {kOut, kOut + 0x800}) {
    std::vector<std::int8_t> got(expected.size());
    b.sram.read(out, got.data(), got.size());
    EXPECT_EQ(got, expected);
  }
  const auto& s = b.cluster.stats();
  EXPECT_EQ(s.operand_read_bytes, 2 * (576u + 16u * 12u) + 7u * 28u);
  EXPECT_EQ(s.input_buffer_write_bytes - s.psum_bytes, 7u * 28u);
}

// A kept tile must be the one the input buffer holds: before any load, after
// a load of another tile, or of the same address with another row pitch the
// job ends with kInputNotResident; on a pooling job the flag is invalid.
TEST(PeCluster, KeepingATileTheInputBufferDoesNotHoldIsAnError) {
  ClusterBench b;
  const ClusterJob loads = conv3x3(Dataflow::kOutputStationary);
  fill_operands(b.sram, loads, 9);
  ClusterJob kept = loads;
  kept.flags |= kJobKeepInput;
  b.body = [&] {
    JobResult r = b.run_job(kept);
    EXPECT_EQ(r.irq, kIrqError);
    EXPECT_EQ(r.status >> 8, static_cast<std::uint32_t>(JobError::kInputNotResident));
    EXPECT_EQ(b.run_job(loads).irq, kIrqDone);
    ClusterJob elsewhere = kept;
    elsewhere.in_addr += 64;
    EXPECT_EQ(b.run_job(elsewhere).status >> 8, static_cast<std::uint32_t>(JobError::kInputNotResident));
    ClusterJob wider = kept;
    wider.in_row_pitch += 4;
    EXPECT_EQ(b.run_job(wider).status >> 8, static_cast<std::uint32_t>(JobError::kInputNotResident));
    ClusterJob pool = kept;
    pool.op = static_cast<std::uint32_t>(JobOp::kMaxPool);
    pool.flags = kJobKeepInput;
    pool.k_count = 4, pool.out_pixel_pitch = 4, pool.out_row_pitch = 5 * 4;
    EXPECT_EQ(b.run_job(pool).status >> 8, static_cast<std::uint32_t>(JobError::kInvalid));
    EXPECT_EQ(b.run_job(kept).irq, kIrqDone);  // the tile loaded is still held
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cluster.stats().errors, 4u);
  EXPECT_EQ(b.cluster.stats().jobs, 2u);
}

// A fully connected job's reduction (2 pixels, 64 input channels, 8 filters)
// split over two jobs: the first reads channels 0-23 and holds its sums
// (kJobHoldSums), writing nothing; the second reads channels 24-63 with its
// own weights, starts from them (kJobAccumulate) and writes the unsplit job's
// outputs. Output stationary holds the sums in its PEs, weight stationary
// where it spills its partial sums; each pair gives the same bits.
TEST(PeCluster, AReductionSplitOverTwoJobsHoldsItsSums) {
  ClusterBench b;
  ClusterJob whole{};
  whole.op = static_cast<std::uint32_t>(JobOp::kConv2d);
  whole.flags = kJobLoadWeights;
  whole.dataflow = static_cast<std::uint32_t>(Dataflow::kOutputStationary);
  whole.in_addr = kIn, whole.in_h = 1, whole.in_w = 2, whole.in_c = 64, whole.in_row_pitch = 2 * 64;
  whole.out_addr = kOut, whole.out_h = 1, whole.out_w = 2, whole.k_count = 8;
  whole.out_pixel_pitch = 8, whole.out_row_pitch = 2 * 8;
  whole.weights_addr = kWeights, whole.bias_addr = kBias, whole.requant_addr = kRequant;
  whole.kernel_h = whole.kernel_w = whole.stride_h = whole.stride_w = whole.dilation_h = whole.dilation_w = 1;
  whole.act_min = -128, whole.act_max = 127, whole.input_zero_point = 3;
  whole.group_in = 64, whole.group_out = 8;
  const std::vector<std::int8_t> expected = fill_operands(b.sram, whole, 23);
  std::vector<std::int8_t> weights(8 * 64);
  b.sram.read(kWeights, weights.data(), weights.size());
  ClusterJob first = whole, second = whole;
  first.group_in = 24, first.flags |= kJobHoldSums;
  second.group_in = 40, second.in_channel_offset = 24, second.flags |= kJobAccumulate;
  second.weights_addr = kWeights + 0x400;
  for (std::uint32_t k = 0; k < 8; ++k) {
    b.sram.write(kWeights + k * 24, &weights[k * 64], 24);
    b.sram.write(kWeights + 0x400 + k * 40, &weights[k * 64 + 24], 40);
  }
  const std::vector<std::int8_t> untouched(expected.size(), 0x5A);
  b.sram.write(kOut, untouched.data(), untouched.size());
  std::vector<std::int8_t> after_first(expected.size());
  ClusterJob ws_first = first, ws_second = second;
  for (ClusterJob* j : {&ws_first, &ws_second}) {
    j->dataflow = static_cast<std::uint32_t>(Dataflow::kWeightStationary);
    j->out_addr = kOut + 0x100;
  }
  b.body = [&] {
    EXPECT_EQ(b.run_job(first).irq, kIrqDone);
    b.sram.read(kOut, after_first.data(), after_first.size());
    EXPECT_EQ(b.run_job(second, kJobAt + 0x100).irq, kIrqDone);
    EXPECT_EQ(b.run_job(ws_first).irq, kIrqDone);
    EXPECT_EQ(b.run_job(ws_second, kJobAt + 0x100).irq, kIrqDone);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(after_first, untouched);  // the held sums are not written
  for (const std::uint32_t out : {kOut, kOut + 0x100}) {
    std::vector<std::int8_t> got(expected.size());
    b.sram.read(out, got.data(), got.size());
    EXPECT_EQ(got, expected) << std::hex << out;
  }
  EXPECT_EQ(b.cluster.stats().result_write_bytes, 2u * 2u * 8u);
}

// Held sums are for the next job alone, and only for one of their shape:
// kJobAccumulate with none held, after a job that did not hold them, or with
// another k_count ends with kSumsNotHeld; a split whose channels pass the
// array's columns, or with an epilogue fused, is invalid.
TEST(PeCluster, AccumulatingWithoutHeldSumsOfItsShapeIsAnError) {
  ClusterBench b;
  ClusterJob hold = conv3x3(Dataflow::kOutputStationary);
  hold.in_h = 3, hold.in_w = 4, hold.in_row_pitch = 4 * 4;  // 1 x 2 outputs of 8 channels
  hold.out_h = 1, hold.out_w = 2, hold.k_count = 8, hold.group_out = 8;
  hold.out_pixel_pitch = 8, hold.out_row_pitch = 16;
  fill_operands(b.sram, hold, 5);
  hold.flags |= kJobHoldSums;
  ClusterJob accumulate = hold;
  accumulate.flags = kJobLoadWeights | kJobAccumulate;
  const auto error = [&](const ClusterJob& j) { return b.run_job(j).status >> 8; };
  const auto sums_not_held = static_cast<std::uint32_t>(JobError::kSumsNotHeld);
  b.body = [&] {
    EXPECT_EQ(error(accumulate), sums_not_held);
    EXPECT_EQ(error(hold), 0u);
    ClusterJob plain = hold;
    plain.flags = kJobLoadWeights;
    EXPECT_EQ(error(plain), 0u);
    EXPECT_EQ(error(accumulate), sums_not_held);  // the plain job discarded them
    EXPECT_EQ(error(hold), 0u);
    ClusterJob fewer = accumulate;
    fewer.k_count = fewer.group_out = fewer.out_pixel_pitch = 4;
    EXPECT_EQ(error(fewer), sums_not_held);
    ClusterJob wide = hold;
    wide.k_count = wide.group_out = wide.out_pixel_pitch = 16, wide.out_row_pitch = 32;
    EXPECT_EQ(error(wide), static_cast<std::uint32_t>(JobError::kInvalid));
    ClusterJob fused = hold;
    fused.fuse = kJobFuseAdd, fused.in2_pixel_pitch = 8;
    EXPECT_EQ(error(fused), static_cast<std::uint32_t>(JobError::kInvalid));
    EXPECT_EQ(error(hold), 0u);
    EXPECT_EQ(error(accumulate), 0u);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cluster.stats().errors, 5u);
}

TEST(PeCluster, BadJobsEndWithTheirErrorCode) {
  PeClusterConfig config;
  config.weight_buffer_bytes = 512;  // the 3x3 job's 576 bytes of weights do not fit
  ClusterBench b(config);
  b.body = [&] {
    ClusterJob good = conv3x3(Dataflow::kWeightStationary);
    JobResult r = b.run_job(good, kJobAt + 32);  // not 64-byte aligned
    EXPECT_EQ(r.irq, kIrqError);
    EXPECT_EQ(r.status >> 8, static_cast<std::uint32_t>(JobError::kFetch));
    r = b.run_job(good);
    EXPECT_EQ(r.status >> 8, static_cast<std::uint32_t>(JobError::kWeightBuffer));
    ClusterJob bad_op = good;
    bad_op.op = 9;
    EXPECT_EQ(b.run_job(bad_op).status >> 8, static_cast<std::uint32_t>(JobError::kInvalid));
    ClusterJob outside = good;
    outside.kernel_h = outside.kernel_w = 1, outside.out_h = outside.out_w = 7;
    outside.out_row_pitch = 7 * 16;
    outside.in_addr = kSram + kSramBytes - 64;  // the tile runs past the memory
    r = b.run_job(outside);
    EXPECT_EQ(r.irq, kIrqError);
    EXPECT_EQ(r.status >> 8, static_cast<std::uint32_t>(JobError::kOperandRead));
    EXPECT_EQ(b.cp.read32(reg::kJobsDone), 0u);
  };
  npuvp::sim::run_to_end();
  EXPECT_EQ(b.cluster.stats().errors, 4u);
  EXPECT_EQ(b.cluster.stats().jobs, 0u);
}

}  // namespace
}  // namespace npuvp::pe_array
