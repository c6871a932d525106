// MeshNoc as a TLM interconnect: every test elaborates its own little system
// (it runs in a process of its own) and drives it from one SC_THREAD.
#include <cstring>
#include <functional>
#include <sstream>

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "contract/address_map.h"
#include "models/common/sim_control.h"
#include "models/noc/mesh_noc.h"
#include "tests/support/bench.h"

namespace npuvp::noc {
namespace {

using sc_core::SC_NS;
using sc_core::sc_time;

// Memories that answer after a fixed delay, or with a forced status.
using Memory = testing::TlmMemory;

// Runs `body` in a thread with one initiator socket per NoC initiator.
class Driver : public sc_core::sc_module {
 public:
  sc_core::sc_vector<tlm_utils::simple_initiator_socket_tagged<Driver>> initiator_sockets;
  std::vector<std::function<void(Driver&)>> bodies;

  Driver(const sc_core::sc_module_name& name, std::size_t sockets)
      : sc_core::sc_module(name), initiator_sockets("initiator_sockets", sockets) {}

  // Spawned at end of elaboration so every body is registered by then.
  void start_of_simulation() override {
    for (auto& body : bodies) sc_core::sc_spawn([this, &body] { body(*this); });
  }

  tlm::tlm_response_status transfer(std::size_t socket, tlm::tlm_command cmd, std::uint64_t address, std::uint8_t* data,
                                    unsigned length, sc_time& delay, MulticastExtension* multicast = nullptr,
                                    ReadForkExtension* fork = nullptr) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(address);
    gp.set_data_ptr(data);
    gp.set_data_length(length);
    gp.set_streaming_width(length);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    if (multicast != nullptr) gp.set_extension(multicast);
    if (fork != nullptr) gp.set_extension(fork);
    initiator_sockets[socket]->b_transport(gp, delay);
    if (multicast != nullptr) gp.clear_extension(multicast);
    if (fork != nullptr) gp.clear_extension(fork);
    EXPECT_EQ(gp.get_address(), address) << "the NoC must restore the address";
    return gp.get_response_status();
  }
};

// 4x4 mesh at 800 MHz (1.25 ns); initiators at (0,0) and (3,3), memories of
// 64 KiB at (3,2), (1,1), (3,1) and (1,3) with 10 ns latency.
struct System {
  NocConfig config;
  std::unique_ptr<MeshNoc> noc;
  std::unique_ptr<Driver> driver;
  std::vector<std::unique_ptr<Memory>> memories;

  // interleave_bytes > 0: the four memories share one window from
  // kSramBase, interleaved in chunks of that size.
  explicit System(std::uint64_t interleave_bytes = 0) {
    config.initiators = {{"dma", 0, 0}, {"cp", 3, 3}};
    const unsigned xy[4][2] = {{3, 2}, {1, 1}, {3, 1}, {1, 3}};
    for (unsigned i = 0; i < 4; ++i) {
      TargetAttachment t;
      t.name = "mem" + std::to_string(i);
      t.x = xy[i][0];
      t.y = xy[i][1];
      t.base = address_map::kSramBase + (interleave_bytes == 0 ? i * 0x1'0000ull : 0);
      t.size = 0x1'0000;
      t.interleave_bytes = interleave_bytes;
      t.ways = interleave_bytes == 0 ? 1 : 4;
      t.way = interleave_bytes == 0 ? 0 : i;
      config.targets.push_back(t);
    }
    noc = std::make_unique<MeshNoc>("noc", config);
    driver = std::make_unique<Driver>("driver", config.initiators.size());
    for (std::size_t i = 0; i < config.initiators.size(); ++i)
      driver->initiator_sockets[i].bind(noc->target_sockets[i]);
    for (std::size_t i = 0; i < config.targets.size(); ++i) {
      memories.push_back(std::make_unique<Memory>(("mem" + std::to_string(i)).c_str(), 0x1'0000, sc_time(10, SC_NS)));
      noc->initiator_sockets[i].bind(memories.back()->target_socket);
    }
  }
  std::uint64_t base(std::size_t target) const { return config.targets[target].base; }
  // Zero-load cycles of a packet between two attachments.
  Cycle zero_load(const Attachment& a, const Attachment& b, std::uint64_t flits) const {
    const Mesh mesh(config);
    return mesh.zero_load_latency(mesh.node(a.x, a.y), mesh.node(b.x, b.y), flits);
  }
};

const sc_time kCycle(1.25, SC_NS);

TEST(MeshNoc, ZeroLoadTransactionTimeIsRequestPlusTargetPlusResponse) {
  System sys;
  std::vector<std::uint8_t> data(64, 0xab);
  sc_time write_delay, read_delay, late_delay(1, SC_NS), synced_delay;
  sys.driver->bodies.push_back([&](Driver& d) {
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, sys.base(0) + 0x100, data.data(), 64, write_delay),
              tlm::TLM_OK_RESPONSE);
    sc_core::wait(1, sc_core::SC_US);  // let the network empty
    std::vector<std::uint8_t> back(64);
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, sys.base(0) + 0x100, back.data(), 64, read_delay),
              tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(back, data);
    sc_core::wait(1, sc_core::SC_US);
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, sys.base(0), back.data(), 4, late_delay), tlm::TLM_OK_RESPONSE);
    sc_core::wait(1, sc_core::SC_US);
    sys.memories[0]->synchronizes = true;
    const sc_time before = sc_core::sc_time_stamp();
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, sys.base(0) + 0x100, back.data(), 64, synced_delay),
              tlm::TLM_OK_RESPONSE);
    synced_delay += sc_core::sc_time_stamp() - before;
  });
  npuvp::sim::run_to_end();
  // (0,0) -> (3,2): 6 routers of 2 + 1 cycles = 18 cycles for a head; 64 bytes
  // are 2 flits of 32 bytes behind a 1-flit header. Target: 10 ns = 8 cycles.
  // write: request 18 + 3, target 8, response 18 + 1 = 48 cycles;
  // read:  request 18 + 1, target 8, response 18 + 3 = 48 cycles.
  EXPECT_EQ(sys.zero_load(sys.config.initiators[0], sys.config.targets[0], 3), 21u);
  EXPECT_EQ(write_delay, 48 * kCycle);
  EXPECT_EQ(read_delay, 48 * kCycle);
  // Starting 1 ns late the request waits for the next clock edge (1.25 ns):
  // 1 + 18 + 1 (header only) + 8 + 18 + 2 (header + 1 flit of read data).
  EXPECT_EQ(late_delay, 48 * kCycle);
  // A target that waits instead of annotating: the same time in total.
  EXPECT_EQ(synced_delay, 48 * kCycle);
  EXPECT_EQ(sys.noc->stats().packets, 8u);
}

// A responds 300 ns after a request from A (3,0) reaches it at (1,0); B at
// (0,0) writes 1 KiB to F at (2,0) 280 ns in, ready before A's 1 KiB
// response, and both need the link (1,0) east. In ready order B goes first.
struct OrderCase {
  Cycle a_done = 0, b_done = 0, a_zero_load = 0, b_zero_load = 0;
};

OrderCase run_order_case(bool a_awaits) {
  NocConfig config;
  config.initiators = {{"a", 3, 0, a_awaits}, {"b", 0, 0}};
  for (unsigned i = 0; i < 2; ++i) {
    TargetAttachment t;
    t.name = i == 0 ? "slow" : "fast";
    t.x = 1 + i;
    t.base = address_map::kSramBase + i * 0x1'0000ull;
    t.size = 0x1'0000;
    config.targets.push_back(t);
  }
  MeshNoc noc("noc", config);
  Driver driver("driver", 2);
  Memory slow("slow", 0x1'0000, sc_time(300, SC_NS)), fast("fast", 0x1'0000, sc_time(10, SC_NS));
  for (std::size_t i = 0; i < 2; ++i) driver.initiator_sockets[i].bind(noc.target_sockets[i]);
  noc.initiator_sockets[0].bind(slow.target_socket);
  noc.initiator_sockets[1].bind(fast.target_socket);
  std::vector<std::uint8_t> a(1024), b(1024, 7);
  OrderCase c;
  const auto done = [](const sc_time& delay) { return Cycle((sc_core::sc_time_stamp() + delay) / kCycle); };
  driver.bodies.push_back([&](Driver& d) {
    sc_time delay;
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, config.targets[0].base, a.data(), 1024, delay),
              tlm::TLM_OK_RESPONSE);
    c.a_done = done(delay);
  });
  driver.bodies.push_back([&](Driver& d) {
    sc_core::wait(280, SC_NS);
    sc_time delay;
    EXPECT_EQ(d.transfer(1, tlm::TLM_WRITE_COMMAND, config.targets[1].base, b.data(), 1024, delay),
              tlm::TLM_OK_RESPONSE);
    c.b_done = done(delay);
  });
  npuvp::sim::run_to_end();
  const Mesh mesh(config);
  const NodeId a_node = mesh.node(3, 0), b_node = mesh.node(0, 0), slow_node = mesh.node(1, 0),
               fast_node = mesh.node(2, 0);
  // A request of 1 flit, the target's latency, 1 KiB back in 32 flits behind a header.
  c.a_zero_load = mesh.zero_load_latency(a_node, slow_node, 1) + 240 + mesh.zero_load_latency(slow_node, a_node, 33);
  c.b_zero_load =
      224 + mesh.zero_load_latency(b_node, fast_node, 33) + 8 + mesh.zero_load_latency(fast_node, b_node, 1);
  return c;
}

// A's initiator awaits its response, so the NoC times the response a quantum
// before it is ready: B, issued before then, meets an empty link.
TEST(MeshNoc, AnAwaitedResponseIsTimedAmongThePacketsOfItsTime) {
  const OrderCase c = run_order_case(true);
  EXPECT_EQ(c.b_done, c.b_zero_load);
  EXPECT_GT(c.a_done, c.a_zero_load);
}

// Not awaited, the response is booked when the request is served, ahead of
// B, whose flits then wait for it.
TEST(MeshNoc, AResponseNotAwaitedIsBookedWhenItsRequestIsServed) {
  const OrderCase c = run_order_case(false);
  EXPECT_EQ(c.a_done, c.a_zero_load);
  EXPECT_GT(c.b_done, c.b_zero_load);
}

TEST(MeshNoc, ConcurrentLargeTransfersContendForTheTargetPort) {
  System sys;
  std::vector<std::uint8_t> a(32 * 1024, 1), b(32 * 1024, 2);
  sc_time delay_a, delay_b;
  sys.driver->bodies.push_back([&](Driver& d) {
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, sys.base(1), a.data(), a.size(), delay_a), tlm::TLM_OK_RESPONSE);
  });
  sys.driver->bodies.push_back([&](Driver& d) {
    EXPECT_EQ(d.transfer(1, tlm::TLM_WRITE_COMMAND, sys.base(1) + a.size(), b.data(), b.size(), delay_b),
              tlm::TLM_OK_RESPONSE);
  });
  npuvp::sim::run_to_end();
  // Each request is 1 + 1024 flits; both end in (1,1)'s ejection port, so the
  // one timed second waits for the other's 1025 flits to pass there.
  const Cycle alone_a = sys.zero_load(sys.config.initiators[0], sys.config.targets[1], 1025) + 8 +
                        sys.zero_load(sys.config.targets[1], sys.config.initiators[0], 1);
  const Cycle alone_b = sys.zero_load(sys.config.initiators[1], sys.config.targets[1], 1025) + 8 +
                        sys.zero_load(sys.config.targets[1], sys.config.initiators[1], 1);
  const bool a_first = delay_a == alone_a * kCycle;
  EXPECT_TRUE(a_first || delay_b == alone_b * kCycle) << delay_a << " " << delay_b;
  if (a_first)
    EXPECT_GE(delay_b, (alone_b + 1025 - 20) * kCycle) << delay_b;
  else
    EXPECT_GE(delay_a, (alone_a + 1025 - 20) * kCycle) << delay_a;
  EXPECT_EQ(std::memcmp(sys.memories[1]->bytes.data(), a.data(), a.size()), 0);
  EXPECT_EQ(std::memcmp(sys.memories[1]->bytes.data() + a.size(), b.data(), b.size()), 0);
  EXPECT_EQ(sys.noc->stats().flits, 2 * 1025u + 2);
}

TEST(MeshNoc, PayloadBytesAreCountedOnceAndTimesTheRoutersTheyCross) {
  System sys;
  std::vector<std::uint8_t> data(64, 7);
  MulticastExtension both({sys.base(2), sys.base(0)});
  sys.driver->bodies.push_back([&](Driver& d) {
    sc_time delay;
    // A write carries its data to the target: (0,0) -> (3,2), 3 + 2 links,
    // 6 routers.
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, sys.base(0), data.data(), 64, delay), tlm::TLM_OK_RESPONSE);
    // A read's data comes back in the response: (1,1) -> (3,3), 5 routers.
    EXPECT_EQ(d.transfer(1, tlm::TLM_READ_COMMAND, sys.base(1), data.data(), 32, delay), tlm::TLM_OK_RESPONSE);
    // No target: nothing carried.
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, 0x42, data.data(), 8, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // A multicast is injected once and crosses each router of its tree once:
    // X first from (0,0) to (3,0), then up to (3,1), which ejects one copy
    // and passes one to (3,2): routers (0,0), (1,0), (2,0), (3,0), (3,1)
    // twice (two outputs), (3,2).
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, 0, data.data(), 16, delay, &both), tlm::TLM_OK_RESPONSE);
  });
  npuvp::sim::run_to_end();
  stats::Counters c;
  sys.noc->sample(c, sc_core::sc_time_stamp());
  EXPECT_EQ(c[stats::Counter::kNocBytes], 64 + 32 + 16);
  EXPECT_EQ(c[stats::Counter::kNocByteHops], 64 * 6 + 32 * 5 + 16 * 7);
}

TEST(MeshNoc, UnmappedAddressIsAnAddressErrorAndReachesNoTarget) {
  System sys;
  sys.driver->bodies.push_back([&](Driver& d) {
    std::uint8_t buf[8] = {};
    sc_time delay(5, SC_NS);
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, 0x42, buf, 8, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(delay, sc_time(5, SC_NS));
    // Straddling the end of one window into the next is not one target's access.
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, sys.base(1) - 4, buf, 8, delay), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, sys.base(3) + 0x1'0000, buf, 8, delay),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
  });
  npuvp::sim::run_to_end();
  for (const auto& m : sys.memories) EXPECT_TRUE(m->seen_addresses.empty());
  EXPECT_EQ(sys.noc->stats().packets, 0u);
}

TEST(MeshNoc, TargetResponseStatusAndLocalAddress) {
  System sys;
  sys.memories[2]->forced = tlm::TLM_GENERIC_ERROR_RESPONSE;
  sys.driver->bodies.push_back([&](Driver& d) {
    std::uint8_t buf[4] = {};
    sc_time delay;
    EXPECT_EQ(d.transfer(1, tlm::TLM_READ_COMMAND, sys.base(2) + 0x20, buf, 4, delay), tlm::TLM_GENERIC_ERROR_RESPONSE);
    sys.memories[2]->forced = tlm::TLM_OK_RESPONSE;
    EXPECT_EQ(d.transfer(1, tlm::TLM_READ_COMMAND, sys.base(2) + 0x30, buf, 4, delay), tlm::TLM_OK_RESPONSE);
    sys.memories[2]->forced = tlm::TLM_BURST_ERROR_RESPONSE;
    EXPECT_EQ(d.transfer(1, tlm::TLM_WRITE_COMMAND, sys.base(2) + 0x40, buf, 4, delay), tlm::TLM_BURST_ERROR_RESPONSE);
  });
  npuvp::sim::run_to_end();
  EXPECT_EQ(sys.memories[2]->seen_addresses, (std::vector<std::uint64_t>{0x20, 0x30, 0x40}));
}

TEST(MeshNoc, DebugTransportTranslatesTheAddress) {
  System sys;
  sys.memories[3]->bytes[0x10] = 0x5a;
  sys.driver->bodies.push_back([&](Driver& d) {
    tlm::tlm_generic_payload gp;
    std::uint8_t byte = 0;
    gp.set_command(tlm::TLM_READ_COMMAND);
    gp.set_address(sys.base(3) + 0x10);
    gp.set_data_ptr(&byte);
    gp.set_data_length(1);
    EXPECT_EQ(d.initiator_sockets[0]->transport_dbg(gp), 1u);
    EXPECT_EQ(byte, 0x5a);
    EXPECT_EQ(gp.get_address(), sys.base(3) + 0x10);
    gp.set_address(0x42);
    EXPECT_EQ(d.initiator_sockets[0]->transport_dbg(gp), 0u);
  });
  npuvp::sim::run_to_end();
  EXPECT_EQ(sys.noc->stats().packets, 0u);
}

TEST(MeshNoc, ATransferSpanningInterleavedTargetsLandsByteExactInEach) {
  // Chunks of 64 bytes: window bytes 40..339 are mem0 40..63, mem1 0..63,
  // mem2 0..63, mem3 0..63, mem0 64..127 and mem1 64..83.
  System sys(64);
  std::vector<std::uint8_t> data(300), back(300), dbg(300);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 1);
  sys.driver->bodies.push_back([&](Driver& d) {
    sc_time delay;
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, address_map::kSramBase + 40, data.data(), 300, delay),
              tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(d.transfer(1, tlm::TLM_READ_COMMAND, address_map::kSramBase + 40, back.data(), 300, delay),
              tlm::TLM_OK_RESPONSE);
    tlm::tlm_generic_payload gp;
    gp.set_command(tlm::TLM_READ_COMMAND);
    gp.set_address(address_map::kSramBase + 40);
    gp.set_data_ptr(dbg.data());
    gp.set_data_length(300);
    EXPECT_EQ(d.initiator_sockets[0]->transport_dbg(gp), 300u);
  });
  npuvp::sim::run_to_end();
  struct Piece {
    unsigned memory, offset, from, length;
  };
  for (const Piece p : {Piece{0, 40, 0, 24}, Piece{1, 0, 24, 64}, Piece{2, 0, 88, 64}, Piece{3, 0, 152, 64},
                        Piece{0, 64, 216, 64}, Piece{1, 64, 280, 20}})
    for (unsigned i = 0; i < p.length; ++i)
      ASSERT_EQ(sys.memories[p.memory]->bytes[p.offset + i], data[p.from + i]) << "memory " << p.memory << " +" << i;
  EXPECT_EQ(sys.memories[0]->bytes[39], 0);
  EXPECT_EQ(sys.memories[1]->bytes[84], 0);
  EXPECT_EQ(back, data);
  EXPECT_EQ(dbg, data);
  // Each piece is a transaction of its own at its memory, write then read.
  EXPECT_EQ(sys.memories[0]->seen_addresses, (std::vector<std::uint64_t>{40, 64, 40, 64}));
  EXPECT_EQ(sys.memories[1]->seen_addresses, (std::vector<std::uint64_t>{0, 64, 0, 64}));
  EXPECT_EQ(sys.memories[3]->seen_addresses, (std::vector<std::uint64_t>{0, 0}));
  // Six pieces each way, a request and a response packet per piece.
  EXPECT_EQ(sys.noc->stats().packets, 24u);
}

TEST(MeshNoc, MulticastDeliversIdenticalBytesAlongTheXyTree) {
  System sys;
  trace::VcdRecorder recorder;
  NocTraceOptions links;
  links.link_busy = true;
  sys.noc->attach_trace(recorder, links);
  std::vector<std::uint8_t> weights(256);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<std::uint8_t>(i * 7 + 3);
  // mem1 (1,1), mem2 (3,1), mem3 (1,3), at different offsets.
  MulticastExtension ext({sys.base(1) + 0x100, sys.base(2) + 0x2000, sys.base(3)});
  sc_time delay;
  sys.driver->bodies.push_back([&](Driver& d) {
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, 0, weights.data(), weights.size(), delay, &ext),
              tlm::TLM_OK_RESPONSE);
    sc_core::wait(1, sc_core::SC_US);
    sc_core::sc_stop();  // end_of_simulation flushes the busy intervals to the trace
  });
  npuvp::sim::run_to_end();
  EXPECT_EQ(std::memcmp(sys.memories[1]->bytes.data() + 0x100, weights.data(), weights.size()), 0);
  EXPECT_EQ(std::memcmp(sys.memories[2]->bytes.data() + 0x2000, weights.data(), weights.size()), 0);
  EXPECT_EQ(std::memcmp(sys.memories[3]->bytes.data(), weights.data(), weights.size()), 0);
  EXPECT_TRUE(sys.memories[0]->seen_addresses.empty());

  // 256 bytes = 8 flits, as packets of at most a buffer (8 flits): 7 flits
  // of data and 1 behind their headers, 10 flits back to back. The farthest
  // destination, (3,1) or (1,3), is 4 links away: 5 * 3 + 10 = 25 cycles,
  // then the memory's 8.
  EXPECT_EQ(delay, (25 + 8) * kCycle);
  // The tree: inject, (0,0)E, (1,0)S, (1,1)eject, (1,0)E, (2,0)E, (3,0)S,
  // (3,1)eject, (1,1)S, (1,2)S, (1,3)eject. Each carries the 10 flits once.
  const NocStats& s = sys.noc->stats();
  std::vector<std::string> used;
  for (const LinkStats& l : s.links) {
    if (l.flits == 0) continue;
    used.push_back(l.name);
    EXPECT_EQ(l.flits, 10u) << l.name;
  }
  EXPECT_EQ(used, (std::vector<std::string>{"r0_0.E", "r1_0.E", "r1_0.S", "r2_0.E", "r3_0.S", "r1_1.S", "r1_1.eject",
                                            "r3_1.eject", "r1_2.S", "r1_3.eject", "r0_0.inject"}));
  EXPECT_EQ(s.packets, 2u);
  EXPECT_EQ(s.multicast_packets, 2u);
  EXPECT_EQ(s.flit_hops, 10u * 10);

  std::ostringstream vcd;
  recorder.write(vcd);
  EXPECT_NE(vcd.str().find("$scope module r1_0 $end"), std::string::npos);
  EXPECT_NE(vcd.str().find("$var wire 1"), std::string::npos);
  EXPECT_NE(vcd.str().find("\n1"), std::string::npos) << "busy intervals recorded";
  EXPECT_NE(vcd.str().find("$var real 64 ! utilization $end"), std::string::npos);
}

TEST(MeshNoc, MulticastErrors) {
  System sys;
  sys.memories[3]->forced = tlm::TLM_ADDRESS_ERROR_RESPONSE;
  sys.driver->bodies.push_back([&](Driver& d) {
    std::uint8_t buf[16] = {1, 2, 3};
    sc_time delay;
    MulticastExtension bad({sys.base(1), 0x42});
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, 0, buf, 16, delay, &bad), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    MulticastExtension none;
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, 0, buf, 16, delay, &none), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    MulticastExtension good({sys.base(1), sys.base(2)});
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, 0, buf, 16, delay, &good), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_TRUE(sys.memories[1]->seen_addresses.empty());
    // The worst of the targets' statuses comes back.
    MulticastExtension with_failing({sys.base(1), sys.base(3), sys.base(2)});
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, 0, buf, 16, delay, &with_failing), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  });
  npuvp::sim::run_to_end();
  EXPECT_EQ(sys.memories[1]->bytes[2], 3);
  EXPECT_EQ(sys.memories[2]->bytes[2], 3);
}

// A window that records when each write lands (its delay added to the time
// it is called at) and keeps the bytes; or answers with `forced`.
struct Recorder : sc_core::sc_module {
  tlm_utils::simple_target_socket<Recorder> socket;
  std::vector<std::uint8_t> bytes = std::vector<std::uint8_t>(0x1000);
  std::vector<std::pair<std::uint64_t, sc_time>> arrivals;
  tlm::tlm_response_status forced = tlm::TLM_OK_RESPONSE;

  explicit Recorder(const sc_core::sc_module_name& name) : sc_core::sc_module(name), socket("socket") {
    socket.register_b_transport(this, &Recorder::b_transport);
  }
  void b_transport(tlm::tlm_generic_payload& gp, sc_time& delay) {
    gp.set_response_status(forced);
    if (forced != tlm::TLM_OK_RESPONSE) return;
    std::memcpy(bytes.data() + gp.get_address(), gp.get_data_ptr(), gp.get_data_length());
    arrivals.emplace_back(gp.get_address(), sc_core::sc_time_stamp() + delay);
  }
};

// An initiator at (0,0), a memory at (3,2) (10 ns) and two recording windows
// at (1,1) and (1,3), where a forked read response lands.
struct ForkSystem {
  NocConfig config;
  std::unique_ptr<MeshNoc> noc;
  std::unique_ptr<Driver> driver;
  std::unique_ptr<Memory> memory;
  std::unique_ptr<Recorder> windows[2];
  static constexpr std::uint64_t kWindow[2] = {0x2800'0000, 0x2820'0000};

  explicit ForkSystem(unsigned buffer_flits = 8) {
    config.buffer_flits = buffer_flits;
    config.initiators = {{"leader", 0, 0}};
    config.targets = {{{"mem", 3, 2}, address_map::kSramBase, 0x1000},
                      {{"fill1", 1, 1}, kWindow[0], 0x1000},
                      {{"fill3", 1, 3}, kWindow[1], 0x1000}};
    noc = std::make_unique<MeshNoc>("noc", config);
    driver = std::make_unique<Driver>("driver", 1);
    driver->initiator_sockets[0].bind(noc->target_sockets[0]);
    memory = std::make_unique<Memory>("mem", 0x1000, sc_time(10, SC_NS));
    noc->initiator_sockets[0].bind(memory->target_socket);
    for (int i = 0; i < 2; ++i) {
      windows[i] = std::make_unique<Recorder>(("window" + std::to_string(i)).c_str());
      noc->initiator_sockets[1 + i].bind(windows[i]->socket);
    }
  }
  // Zero-load cycles of a packet from the memory to the initiator (-1) or window i.
  Cycle from_memory(int to, std::uint64_t flits) const {
    const Mesh mesh(config);
    const Attachment& a = config.targets[0];
    const Attachment& b = to < 0 ? config.initiators[0] : config.targets[1 + to];
    return mesh.zero_load_latency(mesh.node(a.x, a.y), mesh.node(b.x, b.y), flits);
  }
};

TEST(MeshNoc, AForkedReadResponseReachesEveryWindowAlongOneTree) {
  ForkSystem sys;
  std::vector<std::uint8_t> weights(256);
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = static_cast<std::uint8_t>(i * 5 + 1);
  sys.memory->write(0x100, weights.data(), weights.size());
  std::vector<std::uint8_t> got(256);
  ReadForkExtension fork({ForkSystem::kWindow[0] + 0x40, ForkSystem::kWindow[1]});
  sc_time delay;
  sys.driver->bodies.push_back([&](Driver& d) {
    EXPECT_EQ(
        d.transfer(0, tlm::TLM_READ_COMMAND, address_map::kSramBase + 0x100, got.data(), 256, delay, nullptr, &fork),
        tlm::TLM_OK_RESPONSE);
  });
  npuvp::sim::run_to_end();
  EXPECT_EQ(got, weights);
  EXPECT_EQ(std::memcmp(sys.windows[0]->bytes.data() + 0x40, weights.data(), 256), 0);
  EXPECT_EQ(std::memcmp(sys.windows[1]->bytes.data(), weights.data(), 256), 0);
  // The request (a header) reaches the memory at (3,2): 6 routers, 19
  // cycles; the memory answers 8 cycles later; the response (8 flits of
  // data as packets of at most a buffer, 8 + 2 flits back to back) then
  // reaches each node as a lone 10-flit packet would, unloaded: (0,0) 6
  // routers, (1,1) and (1,3) 4 routers each.
  const Cycle ready = sys.from_memory(-1, 1) + 8;
  EXPECT_EQ(sys.from_memory(-1, 1), 19u);
  EXPECT_EQ(delay, (ready + sys.from_memory(-1, 10)) * kCycle);
  ASSERT_EQ(sys.windows[0]->arrivals.size(), 1u);
  ASSERT_EQ(sys.windows[1]->arrivals.size(), 1u);
  EXPECT_EQ(sys.windows[0]->arrivals[0].second, (ready + sys.from_memory(0, 10)) * kCycle);
  EXPECT_EQ(sys.windows[1]->arrivals[0].second, (ready + sys.from_memory(1, 10)) * kCycle);
  EXPECT_EQ(sys.windows[0]->arrivals[0].second, (ready + 4 * 3 + 10) * kCycle);
  // The tree from (3,2): inject, (3,2)W, (2,2)W, (1,2)W, (0,2)N, (0,1)N and
  // (0,0)'s ejection; (1,2)N to (1,1)'s, (1,2)S to (1,3)'s: a hop per
  // channel after the injection, 10 for its 10 flits, where three responses
  // would take 6 + 4 + 4. The request: 1 flit through 6 routers.
  const NocStats& s = sys.noc->stats();
  EXPECT_EQ(s.flit_hops, 10u * 10 + 6);
  EXPECT_EQ(s.multicast_packets, 2u);
  stats::Counters c;
  sys.noc->sample(c, sc_core::sc_time_stamp());
  EXPECT_EQ(c[stats::Counter::kNocBytes], 256);  // injected once, at the memory's node
}

// A tree's copies share each branching router's input buffer, so a multicast
// longer than a buffer can deadlock (docs/noc.md): 1 KiB forked goes as
// packets of at most buffer_flits flits, header included, back to back. With
// 12-flit buffers, 11 flits of data each: 11 + 11 + 10 of the 32.
TEST(MeshNoc, AMulticastGoesAsPacketsOfAtMostABuffer) {
  struct Packets : PacketSink {
    std::vector<PacketRecord> records;
    void packet(const PacketRecord& r) override { records.push_back(r); }
  } packets;
  ForkSystem sys(12);
  sys.noc->record_packets(packets);
  std::vector<std::uint8_t> got(1024);
  ReadForkExtension fork({ForkSystem::kWindow[0], ForkSystem::kWindow[1]});
  sc_time delay;
  sys.driver->bodies.push_back([&](Driver& d) {
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, address_map::kSramBase, got.data(), 1024, delay, nullptr, &fork),
              tlm::TLM_OK_RESPONSE);
  });
  npuvp::sim::run_to_end();
  // The request, then each packet's copy to the initiator and both windows.
  ASSERT_EQ(packets.records.size(), 1u + 3 * 3);
  EXPECT_EQ(packets.records[0].multicast, 0u);
  const std::uint64_t flits[] = {12, 12, 11};
  for (std::size_t k = 0; k < 3; ++k)
    for (std::size_t d = 0; d < 3; ++d) {
      const PacketRecord& r = packets.records[1 + 3 * k + d];
      EXPECT_EQ(r.flits, flits[k]) << "packet " << k;
      EXPECT_EQ(r.multicast, k + 1) << "packet " << k;
      EXPECT_EQ(r.ready, packets.records[1].ready) << "packet " << k;
    }
  // Unloaded, the last packet's tail follows the first's head as one stream
  // of 35 flits would: (0,0) is 6 routers from the memory.
  const Cycle ready = packets.records[1].ready;
  EXPECT_EQ(delay, (ready + sys.from_memory(-1, 35)) * kCycle);
  EXPECT_EQ(sys.noc->stats().multicast_packets, 3u);
}

TEST(MeshNoc, ForkedReadErrors) {
  ForkSystem sys;
  sys.windows[1]->forced = tlm::TLM_ADDRESS_ERROR_RESPONSE;
  sys.driver->bodies.push_back([&](Driver& d) {
    std::uint8_t buf[16] = {};
    sc_time delay;
    const std::uint64_t mem = address_map::kSramBase;
    ReadForkExtension unmapped({ForkSystem::kWindow[0], 0x42});
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, mem, buf, 16, delay, nullptr, &unmapped),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
    // A window must hold the whole response from where it lands.
    ReadForkExtension short_window({ForkSystem::kWindow[0] + 0x1000 - 8});
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, mem, buf, 16, delay, nullptr, &short_window),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
    ReadForkExtension none;
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, mem, buf, 16, delay, nullptr, &none),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_TRUE(sys.memory->seen_addresses.empty()) << "nothing leaves before the fork is checked";
    ReadForkExtension good({ForkSystem::kWindow[0]});
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, mem, buf, 16, delay, nullptr, &good),
              tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_TRUE(sys.memory->seen_addresses.empty());
    // A copy refused: the initiator hears of it, its own data still arrives.
    sys.memory->write(0, "forked", 6);
    ReadForkExtension refused({ForkSystem::kWindow[0], ForkSystem::kWindow[1]});
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, mem, buf, 16, delay, nullptr, &refused),
              tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(std::memcmp(buf, "forked", 6), 0);
  });
  npuvp::sim::run_to_end();
  EXPECT_EQ(std::memcmp(sys.windows[0]->bytes.data(), "forked", 6), 0);
}

TEST(MeshNoc, AForkedReadSplitOverBanksCopiesEachPieceToItsPlace) {
  // The source interleaved over two memories in 64-byte chunks: a read of
  // 256 bytes from 0x20 goes out in five pieces, each forked into the window
  // as far on as the piece lies into the read.
  NocConfig config;
  config.initiators = {{"leader", 0, 0}};
  for (unsigned way = 0; way < 2; ++way) {
    TargetAttachment t;
    t.name = "mem" + std::to_string(way);
    t.x = 3 - way;
    t.y = 2;
    t.base = address_map::kSramBase;
    t.size = 0x1000;
    t.interleave_bytes = 64;
    t.ways = 2;
    t.way = way;
    config.targets.push_back(t);
  }
  config.targets.push_back({{"fill", 1, 1}, ForkSystem::kWindow[0], 0x1000});
  MeshNoc noc("noc", config);
  Driver driver("driver", 1);
  driver.initiator_sockets[0].bind(noc.target_sockets[0]);
  Memory mem0("mem0", 0x1000, sc_time(10, SC_NS)), mem1("mem1", 0x1000, sc_time(10, SC_NS));
  noc.initiator_sockets[0].bind(mem0.target_socket);
  noc.initiator_sockets[1].bind(mem1.target_socket);
  Recorder window("window");
  noc.initiator_sockets[2].bind(window.socket);
  std::vector<std::uint8_t> data(256), got(256);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 3);
  ReadForkExtension fork({ForkSystem::kWindow[0] + 0x40});
  driver.bodies.push_back([&](Driver& d) {
    sc_time delay;
    const std::uint64_t at = address_map::kSramBase + 0x20;
    EXPECT_EQ(d.transfer(0, tlm::TLM_WRITE_COMMAND, at, data.data(), 256, delay), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(d.transfer(0, tlm::TLM_READ_COMMAND, at, got.data(), 256, delay, nullptr, &fork), tlm::TLM_OK_RESPONSE);
  });
  npuvp::sim::run_to_end();
  EXPECT_EQ(got, data);
  EXPECT_EQ(std::memcmp(window.bytes.data() + 0x40, data.data(), 256), 0);
  std::vector<std::uint64_t> landed;
  for (const auto& a : window.arrivals) landed.push_back(a.first);
  EXPECT_EQ(landed, (std::vector<std::uint64_t>{0x40, 0x60, 0xa0, 0xe0, 0x120}));
}

TEST(MeshNoc, InvalidConfigurationNamesTheField) {
  NocConfig c;
  c.buffer_flits = 3;
  try {
    MeshNoc noc("noc", c);
    FAIL() << "accepted a buffer shorter than the credit round trip";
  } catch (const NocConfigError& e) {
    EXPECT_EQ(e.key(), "buffer_flits");
    EXPECT_NE(std::string(e.what()).find("= 4 (the credit round trip) so a link streams one flit per cycle, got 3"),
              std::string::npos)
        << e.what();
  }
  c = NocConfig{};
  c.targets = {{{"a", 4, 0}, 0, 16}};
  EXPECT_THROW(MeshNoc("noc2", c), NocConfigError);
}

}  // namespace
}  // namespace npuvp::noc
