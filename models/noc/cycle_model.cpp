#include "models/noc/cycle_model.h"

namespace npuvp::noc {

CycleMeshModel::CycleMeshModel(const NocConfig& config)
    : config_(config),
      mesh_(config),
      vcs_(config.virtual_channels),
      routers_(mesh_.nodes()),
      sources_(mesh_.nodes()),
      flit_wheel_(config.link_cycles + 1),
      credit_wheel_(config.link_cycles + 1),
      stats_(),
      link_of_channel_(make_link_stats(mesh_, stats_.links)) {
  for (Router& r : routers_) {
    r.in.resize(kPorts * vcs_);
    r.credits.assign(kPorts * vcs_, config.buffer_flits);
    r.out_vc_taken.assign(kPorts * vcs_, 0);
    r.in_rr.assign(kPorts, 0);
    r.out_rr.assign(kPorts, 0);
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

void CycleMeshModel::step() {
  arrive();
  for (NodeId r = 0; r < mesh_.nodes(); ++r) {
    if (routers_[r].buffered == 0) continue;
    allocate_vcs(r);
    traverse_switch(r);
  }
  for (NodeId n = 0; n < mesh_.nodes(); ++n) inject(n);
  ++now_;
}

void CycleMeshModel::arrive() {
  const std::size_t slot = now_ % flit_wheel_.size();
  for (const OnLink& f : flit_wheel_[slot]) {
    const unsigned port = mesh_.channel_port(f.channel);
    Router& down = routers_[mesh_.neighbour(mesh_.channel_node(f.channel), port)];
    down.in[at(opposite(port), f.vc)].fifo.push_back({f.flit, now_ + config_.router_cycles});
    ++down.buffered;
  }
  flit_wheel_[slot].clear();
  for (const OnLink& c : credit_wheel_[slot]) {
    ++routers_[mesh_.channel_node(c.channel)].credits[at(mesh_.channel_port(c.channel), c.vc)];
    --credits_in_flight_;
  }
  credit_wheel_[slot].clear();
}

void CycleMeshModel::allocate_vcs(NodeId r) {
  Router& router = routers_[r];
  const unsigned inputs = kPorts * vcs_;
  unsigned i = router.va_rr;
  for (unsigned k = 0; k < inputs; ++k, i = i + 1 == inputs ? 0 : i + 1) {
    InputVc& in = router.in[i];
    if (in.out_vc >= 0 || in.fifo.empty()) continue;
    const BufferedFlit& front = in.fifo.front();
    if (!front.flit.head || front.due > now_) continue;
    const unsigned port = mesh_.xy_port(r, packets_[front.flit.packet].dst);
    for (unsigned vc = 0; vc < vcs_; ++vc) {
      if (router.out_vc_taken[at(port, vc)]) continue;
      router.out_vc_taken[at(port, vc)] = 1;
      in.out_port = static_cast<int>(port);
      in.out_vc = static_cast<int>(vc);
      router.va_rr = i + 1 == inputs ? 0 : i + 1;
      break;
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
    unsigned vc = router.in_rr[p];
    for (unsigned k = 0; k < vcs_; ++k, vc = vc + 1 == vcs_ ? 0 : vc + 1) {
      const InputVc& in = router.in[at(p, vc)];
      if (in.out_vc < 0 || in.fifo.empty() || in.fifo.front().due > now_) continue;
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
    InputVc& in = router.in[at(p, vc)];
    const Flit flit = in.fifo.front().flit;
    const unsigned out_vc = static_cast<unsigned>(in.out_vc);
    in.fifo.pop_front();
    --router.buffered;
    router.in_rr[p] = vc + 1 == vcs_ ? 0 : vc + 1;
    router.out_rr[o] = p + 1 == kPorts ? 0 : p + 1;

    if (p == kLocal) {
      ++sources_[r].credits[vc];
    } else {
      const NodeId up = mesh_.neighbour(r, p);
      credit_wheel_[(now_ + config_.link_cycles) % credit_wheel_.size()].push_back(
          {mesh_.output_channel(up, opposite(p)), {}, vc});
      ++credits_in_flight_;
    }
    const ChannelId out = mesh_.output_channel(r, o);
    LinkStats& link = stats_.links[link_of_channel_[out]];
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
      flit_wheel_[(now_ + config_.link_cycles) % flit_wheel_.size()].push_back({out, flit, out_vc});
    }
    if (flit.tail) {
      router.out_vc_taken[at(o, out_vc)] = 0;
      in.out_port = in.out_vc = -1;
    }
  }
}

void CycleMeshModel::inject(NodeId n) {
  Source& s = sources_[n];
  if (s.queue.empty()) return;
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
  const Flit flit{slot, s.sent == 0, s.sent + 1 == packets_[slot].flits};
  Router& router = routers_[n];
  router.in[at(kLocal, vc)].fifo.push_back({flit, now_ + config_.router_cycles});
  ++router.buffered;
  --s.credits[vc];
  ++in_network_;
  ++s.sent;
  LinkStats& link = stats_.links[link_of_channel_[mesh_.injection_channel(n)]];
  ++link.flits;
  ++link.busy_cycles;
  if (flit.tail) {
    s.queue.pop_front();
    --queued_packets_;
    s.vc = -1;
  }
}

}  // namespace npuvp::noc
