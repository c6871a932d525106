#pragma once
// Synthetic traffic for NoC characterisation (noc-bench and tests): Bernoulli
// packet injection at every node with destinations drawn from a pattern.

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "models/noc/mesh.h"

namespace npuvp::noc {

// uniform:   any other node, equally likely;
// transpose: (x, y) -> (y, x), square meshes only (diagonal nodes send to themselves);
// hotspot:   the centre node (W/2, H/2) with probability kHotspotShare, otherwise uniform;
// neighbor:  the east neighbour, the last column wrapping to the first.
enum class TrafficPattern { kUniform, kTranspose, kHotspot, kNeighbor };
constexpr double kHotspotShare = 0.2;

const char* to_string(TrafficPattern pattern);
// False if `text` names no pattern.
bool parse_traffic(const std::string& text, TrafficPattern& pattern);

// The node hotspot traffic favours: the centre (W/2, H/2).
NodeId hotspot_node(const Mesh& mesh);
// Empty if the pattern applies to the mesh, otherwise what it needs.
std::string traffic_requirement(const Mesh& mesh, TrafficPattern pattern);

// The destinations of `src` with their probabilities (summing to 1).
std::vector<std::pair<NodeId, double>> destinations(const Mesh& mesh, TrafficPattern pattern, NodeId src);

// Cycles of an isolated packet, averaged over every source (all inject at the
// same rate) and the pattern's destinations: the analytic zero-load latency.
double zero_load_latency(const Mesh& mesh, TrafficPattern pattern, std::uint64_t packet_flits);

// Highest offered load (flits/node/cycle) the links across the mesh's two
// bisections (between columns W/2 - 1 and W/2, rows H/2 - 1 and H/2) can carry
// for this pattern, each crossing link taking one flit per cycle per
// direction. 4/k for a k x k mesh with uniform traffic that includes the
// source itself; uniform here excludes it, which puts slightly more traffic
// across and the bound slightly lower. Infinite if no traffic crosses.
double bisection_bound(const Mesh& mesh, TrafficPattern pattern);

// Highest offered load (flits/node/cycle) the endpoint channels can carry:
// every node injects the offered load over one injection channel and its
// router ejects what the pattern sends it over one ejection channel, each one
// flit per cycle. A hotspot's ejection channel takes the whole mesh's share
// of it, so it bounds hotspot traffic far below the bisection.
double endpoint_bound(const Mesh& mesh, TrafficPattern pattern);

class TrafficGenerator {
 public:
  // `rate` is the offered load in flits per node per cycle (0..1]; a packet
  // starts at each node in each cycle with probability rate / packet_flits.
  TrafficGenerator(const Mesh& mesh, TrafficPattern pattern, double rate, std::uint64_t packet_flits,
                   std::uint64_t seed);

  // Calls emit(src, dst) for every packet created in the next cycle.
  template <typename F>
  void tick(F&& emit) {
    for (NodeId n = 0; n < nodes_; ++n)
      if (coin_(rng_) < start_probability_) emit(n, draw(n));
  }
  // A destination of `src`, each as likely as destinations() says, from the
  // generator's own random stream.
  NodeId draw(NodeId src);

 private:
  const Mesh& mesh_;
  TrafficPattern pattern_;
  NodeId nodes_;
  double start_probability_;
  std::mt19937_64 rng_;
  std::uniform_real_distribution<double> coin_{0.0, 1.0};
};

}  // namespace npuvp::noc
