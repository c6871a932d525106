#include "models/noc/mesh.h"

#include <cstdlib>

namespace npuvp::noc {

const char* port_name(unsigned port) {
  static const char* const names[kPorts] = {"E", "W", "S", "N", "eject"};
  return port < kPorts ? names[port] : "?";
}

unsigned opposite(unsigned port) {
  switch (port) {
    case kEast:
      return kWest;
    case kWest:
      return kEast;
    case kSouth:
      return kNorth;
    case kNorth:
      return kSouth;
    default:
      return kLocal;
  }
}

Mesh::Mesh(const NocConfig& config)
    : width_(config.width),
      height_(config.height),
      router_cycles_(config.router_cycles),
      link_cycles_(config.link_cycles) {}

bool Mesh::has_neighbour(NodeId n, unsigned port) const {
  switch (port) {
    case kEast:
      return x_of(n) + 1 < width_;
    case kWest:
      return x_of(n) > 0;
    case kSouth:
      return y_of(n) + 1 < height_;
    case kNorth:
      return y_of(n) > 0;
    default:
      return false;
  }
}

NodeId Mesh::neighbour(NodeId n, unsigned port) const {
  switch (port) {
    case kEast:
      return n + 1;
    case kWest:
      return n - 1;
    case kSouth:
      return n + width_;
    default:
      return n - width_;
  }
}

std::string Mesh::channel_name(ChannelId c) const {
  const NodeId n = channel_node(c);
  const std::string router = "r" + std::to_string(x_of(n)) + "_" + std::to_string(y_of(n));
  return router + "." + (is_injection(c) ? "inject" : port_name(channel_port(c)));
}

unsigned Mesh::xy_port(NodeId at, NodeId dst) const {
  if (x_of(dst) > x_of(at)) return kEast;
  if (x_of(dst) < x_of(at)) return kWest;
  if (y_of(dst) > y_of(at)) return kSouth;
  if (y_of(dst) < y_of(at)) return kNorth;
  return kLocal;
}

void Mesh::xy_path(NodeId src, NodeId dst, std::vector<ChannelId>& out) const {
  out.clear();
  out.push_back(injection_channel(src));
  for (NodeId at = src;;) {
    const unsigned port = xy_port(at, dst);
    out.push_back(output_channel(at, port));
    if (port == kLocal) break;
    at = neighbour(at, port);
  }
}

unsigned Mesh::distance(NodeId a, NodeId b) const {
  return static_cast<unsigned>(std::abs(int(x_of(a)) - int(x_of(b))) + std::abs(int(y_of(a)) - int(y_of(b))));
}

}  // namespace npuvp::noc
