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

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

#include "models/noc/mesh.h"
#include "models/noc/noc_stats.h"

namespace npuvp::noc {

class CycleMeshModel {
 public:
  explicit CycleMeshModel(const NocConfig& config);

  // Queues a packet at its source endpoint, ready in the current cycle.
  // `tag` comes back with its delivery.
  void offer(std::uint64_t tag, NodeId src, NodeId dst, std::uint64_t flits);
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
  struct Packet {
    std::uint64_t tag;
    NodeId dst;
    std::uint64_t flits;
    Cycle offered;
  };
  // A flit in an input buffer.
  struct BufferedFlit {
    Cycle due;             // cycle it may leave the router
    std::uint32_t packet;  // slot in packets_
    bool head, tail;
    std::uint8_t route;  // a head's XY output port at this router
  };
  // An input VC's buffer is a ring of its router's slots: credits never let
  // it hold more than buffer_flits flits, so it needs no allocation.
  struct InputVc {
    std::uint32_t first = 0, count = 0;
    int out_port = -1, out_vc = -1;  // held from head to tail
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
  void inject(NodeId n);
  // Appends a flit of `packet` due at `due` to input VC `i` of router `r`,
  // keeping its candidate bits.
  void push(NodeId r, unsigned i, Cycle due, std::uint32_t packet, bool head, bool tail);
  std::uint32_t new_packet_slot();
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
  std::vector<Delivery> deliveries_;
  NocStats stats_;  // before link_of_channel_, which names its links
  std::vector<int> link_of_channel_;
  int request_[kPorts] = {};      // scratch: per input port, the VC offered or -1
  std::uint64_t in_network_ = 0;  // flits queued at sources not counted; buffered + on links
  std::uint64_t queued_packets_ = 0;
  std::uint64_t credits_in_flight_ = 0;
  std::uint64_t ejected_flits_ = 0;
};

}  // namespace npuvp::noc
