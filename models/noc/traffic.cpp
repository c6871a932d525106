#include "models/noc/traffic.h"

#include <algorithm>
#include <limits>

namespace npuvp::noc {

NodeId hotspot_node(const Mesh& mesh) { return mesh.node(mesh.width() / 2, mesh.height() / 2); }

const char* to_string(TrafficPattern pattern) {
  switch (pattern) {
    case TrafficPattern::kUniform:
      return "uniform";
    case TrafficPattern::kTranspose:
      return "transpose";
    case TrafficPattern::kHotspot:
      return "hotspot";
    case TrafficPattern::kNeighbor:
      return "neighbor";
  }
  return "?";
}

bool parse_traffic(const std::string& text, TrafficPattern& pattern) {
  for (auto p :
       {TrafficPattern::kUniform, TrafficPattern::kTranspose, TrafficPattern::kHotspot, TrafficPattern::kNeighbor}) {
    if (text == to_string(p)) {
      pattern = p;
      return true;
    }
  }
  return false;
}

std::string traffic_requirement(const Mesh& mesh, TrafficPattern pattern) {
  if (pattern == TrafficPattern::kTranspose && mesh.width() != mesh.height()) return "a square mesh";
  return {};
}

std::vector<std::pair<NodeId, double>> destinations(const Mesh& mesh, TrafficPattern pattern, NodeId src) {
  const NodeId n = mesh.nodes();
  const unsigned x = mesh.x_of(src), y = mesh.y_of(src);
  std::vector<std::pair<NodeId, double>> out;
  auto add_uniform = [&](double share) {
    if (n == 1) {
      out.emplace_back(src, share);
      return;
    }
    for (NodeId d = 0; d < n; ++d)
      if (d != src) out.emplace_back(d, share / double(n - 1));
  };
  switch (pattern) {
    case TrafficPattern::kUniform:
      add_uniform(1.0);
      break;
    case TrafficPattern::kTranspose:
      out.emplace_back(mesh.node(y, x), 1.0);
      break;
    case TrafficPattern::kHotspot:
      if (src == hotspot_node(mesh)) {
        add_uniform(1.0);
      } else {
        add_uniform(1.0 - kHotspotShare);
        out.emplace_back(hotspot_node(mesh), kHotspotShare);
      }
      break;
    case TrafficPattern::kNeighbor:
      out.emplace_back(mesh.node((x + 1) % mesh.width(), y), 1.0);
      break;
  }
  return out;
}

double zero_load_latency(const Mesh& mesh, TrafficPattern pattern, std::uint64_t packet_flits) {
  double sum = 0;
  for (NodeId src = 0; src < mesh.nodes(); ++src)
    for (const auto& [dst, p] : destinations(mesh, pattern, src))
      sum += p * double(mesh.zero_load_latency(src, dst, packet_flits));
  return sum / double(mesh.nodes());
}

double bisection_bound(const Mesh& mesh, TrafficPattern pattern) {
  // crossing[cut][direction]: load across the cut per unit of offered load.
  double crossing[2][2] = {};
  const unsigned mid_x = mesh.width() / 2, mid_y = mesh.height() / 2;
  for (NodeId src = 0; src < mesh.nodes(); ++src) {
    for (const auto& [dst, p] : destinations(mesh, pattern, src)) {
      if (mid_x > 0 && (mesh.x_of(src) < mid_x) != (mesh.x_of(dst) < mid_x))
        crossing[0][mesh.x_of(src) < mid_x ? 0 : 1] += p;
      if (mid_y > 0 && (mesh.y_of(src) < mid_y) != (mesh.y_of(dst) < mid_y))
        crossing[1][mesh.y_of(src) < mid_y ? 0 : 1] += p;
    }
  }
  const double links[2] = {double(mesh.height()), double(mesh.width())};
  double bound = std::numeric_limits<double>::infinity();
  for (int cut = 0; cut < 2; ++cut)
    for (int dir = 0; dir < 2; ++dir)
      if (crossing[cut][dir] > 0) bound = std::min(bound, links[cut] / crossing[cut][dir]);
  return bound;
}

double endpoint_bound(const Mesh& mesh, TrafficPattern pattern) {
  std::vector<double> ejected(mesh.nodes(), 0.0);
  for (NodeId src = 0; src < mesh.nodes(); ++src)
    for (const auto& [dst, p] : destinations(mesh, pattern, src)) ejected[dst] += p;
  const double busiest = std::max(1.0, *std::max_element(ejected.begin(), ejected.end()));
  return 1.0 / busiest;
}

TrafficGenerator::TrafficGenerator(const Mesh& mesh, TrafficPattern pattern, double rate, std::uint64_t packet_flits,
                                   std::uint64_t seed)
    : mesh_(mesh),
      pattern_(pattern),
      nodes_(mesh.nodes()),
      start_probability_(rate / double(packet_flits)),
      rng_(seed) {}

NodeId TrafficGenerator::draw(NodeId src) {
  const NodeId n = nodes_;
  auto other = [&]() -> NodeId {
    if (n == 1) return src;
    const auto d = static_cast<NodeId>(rng_() % (n - 1));
    return d >= src ? d + 1 : d;
  };
  switch (pattern_) {
    case TrafficPattern::kUniform:
      return other();
    case TrafficPattern::kTranspose:
      return mesh_.node(mesh_.y_of(src), mesh_.x_of(src));
    case TrafficPattern::kHotspot: {
      const NodeId hot = hotspot_node(mesh_);
      if (src != hot && coin_(rng_) < kHotspotShare) return hot;
      return other();
    }
    case TrafficPattern::kNeighbor:
      return mesh_.node((mesh_.x_of(src) + 1) % mesh_.width(), mesh_.y_of(src));
  }
  return src;
}

}  // namespace npuvp::noc
