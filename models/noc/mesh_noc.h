#pragma once
// The NoC as a TLM-2.0 interconnect: initiators and targets attach at mesh
// positions, transactions are routed by address and timed by the fast
// per-packet model (FastMeshModel), one computation per packet.
//
// A transaction costs, added to its annotated delay:
//   request packet  (header + write data flits) initiator node -> target node,
//   the target's own annotated delay,
//   response packet (header + read data flits)  target node -> initiator node.
// Packets start on the next NoC clock edge at or after their time. A unicast
// has no maximum length: a tile transfer is one packet, timed at once. A
// multicast goes as packets of at most buffer_flits flits, back to back. A
// transaction spanning several targets of an interleaved window (the SRAM
// banks) is split at the source into one such pair per chunk, all issued at
// its time; it completes when the last response is back. A READ carrying a
// ReadForkExtension (read_fork.h) sends its response down a multicast tree.
// An initiator that awaits its responses (Attachment::awaits_responses) is
// held in b_transport until a quantum before a response the target delays by
// more, so that the response is timed among the packets of its time. DMI is
// not granted, so every access is timed.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/logger.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <nlohmann/json.hpp>
#include <systemc>
#include <tlm>

#include "models/common/payload_pool.h"
#include "models/common/stats_source.h"
#include "models/common/vcd_recorder.h"
#include "models/noc/fast_model.h"
#include "models/noc/noc_config.h"
#include "models/noc/noc_stats.h"
#include "models/noc/read_fork.h"

namespace npuvp::noc {

// Turns a WRITE into a multicast: the payload's bytes are written at every
// address listed (each may belong to a different target; the payload's own
// address is not used). Its packets travel the XY tree from the initiator,
// copied where the paths to the destination nodes branch, so each link carries
// them once. The delay is the time until the last destination has written it
// (its target's delay included; no acknowledgement packets are modelled); the
// response status is the worst of the targets'. Any address outside every
// window fails the whole transaction with TLM_ADDRESS_ERROR_RESPONSE before
// anything is delivered; a READ carrying it gets TLM_COMMAND_ERROR_RESPONSE.
struct MulticastExtension : tlm::tlm_extension<MulticastExtension> {
  std::vector<std::uint64_t> addresses;

  MulticastExtension() = default;
  explicit MulticastExtension(std::vector<std::uint64_t> destinations) : addresses(std::move(destinations)) {}
  tlm::tlm_extension_base* clone() const override { return new MulticastExtension(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    addresses = static_cast<const MulticastExtension&>(other).addresses;
  }
};

// What the VCD shows of the NoC's links.
struct NocTraceOptions {
  // Each link's busy wire, edge by edge: most of a network run's changes.
  bool link_busy = false;
  // The window each link's utilization is given over; at least a NoC cycle
  // (FastMeshModel::trace_links throws std::invalid_argument otherwise; the
  // platform's configuration refuses a shorter power window first).
  sc_core::sc_time utilization_window = sc_core::sc_time(1, sc_core::SC_US);
};

class MeshNoc : public sc_core::sc_module, public stats::StatsSource {
 public:
  // One per initiator attachment, same order.
  sc_core::sc_vector<tlm_utils::simple_target_socket_tagged<MeshNoc>> target_sockets;
  // One per target attachment, same order.
  sc_core::sc_vector<tlm_utils::simple_initiator_socket_tagged<MeshNoc>> initiator_sockets;

  // Throws NocConfigError if the configuration is invalid.
  MeshNoc(const sc_core::sc_module_name& name, const NocConfig& config);
  MeshNoc(const MeshNoc&) = delete;
  MeshNoc& operator=(const MeshNoc&) = delete;

  // Publishes each link's utilization per window ("<name>.r1_2.E.utilization",
  // a real) and, with options.link_busy, a busy wire per link
  // ("<name>.r1_2.E.busy", high in every cycle it carries a flit). Busy
  // cycles are final only once no earlier transaction can come, so they are
  // recorded late, the rest at end of simulation.
  void attach_trace(trace::VcdRecorder& recorder, const NocTraceOptions& options = {});
  // Hands every packet to `sink` as the fast model times it (a packet trace).
  void record_packets(PacketSink& sink) { fast_.record_packets(&sink); }

  // Cumulative: packets, flits, flit-hops (NoC energy is charged per
  // flit-hop), per-link flits and busy cycles, packet latency distribution.
  const NocStats& stats() const { return fast_.stats(); }
  nlohmann::json stats_json() const override;
  std::string stats_name() const override { return name(); }
  void sample(stats::Counters& into, const sc_core::sc_time& now) override;
  std::string stats_text() const;

  const NocConfig& config() const { return config_; }
  const sc_core::sc_time& cycle_time() const { return cycle_; }

 private:
  void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(int id, tlm::tlm_generic_payload& gp);
  void end_of_simulation() override;

  void multicast(NodeId src, tlm::tlm_generic_payload& gp, const MulticastExtension& ext, sc_core::sc_time& delay);
  // The target holding the byte at `address` (-1 if none), the address in its
  // own space and how many bytes from there it holds contiguously.
  struct Route {
    int target = -1;
    std::uint64_t offset = 0;
    std::uint64_t run = 0;
  };
  Route decode(std::uint64_t address) const;
  // The windows of a forked response (ReadForkExtension), each decoded once
  // per transaction: every piece's copy lies within the run found there.
  using ForkRoutes = std::vector<Route>;
  // Decodes the windows of `fork` into `routes`; false unless each holds
  // `length` bytes contiguously.
  bool decode_fork(const ReadForkExtension& fork, std::uint64_t length, ForkRoutes& routes) const;
  // One request/response pair between the initiator's node and one target,
  // issued `delay` after now; returns when the response is back (absolute).
  // With `fork`, the response is forked, its copies written `fork_offset`
  // bytes into each window.
  // `awaited`: the initiator awaits the response (Attachment::awaits_responses).
  sc_core::sc_time unicast(NodeId src, const Route& route, tlm::tlm_generic_payload& gp, sc_core::sc_time delay,
                           bool awaited, const ForkRoutes* fork = nullptr, std::uint64_t fork_offset = 0);
  // The forked response of a READ the target at `from` answered, ready at
  // `ready`: one tree to `src` and every window; returns when `src` has it.
  sc_core::sc_time fork_response(NodeId src, NodeId from, tlm::tlm_generic_payload& gp, const ForkRoutes& fork,
                                 std::uint64_t fork_offset, const sc_core::sc_time& ready);
  // Times `length` bytes over the XY tree from `from` to each of `dests` (the
  // arrival at each, in order), as packets of at most `buffer_flits` flits,
  // and counts the payload once.
  std::vector<Cycle> send_tree(NodeId from, const std::vector<NodeId>& dests, std::uint64_t length,
                               const sc_core::sc_time& ready);
  // Writes gp at `offset` of target `target` as the packet arrives there;
  // returns when the target is done with it.
  sc_core::sc_time deliver(int target, std::uint64_t offset, tlm::tlm_generic_payload& gp, Cycle arrival);
  // A transaction spanning several targets (interleaved banks) goes out as one
  // packet per target piece, all issued at once; the slowest decides.
  void split(int id, NodeId src, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay, const ForkRoutes* fork);
  NodeId node_of(const Attachment& a) const { return fast_.mesh().node(a.x, a.y); }
  // First clock edge at or after `t`.
  Cycle edge_at_or_after(const sc_core::sc_time& t) const;
  sc_core::sc_time time_of(Cycle c) const { return cycle_ * static_cast<double>(c); }
  // Lets the fast model forget busy intervals no transaction can meet again.
  void advance_horizon();

  NocConfig config_;
  // The targets' address windows, each once: interleaved banks share one, so
  // a decode finds the window and places the address once, where a pass over
  // the targets placed it once per bank.
  struct Window {
    std::uint64_t base, window_size, size, interleave_bytes;
    unsigned ways;
    std::vector<int> target_of_way;  // -1 for a way no target holds
  };
  std::vector<Window> windows_;
  sc_core::sc_time cycle_;
  sc_core::sc_time quantum_;
  FastMeshModel fast_;
  tlmx::PayloadPool payloads_;               // forked responses' copies, split requests' pieces
  std::vector<std::uint64_t> tree_packets_;  // send_tree's packets' flits, kept for its capacity
  std::shared_ptr<spdlog::logger> log_;
  // Data carried: write requests' and read responses' payloads, injected
  // once each, and times the routers each crossed (headers not counted).
  struct Payload {
    std::uint64_t bytes = 0, byte_hops = 0;
    void add(std::uint64_t n, std::uint64_t hops) {
      bytes += n;
      byte_hops += n * hops;
    }
  } payload_;
};

}  // namespace npuvp::noc
