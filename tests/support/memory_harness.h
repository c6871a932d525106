#pragma once
// A test bench for initiator models: a system bus with two memories behind it
// (a "DRAM" window and an NPU-local window), and a thread that plays the
// command processor through its own initiator socket.

#include <cstdint>
#include <functional>
#include <memory>

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <systemc>

#include "contract/address_map.h"
#include "models/interconnect/system_bus.h"
#include "models/sram/sram_bank.h"

namespace npuvp::testing {

inline constexpr std::uint64_t kMemBase = address_map::kDramBase;
inline constexpr std::uint64_t kMemBytes = 1 << 20;
inline constexpr std::uint64_t kLocalBase = address_map::kSramBase;
inline constexpr std::uint64_t kLocalBytes = 256 * 1024;

// Memories and their router; `initiators` sockets to bind the model under test.
struct MemoryHarness {
  explicit MemoryHarness(unsigned initiators, sram::SramBankConfig memory_timing = {}) {
    interconnect::SystemBusConfig bc;
    bc.initiators = initiators;
    bc.latency_cycles = 0;
    bc.regions = {{"mem", kMemBase, kMemBytes}, {"local", kLocalBase, kLocalBytes}};
    bus = std::make_unique<interconnect::SystemBus>("bus", bc);
    sram::SramBankConfig mc = memory_timing;
    mc.size_bytes = kMemBytes;
    mem = std::make_unique<sram::SramBank>("mem", mc);
    mc.size_bytes = kLocalBytes;
    local = std::make_unique<sram::SramBank>("local", mc);
    bus->initiator_sockets[0].bind(mem->target_socket);
    bus->initiator_sockets[1].bind(local->target_socket);
  }
  std::unique_ptr<interconnect::SystemBus> bus;
  std::unique_ptr<sram::SramBank> mem, local;
};

// Runs a test body in an SC_THREAD with an initiator socket for MMIO and
// backdoor (debug) access, then stops the simulation.
class Driver : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<Driver> socket;
  std::function<void(Driver&)> body;

  explicit Driver(const sc_core::sc_module_name& name) : sc_module(name), socket("socket") {
    SC_HAS_PROCESS(Driver);
    SC_THREAD(run);
  }

  tlm::tlm_response_status access(tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(static_cast<unsigned char*>(data));
    gp.set_data_length(len);
    gp.set_streaming_width(len);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
    socket->b_transport(gp, delay);
    sc_core::wait(delay);
    return gp.get_response_status();
  }
  void write32(std::uint64_t addr, std::uint32_t v) {
    EXPECT_EQ(access(tlm::TLM_WRITE_COMMAND, addr, &v, 4), tlm::TLM_OK_RESPONSE) << std::hex << addr;
  }
  std::uint32_t read32(std::uint64_t addr) {
    std::uint32_t v = 0;
    EXPECT_EQ(access(tlm::TLM_READ_COMMAND, addr, &v, 4), tlm::TLM_OK_RESPONSE) << std::hex << addr;
    return v;
  }

 private:
  void run() {
    body(*this);
    sc_core::sc_stop();
  }
};

// Backdoor access to a memory, bypassing timing.
inline void poke(sram::SramBank& m, std::uint64_t offset, const void* data, unsigned len) {
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(offset);
  gp.set_data_ptr(static_cast<unsigned char*>(const_cast<void*>(data)));
  gp.set_data_length(len);
  ASSERT_EQ(m.target_socket.get_base_interface().transport_dbg(gp), len);
}

inline void peek(sram::SramBank& m, std::uint64_t offset, void* data, unsigned len) {
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(offset);
  gp.set_data_ptr(static_cast<unsigned char*>(data));
  gp.set_data_length(len);
  ASSERT_EQ(m.target_socket.get_base_interface().transport_dbg(gp), len);
}

}  // namespace npuvp::testing
