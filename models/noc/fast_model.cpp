#include "models/noc/fast_model.h"

#include <algorithm>
#include <limits>

namespace npuvp::noc {

FastMeshModel::FastMeshModel(const NocConfig& config)
    : config_(config),
      mesh_(config),
      timelines_(mesh_.channel_count()),
      stats_(),
      link_of_channel_(make_link_stats(mesh_, stats_.links)),
      node_of_channel_(mesh_.channel_count(), -1) {}

ReservationTimeline& FastMeshModel::timeline(ChannelId c) {
  ReservationTimeline& t = timelines_[c];
  t.retire_before(horizon_, [&](Cycle at, bool busy) {
    if (observer_) observer_(c, at, busy);
  });
  return t;
}

int FastMeshModel::add_path(NodeId src, NodeId dst) {
  mesh_.xy_path(src, dst, path_);
  int parent = -1;
  for (ChannelId c : path_) {
    if (node_of_channel_[c] < 0) {
      node_of_channel_[c] = static_cast<int>(tree_.size());
      tree_.push_back({c, parent});
    }
    parent = node_of_channel_[c];
  }
  return parent;
}

Cycle FastMeshModel::time_tree(std::uint64_t flits, Cycle ready) {
  const Cycle router = config_.router_cycles;
  // Parents precede children in tree_, so one pass forward finds every head
  // time and one pass backward the upstream hold caused by back-pressure.
  for (TreeNode& n : tree_) {
    const Cycle head =
        n.parent < 0 ? ready : tree_[n.parent].start + mesh_.channel_latency(tree_[n.parent].channel) + router;
    n.start = timeline(n.channel).earliest_free(head, flits);
    n.end = n.start + flits;
  }
  if (config_.virtual_channels == 1) {
    const Cycle buffer = config_.buffer_flits;
    for (std::size_t i = tree_.size(); i-- > 0;) {
      const TreeNode& n = tree_[i];
      if (n.parent < 0) continue;
      TreeNode& up = tree_[n.parent];
      const Cycle credit_back = n.end + mesh_.channel_latency(up.channel);
      if (credit_back > buffer) up.end = std::max(up.end, credit_back - buffer);
    }
  }
  Cycle done = 0;
  std::uint64_t hops = 0;
  for (const TreeNode& n : tree_) {
    LinkStats& link = stats_.links[link_of_channel_[n.channel]];
    link.busy_cycles += timelines_[n.channel].reserve(n.start, n.end);
    link.flits += flits;
    last_busy_ = std::max(last_busy_, n.end);
    if (mesh_.is_injection(n.channel)) continue;
    ++hops;
    if (mesh_.channel_port(n.channel) == kLocal)
      done = std::max(done, n.start + mesh_.channel_latency(n.channel) + flits);
  }
  ++stats_.packets;
  stats_.flits += flits;
  stats_.flit_hops += flits * hops;
  stats_.latency.add(done - ready);
  return done;
}

Cycle FastMeshModel::unicast(NodeId src, NodeId dst, std::uint64_t flits, Cycle ready) {
  add_path(src, dst);
  const Cycle done = time_tree(flits, ready);
  for (const TreeNode& n : tree_) node_of_channel_[n.channel] = -1;
  tree_.clear();
  return done;
}

Cycle FastMeshModel::multicast(NodeId src, const std::vector<NodeId>& dsts, std::uint64_t flits, Cycle ready,
                               std::vector<Cycle>& done_at) {
  std::vector<int> ejection(dsts.size());
  for (std::size_t i = 0; i < dsts.size(); ++i) ejection[i] = add_path(src, dsts[i]);
  const Cycle done = time_tree(flits, ready);
  done_at.resize(dsts.size());
  for (std::size_t i = 0; i < dsts.size(); ++i) {
    const TreeNode& n = tree_[ejection[i]];
    done_at[i] = n.start + mesh_.channel_latency(n.channel) + flits;
  }
  ++stats_.multicast_packets;
  for (const TreeNode& n : tree_) node_of_channel_[n.channel] = -1;
  tree_.clear();
  return done;
}

void FastMeshModel::report_final() {
  for (ChannelId c = 0; c < mesh_.channel_count(); ++c) timeline(c);
}

void FastMeshModel::flush() {
  const Cycle saved = horizon_;
  horizon_ = std::numeric_limits<Cycle>::max();
  report_final();
  horizon_ = saved;
}

}  // namespace npuvp::noc
