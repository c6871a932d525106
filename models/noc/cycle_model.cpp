#include "models/noc/cycle_model.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace npuvp::noc {
namespace {

void require_flits(std::uint64_t flits) {
  if (flits == 0) throw std::invalid_argument("CycleMeshModel: a packet has at least one flit (its header)");
}

unsigned power_of_two_at_least(unsigned n) {
  unsigned p = 1;
  while (p < n) p *= 2;
  return p;
}

}  // namespace

NocDeadlock::NocDeadlock(Cycle at, std::uint64_t flits)
    : std::runtime_error("CycleMeshModel: deadlock: from cycle " + std::to_string(at) + " on, none of the " +
                         std::to_string(flits) +
                         " flits in the network can move (multicast branches wait for one another through the "
                         "buffers they share)"),
      cycle_(at) {}

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

void CycleMeshModel::queue(NodeId src, std::uint32_t slot) {
  sources_[src].queue.push_back(slot);
  queueing_sources_[src / 64] |= std::uint64_t{1} << (src % 64);
  ++queued_packets_;
  ++stats_.packets;
  stats_.flits += packets_[slot].flits;
}

void CycleMeshModel::offer(std::uint64_t tag, NodeId src, NodeId dst, std::uint64_t flits) {
  require_flits(flits);
  const std::uint32_t slot = new_packet_slot();
  packets_[slot] = {tag, dst, flits, now_, kUnicast};
  queue(src, slot);
}

void CycleMeshModel::offer_multicast(NodeId src, const std::vector<Destination>& to, std::uint64_t flits) {
  require_flits(flits);
  if (to.empty()) throw std::invalid_argument("CycleMeshModel: a multicast packet has at least one destination");
  std::uint32_t tree = 0;
  if (free_trees_.empty()) {
    tree = static_cast<std::uint32_t>(trees_.size());
    trees_.emplace_back();
  } else {
    tree = free_trees_.back();
    free_trees_.pop_back();
  }
  Tree& t = trees_[tree];
  t.outputs.clear();
  t.to = to;
  t.undelivered = to.size();
  for (const Destination& d : to) {
    for (NodeId at = src;;) {
      const unsigned port = mesh_.xy_port(at, d.node);
      auto router = std::find_if(t.outputs.begin(), t.outputs.end(), [at](const auto& o) { return o.first == at; });
      if (router == t.outputs.end()) router = t.outputs.insert(router, {at, 0});
      router->second = static_cast<std::uint8_t>(router->second | 1u << port);
      if (port == kLocal) break;
      at = mesh_.neighbour(at, port);
    }
  }
  const std::uint32_t slot = new_packet_slot();
  packets_[slot] = {0, to.front().node, flits, now_, tree};
  ++stats_.multicast_packets;
  queue(src, slot);
}

bool CycleMeshModel::idle() const { return queued_packets_ == 0 && in_network_ == 0 && credits_in_flight_ == 0; }

std::vector<CycleMeshModel::Delivery> CycleMeshModel::take_deliveries() {
  std::vector<Delivery> out;
  out.swap(deliveries_);
  return out;
}

void CycleMeshModel::start_packet(Router& router, unsigned i) {
  InputVc& in = router.in[i];
  const std::uint8_t outputs = router.slots[std::size_t{i} * ring_ + in.first].outputs;
  in.branches = in.unallocated = outputs;
  in.finished = 0;
  in.single = static_cast<std::int8_t>((outputs & (outputs - 1)) == 0 ? __builtin_ctz(outputs) : -1);
}

void CycleMeshModel::push(NodeId r, unsigned i, Cycle due, std::uint32_t packet, bool head, bool tail) {
  Router& router = routers_[r];
  InputVc& in = router.in[i];
  // A head's outputs are looked up once here, not at each cycle it waits for a VC.
  std::uint8_t outputs = 0;
  if (head) {
    const Packet& pk = packets_[packet];
    if (pk.tree == kUnicast) {
      outputs = static_cast<std::uint8_t>(1u << mesh_.xy_port(r, pk.dst));
    } else {
      for (const auto& [at, ports] : trees_[pk.tree].outputs)
        if (at == r) outputs = ports;
    }
  }
  router.slots[std::size_t{i} * ring_ + ((in.first + in.count) & (ring_ - 1))] = {due, packet, head, tail, outputs};
  if (in.count++ == 0) {
    if (in.branches != 0) {
      // Its packet's head has claimed every VC it needs.
      router.routed[i / vcs_] |= 1u << (i % vcs_);
    } else {
      start_packet(router, i);
      if (due > now_)
        // VC allocation would pass it over until then.
        due_heads_[due % due_heads_.size()].emplace_back(r, i);
      else
        router.unrouted[i / vcs_] |= 1u << (i % vcs_);
    }
  }
  if (router.buffered++ == 0) busy_routers_[r / 64] |= std::uint64_t{1} << (r % 64);
  moved_ = true;
}

void CycleMeshModel::step() {
  moved_ = false;
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
  // A flit that arrived is due router_cycles later, a flit or credit sent
  // arrives link_cycles later: still for longer, nothing ever moves again.
  still_ = moved_ || idle() ? 0 : still_ + 1;
  if (still_ > config_.router_cycles + config_.link_cycles + 1) throw NocDeadlock(now_ - still_, in_network_);
}

void CycleMeshModel::arrive() {
  const std::size_t slot = now_ % flit_wheel_.size();
  const Cycle due = now_ + config_.router_cycles;
  for (const FlitOnLink& f : flit_wheel_[slot]) push(f.router, f.input, due, f.packet, f.head, f.tail);
  flit_wheel_[slot].clear();
  for (const CreditOnLink& c : credit_wheel_[slot]) {
    ++routers_[c.router].credits[c.output];
    --credits_in_flight_;
    moved_ = true;
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
    const unsigned p = first_port + k < kPorts ? first_port + k : first_port + k - kPorts;
    std::uint32_t waiting = router.unrouted[p];
    if (k == 0) waiting &= ~0u << first_vc;
    if (k == kPorts) waiting &= (1u << first_vc) - 1;
    for (; waiting != 0; waiting &= waiting - 1) {
      const auto vc_in = static_cast<unsigned>(__builtin_ctz(waiting));
      const unsigned i = at(p, vc_in);
      InputVc& in = router.in[i];
      if (router.slots[std::size_t{i} * ring_ + in.first].due > now_) continue;
      if (in.single >= 0) {
        const int vc = claim_vc(router, static_cast<unsigned>(in.single));
        if (vc < 0) continue;
        in.out_vc[in.single] = static_cast<std::int8_t>(vc);
        in.unallocated = 0;
      } else if (!claim_branch_vcs(router, in)) {
        continue;
      }
      if (in.unallocated == 0) router.unrouted[p] &= ~(1u << vc_in);
      router.routed[p] |= 1u << vc_in;
      router.va_rr = i + 1 == inputs ? 0 : i + 1;
      moved_ = true;
    }
  }
}

inline int CycleMeshModel::claim_vc(Router& router, unsigned port) {
  for (unsigned vc = 0; vc < vcs_; ++vc) {
    if (router.out_vc_taken[at(port, vc)]) continue;
    router.out_vc_taken[at(port, vc)] = 1;
    return static_cast<int>(vc);
  }
  return -1;
}

bool CycleMeshModel::claim_branch_vcs(Router& router, InputVc& in) {
  // Each branch takes the lowest VC free on its output, as one is free.
  bool claimed = false;
  for (unsigned pending = in.unallocated; pending != 0; pending &= pending - 1) {
    const auto port = static_cast<unsigned>(__builtin_ctz(pending));
    const int vc = claim_vc(router, port);
    if (vc < 0) continue;
    in.out_vc[port] = static_cast<std::int8_t>(vc);
    in.unallocated = static_cast<std::uint8_t>(in.unallocated & ~(1u << port));
    claimed = true;
  }
  return claimed;
}

inline bool CycleMeshModel::drop_front(Router& router, NodeId r, unsigned p, unsigned vc) {
  const unsigned i = at(p, vc);
  InputVc& in = router.in[i];
  const bool tail = router.slots[std::size_t{i} * ring_ + in.first].tail;
  in.first = (in.first + 1) & (ring_ - 1);
  --in.count;
  --in_network_;
  if (--router.buffered == 0) busy_routers_[r / 64] &= ~(std::uint64_t{1} << (r % 64));
  if (p == kLocal) {
    ++sources_[r].credits[vc];
  } else {
    credit_wheel_[send_slot_].emplace_back(router.neighbour[p], router.facing[p] + vc);
    ++credits_in_flight_;
  }
  if (tail) {
    in.branches = 0;
    router.routed[p] &= ~(1u << vc);
    if (in.count != 0) {
      start_packet(router, i);
      router.unrouted[p] |= 1u << vc;
    }
    return false;
  }
  if (in.count == 0) {
    router.routed[p] &= ~(1u << vc);
    return false;
  }
  return true;
}

inline void CycleMeshModel::send(Router& router, NodeId r, unsigned p, unsigned vc, unsigned o) {
  const unsigned i = at(p, vc);
  InputVc& in = router.in[i];
  const bool one_branch = in.single >= 0;
  const std::uint32_t next = one_branch ? 0 : in.sent[o];
  const BufferedFlit flit = router.slots[std::size_t{i} * ring_ + ((in.first + next) & (ring_ - 1))];
  const auto out_vc = static_cast<unsigned>(in.out_vc[o]);
  LinkStats& link = stats_.links[router.link[o]];
  ++link.flits;
  ++link.busy_cycles;
  ++stats_.flit_hops;
  moved_ = true;
  if (o == kLocal) {
    ++ejected_flits_;
    if (flit.tail) deliver(r, flit.packet);
  } else {
    --router.credits[at(o, out_vc)];
    flit_wheel_[send_slot_].emplace_back(router.neighbour[o], router.facing[o] + out_vc, flit.packet, flit.head,
                                         flit.tail);
    ++in_network_;
  }
  if (flit.tail) {
    router.out_vc_taken[at(o, out_vc)] = 0;
    in.out_vc[o] = -1;
    in.finished = static_cast<std::uint8_t>(in.finished | 1u << o);
  }
  if (one_branch) {
    drop_front(router, r, p, vc);
    return;
  }
  ++in.sent[o];
  drop_sent_by_all(router, r, p, vc);
}

void CycleMeshModel::drop_sent_by_all(Router& router, NodeId r, unsigned p, unsigned vc) {
  InputVc& in = router.in[at(p, vc)];
  for (;;) {
    for (unsigned b = in.branches; b != 0; b &= b - 1)
      if (in.sent[__builtin_ctz(b)] == 0) return;
    for (unsigned b = in.branches; b != 0; b &= b - 1) --in.sent[__builtin_ctz(b)];
    if (!drop_front(router, r, p, vc)) return;
  }
}

unsigned CycleMeshModel::ready_branches(const Router& router, unsigned i) const {
  const InputVc& in = router.in[i];
  unsigned ready = 0;
  for (unsigned b = in.branches & ~in.unallocated & ~in.finished; b != 0; b &= b - 1) {
    const auto port = static_cast<unsigned>(__builtin_ctz(b));
    if (in.sent[port] >= in.count) continue;
    if (router.slots[std::size_t{i} * ring_ + ((in.first + in.sent[port]) & (ring_ - 1))].due > now_) continue;
    if (port != kLocal && router.credits[at(port, static_cast<unsigned>(in.out_vc[port]))] == 0) continue;
    ready |= 1u << port;
  }
  return ready;
}

void CycleMeshModel::traverse_switch(NodeId r) {
  Router& router = routers_[r];
  // Input stage: each input port offers one VC, for every branch of it with
  // a flit ready; requesters[o] collects the input ports asking for output o
  // as a bit mask.
  unsigned requesters[kPorts] = {};
  for (unsigned p = 0; p < kPorts; ++p) {
    request_[p] = -1;
    if (router.routed[p] == 0) continue;
    unsigned vc = router.in_rr[p];
    for (unsigned k = 0; k < vcs_; ++k, vc = vc + 1 == vcs_ ? 0 : vc + 1) {
      if ((router.routed[p] & (1u << vc)) == 0) continue;
      const unsigned i = at(p, vc);
      const InputVc& in = router.in[i];
      if (in.single >= 0) {
        // One branch (every unicast): it holds its VC (the VC is routed),
        // and the flit it sends next is the front.
        const auto port = static_cast<unsigned>(in.single);
        if (router.slots[std::size_t{i} * ring_ + in.first].due > now_) continue;
        if (port != kLocal && router.credits[at(port, static_cast<unsigned>(in.out_vc[port]))] == 0) continue;
        requesters[port] |= 1u << p;
      } else {
        const unsigned ready = ready_branches(router, i);
        if (ready == 0) continue;
        for (unsigned b = ready; b != 0; b &= b - 1) requesters[__builtin_ctz(b)] |= 1u << p;
      }
      request_[p] = static_cast<int>(vc);
      break;
    }
  }
  for (unsigned o = 0; o < kPorts; ++o) {
    if (requesters[o] == 0) continue;
    // The first requester from out_rr on, wrapping round.
    const unsigned from_rr = requesters[o] & (~0u << router.out_rr[o]);
    const auto p = static_cast<unsigned>(__builtin_ctz(from_rr != 0 ? from_rr : requesters[o]));
    const unsigned vc = static_cast<unsigned>(request_[p]);
    router.in_rr[p] = vc + 1 == vcs_ ? 0 : vc + 1;
    router.out_rr[o] = p + 1 == kPorts ? 0 : p + 1;
    send(router, r, p, vc, o);
  }
}

void CycleMeshModel::deliver(NodeId r, std::uint32_t packet) {
  const Packet& pk = packets_[packet];
  const Cycle done = now_ + config_.link_cycles + 1;
  if (pk.tree == kUnicast) {
    deliveries_.push_back({pk.tag, pk.offered, done});
    stats_.latency.add(done - pk.offered);
    free_slots_.push_back(packet);
    return;
  }
  Tree& t = trees_[pk.tree];
  for (const Destination& d : t.to) {
    if (d.node != r) continue;
    deliveries_.push_back({d.tag, pk.offered, done});
    --t.undelivered;
  }
  if (t.undelivered != 0) return;
  // Counted once, when its last copy is in, as the fast model counts it.
  stats_.latency.add(done - pk.offered);
  free_trees_.push_back(pk.tree);
  free_slots_.push_back(packet);
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
