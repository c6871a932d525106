#pragma once
// The SoC's system interconnect: routes each initiator's transactions to the
// target whose address window holds them, with a fixed traversal latency.
// Contention on the system bus is not modeled (the DRAM controller and the
// NoC, where contention matters, model theirs).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "models/common/vcd_recorder.h"

namespace npuvp::interconnect {

struct Region {
  std::string name;
  std::uint64_t base = 0;
  std::uint64_t size = 0;
};

struct SystemBusConfig {
  unsigned initiators = 3;
  // Their scopes in the VCD trace (bus.<name>.*); initiatorN when not given.
  std::vector<std::string> initiator_names;
  std::vector<Region> regions;  // one initiator socket each, in this order
  unsigned latency_cycles = 4;
  double clock_mhz = 800;
};

struct SystemBusStats {
  std::uint64_t transactions = 0;
  std::uint64_t bytes = 0;
  std::uint64_t decode_errors = 0;
};

class SystemBus : public sc_core::sc_module {
 public:
  sc_core::sc_vector<tlm_utils::simple_target_socket_tagged<SystemBus>> target_sockets;
  sc_core::sc_vector<tlm_utils::simple_initiator_socket_tagged<SystemBus>> initiator_sockets;

  SystemBus(const sc_core::sc_module_name& name, const SystemBusConfig& config);
  SystemBus(const SystemBus&) = delete;
  SystemBus& operator=(const SystemBus&) = delete;

  const SystemBusStats& stats() const { return stats_; }
  // Per initiator: busy while one of its transactions is in flight, and the
  // address and direction (write) of its latest.
  void attach_trace(trace::VcdRecorder& recorder);

 private:
  int decode(std::uint64_t address, std::uint64_t length) const;
  void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(int id, tlm::tlm_generic_payload& gp);
  bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);

  const SystemBusConfig config_;
  const sc_core::sc_time latency_;
  SystemBusStats stats_;
  std::shared_ptr<spdlog::logger> log_;
  // Wide enough for the DRAM window above 2 GiB.
  static constexpr unsigned kAddressBits = 40;
  struct InitiatorTrace {
    trace::BusyWire busy;
    trace::Wire address;
    trace::Wire write;
  };
  std::vector<InitiatorTrace> traces_;  // empty unless traced
};

}  // namespace npuvp::interconnect
