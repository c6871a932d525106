#pragma once
// One bank of the NPU's global buffer: a TLM target on the NoC.
//
// A bank serves `ports` accesses at a time, each moving one word per cycle.
// Accesses that find every port busy wait, and the wait is counted as bank
// conflict cycles. Under loose timing accesses arrive in the order their
// initiators run, not in the order of their times, so each port keeps its
// busy intervals and an access takes the first gap long enough for it, before
// or after ones booked earlier: an initiator running ahead of the others does
// not push their earlier accesses behind its own. The bytes are real: the
// bank is the only copy of its data.

#include <cstdint>
#include <vector>

#include <spdlog/spdlog.h>
#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "models/common/stats_source.h"
#include "models/common/vcd_recorder.h"
#include "models/noc/reservation_timeline.h"

namespace npuvp::sram {

struct SramBankConfig {
  std::uint64_t size_bytes = 32 * 1024;
  unsigned word_bytes = 32;  // bytes one port moves per cycle
  unsigned ports = 1;        // concurrent accesses the bank serves
  unsigned read_latency_cycles = 2;
  unsigned write_latency_cycles = 1;
  double clock_mhz = 800;
};

struct SramBankStats {
  std::uint64_t reads = 0;  // transactions
  std::uint64_t writes = 0;
  std::uint64_t read_words = 0;  // word accesses: what energy is counted on
  std::uint64_t write_words = 0;
  std::uint64_t busy_cycles = 0;      // port-cycles spent moving words
  std::uint64_t conflict_cycles = 0;  // cycles accesses waited for a free port
};

class SramBank : public sc_core::sc_module, public stats::StatsSource {
 public:
  tlm_utils::simple_target_socket<SramBank> target_socket;

  SramBank(const sc_core::sc_module_name& name, const SramBankConfig& config);
  SramBank(const SramBank&) = delete;
  SramBank& operator=(const SramBank&) = delete;

  void attach_trace(trace::VcdRecorder& recorder);
  const SramBankStats& stats() const { return stats_; }
  const SramBankConfig& config() const { return config_; }

  // stats::StatsSource
  std::string stats_name() const override { return name(); }
  void sample(stats::Counters& into, const sc_core::sc_time& now) override;
  nlohmann::json stats_json() const override;

 private:
  void end_of_simulation() override { busy_trace_.finish(); }
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& gp);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);

  const SramBankConfig config_;
  const sc_core::sc_time clock_period_;
  std::vector<std::uint8_t> storage_;
  // Busy intervals of each port, in bank cycles from time zero.
  std::vector<noc::ReservationTimeline> ports_;
  SramBankStats stats_;
  trace::BusyWire busy_trace_;
};

}  // namespace npuvp::sram
