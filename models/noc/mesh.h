#pragma once
// Geometry of a W x H mesh shared by the fast and the cycle-level models:
// node and channel numbering, XY routes and the analytic zero-load latency.
//
// A channel is anything a flit occupies for a cycle: the injection channel of
// a node (endpoint into its router, no latency: the endpoint writes the
// router's local input buffer), a router output toward a neighbour (latency
// link_cycles) and the ejection channel of a router (local output to its
// endpoint, latency link_cycles). A packet thus crosses hops = distance + 1
// routers, each followed by one link.

#include <cstdint>
#include <string>
#include <vector>

#include "models/noc/noc_config.h"

namespace npuvp::noc {

using NodeId = std::uint32_t;
using ChannelId = std::uint32_t;
using Cycle = std::uint64_t;

// Router ports; an output port of one router feeds the opposite input port of
// its neighbour. kLocal is the endpoint side (injection in, ejection out).
enum Port : unsigned { kEast = 0, kWest = 1, kSouth = 2, kNorth = 3, kLocal = 4 };
constexpr unsigned kPorts = 5;

const char* port_name(unsigned port);
unsigned opposite(unsigned port);

class Mesh {
 public:
  explicit Mesh(const NocConfig& config);

  unsigned width() const { return width_; }
  unsigned height() const { return height_; }
  unsigned nodes() const { return width_ * height_; }
  NodeId node(unsigned x, unsigned y) const { return y * width_ + x; }
  unsigned x_of(NodeId n) const { return n % width_; }
  unsigned y_of(NodeId n) const { return n / width_; }
  // The neighbour an output port leads to; only valid if has_neighbour().
  bool has_neighbour(NodeId n, unsigned port) const;
  NodeId neighbour(NodeId n, unsigned port) const;

  ChannelId channel_count() const { return nodes() * (kPorts + 1); }
  ChannelId output_channel(NodeId n, unsigned port) const { return n * kPorts + port; }
  ChannelId injection_channel(NodeId n) const { return nodes() * kPorts + n; }
  bool is_injection(ChannelId c) const { return c >= nodes() * kPorts; }
  // Router the channel leaves from (for injection: the node it enters).
  NodeId channel_node(ChannelId c) const { return is_injection(c) ? c - nodes() * kPorts : c / kPorts; }
  unsigned channel_port(ChannelId c) const { return is_injection(c) ? kLocal : c % kPorts; }
  Cycle channel_latency(ChannelId c) const { return is_injection(c) ? 0 : link_cycles_; }
  // "r1_2.E" for router (1,2) east output, "r1_2.eject", "r1_2.inject".
  std::string channel_name(ChannelId c) const;

  // Output port dimension-order routing takes at `at` toward `dst` (X first).
  unsigned xy_port(NodeId at, NodeId dst) const;
  // Injection channel, router outputs along the XY path, ejection channel.
  void xy_path(NodeId src, NodeId dst, std::vector<ChannelId>& out) const;
  unsigned distance(NodeId a, NodeId b) const;
  unsigned hops(NodeId a, NodeId b) const { return distance(a, b) + 1; }

  // Cycles from the packet being ready at the source endpoint until its tail
  // is in the destination endpoint, on an empty network:
  // hops * (router_cycles + link_cycles) + flits (serialization).
  Cycle zero_load_latency(NodeId src, NodeId dst, std::uint64_t flits) const {
    return hops(src, dst) * (router_cycles_ + link_cycles_) + flits;
  }

 private:
  unsigned width_, height_;
  Cycle router_cycles_, link_cycles_;
};

}  // namespace npuvp::noc
