#pragma once
// Fast NoC timing from link occupancy: one computation per packet, no event
// per flit. Every channel keeps a timeline of busy intervals; a packet of F
// flits whose head reaches a channel at cycle h takes the earliest F free
// cycles starting at or after h, and its head reaches the next router
// link_cycles later and may leave it router_cycles after that.
//
// Approximations (see the agreement test against CycleMeshModel):
//  - Contention is first come, first served in the order packets are timed,
//    not round-robin per cycle: a packet never waits for one timed after it.
//  - Back-pressure: with one virtual channel a packet whose head waits at a
//    router keeps the upstream channel until the flits that do not fit in that
//    router's input buffer have passed (end_k = max(start_k + F,
//    end_{k+1} - buffer_flits + link_cycles), exact for a stream of flits
//    under credit flow control). With several virtual channels a waiting
//    packet holds only its own virtual channel, so the link is held for F
//    cycles only and others may use it meanwhile.
//  - A packet's flits cross each channel back to back; interleaving of
//    virtual channels on a link is modelled as if packets took turns.
// At zero load the timing equals the cycle-level model exactly:
// Mesh::zero_load_latency().

#include <cstdint>
#include <functional>
#include <vector>

#include "models/noc/mesh.h"
#include "models/noc/noc_stats.h"
#include "models/noc/reservation_timeline.h"

namespace npuvp::noc {

class FastMeshModel {
 public:
  explicit FastMeshModel(const NocConfig& config);

  // Times a packet of `flits` flits ready at its source endpoint at `ready`
  // and returns the cycle at which its tail is in the destination endpoint.
  Cycle unicast(NodeId src, NodeId dst, std::uint64_t flits, Cycle ready);

  // Times one packet delivered to every node in `dsts` along the XY tree
  // (the union of the XY paths; flits are copied where paths branch, each
  // channel carries them once). done_at[i] receives the delivery cycle of
  // dsts[i]; returns the latest.
  Cycle multicast(NodeId src, const std::vector<NodeId>& dsts, std::uint64_t flits, Cycle ready,
                  std::vector<Cycle>& done_at);

  // No packet timed from now on will be ready before `horizon`; busy
  // intervals that ended before it are final and forgotten lazily.
  void set_horizon(Cycle horizon) { horizon_ = horizon; }
  // Receives every final edge of a channel's busy intervals (busy from
  // `at`, or idle from `at`), in time order per channel.
  using BusyObserver = std::function<void(ChannelId, Cycle at, bool busy)>;
  void set_busy_observer(BusyObserver observer) { observer_ = std::move(observer); }
  // Reports the edges final at the horizon on every channel, not only on
  // those packets touch, so an idle channel's are not held back.
  void report_final();
  // Makes all intervals final (end of simulation) and reports them.
  void flush();

  const Mesh& mesh() const { return mesh_; }
  const NocStats& stats() const { return stats_; }
  // Index of a channel into stats().links, -1 for a port with no neighbour.
  int link_index(ChannelId c) const { return link_of_channel_[c]; }
  // Latest cycle any channel is reserved until.
  Cycle last_busy() const { return last_busy_; }

 private:
  struct TreeNode {
    ChannelId channel;
    int parent;  // index into tree_, -1 for the injection channel
    Cycle start = 0, end = 0;
  };
  // Adds the XY path src->dst to tree_, sharing the channels already there.
  // Returns the index of its ejection node.
  int add_path(NodeId src, NodeId dst);
  Cycle time_tree(std::uint64_t flits, Cycle ready);
  ReservationTimeline& timeline(ChannelId c);

  NocConfig config_;
  Mesh mesh_;
  std::vector<ReservationTimeline> timelines_;
  NocStats stats_;                    // before link_of_channel_, which names its links
  std::vector<int> link_of_channel_;  // index into stats_.links, -1 if no such channel
  Cycle horizon_ = 0;
  Cycle last_busy_ = 0;
  BusyObserver observer_;
  // Scratch reused between packets.
  std::vector<TreeNode> tree_;
  std::vector<int> node_of_channel_;  // tree_ index per channel, -1 if not in the tree
  std::vector<ChannelId> path_;
};

}  // namespace npuvp::noc
