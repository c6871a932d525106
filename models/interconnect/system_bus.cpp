#include "models/interconnect/system_bus.h"

#include "models/common/log.h"

namespace npuvp::interconnect {

SystemBus::SystemBus(const sc_core::sc_module_name& name, const SystemBusConfig& config)
    : sc_module(name),
      target_sockets("target_socket", config.initiators),
      initiator_sockets("initiator_socket", config.regions.size()),
      config_(config),
      latency_(sc_core::sc_time(1e3 / config.clock_mhz, sc_core::SC_NS) * config.latency_cycles),
      log_(log::component(this->name())) {
  for (unsigned i = 0; i < config_.initiators; ++i) {
    target_sockets[i].register_b_transport(this, &SystemBus::b_transport, static_cast<int>(i));
    target_sockets[i].register_transport_dbg(this, &SystemBus::transport_dbg, static_cast<int>(i));
    target_sockets[i].register_get_direct_mem_ptr(this, &SystemBus::get_direct_mem_ptr, static_cast<int>(i));
  }
}

void SystemBus::attach_trace(trace::VcdRecorder& recorder) {
  traces_ = std::vector<InitiatorTrace>(config_.initiators);
  for (unsigned i = 0; i < config_.initiators; ++i) {
    const std::string scope =
        std::string(name()) + "." +
        (i < config_.initiator_names.size() ? config_.initiator_names[i] : "initiator" + std::to_string(i));
    traces_[i].busy.bind(recorder, scope + ".busy");
    traces_[i].address.bind(recorder, scope + ".address", kAddressBits);
    traces_[i].write.bind(recorder, scope + ".write");
  }
}

int SystemBus::decode(std::uint64_t address, std::uint64_t length) const {
  for (std::size_t i = 0; i < config_.regions.size(); ++i) {
    const Region& r = config_.regions[i];
    if (address >= r.base && address - r.base < r.size && length <= r.size - (address - r.base))
      return static_cast<int>(i);
  }
  return -1;
}

void SystemBus::b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const std::uint64_t address = gp.get_address();
  const sc_core::sc_time start = sc_core::sc_time_stamp() + delay;
  const int target = decode(address, gp.get_data_length());
  if (target < 0) {
    ++stats_.decode_errors;
    log_->debug("no target at {:#x} (+{} bytes)", address, gp.get_data_length());
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  ++stats_.transactions;
  stats_.bytes += gp.get_data_length();
  delay += latency_;
  gp.set_address(address - config_.regions[target].base);
  initiator_sockets[target]->b_transport(gp, delay);
  gp.set_address(address);
  if (!traces_.empty()) {
    InitiatorTrace& t = traces_[static_cast<std::size_t>(id)];
    t.address.set(start, address);
    t.write.set(start, gp.is_write());
    t.busy.busy(start, sc_core::sc_time_stamp() + delay);
  }
  // The response's name is a string built per call: not for every DMA burst.
  if (log_->should_log(spdlog::level::trace))
    log_->trace("{} {:#x} (+{} bytes) -> {}: {}", gp.is_read() ? "read" : "write", address, gp.get_data_length(),
                config_.regions[target].name, gp.get_response_string());
}

unsigned SystemBus::transport_dbg(int, tlm::tlm_generic_payload& gp) {
  const std::uint64_t address = gp.get_address();
  const int target = decode(address, gp.get_data_length());
  if (target < 0) return 0;
  gp.set_address(address - config_.regions[target].base);
  const unsigned n = initiator_sockets[target]->transport_dbg(gp);
  gp.set_address(address);
  return n;
}

bool SystemBus::get_direct_mem_ptr(int, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
  const std::uint64_t address = gp.get_address();
  const int target = decode(address, 1);
  if (target < 0) return false;
  const Region& r = config_.regions[target];
  gp.set_address(address - r.base);
  const bool ok = initiator_sockets[target]->get_direct_mem_ptr(gp, dmi);
  gp.set_address(address);
  // The target speaks in its own addresses; the initiator needs system ones.
  dmi.set_start_address(dmi.get_start_address() + r.base);
  dmi.set_end_address(std::min<std::uint64_t>(dmi.get_end_address() + r.base, r.base + r.size - 1));
  return ok;
}

}  // namespace npuvp::interconnect
