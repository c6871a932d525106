#include "models/noc/mesh_noc.h"

#include <algorithm>

#include "models/common/log.h"

namespace npuvp::noc {
namespace {

const NocConfig& validated(const NocConfig& config) {
  validate(config);
  return config;
}

}  // namespace

MeshNoc::MeshNoc(const sc_core::sc_module_name& name, const NocConfig& config)
    : sc_core::sc_module(name),
      target_sockets("target_sockets", validated(config).initiators.size()),
      initiator_sockets("initiator_sockets", config.targets.size()),
      config_(config),
      cycle_(1e3 / config.clock_mhz, sc_core::SC_NS),
      fast_(config),
      log_(log::component(this->name())) {
  if (cycle_ == sc_core::SC_ZERO_TIME)
    throw NocConfigError("clock_mhz", "a clock period of at least the SystemC time resolution");
  for (std::size_t i = 0; i < target_sockets.size(); ++i) {
    target_sockets[i].register_b_transport(this, &MeshNoc::b_transport, static_cast<int>(i));
    target_sockets[i].register_transport_dbg(this, &MeshNoc::transport_dbg, static_cast<int>(i));
  }
  log_->debug("{}x{} mesh, {} initiators, {} targets, cycle {}", config.width, config.height, config.initiators.size(),
              config.targets.size(), cycle_.to_string());
}

void MeshNoc::attach_trace(trace::VcdRecorder& recorder) {
  const Mesh& mesh = fast_.mesh();
  busy_.assign(mesh.channel_count(), {});
  for (ChannelId c = 0; c < mesh.channel_count(); ++c) {
    if (fast_.link_index(c) >= 0) busy_[c].bind(recorder, std::string(name()) + "." + mesh.channel_name(c) + ".busy");
  }
  // Integer ticks: a busy edge is published for most packets on every link.
  fast_.set_busy_observer([this](ChannelId c, Cycle at, bool busy) {
    busy_[c].set(sc_core::sc_time::from_value(cycle_.value() * at), busy ? 1 : 0);
  });
  // Busy intervals are final only once time passes them; a streamed trace
  // asks for them before it writes the times they fall in.
  recorder.on_flush([this] {
    advance_horizon();
    fast_.report_final();
  });
}

void MeshNoc::end_of_simulation() { fast_.flush(); }

void MeshNoc::sample(stats::Counters& into, const sc_core::sc_time&) {
  into.add(stats::Counter::kNocFlitHops, static_cast<double>(stats().flit_hops));
}

nlohmann::json MeshNoc::stats_json() const {
  const Cycle elapsed = std::max<Cycle>(fast_.last_busy(), sc_core::sc_time_stamp().value() / cycle_.value());
  return fast_.stats().to_json(elapsed, cycle_.to_seconds() * 1e9);
}

std::string MeshNoc::stats_text() const {
  const Cycle elapsed = std::max<Cycle>(fast_.last_busy(), sc_core::sc_time_stamp().value() / cycle_.value());
  return fast_.stats().to_text(elapsed, cycle_.to_seconds() * 1e9);
}

Cycle MeshNoc::edge_at_or_after(const sc_core::sc_time& t) const {
  const std::uint64_t period = cycle_.value();
  return (t.value() + period - 1) / period;
}

void MeshNoc::advance_horizon() {
  // Every transaction still to come starts at or after the current time.
  fast_.set_horizon(sc_core::sc_time_stamp().value() / cycle_.value());
}

int MeshNoc::decode(std::uint64_t address, std::uint64_t length) const {
  for (std::size_t i = 0; i < config_.targets.size(); ++i) {
    const TargetAttachment& t = config_.targets[i];
    if (address >= t.base && address - t.base < t.size && length <= t.size - (address - t.base))
      return static_cast<int>(i);
  }
  return -1;
}

void MeshNoc::b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  advance_horizon();
  const NodeId src = node_of(config_.initiators[id]);
  if (const auto* ext = gp.get_extension<MulticastExtension>()) {
    multicast(src, gp, *ext, delay);
    return;
  }
  const std::uint64_t address = gp.get_address();
  const int target = decode(address, gp.get_data_length());
  if (target < 0) {
    log_->debug("{}: no target at 0x{:x} (+{} bytes)", config_.initiators[id].name, address, gp.get_data_length());
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const TargetAttachment& t = config_.targets[target];
  const NodeId dst = node_of(t);
  const std::uint64_t length = gp.get_data_length();

  const sc_core::sc_time issued = sc_core::sc_time_stamp();
  const Cycle request_done =
      fast_.unicast(src, dst, packet_flits(config_, gp.is_write() ? length : 0), edge_at_or_after(issued + delay));
  sc_core::sc_time target_delay = time_of(request_done) - issued;
  gp.set_address(address - t.base);
  initiator_sockets[target]->b_transport(gp, target_delay);
  gp.set_address(address);
  gp.set_dmi_allowed(false);

  // The target may have waited; its delay counts from when it returned.
  const sc_core::sc_time returned = sc_core::sc_time_stamp();
  const bool data_back = gp.is_read() && gp.is_response_ok();
  const Cycle response_done =
      fast_.unicast(dst, src, packet_flits(config_, data_back ? length : 0), edge_at_or_after(returned + target_delay));
  delay = time_of(response_done) - returned;
}

void MeshNoc::multicast(NodeId src, tlm::tlm_generic_payload& gp, const MulticastExtension& ext,
                        sc_core::sc_time& delay) {
  if (!gp.is_write()) {
    gp.set_response_status(tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  const std::uint64_t length = gp.get_data_length();
  std::vector<int> targets;
  std::vector<NodeId> dests;
  for (std::uint64_t a : ext.addresses) {
    const int t = decode(a, length);
    if (t < 0) {
      log_->debug("multicast: no target at 0x{:x} (+{} bytes)", a, length);
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    targets.push_back(t);
    dests.push_back(node_of(config_.targets[t]));
  }
  if (targets.empty()) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }

  std::vector<Cycle> done_at;
  fast_.multicast(src, dests, packet_flits(config_, length), edge_at_or_after(sc_core::sc_time_stamp() + delay),
                  done_at);

  // Targets may wait inside b_transport, so completion is tracked in absolute time.
  const std::uint64_t address = gp.get_address();
  sc_core::sc_time last_done = sc_core::sc_time_stamp() + delay;
  auto worst = tlm::TLM_OK_RESPONSE;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const TargetAttachment& t = config_.targets[targets[i]];
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    const sc_core::sc_time arrival = time_of(done_at[i]);
    sc_core::sc_time target_delay = arrival > now ? arrival - now : sc_core::SC_ZERO_TIME;
    gp.set_address(ext.addresses[i] - t.base);
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    initiator_sockets[targets[i]]->b_transport(gp, target_delay);
    // Status codes grow worse as they decrease: OK 1, INCOMPLETE 0, errors < 0.
    worst = std::min(worst, gp.get_response_status());
    last_done = std::max(last_done, sc_core::sc_time_stamp() + target_delay);
  }
  gp.set_address(address);
  gp.set_dmi_allowed(false);
  gp.set_response_status(worst);
  delay = last_done - sc_core::sc_time_stamp();
}

unsigned MeshNoc::transport_dbg(int, tlm::tlm_generic_payload& gp) {
  const std::uint64_t address = gp.get_address();
  const int target = decode(address, gp.get_data_length());
  if (target < 0) return 0;
  gp.set_address(address - config_.targets[target].base);
  const unsigned n = initiator_sockets[target]->transport_dbg(gp);
  gp.set_address(address);
  return n;
}

}  // namespace npuvp::noc
