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
      port_free_at_(std::max(1u, config.ports), sc_core::SC_ZERO_TIME) {
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
  const sc_core::sc_time arrival = sc_core::sc_time_stamp() + delay;
  auto port = std::min_element(port_free_at_.begin(), port_free_at_.end());
  const sc_core::sc_time start = std::max(arrival, *port);
  stats_.conflict_cycles += static_cast<std::uint64_t>((start - arrival) / clock_period_ + 0.5);
  *port = start + clock_period_ * static_cast<double>(words);
  stats_.busy_cycles += words;
  const unsigned latency = gp.is_read() ? config_.read_latency_cycles : config_.write_latency_cycles;
  if (gp.is_read()) {
    ++stats_.reads;
    stats_.read_words += words;
  } else {
    ++stats_.writes;
    stats_.write_words += words;
  }
  busy_trace_.busy(start, *port);
  delay = (*port - sc_core::sc_time_stamp()) + clock_period_ * latency;
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
