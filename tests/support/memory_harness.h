#pragma once
// Memories for initiator models: a system bus with two SRAM banks behind it
// (a "DRAM" window and an NPU-local window), for a bench (bench.h) to own.

#include <cstdint>
#include <memory>

#include <systemc>

#include "contract/address_map.h"
#include "models/interconnect/system_bus.h"
#include "models/sram/sram_bank.h"
#include "tests/support/bench.h"

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

// Backdoor access to a memory, bypassing timing.
inline void poke(sram::SramBank& m, std::uint64_t offset, const void* data, unsigned len) {
  debug_write(m.target_socket, offset, data, len);
}
inline void peek(sram::SramBank& m, std::uint64_t offset, void* data, unsigned len) {
  debug_read(m.target_socket, offset, data, len);
}

}  // namespace npuvp::testing
