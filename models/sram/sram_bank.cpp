#include "models/sram/sram_bank.h"

#include <algorithm>

#include "models/common/tlm_target_checks.h"

namespace npuvp::sram {

SramBank::SramBank(const sc_core::sc_module_name& name, const SramBankConfig& config)
    : sc_module(name),
      target_socket("target_socket"),
      config_(config),
      clock_period_(sc_core::sc_time(1e3 / config.clock_mhz, sc_core::SC_NS)),
      storage_(config.size_bytes, 0),
      ports_(std::max(1u, config.ports)) {
  target_socket.register_b_transport(this, &SramBank::b_transport);
  target_socket.register_transport_dbg(this, &SramBank::transport_dbg);
  target_socket.register_get_direct_mem_ptr(this, &SramBank::get_direct_mem_ptr);
}

void SramBank::attach_trace(trace::VcdRecorder& recorder) { busy_trace_.bind(recorder, std::string(name()) + ".busy"); }

void SramBank::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const auto status = tlmx::check_memory_access(gp, storage_.size());
  if (status != tlm::TLM_OK_RESPONSE) {
    gp.set_response_status(status);
    return;
  }
  tlmx::copy_payload(gp, storage_.data());

  const std::uint64_t words = (gp.get_data_length() + config_.word_bytes - 1) / config_.word_bytes;
  // Times in SystemC ticks, integers: exactly what the sc_time arithmetic
  // gives (cycle counts stay far below 2^53 ticks), without its conversions
  // through double on every access.
  const std::uint64_t period = clock_period_.value();
  const std::uint64_t stamp = sc_core::sc_time_stamp().value();
  // No access to come starts before now: older intervals cannot matter again.
  const std::uint64_t now = stamp / period;
  for (auto& p : ports_) p.retire_before(now, [](std::uint64_t, bool) {});
  const std::uint64_t arrival = (stamp + delay.value() + period - 1) / period;
  noc::ReservationTimeline* port = &ports_.front();
  std::uint64_t start = port->earliest_free(arrival, words);
  for (auto& p : ports_) {
    const std::uint64_t s = p.earliest_free(arrival, words);
    if (s < start) start = s, port = &p;
  }
  port->reserve(start, start + words);
  stats_.conflict_cycles += start - arrival;
  stats_.busy_cycles += words;
  const unsigned latency = gp.is_read() ? config_.read_latency_cycles : config_.write_latency_cycles;
  if (gp.is_read()) {
    ++stats_.reads;
    stats_.read_words += words;
  } else {
    ++stats_.writes;
    stats_.write_words += words;
  }
  const std::uint64_t end = period * (start + words);
  busy_trace_.busy(sc_core::sc_time::from_value(period * start), sc_core::sc_time::from_value(end));
  delay = sc_core::sc_time::from_value(end - stamp + period * latency);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned SramBank::transport_dbg(tlm::tlm_generic_payload& gp) {
  if (tlmx::check_memory_access(gp, storage_.size()) != tlm::TLM_OK_RESPONSE) return 0;
  tlmx::copy_payload(gp, storage_.data());
  return gp.get_data_length();
}

bool SramBank::get_direct_mem_ptr(tlm::tlm_generic_payload&, tlm::tlm_dmi& dmi) {
  // DMI bypasses the port model, so it is offered for debug-speed loaders only.
  dmi.set_dmi_ptr(storage_.data());
  dmi.set_start_address(0);
  dmi.set_end_address(storage_.size() - 1);
  dmi.allow_read_write();
  dmi.set_read_latency(clock_period_ * config_.read_latency_cycles);
  dmi.set_write_latency(clock_period_ * config_.write_latency_cycles);
  return true;
}

void SramBank::sample(stats::Counters& into, const sc_core::sc_time&) {
  into.add(stats::Counter::kSramBytes,
           static_cast<double>((stats_.read_words + stats_.write_words) * config_.word_bytes));
  into.add(stats::Counter::kSramConflictCycles, static_cast<double>(stats_.conflict_cycles));
}

nlohmann::json SramBank::stats_json() const {
  return {{"reads", stats_.reads},
          {"writes", stats_.writes},
          {"read_words", stats_.read_words},
          {"write_words", stats_.write_words},
          {"busy_cycles", stats_.busy_cycles},
          {"conflict_cycles", stats_.conflict_cycles}};
}

}  // namespace npuvp::sram
