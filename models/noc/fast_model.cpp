#include "models/noc/fast_model.h"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace npuvp::noc {

FastMeshModel::FastMeshModel(const NocConfig& config)
    : config_(config),
      mesh_(config),
      channels_(mesh_.channel_count()),
      vc_logs_(std::size_t(mesh_.channel_count()) * config.virtual_channels),
      latest_tail_out_(vc_logs_.size(), 0),
      next_injection_vc_(mesh_.nodes(), 0),
      stats_(),
      node_of_channel_(mesh_.channel_count(), -1),
      paths_(mesh_.nodes() <= kCachedPathNodes ? std::size_t(mesh_.nodes()) * mesh_.nodes() : 0) {
  // allocate() keeps a packet's held VCs in a fixed array.
  validate_virtual_channels(config.virtual_channels);
  const std::vector<int> link_of_channel = make_link_stats(mesh_, stats_.links);
  for (ChannelId c = 0; c < mesh_.channel_count(); ++c)
    channels_[c].info = {mesh_.channel_latency(c), mesh_.channel_node(c), link_of_channel[c], mesh_.is_injection(c),
                         mesh_.channel_port(c) == kLocal && !mesh_.is_injection(c)};
}

void FastMeshModel::forget_before_horizon(ChannelId c) {
  const unsigned vcs = config_.virtual_channels;
  Channel& channel = channels_[c];
  retire_link(c);
  channel.crossbar.retire_before(horizon_, [](Cycle, bool) {});
  // A passage stops mattering once its VC is free and the credits of its
  // flits are back upstream before the horizon.
  const Cycle credit_latency = channel.info.latency;
  std::size_t held = channel.link.intervals() + channel.crossbar.intervals();
  for (unsigned vc = 0; vc < vcs; ++vc) {
    VcLog& log = vc_log(c, vc);
    auto kept = log.begin();
    while (kept != log.end() && kept->second.owned_until <= horizon_ &&
           kept->second.tail_out + credit_latency < horizon_)
      ++kept;
    channel.passages -= static_cast<std::size_t>(kept - log.begin());
    log.erase(log.begin(), kept);
    held += log.size();
  }
  channel.forget_above = std::max<std::size_t>(kForgetAtLeast, 2 * held);
}

void FastMeshModel::retire_link(ChannelId c) {
  if (!link_use_.empty() && links_.utilization[c] != trace::VcdRecorder::kFiltered)
    count_utilization(c, std::min(horizon_, utilization_end_));
  const trace::VcdRecorder::SignalId id = recorder_ == nullptr ? trace::VcdRecorder::kFiltered : links_.busy[c];
  if (id == trace::VcdRecorder::kFiltered) {
    channels_[c].link.retire_before(horizon_, [](Cycle, bool) {});
    return;
  }
  trace::VcdRecorder& recorder = *recorder_;
  const std::uint64_t ticks = links_.ticks_per_cycle;
  using Interval = ReservationTimeline::Interval;
  channels_[c].link.retire_before(
      horizon_,
      [&](const Interval* begin, const Interval* end, bool risen) {
        if (risen) recorder.record_ticks(id, ticks * (begin++)->second, 0);
        recorder.record_pulses(
            id, begin, end, ticks, [](const Interval& i) { return i.first; },
            [](const Interval& i) { return i.second; });
      },
      [&](Cycle at) { recorder.record_ticks(id, ticks * at, 1); });
}

void FastMeshModel::count_utilization(ChannelId c, Cycle until) {
  LinkUse& use = link_use_[c];
  if (until <= use.counted_until) return;
  // Cycles before the horizon are final: no packet timed from now on is
  // ready before it. The interval under way at it stays and is counted
  // again from counted_until on.
  for (const ReservationTimeline::Interval& busy : channels_[c].link.busy()) {
    if (busy.first >= until) break;
    const Cycle end = std::min(busy.second, until);
    for (Cycle at = std::max(busy.first, use.counted_until); at < end;) {
      if (at >= use.window_end) close_windows_before(c, window_of(at));
      const Cycle taken = std::min(end, use.window_end) - at;
      use.busy += taken;
      at += taken;
    }
  }
  if (until >= use.window_end) close_windows_before(c, window_of(until));
  use.counted_until = until;
}

void FastMeshModel::close_windows_before(ChannelId c, std::uint64_t k) {
  LinkUse& use = link_use_[c];
  if (k <= use.window) return;
  publish_utilization(c, use.window,
                      static_cast<double>(use.busy) / static_cast<double>(use.window_end - use.window_first));
  if (k > use.window + 1) publish_utilization(c, use.window + 1, 0);
  use.window = k;
  use.window_first = window_start(k);
  use.window_end = window_start(k + 1);
  use.busy = 0;
}

void FastMeshModel::publish_utilization(ChannelId c, std::uint64_t window, double value) {
  LinkUse& use = link_use_[c];
  if (value == use.published) return;
  use.published = value;
  recorder_->record_real_ticks(links_.utilization[c], window * links_.window_ticks, value);
}

void FastMeshModel::trace_links(trace::VcdRecorder& recorder, LinkSignals signals) {
  // Every window then holds a cycle.
  if (signals.window_ticks < signals.ticks_per_cycle || signals.ticks_per_cycle == 0)
    throw std::invalid_argument("FastMeshModel: a utilization window is at least a cycle");
  const std::size_t channels = static_cast<std::size_t>(mesh_.channel_count());
  if (signals.busy.size() != channels || signals.utilization.size() != channels)
    throw std::invalid_argument("FastMeshModel: link signals name every channel");
  recorder_ = &recorder;
  links_ = std::move(signals);
  LinkUse first;
  first.window_end = window_start(1);
  link_use_.assign(channels, first);
}

const std::vector<ChannelId>& FastMeshModel::path(NodeId src, NodeId dst) {
  if (paths_.empty()) {
    mesh_.xy_path(src, dst, uncached_path_);
    return uncached_path_;
  }
  std::vector<ChannelId>& path = paths_[std::size_t(src) * mesh_.nodes() + dst];
  if (path.empty()) mesh_.xy_path(src, dst, path);
  return path;
}

int FastMeshModel::add_path(NodeId src, NodeId dst) {
  int parent = -1;
  for (ChannelId c : path(src, dst)) {
    if (node_of_channel_[c] < 0) {
      node_of_channel_[c] = static_cast<int>(tree_.size());
      tree_.emplace_back(c, parent);
    }
    parent = node_of_channel_[c];
  }
  return parent;
}

Cycle FastMeshModel::credit_bound(ChannelId c, const VcLog& log, VcLog::const_iterator next,
                                  std::uint64_t flits) const {
  if (channels_[c].info.ejection) return 0;  // the endpoint always accepts
  // The packet's flit j needs the slot of the flit buffer_flits ahead of it
  // in the VC, which frees credit_latency after that flit left downstream.
  // Passages' flits leave back to back, ending at tail_out, so for a passage
  // `ahead` flits in front the bound is the same for every flit j landing on it.
  const std::uint64_t buffer = config_.buffer_flits;
  const Cycle credit_latency = channels_[c].info.latency;
  Cycle bound = 0;
  std::uint64_t ahead = 0;
  for (auto it = next; it != log.begin() && ahead < buffer;) {
    const Passage& p = (--it)->second;
    // Selects, not branches: whether a passage binds depends on its size
    // against the packet's, which alternate (one-flit requests, data
    // responses); cachegrind's branch model mispredicted a quarter of them.
    const Cycle t = p.tail_out + ahead + 1 + credit_latency;
    const bool binds = ahead + p.flits + flits > buffer && t > buffer;
    bound = std::max(bound, binds ? t - buffer : 0);
    ahead += p.flits;
  }
  return bound;
}

inline FastMeshModel::Slots FastMeshModel::take_slots(const TreeNode& n, Cycle from, std::uint64_t flits) {
  // Flits leave a router no earlier than they arrived: those that crossed the
  // link upstream in one run arrive one a cycle, the link's and the router's
  // cycles after it. At an injection all are there from the start.
  const TreeNode* up = n.parent >= 0 ? &tree_[n.parent] : nullptr;
  const ReservationTimeline* crossbar = up != nullptr ? &channels_[up->channel].crossbar : nullptr;
  const Cycle pipeline = up != nullptr ? channels_[up->channel].info.latency + config_.router_cycles : 0;
  // The first run's flits are in by `from`: the head is due after it.
  std::size_t next_arrival = up != nullptr ? up->runs_begin + 1 : 0;
  std::uint64_t arrived = up != nullptr ? runs_[up->runs_begin].end - runs_[up->runs_begin].first : flits;
  Slots slots{0, 0};
  for (std::uint64_t sent = 0; sent < flits;) {
    if (sent == arrived) {
      const Run& in = runs_[next_arrival++];
      from = std::max(from, in.first + pipeline);
      arrived += in.end - in.first;
    }
    std::size_t link_at = 0, crossbar_at = 0;
    auto run = channels_[n.channel].link.free_run(from, link_at);
    if (crossbar) {
      const auto input = crossbar->free_run(run.first, crossbar_at);
      if (input.first != run.first) {
        from = input.first;
        continue;
      }
      run.second = std::min(run.second, input.second);
    }
    const Cycle taken = std::min<Cycle>(arrived - sent, run.second - run.first);
    if (sent == 0) slots.first = run.first;
    slots.last = run.first + taken - 1;
    runs_.emplace_back(run.first, run.first + taken, link_at, crossbar_at);
    sent += taken;
    from = run.first + taken;
  }
  return slots;
}

inline bool FastMeshModel::try_vc(const TreeNode& n, unsigned vc, VcLog::const_iterator next, Cycle due,
                                  std::uint64_t flits, bool injection, Cycle bound, Grant& grant) {
  const VcLog& log = vc_log(n.channel, vc);
  const Cycle latest_tail_out = latest_tail_out_[vc_slot(n.channel, vc)];
  const bool to_router = !channels_[n.channel].info.ejection;
  Cycle at = due;
  // The trial's runs go after those of the grants so far (a superseded
  // grant's stay, unused): nothing is copied when it is granted.
  const std::size_t runs_begin = runs_.size();
  for (;;) {
    // Both the allocation and the first flit come at or after `at`.
    if (at >= bound) break;
    if (next != log.begin() && std::prev(next)->second.owned_until > at) {
      at = std::prev(next)->second.owned_until;
    } else {
      runs_.erase(runs_.begin() + static_cast<std::ptrdiff_t>(runs_begin), runs_.end());
      // A passage `ahead` flits in front binds no later than its tail_out +
      // ahead + 1 + credit latency - buffer_flits, and ahead < buffer_flits:
      // none binds after the VC's latest tail_out plus the credit latency.
      // Most trials are due later and skip the walk, whose branches were
      // mispredicted more than its instructions cost.
      const bool credits_back = latest_tail_out + channels_[n.channel].info.latency <= at;
      const Cycle from = credits_back ? at : std::max(at, credit_bound(n.channel, log, next, flits));
      const Slots slots = take_slots(n, from, flits);
      if (next == log.end() || slots.last < next->first) {
        if (injection && slots.first >= bound) break;
        // Its head waits in the downstream buffer behind the tail of the
        // packet allocated the VC before it.
        const Cycle head_free = to_router && next != log.begin() ? std::prev(next)->second.tail_out + 1 : 0;
        grant = {vc,         at,          slots.first,
                 slots.last, head_free,   static_cast<std::size_t>(next - log.begin()),
                 runs_begin, runs_.size()};
        return true;
      }
      at = next->second.owned_until;
    }
    // `at` only grows, and the log is sorted: walk on rather than search again.
    while (next != log.end() && next->first <= at) ++next;
  }
  runs_.erase(runs_.begin() + static_cast<std::ptrdiff_t>(runs_begin), runs_.end());
  return false;
}

inline void FastMeshModel::allocate(TreeNode& n, Cycle due, std::uint64_t flits) {
  const unsigned vcs = config_.virtual_channels;
  const ChannelInfo& info = channels_[n.channel].info;
  Grant& best = n;
  // A tie keeps the VC tried first, so a later one must come strictly
  // earlier: its trial stops once it cannot. No VC grants before the head is
  // due (nor sends before it), so once one does the rest are not tried.
  Cycle bound = std::numeric_limits<Cycle>::max();
  if (info.injection) {
    // An endpoint injects into the next VC in turn that has room, whichever
    // sends first.
    const unsigned first = next_injection_vc_[info.node];
    for (unsigned k = 0; k < vcs && bound > due; ++k) {
      const unsigned vc = (first + k) % vcs;
      if (try_vc(n, vc, first_after(vc_log(n.channel, vc), due), due, flits, true, bound, best)) bound = best.start;
    }
    next_injection_vc_[info.node] = (best.vc + 1) % vcs;
    return;
  }
  // A router takes the lowest VC allocated soonest (the lowest free when the
  // head is due). A VC still held then is tried after those free: one of
  // them granted at `due` wins outright, and the held VC's trial, which
  // would have found its slots, is not run. The choice is the least
  // (allocation, VC) whatever the order of the trials.
  unsigned held[kMaxVirtualChannels];
  std::size_t held_next[kMaxVirtualChannels];
  unsigned held_count = 0;
  for (unsigned vc = 0; vc < vcs && bound > due; ++vc) {
    const VcLog& log = vc_log(n.channel, vc);
    const auto next = first_after(log, due);  // the first passage allocated after `due`
    if (next != log.begin() && std::prev(next)->second.owned_until > due) {
      held[held_count] = vc;
      held_next[held_count++] = static_cast<std::size_t>(next - log.begin());
    } else if (try_vc(n, vc, next, due, flits, false, bound, best)) {
      bound = best.allocated;
    }
  }
  for (unsigned i = 0; i < held_count && bound > due; ++i) {
    const unsigned vc = held[i];
    const Cycle before = bound == std::numeric_limits<Cycle>::max() ? bound : bound + (vc < best.vc ? 1 : 0);
    const VcLog& log = vc_log(n.channel, vc);
    if (try_vc(n, vc, log.begin() + static_cast<std::ptrdiff_t>(held_next[i]), due, flits, false, before, best))
      bound = best.allocated;
  }
}

inline bool FastMeshModel::grant_uncontended(TreeNode& n, Cycle due, std::uint64_t flits) {
  const Channel& channel = channels_[n.channel];
  if (!channel.link.free_from(due)) return false;
  std::size_t crossbar_at = 0;
  if (n.parent >= 0) {
    const TreeNode& up = tree_[n.parent];
    const ReservationTimeline& crossbar = channels_[up.channel].crossbar;
    if (up.runs_end - up.runs_begin != 1 || !crossbar.free_from(due)) return false;
    crossbar_at = crossbar.intervals();
  }
  const unsigned vc = channel.info.injection ? next_injection_vc_[channel.info.node] : 0;
  const std::size_t slot = vc_slot(n.channel, vc);
  const VcLog& log = vc_logs_[slot];
  // Its last passage is the one allocated last: free by `due`, so were all.
  if (!log.empty() && log.back().second.owned_until > due) return false;
  // With credits still out (the packet before it in the VC, as the next
  // packet of a multicast finds its predecessor), its flits may still go at
  // `due`, back to back, if the buffer has room for each as it arrives.
  Cycle head_free = 0;
  if (latest_tail_out_[slot] + channel.info.latency > due) {
    if (credit_bound(n.channel, log, log.end(), flits) > due) return false;
    // Its head waits in the downstream buffer behind the tail ahead of it.
    if (!channel.info.ejection && !log.empty()) head_free = log.back().second.tail_out + 1;
  }
  if (channel.info.injection) next_injection_vc_[channel.info.node] = (vc + 1) % config_.virtual_channels;
  const std::size_t runs_begin = runs_.size();
  runs_.emplace_back(due, due + flits, channel.link.intervals(), crossbar_at);
  static_cast<Grant&>(n) = {vc, due, due, due + flits - 1, head_free, log.size(), runs_begin, runs_.size()};
  return true;
}

Cycle FastMeshModel::time_tree(std::uint64_t flits, Cycle ready) {
  const Cycle router = config_.router_cycles;
  // Parents precede children in tree_: one pass forward finds when each hop
  // starts, one backward when each tail leaves. A packet longer than a buffer
  // holds its own tail: it cannot cross before the packet's flit buffer_flits
  // ahead of it left the router downstream, its credit back.
  for (TreeNode& n : tree_) {
    retire(n.channel);
    Cycle due = ready;
    if (n.parent >= 0) {
      const TreeNode& up = tree_[n.parent];
      due = std::max(up.start + channels_[up.channel].info.latency + router, up.head_free);
    }
    // Nothing is reserved before reserve_tree(): the runs found when the VC
    // was granted are still the first free ones from n.start.
    if (!grant_uncontended(n, due, flits)) allocate(n, due, flits);
    n.tail_out = 0;
  }
  const Cycle buffer = config_.buffer_flits;
  Cycle done = 0;  // the last tail into an endpoint
  for (std::size_t i = tree_.size(); i-- > 0;) {
    TreeNode& n = tree_[i];
    const ChannelInfo& info = channels_[n.channel].info;
    if (info.ejection) {
      n.tail_out = n.tail;
      done = std::max(done, n.tail + info.latency + 1);
    } else if (flits > buffer && n.tail_out + info.latency > buffer) {
      // Downstream its flits are taken as leaving back to back up to the tail.
      n.tail = std::max(n.tail, n.tail_out + info.latency - buffer);
    }
    if (n.parent >= 0) tree_[n.parent].tail_out = std::max(tree_[n.parent].tail_out, n.tail);
  }
  reserve_tree(flits);
  ++stats_.packets;
  stats_.flits += flits;
  stats_.latency.add(done - ready);
  return done;
}

void FastMeshModel::reserve_tree(std::uint64_t flits) {
  for (const TreeNode& n : tree_) {
    Channel& channel = channels_[n.channel];
    LinkStats& link = stats_.links[channel.info.link];
    for (std::size_t r = n.runs_begin; r < n.runs_end; ++r) {
      const Run& run = runs_[r];
      link.busy_cycles += channel.link.reserve(run.first, run.end, run.link_at);
      if (n.parent >= 0) channels_[tree_[n.parent].channel].crossbar.reserve(run.first, run.end, run.crossbar_at);
    }
    link.flits += flits;
    // The log is as the VC's grant found it (a tree holds each channel once),
    // and no passage of it was allocated at n.allocated: that one would own
    // the VC then.
    VcLog& log = vc_log(n.channel, n.vc);
    log.emplace(log.begin() + n.log_at, n.allocated, n.tail + 1, n.tail_out, flits);
    Cycle& latest = latest_tail_out_[vc_slot(n.channel, n.vc)];
    latest = std::max(latest, n.tail_out);
    ++channel.passages;
    last_busy_ = std::max(last_busy_, n.tail + 1);
    if (!channel.info.injection) stats_.flit_hops += flits;
  }
}

namespace {

// A hop's flits follow the runs its parent took, of which a packet without
// flits has none. Checked before a packet changes any state.
void require_flits(std::uint64_t flits) {
  if (flits == 0) throw std::invalid_argument("FastMeshModel: a packet has at least one flit (its header)");
}

}  // namespace

Cycle FastMeshModel::unicast(NodeId src, NodeId dst, std::uint64_t flits, Cycle ready) {
  require_flits(flits);
  const std::vector<ChannelId>& path = this->path(src, dst);
  for (std::size_t i = 0; i < path.size(); ++i) tree_.emplace_back(path[i], static_cast<int>(i) - 1);
  const Cycle done = time_tree(flits, ready);
  tree_.clear();
  runs_.clear();
  if (sink_ != nullptr) sink_->packet({src, dst, flits, ready, done, 0});
  return done;
}

Cycle FastMeshModel::multicast(NodeId src, const std::vector<NodeId>& dsts, const std::uint64_t* packet_flits,
                               std::size_t packets, Cycle ready, std::vector<Cycle>& done_at) {
  for (std::size_t k = 0; k < packets; ++k) require_flits(packet_flits[k]);
  std::vector<int> ejection(dsts.size());
  for (std::size_t i = 0; i < dsts.size(); ++i) ejection[i] = add_path(src, dsts[i]);
  done_at.assign(dsts.size(), 0);
  Cycle done = 0;
  // The tree is built once: each packet's timing overwrites every hop's grant.
  for (std::size_t k = 0; k < packets; ++k) {
    done = std::max(done, time_tree(packet_flits[k], ready));
    ++stats_.multicast_packets;
    for (std::size_t i = 0; i < dsts.size(); ++i) {
      const TreeNode& n = tree_[ejection[i]];
      const Cycle at = n.tail + channels_[n.channel].info.latency + 1;
      done_at[i] = std::max(done_at[i], at);
      if (sink_ != nullptr) sink_->packet({src, dsts[i], packet_flits[k], ready, at, stats_.multicast_packets});
    }
    runs_.clear();
  }
  for (const TreeNode& n : tree_) node_of_channel_[n.channel] = -1;
  tree_.clear();
  return done;
}

void FastMeshModel::report_final() {
  // Only the links' edges: the rest of a channel's retirement (its crossbar
  // input, its VC logs) forgets what no packet can meet again, which can wait
  // until a packet meets the channel. A link's retirement is idempotent.
  for (ChannelId c = 0; c < mesh_.channel_count(); ++c) retire_link(c);
}

void FastMeshModel::flush(Cycle end) {
  utilization_end_ = std::max(end, last_busy_);
  // The last window, cut short by the end, over the cycles it had.
  for (ChannelId c = 0; c < static_cast<ChannelId>(link_use_.size()); ++c) {
    if (links_.utilization[c] == trace::VcdRecorder::kFiltered) continue;
    count_utilization(c, utilization_end_);
    const LinkUse& use = link_use_[c];
    if (use.window_first < utilization_end_)
      publish_utilization(c, use.window,
                          static_cast<double>(use.busy) / static_cast<double>(utilization_end_ - use.window_first));
  }
  const Cycle saved = horizon_;
  horizon_ = std::numeric_limits<Cycle>::max();
  report_final();
  horizon_ = saved;
}

}  // namespace npuvp::noc
