#include "models/noc/noc_stats.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "models/noc/mesh.h"

namespace npuvp::noc {

void LatencyHistogram::add_rare(std::uint64_t cycles) {
  if (cycles >= kDenseLimit) {
    ++sparse_[cycles];
    return;
  }
  // Doubling keeps the growth amortized; the array never passes kDenseLimit.
  dense_.resize(
      std::min(kDenseLimit, std::max<std::uint64_t>(2 * dense_.size(), std::max<std::uint64_t>(cycles + 1, 64))));
  ++dense_[cycles];
}

std::uint64_t LatencyHistogram::percentile(double q) const {
  if (count_ == 0) return 0;
  const std::uint64_t rank = std::max<std::uint64_t>(static_cast<std::uint64_t>(std::ceil(q * double(count_))), 1);
  std::uint64_t seen = 0;
  for (std::uint64_t value = 0; value < dense_.size(); ++value) {
    seen += dense_[value];
    if (seen >= rank) return value;
  }
  for (const auto& [value, n] : sparse_) {
    seen += n;
    if (seen >= rank) return value;
  }
  return max();
}

nlohmann::json NocStats::to_json(std::uint64_t elapsed_cycles, double cycle_ns) const {
  nlohmann::json links_json = nlohmann::json::array();
  for (const LinkStats& l : links) {
    links_json.push_back({{"name", l.name},
                          {"flits", l.flits},
                          {"busy_cycles", l.busy_cycles},
                          {"utilization", elapsed_cycles == 0 ? 0.0 : double(l.flits) / double(elapsed_cycles)}});
  }
  return {{"packets", packets},
          {"multicast_packets", multicast_packets},
          {"flits", flits},
          {"flit_hops", flit_hops},
          {"elapsed_cycles", elapsed_cycles},
          {"cycle_ns", cycle_ns},
          {"latency_cycles",
           {{"count", latency.count()},
            {"mean", latency.mean()},
            {"p50", latency.percentile(0.5)},
            {"p99", latency.percentile(0.99)},
            {"max", latency.max()}}},
          {"links", links_json}};
}

std::string NocStats::to_text(std::uint64_t elapsed_cycles, double cycle_ns) const {
  std::ostringstream os;
  os << "packets " << packets << " (multicast " << multicast_packets << "), flits " << flits << ", flit-hops "
     << flit_hops << " over " << elapsed_cycles << " cycles of " << cycle_ns << " ns\n";
  os << "latency [cycles] mean " << latency.mean() << " p50 " << latency.percentile(0.5) << " p99 "
     << latency.percentile(0.99) << " max " << latency.max() << "\n";
  std::vector<const LinkStats*> busiest;
  for (const LinkStats& l : links)
    if (l.flits > 0) busiest.push_back(&l);
  std::sort(busiest.begin(), busiest.end(), [](const LinkStats* a, const LinkStats* b) { return a->flits > b->flits; });
  if (busiest.size() > 8) busiest.resize(8);
  for (const LinkStats* l : busiest) {
    os << "link " << l->name << ": " << l->flits << " flits, " << l->busy_cycles << " busy cycles";
    if (elapsed_cycles > 0) os << ", utilization " << double(l->flits) / double(elapsed_cycles);
    os << "\n";
  }
  return os.str();
}

std::vector<int> make_link_stats(const Mesh& mesh, std::vector<LinkStats>& links) {
  std::vector<int> index(mesh.channel_count(), -1);
  links.clear();
  for (ChannelId c = 0; c < mesh.channel_count(); ++c) {
    const unsigned port = mesh.channel_port(c);
    if (!mesh.is_injection(c) && port != kLocal && !mesh.has_neighbour(mesh.channel_node(c), port)) continue;
    index[c] = static_cast<int>(links.size());
    links.push_back({mesh.channel_name(c), 0, 0});
  }
  return index;
}

}  // namespace npuvp::noc
