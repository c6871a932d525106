#include "bench/noc_replay.h"

#include <algorithm>
#include <iomanip>
#include <iostream>
#include <limits>
#include <numeric>
#include <vector>

#include "models/noc/cycle_model.h"
#include "models/noc/fast_model.h"
#include "models/noc/noc_stats.h"
#include "platform/noc_packet_log.h"

namespace npuvp::bench {
namespace {

using noc::Cycle;
using noc::PacketRecord;

// A packet: its rows [first, end) of the trace, one per destination.
struct Packet {
  std::size_t first, end;
};

std::vector<Packet> packets_of(const std::vector<PacketRecord>& rows) {
  std::vector<Packet> packets;
  for (std::size_t i = 0; i < rows.size();) {
    std::size_t end = i + 1;
    if (rows[i].multicast != 0)
      while (end < rows.size() && rows[end].multicast == rows[i].multicast) ++end;
    packets.push_back({i, end});
    i = end;
  }
  return packets;
}

// The packets of `order` (indices into `packets`) timed one after another by
// a fresh fast model: the delivery cycle of every row they hold, 0 elsewhere.
std::vector<Cycle> time_fast(const noc::NocConfig& noc, const std::vector<PacketRecord>& rows,
                             const std::vector<Packet>& packets, const std::vector<std::size_t>& order) {
  noc::FastMeshModel model(noc);
  // No packet timed later is ready before the least ready time still to come.
  std::vector<Cycle> horizon(order.size() + 1, std::numeric_limits<Cycle>::max());
  for (std::size_t k = order.size(); k-- > 0;)
    horizon[k] = std::min(horizon[k + 1], rows[packets[order[k]].first].ready);
  std::vector<Cycle> done(rows.size(), 0), at;
  std::vector<noc::NodeId> dsts;
  for (std::size_t k = 0; k < order.size(); ++k) {
    const Packet& p = packets[order[k]];
    const PacketRecord& r = rows[p.first];
    model.set_horizon(horizon[k]);
    if (r.multicast == 0) {
      done[p.first] = model.unicast(r.src, r.dst, r.flits, r.ready);
      continue;
    }
    dsts.clear();
    for (std::size_t i = p.first; i < p.end; ++i) dsts.push_back(rows[i].dst);
    model.multicast(r.src, dsts, r.flits, r.ready, at);
    std::copy(at.begin(), at.end(), done.begin() + static_cast<std::ptrdiff_t>(p.first));
  }
  return done;
}

// The packets of `order` (by ready cycle) offered to the cycle-level model
// each in its ready cycle: the delivery cycle of every row.
std::vector<Cycle> time_cycle_level(const noc::NocConfig& noc, const std::vector<PacketRecord>& rows,
                                    const std::vector<Packet>& packets, const std::vector<std::size_t>& order) {
  noc::CycleMeshModel model(noc);
  std::vector<Cycle> done(rows.size(), 0);
  std::vector<noc::CycleMeshModel::Destination> to;
  std::size_t next = 0, delivered = 0, deliveries = 0;
  for (const std::size_t k : order) deliveries += packets[k].end - packets[k].first;
  while (delivered < deliveries) {
    // A trace's packets may lie far apart (a run's idle host steps).
    if (next < order.size()) model.skip_idle_to(rows[packets[order[next]].first].ready);
    for (; next < order.size() && rows[packets[order[next]].first].ready <= model.now(); ++next) {
      const Packet& p = packets[order[next]];
      const PacketRecord& r = rows[p.first];
      if (r.multicast == 0) {
        model.offer(p.first, r.src, r.dst, r.flits);
        continue;
      }
      to.clear();
      for (std::size_t i = p.first; i < p.end; ++i) to.push_back({rows[i].dst, i});
      model.offer_multicast(r.src, to, r.flits);
    }
    model.step();
    for (const auto& d : model.take_deliveries()) {
      done[d.tag] = d.done;
      ++delivered;
    }
  }
  return done;
}

std::vector<std::size_t> by_ready(const std::vector<PacketRecord>& rows, const std::vector<Packet>& packets,
                                  bool unicasts_only) {
  std::vector<std::size_t> order;
  for (std::size_t k = 0; k < packets.size(); ++k)
    if (!unicasts_only || rows[packets[k].first].multicast == 0) order.push_back(k);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return rows[packets[a].first].ready < rows[packets[b].first].ready;
  });
  return order;
}

// The packets in ready order, by the fast model and by the cycle-level one.
// If the cycle-level model deadlocks on them (multicast trees through shared
// buffers), it times the unicasts alone, and so does the fast model beside
// it (`fast_unicasts`), the multicasts' rows left at 0.
struct ReadyOrder {
  std::vector<Cycle> fast, cycle_level, fast_unicasts;
  bool deadlocked = false;
  Cycle deadlock_cycle = 0;
};
ReadyOrder time_in_ready_order(const noc::NocConfig& noc, const std::vector<PacketRecord>& rows,
                               const std::vector<Packet>& packets) {
  ReadyOrder out;
  const std::vector<std::size_t> order = by_ready(rows, packets, false);
  out.fast = time_fast(noc, rows, packets, order);
  try {
    out.cycle_level = time_cycle_level(noc, rows, packets, order);
  } catch (const noc::NocDeadlock& deadlock) {
    out.deadlocked = true;
    out.deadlock_cycle = deadlock.cycle();
    const std::vector<std::size_t> unicasts = by_ready(rows, packets, true);
    out.cycle_level = time_cycle_level(noc, rows, packets, unicasts);
    out.fast_unicasts = time_fast(noc, rows, packets, unicasts);
  }
  return out;
}

// How far behind the latest ready cycle of the packets timed before it each
// row's packet was timed in the run.
std::vector<Cycle> lateness(const std::vector<PacketRecord>& rows, const std::vector<Packet>& packets) {
  std::vector<Cycle> late(rows.size(), 0);
  Cycle latest = 0;
  for (const Packet& p : packets) {
    const Cycle ready = rows[p.first].ready;
    std::fill(late.begin() + static_cast<std::ptrdiff_t>(p.first), late.begin() + static_cast<std::ptrdiff_t>(p.end),
              latest > ready ? latest - ready : 0);
    latest = std::max(latest, ready);
  }
  return late;
}

constexpr Cycle kFarBehind = 100;

// The latencies of some rows under each timing.
struct Timings {
  noc::LatencyHistogram run, ready, cycle_level;
  noc::LatencyHistogram ready_unicasts;  // the fast model's, when the cycle-level model deadlocked
};

// The rows of one class.
struct Class {
  const char* name;
  bool (*holds)(const PacketRecord&, Cycle late);
  Timings t;
};

nlohmann::json histogram_json(const noc::LatencyHistogram& h) {
  if (h.count() == 0) return nullptr;
  return {{"mean", h.mean()}, {"p99", h.percentile(0.99)}};
}

void print_mean(const noc::LatencyHistogram& h) {
  if (h.count() == 0)
    std::cout << std::setw(14) << "-";
  else
    std::cout << std::setw(14) << h.mean();
}

// One row of the table, and its JSON under `key` = `name`.
// With `deadlocked`, the cycle-level column holds the unicasts alone, and a
// fourth column the fast model's timing of them alone.
nlohmann::json print_row(const std::string& label, const char* key, const nlohmann::json& name, const Timings& t,
                         bool deadlocked) {
  std::cout << std::left << std::setw(24) << label << std::right << std::setw(14) << t.run.count();
  for (const noc::LatencyHistogram* h : {&t.run, &t.ready, &t.cycle_level}) print_mean(*h);
  nlohmann::json row = {{key, name},
                        {"packets", t.run.count()},
                        {"run_order", histogram_json(t.run)},
                        {"ready_order", histogram_json(t.ready)},
                        {"cycle_level", histogram_json(t.cycle_level)}};
  if (deadlocked) {
    print_mean(t.ready_unicasts);
    row["ready_order_unicasts_alone"] = histogram_json(t.ready_unicasts);
  }
  std::cout << "\n";
  return row;
}

}  // namespace

nlohmann::json replay_noc_packets(const std::string& path, bool by_hops) {
  const platform::NocPacketTrace trace = platform::read_noc_packet_trace(path);
  const std::vector<PacketRecord>& rows = trace.packets;
  const std::vector<Packet> packets = packets_of(rows);
  std::vector<std::size_t> run_order(packets.size());
  std::iota(run_order.begin(), run_order.end(), std::size_t{0});

  const std::vector<Cycle> run = time_fast(trace.noc, rows, packets, run_order);
  const ReadyOrder in_ready_order = time_in_ready_order(trace.noc, rows, packets);
  const std::vector<Cycle>& ready = in_ready_order.fast;
  const std::vector<Cycle>& cycle_level = in_ready_order.cycle_level;
  const auto unicasts = static_cast<std::size_t>(
      std::count_if(packets.begin(), packets.end(), [&](const Packet& p) { return rows[p.first].multicast == 0; }));
  const std::vector<Cycle> late = lateness(rows, packets);

  Class classes[] = {
      {"unicasts", [](const PacketRecord& r, Cycle) { return r.multicast == 0; }, {}},
      {"  of one flit", [](const PacketRecord& r, Cycle) { return r.multicast == 0 && r.flits == 1; }, {}},
      {"  of more flits", [](const PacketRecord& r, Cycle) { return r.multicast == 0 && r.flits > 1; }, {}},
      {"  timed in ready order", [](const PacketRecord& r, Cycle l) { return r.multicast == 0 && l == 0; }, {}},
      {"  timed 1-100 late",
       [](const PacketRecord& r, Cycle l) { return r.multicast == 0 && l > 0 && l <= kFarBehind; },
       {}},
      {"  timed >100 late", [](const PacketRecord& r, Cycle l) { return r.multicast == 0 && l > kFarBehind; }, {}},
      {"multicast deliveries", [](const PacketRecord& r, Cycle) { return r.multicast != 0; }, {}},
  };
  const noc::Mesh mesh(trace.noc);
  std::vector<Timings> hops;  // the unicasts by routers crossed, for by_hops
  std::size_t differ = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const PacketRecord& r = rows[i];
    differ += run[i] != r.done;
    const auto add = [&](Timings& t) {
      t.run.add(r.done - r.ready);
      t.ready.add(ready[i] - r.ready);
      if (in_ready_order.deadlocked && r.multicast != 0) return;
      t.cycle_level.add(cycle_level[i] - r.ready);
      if (in_ready_order.deadlocked) t.ready_unicasts.add(in_ready_order.fast_unicasts[i] - r.ready);
    };
    for (Class& c : classes)
      if (c.holds(r, late[i])) add(c.t);
    if (!by_hops || r.multicast != 0) continue;
    const unsigned h = mesh.hops(r.src, r.dst);
    if (hops.size() <= h) hops.resize(h + 1);
    add(hops[h]);
  }

  const noc::NocConfig& n = trace.noc;
  std::cout << "noc-bench --replay " << path << ": " << n.width << "x" << n.height << " mesh (router "
            << n.router_cycles << ", link " << n.link_cycles << ", buffer " << n.buffer_flits << " x "
            << n.virtual_channels << " VCs), " << packets.size() << " packets (" << unicasts << " unicasts, "
            << packets.size() - unicasts << " multicasts to " << classes[6].t.run.count() << " destinations)\n";
  if (differ == 0)
    std::cout << "fast model in the run's order: every recorded time reproduced\n";
  else
    std::cout << "fast model in the run's order: " << differ << " of " << rows.size()
              << " recorded times differ (the trace comes from another build or NoC)\n";
  if (in_ready_order.deadlocked)
    std::cout << "cycle-level model: deadlocked (nothing moved from cycle " << in_ready_order.deadlock_cycle
              << " on: multicast trees wait for one another through shared buffers); it times the unicasts alone, "
                 "and so does the fast model in the last column\n";
  std::cout << std::left << std::setw(24) << "mean latency, cycles" << std::right << std::setw(14) << "packets"
            << std::setw(14) << "run order" << std::setw(14) << "ready order" << std::setw(14) << "cycle-level"
            << (in_ready_order.deadlocked ? "   ready order" : "") << "\n"
            << std::setw(52) << "(fast model)" << std::setw(14) << "(fast model)" << std::setw(14) << "(ready order)"
            << (in_ready_order.deadlocked ? "  (fast model)" : "") << "\n"
            << std::fixed << std::setprecision(2);
  nlohmann::json out_classes = nlohmann::json::array();
  for (const Class& c : classes) {
    std::string name = c.name;
    name.erase(0, name.find_first_not_of(' '));
    out_classes.push_back(print_row(c.name, "class", name, c.t, in_ready_order.deadlocked));
  }
  nlohmann::json out_hops = nlohmann::json::array();
  for (std::size_t h = 0; h < hops.size(); ++h)
    if (hops[h].run.count() != 0)
      out_hops.push_back(print_row("  crossing " + std::to_string(h) + (h == 1 ? " router" : " routers"), "hops", h,
                                   hops[h], in_ready_order.deadlocked));
  std::cout << std::defaultfloat;
  nlohmann::json out = {{"replay", path},
                        {"mesh", std::to_string(n.width) + "x" + std::to_string(n.height)},
                        {"noc",
                         {{"flit_bytes", n.flit_bytes},
                          {"router_cycles", n.router_cycles},
                          {"link_cycles", n.link_cycles},
                          {"buffer_flits", n.buffer_flits},
                          {"virtual_channels", n.virtual_channels}}},
                        {"packets", packets.size()},
                        {"unicasts", unicasts},
                        {"recorded_times_differing", differ},
                        {"cycle_level_deadlock_cycle",
                         in_ready_order.deadlocked ? nlohmann::json(in_ready_order.deadlock_cycle) : nlohmann::json()},
                        {"late_threshold_cycles", kFarBehind},
                        {"classes", out_classes}};
  if (by_hops) out["by_hops"] = out_hops;
  return out;
}

}  // namespace npuvp::bench
