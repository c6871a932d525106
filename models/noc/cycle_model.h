#pragma once
// Cycle-level, flit-by-flit reference model of the mesh (plain C++, no
// SystemC): input-buffered routers with virtual channels, credit-based
// wormhole flow control, XY routing, round-robin separable allocation.
// It is the detailed model the fast path is checked against and what
// noc-bench drives for saturation curves.
//
// One cycle, in this order:
//  1. flits and credits whose link latency has elapsed arrive; an arriving
//     flit may leave its router router_cycles later;
//  2. per router, head flits that are due claim a free virtual channel of
//     their XY output (round-robin over the input VCs);
//  3. switch allocation, input first: each input port offers one due flit of
//     a VC that holds an output VC and a credit, each output port grants one
//     (both round-robin); a granted flit leaves now and reaches the next
//     router link_cycles later, its buffer slot's credit goes back upstream
//     over the same latency; a tail releases the output VC;
//  4. each endpoint injects one flit of its oldest queued packet into a VC of
//     its router's local input (no latency; the credit of a slot freed in
//     step 3 is usable at once).
// An endpoint has a packet when its tail arrives; the packet's latency counts
// from the cycle it was offered to the cycle after its tail arrived.
//
// A multicast packet travels the XY tree to its destinations (the union of
// the XY paths from its source), copied where the paths branch: at such a
// router its head claims a VC on each branch's output (each as one is free),
// and each branch sends the buffered flits in turn as its output grants them,
// one branch ahead of another if it is granted sooner. The input VC's offer
// in step 3 asks for every branch that has a flit ready, so several outputs
// may grant it in one cycle. A flit leaves the buffer, and its credit goes
// back, once every branch has sent it. docs/noc.md, "Multicast in the
// cycle-level model".
//
// A copy that holds an ejection VC while another branch of its packet waits
// (through the buffer they share) can close a cycle of waits with other
// packets: a wormhole tree multicast can deadlock, which step() reports
// (NocDeadlock) rather than stepping on forever.

#include <cstdint>
#include <deque>
#include <stdexcept>
#include <utility>
#include <vector>

#include "models/noc/mesh.h"
#include "models/noc/noc_stats.h"

namespace npuvp::noc {

// Nothing in the network can move again: every buffered flit waits for a VC
// or a buffer slot that another waiting flit holds.
class NocDeadlock : public std::runtime_error {
 public:
  NocDeadlock(Cycle at, std::uint64_t flits);
  // The first cycle from which nothing moved.
  Cycle cycle() const { return cycle_; }

 private:
  Cycle cycle_;
};

class CycleMeshModel {
 public:
  explicit CycleMeshModel(const NocConfig& config);

  // Queues a packet at its source endpoint, ready in the current cycle.
  // `tag` comes back with its delivery. Throws std::invalid_argument for a
  // packet of no flits.
  void offer(std::uint64_t tag, NodeId src, NodeId dst, std::uint64_t flits);
  struct Destination {
    NodeId node;
    std::uint64_t tag;  // comes back with the delivery there
  };
  // Queues one packet for every destination along the XY tree from `src`,
  // each delivered when its copy's tail arrives. Throws std::invalid_argument
  // for a packet of no flits or no destination.
  void offer_multicast(NodeId src, const std::vector<Destination>& to, std::uint64_t flits);
  // Throws NocDeadlock once nothing has moved for longer than a flit takes
  // from one router to the next while flits wait in the network.
  void step();
  // Moves now() on to `cycle` if nothing is in the network and nothing is
  // queued: idle cycles change nothing else. Does nothing otherwise.
  void skip_idle_to(Cycle cycle) {
    if (idle() && cycle > now_) now_ = cycle;
  }
  Cycle now() const { return now_; }
  // Nothing queued, buffered, on a link or owed as a credit.
  bool idle() const;

  struct Delivery {
    std::uint64_t tag;
    Cycle offered;
    Cycle done;
  };
  // Deliveries decided since the last call. A delivery is known when the tail
  // leaves the last router, so `done` may lie a few cycles ahead of now().
  std::vector<Delivery> take_deliveries();

  // Flits that have left the network into endpoints (counted when they leave
  // the last router).
  std::uint64_t ejected_flits() const { return ejected_flits_; }
  const Mesh& mesh() const { return mesh_; }
  const NocStats& stats() const { return stats_; }

 private:
  static constexpr std::uint32_t kUnicast = ~std::uint32_t{0};
  struct Packet {
    std::uint64_t tag;
    NodeId dst;
    std::uint64_t flits;
    Cycle offered;
    std::uint32_t tree;  // slot in trees_, kUnicast for one destination
  };
  // Where a multicast packet goes: the output ports its head takes at each
  // router of its tree, and the destinations still to be delivered.
  struct Tree {
    std::vector<std::pair<NodeId, std::uint8_t>> outputs;  // router, port mask
    std::vector<Destination> to;
    std::size_t undelivered = 0;
  };
  // A flit in an input buffer.
  struct BufferedFlit {
    Cycle due;             // cycle it may leave the router
    std::uint32_t packet;  // slot in packets_
    bool head, tail;
    std::uint8_t outputs;  // a head's output ports at this router, a bit each
  };
  // An input VC's buffer is a ring of its router's slots: credits never let
  // it hold more than buffer_flits flits, so it needs no allocation. The
  // packet at its front goes out through one branch per output port in
  // `branches` (one for a unicast), from its head's VC allocation until the
  // tail has left the buffer.
  struct InputVc {
    std::uint32_t first = 0, count = 0;
    std::uint8_t branches = 0;
    std::uint8_t unallocated = 0;  // branches still without an output VC
    std::uint8_t finished = 0;     // branches whose tail has been sent
    std::int8_t single = -1;       // the port of its only branch; -1 with several
    std::int8_t out_vc[kPorts] = {-1, -1, -1, -1, -1};
    // Flits past `first` each branch has sent: 0 for a unicast between
    // cycles, since a flit sent on its only branch leaves the buffer at once.
    std::uint16_t sent[kPorts] = {};  // at most buffer_flits: 4096 (validate())
  };
  struct Router {
    std::vector<InputVc> in;                 // port * vcs + vc
    std::vector<BufferedFlit> slots;         // ring_ per input VC, same order
    std::vector<unsigned> credits;           // output port * vcs + vc
    std::vector<std::uint8_t> out_vc_taken;  // output port * vcs + vc
    std::vector<unsigned> in_rr;             // per input port: next VC to offer
    std::vector<unsigned> out_rr;            // per output port: next input port to grant
    unsigned va_rr = 0;
    unsigned buffered = 0;
    // Per input port, a bit per VC with a flit: in `unrouted` if its front is
    // a head without an output VC (VC allocation's candidates), in `routed`
    // if it holds one (the switch allocator's).
    std::uint32_t unrouted[kPorts] = {};
    std::uint32_t routed[kPorts] = {};
    // Per port, looked up once: the neighbour it leads to, the index of VC 0
    // of the neighbour's port facing it (where a flit sent out of it, or a
    // credit returned from it, lands), the link statistics of the output.
    NodeId neighbour[kPorts] = {};
    unsigned facing[kPorts] = {};
    int link[kPorts] = {};
  };
  // A flit or a credit on a link; every link has the same latency, so what
  // was sent at cycle c arrives at c + link_cycles, in sending order.
  // Built in place (emplace_back): a braced temporary was stored field by
  // field and read back whole, a load the stores could not forward (an eighth
  // of the switch traversal's time).
  struct FlitOnLink {
    FlitOnLink(NodeId to, unsigned vc_there, std::uint32_t slot, bool is_head, bool is_tail)
        : router(to), input(vc_there), packet(slot), head(is_head), tail(is_tail) {}
    NodeId router;   // the router it enters
    unsigned input;  // input VC there: port * vcs + vc
    std::uint32_t packet;
    bool head, tail;
  };
  struct CreditOnLink {
    CreditOnLink(NodeId to, unsigned vc_there) : router(to), output(vc_there) {}
    NodeId router;    // the router it returns to
    unsigned output;  // output port * vcs + vc there
  };
  struct Source {
    std::deque<std::uint32_t> queue;
    int vc = -1;  // VC the current packet (queue.front()) is injected into
    std::uint64_t sent = 0;
    std::vector<unsigned> credits;  // free slots of the local input VCs
    unsigned rr = 0;
  };

  void arrive();
  void allocate_vcs(NodeId r);
  void traverse_switch(NodeId r);
  // The lowest VC free on output `port`, now taken; -1 if none.
  // This runs at each VC allocation attempt of a head, send() and
  // drop_front() per flit, inside the loops of allocate_vcs() and
  // traverse_switch(): forced inline, as the fast model's per-hop steps.
  [[gnu::always_inline]] int claim_vc(Router& router, unsigned port);
  // A VC for each branch of a multicast head that lacks one and finds one
  // free; whether it found any.
  bool claim_branch_vcs(Router& router, InputVc& in);
  // The branches of multicast input VC `i` with a flit that may leave now.
  unsigned ready_branches(const Router& router, unsigned i) const;
  // Sends the next flit of input VC `vc` of port `p` of router `r` on its
  // branch `o`, and drops the flits every branch has sent from the buffer.
  [[gnu::always_inline]] void send(Router& router, NodeId r, unsigned p, unsigned vc, unsigned o);
  // Takes the front flit out of input VC `vc` of port `p`, its slot's credit
  // going back upstream; a tail releases the VC to the packet behind it.
  // Returns whether flits of the same packet are left in the buffer.
  [[gnu::always_inline]] bool drop_front(Router& router, NodeId r, unsigned p, unsigned vc);
  // Drops the flits every branch of a multicast input VC has sent.
  void drop_sent_by_all(Router& router, NodeId r, unsigned p, unsigned vc);
  // The tail of `packet` has left router `r` into its endpoint.
  void deliver(NodeId r, std::uint32_t packet);
  // Takes the branches of the head now at the front of released input VC
  // `i`, all still without an output VC; its candidate bits are the caller's.
  void start_packet(Router& router, unsigned i);
  void inject(NodeId n);
  // Appends a flit of `packet` due at `due` to input VC `i` of router `r`,
  // keeping its candidate bits.
  void push(NodeId r, unsigned i, Cycle due, std::uint32_t packet, bool head, bool tail);
  std::uint32_t new_packet_slot();
  // Queues packet `slot` at its source endpoint, counted in the statistics.
  void queue(NodeId src, std::uint32_t slot);
  unsigned at(unsigned port, unsigned vc) const { return port * vcs_ + vc; }

  NocConfig config_;
  Mesh mesh_;
  unsigned vcs_;
  unsigned ring_;  // slots per input VC: buffer_flits rounded up to a power of two
  Cycle now_ = 0;
  std::size_t send_slot_ = 0;  // wheel slot of what is sent this cycle
  std::vector<Router> routers_;
  std::vector<Source> sources_;
  // A bit per node: the routers holding flits, the sources with packets
  // queued. A step visits those only, in node order as a pass over all would.
  std::vector<std::uint64_t> busy_routers_, queueing_sources_;
  // Indexed by arrival cycle modulo link_cycles + 1.
  std::vector<std::vector<FlitOnLink>> flit_wheel_;
  std::vector<std::vector<CreditOnLink>> credit_wheel_;
  // Heads that became the front of an input VC, by the cycle they are due
  // (modulo router_cycles + 1): each joins its router's `unrouted` then.
  std::vector<std::vector<std::pair<NodeId, unsigned>>> due_heads_;
  std::vector<Packet> packets_;
  std::vector<std::uint32_t> free_slots_;
  std::vector<Tree> trees_;
  std::vector<std::uint32_t> free_trees_;
  std::vector<Delivery> deliveries_;
  NocStats stats_;  // before link_of_channel_, which names its links
  std::vector<int> link_of_channel_;
  int request_[kPorts] = {};      // scratch: per input port, the VC offered or -1
  std::uint64_t in_network_ = 0;  // flits (and copies) buffered or on links, not those queued at sources
  std::uint64_t queued_packets_ = 0;
  std::uint64_t credits_in_flight_ = 0;
  std::uint64_t ejected_flits_ = 0;
  // Whether anything moved this cycle (a flit, a credit, a VC claimed), and
  // for how many cycles before this one nothing did.
  bool moved_ = false;
  Cycle still_ = 0;
};

}  // namespace npuvp::noc
