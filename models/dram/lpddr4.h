#pragma once
// LPDDR4 DRAM subsystem as a TLM-2.0 target: controller, channels and the
// bytes they store.
//
// Loosely timed: b_transport takes the request's arrival time as
// sc_time_stamp() + delay, lets the controller schedule every burst of it,
// stores or returns the data, and sets delay = completion − sc_time_stamp().
// No SystemC event is spent per burst. Several initiators may call
// concurrently; the controller serves calls in the order they are made, so a
// call arriving (in simulated time) before work already scheduled waits behind
// that work, as it would behind a busy controller.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <tlm_utils/simple_target_socket.h>
#include <nlohmann/json.hpp>
#include <systemc>
#include <tlm>

#include "models/common/backing_store.h"
#include "models/common/stats_source.h"
#include "models/common/vcd_recorder.h"
#include "models/dram/command.h"
#include "models/dram/dram_config.h"
#include "models/dram/dram_stats.h"

namespace npuvp::dram {

class DramSystem;
class DramTrace;
class ProtocolChecker;

class Lpddr4 : public sc_core::sc_module, public stats::StatsSource {
 public:
  // Addresses are local, 0-based; [0, config.backing_bytes) is stored.
  tlm_utils::simple_target_socket<Lpddr4> target_socket;

  // Throws std::invalid_argument if the configuration is inconsistent.
  Lpddr4(const sc_core::sc_module_name& name, const DramConfig& config);
  ~Lpddr4() override;
  Lpddr4(const Lpddr4&) = delete;
  Lpddr4& operator=(const Lpddr4&) = delete;

  // Per channel: the state of each bank (0 idle, 1 active, 2 refreshing) and,
  // with `command_bus`, the command on the CA bus (codes of command.h; two
  // changes per command, most of a network run's trace). Optional; call
  // before the simulation starts.
  void attach_trace(trace::VcdRecorder& recorder, bool command_bus);
  // Another watcher of every command, e.g. a ProtocolChecker.
  void attach_observer(CommandObserver& observer);

  // With DramConfig::protocol_check, the JEDEC timing and bank-state rules
  // broken so far by the commands issued (0 without the option; the checker
  // is then not built). Commands scheduled ahead of simulated time by loose
  // timing are counted.
  std::uint64_t protocol_violations() const;
  // The first violations, one per line (empty without the option or when
  // there are none).
  std::string protocol_summary() const;

  const DramConfig& config() const { return config_; }
  // Cumulative, monotonic counters and latency samples.
  const DramStats& stats() const;
  // Bandwidth, latency mean/p50/p99/max, row hit rate, per-bank utilization,
  // refresh count, energy split and power over time, up to sc_time_stamp();
  // with DramConfig::protocol_check also "timing_violations".
  nlohmann::json stats_json() const override;
  std::string stats_name() const override { return name(); }
  // Bytes read and written, and energy_pj().
  void sample(stats::Counters& into, const sc_core::sc_time& now) override;
  // Total energy (core + I/O) up to sc_time_stamp(), background included.
  // Commands scheduled ahead of simulated time by loose timing are counted.
  double energy_pj() const;

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& gp);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  std::uint64_t now_cycle() const;
  EnergyBreakdown energy_now() const;

  DramConfig config_;
  std::unique_ptr<DramSystem> core_;
  BackingStore storage_;
  std::unique_ptr<DramTrace> trace_;
  std::unique_ptr<ProtocolChecker> checker_;  // with config_.protocol_check
  sc_core::sc_time dmi_read_latency_, dmi_write_latency_;
};

}  // namespace npuvp::dram
