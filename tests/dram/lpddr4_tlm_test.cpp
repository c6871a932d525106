// The TLM-2.0 target: data, exact delays, error responses, debug transport,
// DMI, concurrent loosely-timed initiators, statistics, energy and traces.
#include <functional>
#include <memory>
#include <sstream>
#include <vector>

#include <gtest/gtest.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>
#include <tlm>

#include "models/common/sim_control.h"
#include "models/common/vcd_recorder.h"
#include "models/dram/lpddr4.h"
#include "models/dram/protocol_checker.h"
#include "tests/dram/dram_test_util.h"
#include "tests/support/bench.h"

namespace npuvp::dram {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;
using testing::config_of;

// Runs a script in an SC_THREAD against the bench initiator's socket.
class Initiator : public npuvp::testing::Initiator {
 public:
  using Script = std::function<void(Initiator&)>;

  SC_HAS_PROCESS(Initiator);
  Initiator(const sc_core::sc_module_name& name, Script script)
      : npuvp::testing::Initiator(name), script_(std::move(script)) {
    SC_THREAD(run);
  }
  tlm::tlm_response_status access(tlm::tlm_command command, std::uint64_t address, std::uint8_t* data, unsigned length,
                                  sc_time& delay, std::uint8_t* byte_enables = nullptr, unsigned byte_enable_length = 0,
                                  unsigned streaming_width = 0) {
    return transport(command, address, data, length, delay, byte_enables, byte_enable_length, streaming_width);
  }

 private:
  void run() { script_(*this); }
  Script script_;
};

// Funnels several initiators into the DRAM's single target socket, as the
// system interconnect does.
class Funnel : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Funnel> target_socket;
  tlm_utils::simple_initiator_socket<Funnel> initiator_socket;

  explicit Funnel(const sc_core::sc_module_name& name)
      : sc_module(name), target_socket("target_socket"), initiator_socket("initiator_socket") {
    target_socket.register_b_transport(this, &Funnel::b_transport);
  }

 private:
  void b_transport(int, tlm::tlm_generic_payload& gp, sc_time& delay) { initiator_socket->b_transport(gp, delay); }
};

sc_time cycles(const Memspec& s, std::uint64_t n) { return sc_time(double(n) * s.tck_ns, SC_NS); }

TEST(Lpddr4Tlm, ReadDelayIsTheUnloadedLatencyPlusTheAnnotatedDelay) {
  const DramConfig config = config_of("configs/dram/lpddr4-3200.yaml", 4);
  const Memspec& s = config.memspec;
  Lpddr4 dram("dram", config);
  ProtocolChecker checker(s, config.channels);
  dram.attach_observer(checker);
  bool ran = false;
  Initiator cpu("cpu", [&](Initiator& i) {
    std::uint8_t buf[32];
    const sc_time closed = cycles(s, s.act2_edge() + s.trcd + s.read_data_end());
    sc_time delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(i.access(tlm::TLM_READ_COMMAND, 0, buf, 32, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(delay, closed);
    // Arrival is now + delay: an access annotated 1 µs ahead completes 1 µs later.
    delay = sc_time(1, sc_core::SC_US);
    EXPECT_EQ(i.access(tlm::TLM_READ_COMMAND, 256, buf, 32, delay), tlm::TLM_OK_RESPONSE);  // channel 1
    EXPECT_EQ(delay, sc_time(1, sc_core::SC_US) + closed);
    wait(delay);
    // Same row again: a row hit.
    delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(i.access(tlm::TLM_READ_COMMAND, 32, buf, 32, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(delay, cycles(s, s.read_data_end()));
    ran = true;
  });
  cpu.socket.bind(dram.target_socket);
  npuvp::sim::run_to_end();
  EXPECT_TRUE(ran);
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
  EXPECT_EQ(dram.stats().read_requests, 3u);
}

TEST(Lpddr4Tlm, DataIsStoredWithByteEnablesAndLargeBursts) {
  const DramConfig config = config_of("configs/dram/lpddr4x-4266.yaml", 4);
  Lpddr4 dram("dram", config);
  Initiator dma("dma", [&](Initiator& i) {
    std::vector<std::uint8_t> out(4096), in(4096);
    for (std::size_t k = 0; k < out.size(); ++k) out[k] = std::uint8_t(k * 7 + 3);
    sc_time delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(i.access(tlm::TLM_WRITE_COMMAND, 0x10010, out.data(), 4096, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_GT(delay, sc_core::SC_ZERO_TIME);
    wait(delay);
    delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(i.access(tlm::TLM_READ_COMMAND, 0x10010, in.data(), 4096, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(in, out);
    // Byte enables: only enabled bytes change.
    std::uint8_t pattern[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    std::uint8_t be[4] = {TLM_BYTE_ENABLED, TLM_BYTE_DISABLED, TLM_BYTE_ENABLED, TLM_BYTE_DISABLED};
    EXPECT_EQ(i.access(tlm::TLM_WRITE_COMMAND, 0x10010, pattern, 8, delay, be, 4), tlm::TLM_OK_RESPONSE);
    std::uint8_t back[8] = {};
    EXPECT_EQ(i.access(tlm::TLM_READ_COMMAND, 0x10010, back, 8, delay), tlm::TLM_OK_RESPONSE);
    for (int k = 0; k < 8; ++k) EXPECT_EQ(back[k], (k % 2 == 0) ? pattern[k] : out[k]) << k;
  });
  dma.socket.bind(dram.target_socket);
  npuvp::sim::run_to_end();
  EXPECT_EQ(dram.stats().write_bytes, 4096u + 8u);
}

TEST(Lpddr4Tlm, ErrorsGetTheRightResponseAndNoDelay) {
  const DramConfig config = config_of();
  Lpddr4 dram("dram", config);
  Initiator cpu("cpu", [&](Initiator& i) {
    std::uint8_t buf[16] = {};
    std::uint8_t be[1] = {TLM_BYTE_ENABLED};
    const sc_time before(5, SC_NS);
    sc_time delay = before;
    const std::uint64_t end = config.backing_bytes;
    EXPECT_EQ(i.access(tlm::TLM_READ_COMMAND, end, buf, 4, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(i.access(tlm::TLM_WRITE_COMMAND, end - 8, buf, 16, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(i.access(tlm::TLM_IGNORE_COMMAND, 0, buf, 4, delay), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(i.access(tlm::TLM_READ_COMMAND, 0, buf, 16, delay, nullptr, 0, 4), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(i.access(tlm::TLM_READ_COMMAND, 0, buf, 16, delay, be, 0), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    EXPECT_EQ(delay, before);
  });
  cpu.socket.bind(dram.target_socket);
  npuvp::sim::run_to_end();
  EXPECT_EQ(dram.stats().read_requests + dram.stats().write_requests, 0u);
}

TEST(Lpddr4Tlm, DebugTransportAndDmiSeeTheSameBytes) {
  DramConfig config = config_of();
  Lpddr4 dram("dram", config);
  Initiator loader("loader", [&](Initiator& i) {
    std::uint8_t text[4] = {0xde, 0xad, 0xbe, 0xef};
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_WRITE_COMMAND);
    gp.set_address(0x200);
    gp.set_data_ptr(text);
    gp.set_data_length(4);
    gp.set_streaming_width(4);
    EXPECT_EQ(i.socket->transport_dbg(gp), 4u);
    tlm::tlm_dmi dmi;
    gp.set_command(tlm::TLM_READ_COMMAND);
    ASSERT_TRUE(i.socket->get_direct_mem_ptr(gp, dmi));
    EXPECT_TRUE(dmi.is_read_write_allowed());
    // The region granted is the store's chunk holding the address.
    EXPECT_EQ(dmi.get_start_address(), 0u);
    EXPECT_EQ(dmi.get_end_address(), BackingStore::kChunkBytes - 1);
    EXPECT_EQ(dmi.get_dmi_ptr()[0x203], 0xef);
    dmi.get_dmi_ptr()[0x204] = 0x42;
    std::uint8_t b = 0;
    sc_time delay = sc_core::SC_ZERO_TIME;
    EXPECT_EQ(i.access(tlm::TLM_READ_COMMAND, 0x204, &b, 1, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b, 0x42);
    // A later chunk's region, and its bytes where the store holds them.
    const std::uint64_t later = 3 * BackingStore::kChunkBytes + 5;
    gp.set_address(later);
    ASSERT_TRUE(i.socket->get_direct_mem_ptr(gp, dmi));
    EXPECT_EQ(dmi.get_start_address(), 3 * BackingStore::kChunkBytes);
    EXPECT_EQ(dmi.get_end_address(), 4 * BackingStore::kChunkBytes - 1);
    dmi.get_dmi_ptr()[5] = 0x17;
    EXPECT_EQ(i.access(tlm::TLM_READ_COMMAND, later, &b, 1, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(b, 0x17);
    gp.set_address(config.backing_bytes);
    EXPECT_FALSE(i.socket->get_direct_mem_ptr(gp, dmi));
    // Debug accesses are not timed and leave the statistics alone.
    EXPECT_EQ(dram.stats().read_requests, 2u);
  });
  loader.socket.bind(dram.target_socket);
  npuvp::sim::run_to_end();
}

// Two loosely-timed initiators (a DMA engine and a CPU) with local time
// offsets, calling into the same DRAM in the same delta cycles.
TEST(Lpddr4Tlm, ConcurrentLooselyTimedInitiatorsGetConsistentTimes) {
  const DramConfig config = config_of("configs/dram/lpddr4x-4266.yaml", 4);
  const Memspec& s = config.memspec;
  Lpddr4 dram("dram", config);
  ProtocolChecker checker(s, config.channels);
  dram.attach_observer(checker);
  const sc_time quantum(200, SC_NS);
  const sc_time fastest = cycles(s, s.read_data_end());
  auto script = [&](std::uint64_t base, unsigned size, int count) {
    return [&, base, size, count](Initiator& i) {
      std::vector<std::uint8_t> buf(size);
      sc_time local = sc_core::SC_ZERO_TIME;
      for (int k = 0; k < count; ++k) {
        const sc_time arrival = sc_core::sc_time_stamp() + local;
        sc_time delay = local;
        ASSERT_EQ(i.access(tlm::TLM_READ_COMMAND, base + std::uint64_t(k) * size, buf.data(), size, delay),
                  tlm::TLM_OK_RESPONSE);
        EXPECT_GE(sc_core::sc_time_stamp() + delay, arrival + fastest);
        local = delay;
        if (local >= quantum) {
          wait(local);
          local = sc_core::SC_ZERO_TIME;
        }
      }
      wait(local);
    };
  };
  Initiator dma("dma", script(0x0, 4096, 50));
  Initiator cpu("cpu", script(0x800000, 64, 500));
  Funnel bus("bus");
  dma.socket.bind(bus.target_socket);
  cpu.socket.bind(bus.target_socket);
  bus.initiator_socket.bind(dram.target_socket);
  npuvp::sim::run_to_end();
  EXPECT_EQ(dram.stats().read_requests, 550u);
  EXPECT_EQ(checker.violation_count(), 0u) << checker.summary();
}

// DramConfig::protocol_check: the wrapper's own checker watches DMA-like
// mixed traffic (strided 2D tile loads, 4 KB write-backs, small descriptor
// reads) from two loosely-timed initiators, with and without write batching.
class ProtocolCheckTraffic : public ::testing::TestWithParam<unsigned> {};

TEST_P(ProtocolCheckTraffic, DmaLikeMixedTrafficHasNoViolation) {
  DramConfig config = config_of("configs/dram/lpddr4x-4266.yaml", 4);
  config.protocol_check = true;
  config.write_high_watermark = GetParam();
  config.write_low_watermark = GetParam() / 4;
  config.per_bank_refresh = GetParam() != 0;
  Lpddr4 dram("dram", config);
  const sc_time quantum(500, SC_NS);
  auto dma = [&](std::uint64_t base, int tiles) {
    return [&, base, tiles](Initiator& i) {
      std::vector<std::uint8_t> buf(4096);
      sc_time local = sc_core::SC_ZERO_TIME;
      auto access = [&](tlm::tlm_command command, std::uint64_t address, unsigned size) {
        sc_time delay = local;
        ASSERT_EQ(i.access(command, address, buf.data(), size, delay), tlm::TLM_OK_RESPONSE);
        local = delay;
        if (local >= quantum) {
          wait(local);
          local = sc_core::SC_ZERO_TIME;
        }
      };
      for (int t = 0; t < tiles; ++t) {
        access(tlm::TLM_READ_COMMAND, base + 0x700000 + std::uint64_t(t % 16) * 64, 64);  // descriptor
        for (int row = 0; row < 16; ++row)  // a 16-row tile of 224-byte lines, 3 KB apart
          access(tlm::TLM_READ_COMMAND, base + std::uint64_t(t) * 224 + std::uint64_t(row) * 3072, 224);
        access(tlm::TLM_WRITE_COMMAND, base + 0x400000 + std::uint64_t(t) * 4096, 4096);  // outputs
      }
      wait(local);
    };
  };
  Initiator a("a", dma(0x0, 120));
  Initiator b("b", dma(0x800000, 120));
  Funnel bus("bus");
  a.socket.bind(bus.target_socket);
  b.socket.bind(bus.target_socket);
  bus.initiator_socket.bind(dram.target_socket);
  npuvp::sim::run_to_end();
  EXPECT_EQ(dram.stats().write_requests, 240u);
  EXPECT_EQ(dram.stats().read_requests, 240u * 17);
  EXPECT_GT(dram.stats().refreshes(), 0u);
  EXPECT_EQ(dram.protocol_violations(), 0u) << dram.protocol_summary();
  const nlohmann::json j = dram.stats_json();
  ASSERT_TRUE(j.contains("timing_violations"));
  EXPECT_EQ(j["timing_violations"], 0);
}

INSTANTIATE_TEST_SUITE_P(WriteBatching, ProtocolCheckTraffic, ::testing::Values(0u, 32u),
                         [](const ::testing::TestParamInfo<unsigned>& info) {
                           return info.param == 0 ? std::string("off") : "high_" + std::to_string(info.param);
                         });

TEST(Lpddr4Tlm, WithoutProtocolCheckThereIsNoCheckerAndNoCount) {
  const DramConfig config = config_of("configs/dram/lpddr4-3200.yaml", 1);
  Lpddr4 dram("dram", config);
  EXPECT_EQ(dram.protocol_violations(), 0u);
  EXPECT_FALSE(dram.stats_json().contains("timing_violations"));
}

TEST(Lpddr4Tlm, StatisticsEnergyAndTrace) {
  const DramConfig config = config_of("configs/dram/lpddr4-3200.yaml", 2);
  const Memspec& s = config.memspec;
  Lpddr4 dram("dram", config);
  trace::VcdRecorder vcd;
  dram.attach_trace(vcd, true);
  double energy_early = 0, energy_late = 0;
  nlohmann::json stats;
  Initiator cpu("cpu", [&](Initiator& i) {
    std::uint8_t buf[64];
    for (int k = 0; k < 100; ++k) {
      sc_time delay = sc_core::SC_ZERO_TIME;
      i.access(k % 3 == 0 ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND, std::uint64_t(k) * 4096, buf, 64, delay);
      wait(delay);
    }
    energy_early = dram.energy_pj();
    wait(sc_time(20, sc_core::SC_US));
    energy_late = dram.energy_pj();
    stats = dram.stats_json();
  });
  cpu.socket.bind(dram.target_socket);
  npuvp::sim::run_to_end();
  // 20 µs more of standby and refresh cost energy.
  const double standby_mw = (s.vdd1_currents.idd2n * s.vdd1 + s.vdd2_currents.idd2n * s.vdd2) * config.channels;
  EXPECT_GT(energy_late - energy_early, standby_mw * 20000 * 0.99);
  EXPECT_NEAR(stats["energy_pj"]["total"].get<double>(), energy_late, 1e-6 * energy_late);
  EXPECT_EQ(stats["read_latency_ns"]["count"], 66);
  EXPECT_EQ(stats["write_latency_ns"]["count"], 34);
  EXPECT_GT(stats["read_latency_ns"]["p99"].get<double>(), 0.0);
  EXPECT_GT(stats["bandwidth_gbps"].get<double>(), 0.0);
  EXPECT_GE(stats["refresh_count"].get<int>(), 2 * 5);  // > 20 µs / tREFI per channel
  EXPECT_EQ(stats["per_bank"].size(), 2u);
  EXPECT_EQ(stats["per_bank"][0].size(), s.banks);
  EXPECT_FALSE(stats["power_mw_over_time"]["samples"].empty());
  std::ostringstream os;
  vcd.write(os);
  const std::string text = os.str();
  EXPECT_NE(text.find("$scope module ch1 $end"), std::string::npos);
  EXPECT_NE(text.find(" bank7 $end"), std::string::npos);
  EXPECT_NE(text.find(" command $end"), std::string::npos);
  EXPECT_GT(vcd.change_count(), 300u);
}

}  // namespace
}  // namespace npuvp::dram
