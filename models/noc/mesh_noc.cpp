#include "models/noc/mesh_noc.h"

#include <algorithm>

#include "contract/sram_interleave.h"
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
      quantum_(config.quantum_ns, sc_core::SC_NS),
      fast_(config),
      log_(log::component(this->name())) {
  if (cycle_ == sc_core::SC_ZERO_TIME)
    throw NocConfigError("clock_mhz", "a clock period of at least the SystemC time resolution");
  for (std::size_t i = 0; i < config.targets.size(); ++i) {
    const TargetAttachment& t = config.targets[i];
    // Banks sharing a window agree on all but their way (validate()).
    auto shared = std::find_if(windows_.begin(), windows_.end(), [&](const Window& w) {
      return t.interleave_bytes != 0 && w.base == t.base && w.interleave_bytes == t.interleave_bytes;
    });
    if (shared == windows_.end()) {
      windows_.push_back({t.base, t.window_size(), t.size, t.interleave_bytes, t.ways,
                          std::vector<int>(t.interleave_bytes == 0 ? 1 : t.ways, -1)});
      shared = std::prev(windows_.end());
    }
    shared->target_of_way[t.interleave_bytes == 0 ? 0 : t.way] = static_cast<int>(i);
  }
  // By base, for decode()'s binary search.
  std::sort(windows_.begin(), windows_.end(), [](const Window& a, const Window& b) { return a.base < b.base; });
  for (std::size_t i = 0; i < target_sockets.size(); ++i) {
    target_sockets[i].register_b_transport(this, &MeshNoc::b_transport, static_cast<int>(i));
    target_sockets[i].register_transport_dbg(this, &MeshNoc::transport_dbg, static_cast<int>(i));
  }
  log_->debug("{}x{} mesh, {} initiators, {} targets, cycle {}", config.width, config.height, config.initiators.size(),
              config.targets.size(), cycle_.to_string());
}

void MeshNoc::attach_trace(trace::VcdRecorder& recorder, const NocTraceOptions& options) {
  const Mesh& mesh = fast_.mesh();
  LinkSignals signals;
  signals.busy.assign(mesh.channel_count(), trace::VcdRecorder::kFiltered);
  signals.utilization = signals.busy;
  signals.ticks_per_cycle = cycle_.value();
  signals.window_ticks = options.utilization_window.value();
  for (ChannelId c = 0; c < mesh.channel_count(); ++c) {
    if (fast_.link_index(c) < 0) continue;
    const std::string link = std::string(name()) + "." + mesh.channel_name(c);
    signals.utilization[c] = recorder.add_real(link + ".utilization");
    if (options.link_busy) signals.busy[c] = recorder.add_wire(link + ".busy", 1);
  }
  fast_.trace_links(recorder, std::move(signals));
  // Busy intervals are final only once time passes them; a streamed trace
  // asks for them before it writes the times they fall in.
  recorder.on_flush([this](const sc_core::sc_time&) {
    advance_horizon();
    fast_.report_final();
  });
}

void MeshNoc::end_of_simulation() {
  // The cycles that started before the end.
  fast_.flush((sc_core::sc_time_stamp().value() + cycle_.value() - 1) / cycle_.value());
}

void MeshNoc::sample(stats::Counters& into, const sc_core::sc_time&) {
  into.add(stats::Counter::kNocFlitHops, static_cast<double>(stats().flit_hops));
  into.add(stats::Counter::kNocBytes, static_cast<double>(payload_.bytes));
  into.add(stats::Counter::kNocByteHops, static_cast<double>(payload_.byte_hops));
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

MeshNoc::Route MeshNoc::decode(std::uint64_t address) const {
  // Windows do not overlap (validate()), so the last starting at or below
  // the address is the only one that may hold it.
  const auto above = std::upper_bound(windows_.begin(), windows_.end(), address,
                                      [](std::uint64_t a, const Window& w) { return a < w.base; });
  if (above == windows_.begin()) return {};
  const Window& w = *std::prev(above);
  if (address - w.base >= w.window_size) return {};
  if (w.interleave_bytes == 0) return {w.target_of_way[0], address - w.base, w.size - (address - w.base)};
  const contract::BankInterleave window{w.base, w.size, w.ways, w.interleave_bytes};
  const contract::BankInterleave::Place p = window.place(address);
  const int target = w.target_of_way[p.bank];
  return target < 0 ? Route{} : Route{target, p.offset, p.run};
}

void MeshNoc::b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  advance_horizon();
  const NodeId src = node_of(config_.initiators[id]);
  if (const auto* ext = gp.get_extension<MulticastExtension>()) {
    multicast(src, gp, *ext, delay);
    return;
  }
  const auto* extension = gp.get_extension<ReadForkExtension>();
  ForkRoutes fork_routes;
  if (extension != nullptr && (!gp.is_read() || !decode_fork(*extension, gp.get_data_length(), fork_routes))) {
    log_->debug("{}: a forked response needs a READ and windows of {} bytes", config_.initiators[id].name,
                gp.get_data_length());
    gp.set_response_status(gp.is_read() ? tlm::TLM_ADDRESS_ERROR_RESPONSE : tlm::TLM_COMMAND_ERROR_RESPONSE);
    return;
  }
  const ForkRoutes* fork = extension != nullptr ? &fork_routes : nullptr;
  const std::uint64_t address = gp.get_address();
  const Route route = decode(address);
  if (route.target < 0) {
    log_->debug("{}: no target at 0x{:x} (+{} bytes)", config_.initiators[id].name, address, gp.get_data_length());
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (gp.get_data_length() > route.run) {
    split(id, src, gp, delay, fork);
    return;
  }
  const sc_core::sc_time done = unicast(src, route, gp, delay, config_.initiators[id].awaits_responses, fork);
  delay = done - sc_core::sc_time_stamp();
  gp.set_address(address);
  gp.set_dmi_allowed(false);
}

sc_core::sc_time MeshNoc::unicast(NodeId src, const Route& route, tlm::tlm_generic_payload& gp, sc_core::sc_time delay,
                                  bool awaited, const ForkRoutes* fork, std::uint64_t fork_offset) {
  const NodeId dst = node_of(config_.targets[route.target]);
  const std::uint64_t length = gp.get_data_length();
  const sc_core::sc_time issued = sc_core::sc_time_stamp();
  if (gp.is_write()) payload_.add(length, fast_.mesh().hops(src, dst));
  const Cycle request_done =
      fast_.unicast(src, dst, packet_flits(config_, gp.is_write() ? length : 0), edge_at_or_after(issued + delay));
  sc_core::sc_time target_delay = time_of(request_done) - issued;
  gp.set_address(route.offset);
  initiator_sockets[route.target]->b_transport(gp, target_delay);

  // The target may have waited; its delay counts from when it returned.
  sc_core::sc_time returned = sc_core::sc_time_stamp();
  if (awaited && target_delay > quantum_) {
    // Its initiator would wait for it anyway: the response is timed a
    // quantum before it is ready, among the packets of that time, rather
    // than booked now ahead of packets ready before it (docs/noc.md, "A
    // cluster's responses timed in time order").
    sc_core::wait(target_delay - quantum_);
    returned = sc_core::sc_time_stamp();
    target_delay = quantum_;
  }
  const bool data_back = gp.is_read() && gp.is_response_ok();
  if (data_back && fork != nullptr) return fork_response(src, dst, gp, *fork, fork_offset, returned + target_delay);
  if (data_back) payload_.add(length, fast_.mesh().hops(dst, src));
  const Cycle response_done =
      fast_.unicast(dst, src, packet_flits(config_, data_back ? length : 0), edge_at_or_after(returned + target_delay));
  return time_of(response_done);
}

bool MeshNoc::decode_fork(const ReadForkExtension& fork, std::uint64_t length, ForkRoutes& routes) const {
  if (fork.addresses.empty()) return false;
  routes.reserve(fork.addresses.size());
  for (std::uint64_t a : fork.addresses) {
    routes.push_back(decode(a));
    if (routes.back().target < 0 || routes.back().run < length) return false;
  }
  return true;
}

sc_core::sc_time MeshNoc::fork_response(NodeId src, NodeId from, tlm::tlm_generic_payload& gp, const ForkRoutes& fork,
                                        std::uint64_t fork_offset, const sc_core::sc_time& ready) {
  const std::uint64_t length = gp.get_data_length();
  std::vector<NodeId> dests{src};
  dests.reserve(fork.size() + 1);
  for (const Route& r : fork) dests.push_back(node_of(config_.targets[r.target]));
  const std::vector<Cycle> done_at = send_tree(from, dests, length, ready);
  const auto lease = payloads_.acquire();
  tlm::tlm_generic_payload& copy = *lease;
  copy.set_command(tlm::TLM_WRITE_COMMAND);
  copy.set_data_ptr(gp.get_data_ptr());
  copy.set_data_length(static_cast<unsigned>(length));
  copy.set_streaming_width(static_cast<unsigned>(length));
  auto worst = tlm::TLM_OK_RESPONSE;
  for (std::size_t i = 0; i < fork.size(); ++i) {
    // Within the window's run, `fork_offset` bytes on lie in the same target
    // as many bytes further.
    deliver(fork[i].target, fork[i].offset + fork_offset, copy, done_at[i + 1]);
    worst = std::min(worst, copy.get_response_status());
  }
  gp.set_response_status(worst);
  return time_of(done_at[0]);
}

std::vector<Cycle> MeshNoc::send_tree(NodeId from, const std::vector<NodeId>& dests, std::uint64_t length,
                                      const sc_core::sc_time& ready) {
  // Packets of at most a buffer: a copy of a longer one, holding a VC while a
  // sibling copy waits through the input buffer they share, can close a cycle
  // of waits with other trees (docs/noc.md, "A multicast deadlock"). They all
  // leave at `ready`, back to back on the injection link.
  const std::uint64_t per_packet = std::uint64_t{config_.buffer_flits - config_.header_flits} * config_.flit_bytes;
  const Cycle start = edge_at_or_after(ready);
  const std::uint64_t flit_hops_before = fast_.stats().flit_hops;
  tree_packets_.clear();
  std::uint64_t flits = 0;
  for (std::uint64_t sent = 0; sent == 0 || sent < length; sent += per_packet) {
    tree_packets_.push_back(packet_flits(config_, std::min(per_packet, length - sent)));
    flits += tree_packets_.back();
  }
  std::vector<Cycle> done_at;
  fast_.multicast(from, dests, tree_packets_.data(), tree_packets_.size(), start, done_at);
  // Injected once; every router of the tree carries each packet once.
  payload_.add(length, (fast_.stats().flit_hops - flit_hops_before) / flits);
  return done_at;
}

sc_core::sc_time MeshNoc::deliver(int target, std::uint64_t offset, tlm::tlm_generic_payload& gp, Cycle arrival) {
  const sc_core::sc_time now = sc_core::sc_time_stamp();
  const sc_core::sc_time at = time_of(arrival);
  sc_core::sc_time target_delay = at > now ? at - now : sc_core::SC_ZERO_TIME;
  gp.set_address(offset);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  initiator_sockets[target]->b_transport(gp, target_delay);
  return sc_core::sc_time_stamp() + target_delay;
}

void MeshNoc::split(int id, NodeId src, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay, const ForkRoutes* fork) {
  const std::uint64_t address = gp.get_address();
  const std::uint64_t length = gp.get_data_length();
  // Only an interleaved window is split, and every piece must stay in it; a
  // byte-enable pattern shorter than the data repeats from the payload's
  // start, which pieces could not keep. Nothing is delivered unless all fit.
  const TargetAttachment& first = config_.targets[decode(address).target];
  std::vector<Route> pieces;
  for (std::uint64_t done = 0; done < length; done += pieces.back().run) {
    Route r = decode(address + done);
    if (r.target < 0 || first.interleave_bytes == 0 || config_.targets[r.target].base != first.base) {
      log_->debug("{}: 0x{:x} (+{} bytes) leaves the window of '{}'", config_.initiators[id].name, address, length,
                  first.name);
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    r.run = std::min(r.run, length - done);
    pieces.push_back(r);
  }
  if (gp.get_byte_enable_ptr() != nullptr && gp.get_byte_enable_length() < length) {
    gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  const sc_core::sc_time issued = sc_core::sc_time_stamp() + delay;
  sc_core::sc_time last = issued;
  std::uint64_t done = 0;
  for (const Route& r : pieces) {
    const auto n = static_cast<unsigned>(r.run);
    const auto lease = payloads_.acquire();
    tlm::tlm_generic_payload& piece = *lease;
    piece.set_command(gp.get_command());
    piece.set_data_ptr(gp.get_data_ptr() + done);
    piece.set_data_length(n);
    piece.set_streaming_width(n);
    if (gp.get_byte_enable_ptr() != nullptr) {
      piece.set_byte_enable_ptr(gp.get_byte_enable_ptr() + done);
      piece.set_byte_enable_length(n);
    }
    piece.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    // The pieces all leave at the burst's time: none waits for another's response.
    last =
        std::max(last, unicast(src, r, piece, issued > now ? issued - now : sc_core::SC_ZERO_TIME, false, fork, done));
    if (!piece.is_response_ok()) {
      gp.set_response_status(piece.get_response_status());
      return;
    }
    done += n;
  }
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
  delay = last - sc_core::sc_time_stamp();
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
  targets.reserve(ext.addresses.size());
  dests.reserve(ext.addresses.size());
  for (std::uint64_t a : ext.addresses) {
    const Route route = decode(a);
    const int t = route.run >= length ? route.target : -1;
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

  const std::vector<Cycle> done_at = send_tree(src, dests, length, sc_core::sc_time_stamp() + delay);
  // Targets may wait inside b_transport, so completion is tracked in absolute time.
  const std::uint64_t address = gp.get_address();
  sc_core::sc_time last_done = sc_core::sc_time_stamp() + delay;
  auto worst = tlm::TLM_OK_RESPONSE;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    last_done = std::max(last_done, deliver(targets[i], decode(ext.addresses[i]).offset, gp, done_at[i]));
    // Status codes grow worse as they decrease: OK 1, INCOMPLETE 0, errors < 0.
    worst = std::min(worst, gp.get_response_status());
  }
  gp.set_address(address);
  gp.set_dmi_allowed(false);
  gp.set_response_status(worst);
  delay = last_done - sc_core::sc_time_stamp();
}

unsigned MeshNoc::transport_dbg(int, tlm::tlm_generic_payload& gp) {
  const std::uint64_t address = gp.get_address();
  const std::uint64_t length = gp.get_data_length();
  unsigned moved = 0;
  for (std::uint64_t done = 0; done < length;) {
    const Route route = decode(address + done);
    if (route.target < 0) break;
    const auto n = static_cast<unsigned>(std::min(route.run, length - done));
    tlm::tlm_generic_payload piece;
    piece.set_command(gp.get_command());
    piece.set_address(route.offset);
    piece.set_data_ptr(gp.get_data_ptr() + done);
    piece.set_data_length(n);
    const unsigned got = initiator_sockets[route.target]->transport_dbg(piece);
    moved += got;
    if (got < n) break;
    done += n;
  }
  return moved;
}

}  // namespace npuvp::noc
