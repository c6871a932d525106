#pragma once
// Fast NoC timing: one computation per packet, no event per flit. A packet is
// timed hop by hop against what the packets timed before it left behind on
// each channel: the link's busy cycles, the busy cycles of the crossbar input
// it is read through, and per virtual channel the packets that were
// allocated it (when, until when, and when their tail left the router
// downstream). docs/noc.md states the mechanism and its assumptions; in short,
// at each router a packet's head
//  - waits until the packets ahead of it in the same input VC buffer have
//    left (head-of-line blocking),
//  - takes an output VC (the lowest free one; the injection port takes turns),
//    holding it until its tail has crossed the link,
//  - sends once the downstream buffer has room for its flits (credits: the
//    flits buffer_flits ahead of it in that VC must have left; a packet
//    longer than a buffer waits for its own flits too), and
//  - needs its input's crossbar port and the output link for flits cycles.
// Flits of packets on different VCs interleave on a link: a packet's flits
// take the first cycles the link and crossbar input are free, each no earlier
// than it arrived. A packet never waits for one timed after it.
// At zero load the timing equals the cycle-level model exactly:
// Mesh::zero_load_latency().

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "models/common/vcd_recorder.h"
#include "models/noc/mesh.h"
#include "models/noc/noc_stats.h"
#include "models/noc/reservation_timeline.h"

namespace npuvp::noc {

// One packet as the fast model timed it, for a packet trace: a multicast
// gives one record per destination, numbered alike (unicasts 0).
struct PacketRecord {
  NodeId src, dst;
  std::uint64_t flits;
  Cycle ready, done;
  std::uint64_t multicast;
};

// Receives each packet in the order the model times it.
class PacketSink {
 public:
  virtual ~PacketSink() = default;
  virtual void packet(const PacketRecord& record) = 0;
};

// What a traced model publishes of each channel with a link (kFiltered: not
// that signal).
struct LinkSignals {
  // 1-bit, high in every cycle the link carries a flit.
  std::vector<trace::VcdRecorder::SignalId> busy;
  // Real, the fraction of a window's cycles in which the link carried a
  // flit, recorded at the window's start once the window is final.
  std::vector<trace::VcdRecorder::SignalId> utilization;
  std::uint64_t ticks_per_cycle = 1;  // sc_time ticks
  // Windows of this many ticks from time 0; a cycle counts in the window its
  // start falls in.
  std::uint64_t window_ticks = 1;
};

class FastMeshModel {
 public:
  explicit FastMeshModel(const NocConfig& config);

  // Times a packet of `flits` flits ready at its source endpoint at `ready`
  // and returns the cycle at which its tail is in the destination endpoint.
  // Both throw std::invalid_argument for a packet of no flits.
  Cycle unicast(NodeId src, NodeId dst, std::uint64_t flits, Cycle ready);

  // Times one packet delivered to every node in `dsts` along the XY tree
  // (the union of the XY paths; flits are copied where paths branch, each
  // channel carries them once). done_at[i] receives the delivery cycle of
  // dsts[i]; returns the latest.
  Cycle multicast(NodeId src, const std::vector<NodeId>& dsts, std::uint64_t flits, Cycle ready,
                  std::vector<Cycle>& done_at) {
    return multicast(src, dsts, &flits, 1, ready, done_at);
  }
  // Times `packets` packets along the same tree, all ready at `ready`, in
  // turn (the next behind the one before on the injection link), the i-th of
  // packet_flits[i] flits; done_at[i] receives the last one's delivery to
  // dsts[i]. Throws std::invalid_argument if any has no flits.
  Cycle multicast(NodeId src, const std::vector<NodeId>& dsts, const std::uint64_t* packet_flits, std::size_t packets,
                  Cycle ready, std::vector<Cycle>& done_at);

  // No packet timed from now on will be ready before `horizon`; busy
  // intervals that ended before it are final and forgotten lazily.
  void set_horizon(Cycle horizon) { horizon_ = horizon; }
  // Publishes each link's final state on `recorder`, per channel as
  // `signals` names it: links' busy edges are most of a traced run's changes,
  // recorded inline, not through a callback, and link by link when the
  // recorder flushes (report_final), not whenever a packet meets a link at a
  // new horizon, so that one call records many. Throws std::invalid_argument
  // for a window shorter than a cycle.
  void trace_links(trace::VcdRecorder& recorder, LinkSignals signals);
  // Reports the edges final at the horizon on every channel, not only on
  // those packets touch, so an idle channel's are not held back.
  void report_final();
  // Makes all intervals final (end of simulation at cycle `end`) and reports
  // them; the last utilization window ends at `end`, or at the last busy
  // cycle if a link is reserved past it.
  void flush(Cycle end);

  // Hands every packet timed from now on to `sink` (nullptr: none).
  void record_packets(PacketSink* sink) { sink_ = sink; }

  const Mesh& mesh() const { return mesh_; }
  const NocStats& stats() const { return stats_; }
  // Index of a channel into stats().links, -1 for a port with no neighbour.
  int link_index(ChannelId c) const { return channels_[c].info.link; }
  // Latest cycle any channel is reserved until.
  Cycle last_busy() const { return last_busy_; }

 private:
  // A packet's use of one virtual channel of a channel, keyed by the cycle it
  // was allocated the VC.
  struct Passage {
    Cycle owned_until;  // exclusive: the cycle after its tail was sent
    Cycle tail_out;     // cycle its tail left the router downstream
    std::uint64_t flits;
  };
  // By allocation cycle; a few entries each (those the horizon has not
  // retired), so a sorted vector.
  // Trivially copyable (a std::pair is not), so the passages after an
  // insertion move with one memmove.
  // Built in place (emplace): a braced temporary was written field by field
  // and read back as vectors, a load the stores could not forward (about 2 %
  // of the fast model's time, Run's the same).
  struct LogEntry {
    LogEntry(Cycle allocated, Cycle owned_until, Cycle tail_out, std::uint64_t flits)
        : first(allocated), second{owned_until, tail_out, flits} {}
    Cycle first;  // allocated
    Passage second;
  };
  using VcLog = std::vector<LogEntry>;
  // Where and when a packet whose head is due at `due` gets a VC of a channel.
  // Not initialized: allocate() writes every field (its first VC trial
  // always grants).
  struct Grant {
    unsigned vc;
    Cycle allocated, start, tail;
    Cycle head_free;                   // earliest cycle the head may leave the next router
    std::size_t log_at;                // the first passage of the VC's log allocated after it
    std::size_t runs_begin, runs_end;  // its flits' cycles on the link, in runs_
  };
  // A channel of the packet's tree, with the grant allocate() wrote into it.
  struct TreeNode : Grant {
    TreeNode(ChannelId c, int p) : channel(c), parent(p) {}
    ChannelId channel;
    int parent;  // index into tree_, -1 for the injection channel
    Cycle tail_out = 0;
  };
  struct Slots {
    Cycle first, last;
  };
  // Cycles [first, end) a packet's flits take on a link, and where they go
  // among the link's and the crossbar input's intervals (reserve() hints).
  // Built in place, as LogEntry is.
  struct Run {
    Run(Cycle first_cycle, Cycle end_cycle, std::size_t link_hint, std::size_t crossbar_hint)
        : first(first_cycle), end(end_cycle), link_at(link_hint), crossbar_at(crossbar_hint) {}
    Cycle first, end;
    std::size_t link_at, crossbar_at;
  };

  // Adds the XY path src->dst to tree_, sharing the channels already there.
  // Returns the index of its ejection node.
  int add_path(NodeId src, NodeId dst);
  // The XY path src->dst from paths_, computed on first use; on a mesh of
  // more than kCachedPathNodes nodes, computed each time into
  // uncached_path_ (valid until the next call).
  const std::vector<ChannelId>& path(NodeId src, NodeId dst);
  // A table of nodes^2 paths: 65,536 entries at 16x16, 4.3 G (over 100 GB)
  // at the 256x256 a configuration allows.
  static constexpr unsigned kCachedPathNodes = 256;
  Cycle time_tree(std::uint64_t flits, Cycle ready);
  void reserve_tree(std::uint64_t flits);
  // allocate(), try_vc() and take_slots() run once or more per hop, each
  // from one caller: forced inline into time_tree(), since a call's saves,
  // restores and arguments cost about as much as their own work.
  // Grants the hop into `n` itself: no Grant copied per hop.
  [[gnu::always_inline]] void allocate(TreeNode& n, Cycle due, std::uint64_t flits);
  // Grants the hop as allocate() would where its channel is as the packets
  // timed before left it: nothing reserved on the link or its crossbar input
  // from `due` on, the VC allocate() tries first free with the credits back
  // for each flit as it comes, and the packet's flits arriving in one run.
  // That VC is then granted at `due`, the flits back to back, without
  // allocate()'s searches. Returns whether the hop was such a one (most are:
  // 71 % of a ResNet-50 run's when every credit had to be back).
  [[gnu::always_inline]] bool grant_uncontended(TreeNode& n, Cycle due, std::uint64_t flits);
  // Grants `vc` into `grant` unless it cannot come before `bound`: its
  // allocation (a router's choice) or first flit (an injection's) would be
  // no earlier. Returns whether it did.
  // `next`: the first passage of the VC's log allocated after `due`.
  [[gnu::always_inline]] bool try_vc(const TreeNode& n, unsigned vc, VcLog::const_iterator next, Cycle due,
                                     std::uint64_t flits, bool injection, Cycle bound, Grant& grant);
  // The first `flits` cycles at or after `from` in which both the link and
  // the crossbar input are free: packets on different VCs interleave their
  // flits on a link. Appends them to runs_ as intervals.
  [[gnu::always_inline]] Slots take_slots(const TreeNode& n, Cycle from, std::uint64_t flits);
  // Earliest first-flit cycle the downstream buffer's credits allow, given
  // the passages allocated the VC before `next`.
  Cycle credit_bound(ChannelId c, const VcLog& log, VcLog::const_iterator next, std::uint64_t flits) const;
  static constexpr std::size_t kForgetAtLeast = 32;
  // What the hop-by-hop timing asks of a channel, looked up once.
  struct ChannelInfo {
    Cycle latency;
    NodeId node;     // the router it leaves from (the node it enters, injection)
    int link;        // index into stats_.links, -1 for a port with no neighbour
    bool injection;  // endpoint into its router
    bool ejection;   // router out to its endpoint, which always accepts
  };
  // Per channel, what a hop reads and updates besides its VC logs, side by
  // side: two cache lines per channel (112 bytes, aligned so that none
  // straddles a third and the index is a shift) rather than a line in each of
  // six arrays. A hop's reads missed L1 less: docs/performance.md.
  struct alignas(64) Channel {
    ChannelInfo info;
    Cycle retired_at = std::numeric_limits<Cycle>::max();  // the horizon of its last retire()
    // How many entries (intervals and passages) it may hold before retire()
    // forgets what the horizon passed.
    std::size_t forget_above = kForgetAtLeast;
    std::size_t passages = 0;      // in its VCs' logs
    ReservationTimeline link;      // flits on the link
    ReservationTimeline crossbar;  // flits read out of its downstream buffer
  };
  // Forgets what no packet ready at or after the horizon can meet again.
  // Nothing timed since the last call can end before the same horizon (a
  // packet is never ready before it), so a channel is retired once per
  // horizon: under loosely timed simulation many transactions share one, and
  // most calls return at once. What ended before the horizon is never met
  // again (searches start at or after it) and is always a prefix of what a
  // channel holds, so forgetting it is only housekeeping: it waits until a
  // channel's entries doubled, which costs one pass over them per insertion
  // at most instead of a pass and a shift at each horizon. The entries are
  // counted as they come and go, and checked inline: most new horizons find
  // too few to forget.
  void retire(ChannelId c) {
    Channel& channel = channels_[c];
    if (channel.retired_at == horizon_) return;
    channel.retired_at = horizon_;
    if (channel.link.intervals() + channel.crossbar.intervals() + channel.passages >= channel.forget_above)
      forget_before_horizon(c);
  }
  void forget_before_horizon(ChannelId c);
  // Forgets the link's busy intervals that ended before the horizon,
  // publishing their edges and utilization when traced.
  void retire_link(ChannelId c);
  // A link's utilization counted so far, when traced.
  // The window's cycles are kept, so that an interval inside it (nearly
  // every one: a window holds hundreds of cycles) is counted without a
  // division.
  struct LinkUse {
    Cycle counted_until = 0;                 // its busy cycles before this one are counted
    std::uint64_t window = 0;                // the window they are counted in
    Cycle window_first = 0, window_end = 0;  // its cycles, [first, end)
    Cycle busy = 0;                          // the busy cycles of that window so far
    double published = 0;                    // the value last recorded; the file starts at 0
  };
  // Counts the link's busy cycles up to `until` (all final) and publishes
  // the windows that ended by then.
  void count_utilization(ChannelId c, Cycle until);
  // Publishes the window being counted and moves on to window `k`; the
  // windows in between had no busy cycle.
  void close_windows_before(ChannelId c, std::uint64_t k);
  void publish_utilization(ChannelId c, std::uint64_t window, double value);
  std::uint64_t window_of(Cycle cycle) const { return cycle * links_.ticks_per_cycle / links_.window_ticks; }
  // The first cycle of window k.
  Cycle window_start(std::uint64_t k) const {
    return (k * links_.window_ticks + links_.ticks_per_cycle - 1) / links_.ticks_per_cycle;
  }
  // Index of a channel's VC into vc_logs_ and latest_tail_out_.
  std::size_t vc_slot(ChannelId c, unsigned vc) const { return std::size_t(c) * config_.virtual_channels + vc; }
  VcLog& vc_log(ChannelId c, unsigned vc) { return vc_logs_[vc_slot(c, vc)]; }

  NocConfig config_;
  Mesh mesh_;
  std::vector<Channel> channels_;
  std::vector<VcLog> vc_logs_;  // per channel and VC
  // Per channel and VC, the latest tail_out of its passages, forgotten ones
  // included: a bound on when the last of their credits is back.
  std::vector<Cycle> latest_tail_out_;
  std::vector<unsigned> next_injection_vc_;  // per node: the injection port's turn
  NocStats stats_;
  Cycle horizon_ = 0;
  Cycle last_busy_ = 0;
  trace::VcdRecorder* recorder_ = nullptr;  // set when traced
  LinkSignals links_;
  std::vector<LinkUse> link_use_;  // per channel, when utilization is traced
  // Where the last utilization window ends: flush()'s end, until then none.
  Cycle utilization_end_ = std::numeric_limits<Cycle>::max();
  PacketSink* sink_ = nullptr;
  // Scratch reused between packets.
  std::vector<TreeNode> tree_;
  std::vector<int> node_of_channel_;  // tree_ index per channel, -1 if not in the tree
  // XY path per (source, destination), computed on first use: a unicast
  // packet's tree is its path, each channel once; a multicast tree is the
  // union of its destinations' paths.
  std::vector<std::vector<ChannelId>> paths_;
  std::vector<ChannelId> uncached_path_;
  std::vector<Run> runs_;  // of the packet's grants, and of the VC trial under way
};

}  // namespace npuvp::noc
