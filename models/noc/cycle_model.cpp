#include "models/noc/cycle_model.h"

namespace npuvp::noc {
namespace {

unsigned power_of_two_at_least(unsigned n) {
  unsigned p = 1;
  while (p < n) p *= 2;
  return p;
}

}  // namespace

CycleMeshModel::CycleMeshModel(const NocConfig& config)
    : config_(config),
      mesh_(config),
      vcs_(config.virtual_channels),
      ring_(power_of_two_at_least(config.buffer_flits)),
      routers_(mesh_.nodes()),
      sources_(mesh_.nodes()),
      busy_routers_((mesh_.nodes() + 63) / 64),
      queueing_sources_(busy_routers_.size()),
      flit_wheel_(config.link_cycles + 1),
      credit_wheel_(config.link_cycles + 1),
      due_heads_(config.router_cycles + 1),
      stats_(),
      link_of_channel_(make_link_stats(mesh_, stats_.links)) {
  for (NodeId n = 0; n < mesh_.nodes(); ++n) {
    Router& r = routers_[n];
    r.in.resize(kPorts * vcs_);
    r.slots.resize(std::size_t{kPorts} * vcs_ * ring_);
    r.credits.assign(kPorts * vcs_, config.buffer_flits);
    r.out_vc_taken.assign(kPorts * vcs_, 0);
    r.in_rr.assign(kPorts, 0);
    r.out_rr.assign(kPorts, 0);
    for (unsigned p = 0; p < kPorts; ++p) {
      r.neighbour[p] = p != kLocal && mesh_.has_neighbour(n, p) ? mesh_.neighbour(n, p) : n;
      r.facing[p] = p != kLocal ? at(opposite(p), 0) : 0;
      r.link[p] = link_of_channel_[mesh_.output_channel(n, p)];
    }
  }
  for (Source& s : sources_) s.credits.assign(vcs_, config.buffer_flits);
}

std::uint32_t CycleMeshModel::new_packet_slot() {
  if (!free_slots_.empty()) {
    const std::uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  packets_.emplace_back();
  return static_cast<std::uint32_t>(packets_.size() - 1);
}

void CycleMeshModel::offer(std::uint64_t tag, NodeId src, NodeId dst, std::uint64_t flits) {
  const std::uint32_t slot = new_packet_slot();
  packets_[slot] = {tag, dst, flits, now_};
  sources_[src].queue.push_back(slot);
  queueing_sources_[src / 64] |= std::uint64_t{1} << (src % 64);
  ++queued_packets_;
  ++stats_.packets;
  stats_.flits += flits;
}

bool CycleMeshModel::idle() const { return queued_packets_ == 0 && in_network_ == 0 && credits_in_flight_ == 0; }

std::vector<CycleMeshModel::Delivery> CycleMeshModel::take_deliveries() {
  std::vector<Delivery> out;
  out.swap(deliveries_);
  return out;
}

void CycleMeshModel::push(NodeId r, unsigned i, Cycle due, std::uint32_t packet, bool head, bool tail) {
  Router& router = routers_[r];
  InputVc& in = router.in[i];
  // A head's route is looked up once here, not at each cycle it waits for a VC.
  const auto route = static_cast<std::uint8_t>(head ? mesh_.xy_port(r, packets_[packet].dst) : 0);
  router.slots[std::size_t{i} * ring_ + ((in.first + in.count) & (ring_ - 1))] = {due, packet, head, tail, route};
  if (in.count++ == 0) {
    if (in.out_vc >= 0)
      router.routed[i / vcs_] |= 1u << (i % vcs_);
    else if (due > now_)
      // VC allocation would pass it over until then.
      due_heads_[due % due_heads_.size()].emplace_back(r, i);
    else
      router.unrouted[i / vcs_] |= 1u << (i % vcs_);
  }
  if (router.buffered++ == 0) busy_routers_[r / 64] |= std::uint64_t{1} << (r % 64);
}

void CycleMeshModel::step() {
  arrive();
  send_slot_ = (now_ + config_.link_cycles) % flit_wheel_.size();
  auto& due_now = due_heads_[now_ % due_heads_.size()];
  for (const auto& [r, i] : due_now) routers_[r].unrouted[i / vcs_] |= 1u << (i % vcs_);
  due_now.clear();
  // Routers in order, only those holding flits (a router's traversal puts
  // nothing into another's buffers before the next cycle).
  for (std::size_t w = 0; w < busy_routers_.size(); ++w) {
    for (std::uint64_t bits = busy_routers_[w]; bits != 0; bits &= bits - 1) {
      const auto r = static_cast<NodeId>(w * 64 + __builtin_ctzll(bits));
      const std::uint32_t* waiting = routers_[r].unrouted;
      if ((waiting[0] | waiting[1] | waiting[2] | waiting[3] | waiting[4]) != 0) allocate_vcs(r);
      traverse_switch(r);
    }
  }
  for (std::size_t w = 0; w < queueing_sources_.size(); ++w) {
    for (std::uint64_t bits = queueing_sources_[w]; bits != 0; bits &= bits - 1)
      inject(static_cast<NodeId>(w * 64 + __builtin_ctzll(bits)));
  }
  ++now_;
}

void CycleMeshModel::arrive() {
  const std::size_t slot = now_ % flit_wheel_.size();
  const Cycle due = now_ + config_.router_cycles;
  for (const FlitOnLink& f : flit_wheel_[slot]) push(f.router, f.input, due, f.packet, f.head, f.tail);
  flit_wheel_[slot].clear();
  for (const CreditOnLink& c : credit_wheel_[slot]) {
    ++routers_[c.router].credits[c.output];
    --credits_in_flight_;
  }
  credit_wheel_[slot].clear();
}

void CycleMeshModel::allocate_vcs(NodeId r) {
  Router& router = routers_[r];
  const unsigned inputs = kPorts * vcs_;
  // The waiting heads in round-robin order from va_rr: the rest of its port,
  // the other ports, then its port's VCs before it.
  const unsigned first_port = router.va_rr / vcs_, first_vc = router.va_rr % vcs_;
  for (unsigned k = 0; k <= kPorts; ++k) {
    const unsigned p = (first_port + k) % kPorts;
    std::uint32_t waiting = router.unrouted[p];
    if (k == 0) waiting &= ~0u << first_vc;
    if (k == kPorts) waiting &= (1u << first_vc) - 1;
    for (; waiting != 0; waiting &= waiting - 1) {
      const auto vc_in = static_cast<unsigned>(__builtin_ctz(waiting));
      const unsigned i = at(p, vc_in);
      const BufferedFlit& front = router.slots[std::size_t{i} * ring_ + router.in[i].first];
      if (front.due > now_) continue;
      const unsigned port = front.route;
      for (unsigned vc = 0; vc < vcs_; ++vc) {
        if (router.out_vc_taken[at(port, vc)]) continue;
        router.out_vc_taken[at(port, vc)] = 1;
        router.in[i].out_port = static_cast<int>(port);
        router.in[i].out_vc = static_cast<int>(vc);
        router.unrouted[p] &= ~(1u << vc_in);
        router.routed[p] |= 1u << vc_in;
        router.va_rr = i + 1 == inputs ? 0 : i + 1;
        break;
      }
    }
  }
}

void CycleMeshModel::traverse_switch(NodeId r) {
  Router& router = routers_[r];
  // Input stage: each input port offers one VC; requesters[o] collects the
  // input ports asking for output o as a bit mask.
  unsigned requesters[kPorts] = {};
  for (unsigned p = 0; p < kPorts; ++p) {
    request_[p] = -1;
    if (router.routed[p] == 0) continue;
    unsigned vc = router.in_rr[p];
    for (unsigned k = 0; k < vcs_; ++k, vc = vc + 1 == vcs_ ? 0 : vc + 1) {
      if ((router.routed[p] & (1u << vc)) == 0) continue;
      const InputVc& in = router.in[at(p, vc)];
      if (router.slots[std::size_t{at(p, vc)} * ring_ + in.first].due > now_) continue;
      if (in.out_port != kLocal && router.credits[at(in.out_port, in.out_vc)] == 0) continue;
      request_[p] = static_cast<int>(vc);
      requesters[in.out_port] |= 1u << p;
      break;
    }
  }
  for (unsigned o = 0; o < kPorts; ++o) {
    if (requesters[o] == 0) continue;
    unsigned p = router.out_rr[o];
    while ((requesters[o] & (1u << p)) == 0) p = p + 1 == kPorts ? 0 : p + 1;
    const unsigned vc = static_cast<unsigned>(request_[p]);
    const unsigned i = at(p, vc);
    InputVc& in = router.in[i];
    const BufferedFlit flit = router.slots[std::size_t{i} * ring_ + in.first];
    const unsigned out_vc = static_cast<unsigned>(in.out_vc);
    in.first = (in.first + 1) & (ring_ - 1);
    --in.count;
    if (--router.buffered == 0) busy_routers_[r / 64] &= ~(std::uint64_t{1} << (r % 64));
    router.in_rr[p] = vc + 1 == vcs_ ? 0 : vc + 1;
    router.out_rr[o] = p + 1 == kPorts ? 0 : p + 1;

    if (p == kLocal) {
      ++sources_[r].credits[vc];
    } else {
      credit_wheel_[send_slot_].emplace_back(router.neighbour[p], router.facing[p] + vc);
      ++credits_in_flight_;
    }
    LinkStats& link = stats_.links[router.link[o]];
    ++link.flits;
    ++link.busy_cycles;
    ++stats_.flit_hops;
    if (o == kLocal) {
      --in_network_;
      ++ejected_flits_;
      if (flit.tail) {
        const Packet& pk = packets_[flit.packet];
        const Cycle done = now_ + config_.link_cycles + 1;
        deliveries_.push_back({pk.tag, pk.offered, done});
        stats_.latency.add(done - pk.offered);
        free_slots_.push_back(flit.packet);
      }
    } else {
      --router.credits[at(o, out_vc)];
      flit_wheel_[send_slot_].emplace_back(router.neighbour[o], router.facing[o] + out_vc, flit.packet, flit.head,
                                           flit.tail);
    }
    if (flit.tail) {
      router.out_vc_taken[at(o, out_vc)] = 0;
      in.out_port = in.out_vc = -1;
      router.routed[p] &= ~(1u << vc);
      if (in.count != 0) router.unrouted[p] |= 1u << vc;
    } else if (in.count == 0) {
      router.routed[p] &= ~(1u << vc);
    }
  }
}

void CycleMeshModel::inject(NodeId n) {
  Source& s = sources_[n];
  if (s.vc < 0) {
    for (unsigned k = 0; k < vcs_ && s.vc < 0; ++k) {
      const unsigned vc = (s.rr + k) % vcs_;
      if (s.credits[vc] > 0) s.vc = static_cast<int>(vc);
    }
    if (s.vc < 0) return;
    s.rr = (static_cast<unsigned>(s.vc) + 1) % vcs_;
    s.sent = 0;
  }
  const unsigned vc = static_cast<unsigned>(s.vc);
  if (s.credits[vc] == 0) return;
  const std::uint32_t slot = s.queue.front();
  const bool tail = s.sent + 1 == packets_[slot].flits;
  push(n, at(kLocal, vc), now_ + config_.router_cycles, slot, s.sent == 0, tail);
  --s.credits[vc];
  ++in_network_;
  ++s.sent;
  LinkStats& link = stats_.links[link_of_channel_[mesh_.injection_channel(n)]];
  ++link.flits;
  ++link.busy_cycles;
  if (tail) {
    s.queue.pop_front();
    if (s.queue.empty()) queueing_sources_[n / 64] &= ~(std::uint64_t{1} << (n % 64));
    --queued_packets_;
    s.vc = -1;
  }
}

}  // namespace npuvp::noc
