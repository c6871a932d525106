#include "platform/config/noc_yaml.h"

#include <limits>

namespace npuvp::config {
namespace {

constexpr std::int64_t kMaxU32 = std::numeric_limits<std::uint32_t>::max();

void parse_position(const ConfigNode& n, noc::Attachment& a) {
  a.name = n.get_string("name");
  a.x = static_cast<unsigned>(n.get_int_in("x", 0, kMaxU32));
  a.y = static_cast<unsigned>(n.get_int_in("y", 0, kMaxU32));
}

// Addresses go up to 2^64 - 1, beyond what get_int (signed) reads.
std::uint64_t get_u64(const ConfigNode& n, const std::string& key) {
  const std::string text = n.get_string(key);
  std::size_t used = 0;
  std::uint64_t v = 0;
  try {
    if (!text.empty() && text[0] != '-') v = std::stoull(text, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) n.fail(key, "an unsigned integer (decimal or 0x hex)");
  return v;
}

}  // namespace

noc::NocConfig parse_noc(const ConfigNode& section) {
  section.reject_unknown({"width", "height", "flit_bytes", "router_cycles", "link_cycles", "buffer_flits",
                          "virtual_channels", "header_flits", "clock_mhz", "initiators", "targets"});
  noc::NocConfig c;
  c.width = static_cast<unsigned>(section.get_int_in("width", 1, 256, c.width));
  c.height = static_cast<unsigned>(section.get_int_in("height", 1, 256, c.height));
  c.flit_bytes = static_cast<unsigned>(section.get_int_in("flit_bytes", 1, 4096, c.flit_bytes));
  c.router_cycles = static_cast<unsigned>(section.get_int_in("router_cycles", 1, 64, c.router_cycles));
  c.link_cycles = static_cast<unsigned>(section.get_int_in("link_cycles", 1, 64, c.link_cycles));
  c.buffer_flits = static_cast<unsigned>(section.get_int_in("buffer_flits", 1, 4096, c.buffer_flits));
  c.virtual_channels = static_cast<unsigned>(section.get_int_in("virtual_channels", 1, 16, c.virtual_channels));
  c.header_flits = static_cast<unsigned>(section.get_int_in("header_flits", 1, 64, c.header_flits));
  c.clock_mhz = section.get_positive("clock_mhz", c.clock_mhz);

  if (section.has("initiators")) {
    for (const ConfigNode& n : section.child("initiators").items()) {
      n.reject_unknown({"name", "x", "y"});
      noc::Attachment a;
      parse_position(n, a);
      c.initiators.push_back(a);
    }
  }
  if (section.has("targets")) {
    for (const ConfigNode& n : section.child("targets").items()) {
      n.reject_unknown({"name", "x", "y", "base", "size"});
      noc::TargetAttachment t;
      parse_position(n, t);
      t.base = get_u64(n, "base");
      t.size = get_u64(n, "size");
      c.targets.push_back(t);
    }
  }
  try {
    noc::validate(c);
  } catch (const noc::NocConfigError& e) {
    throw ConfigError(section.source(section.key_path(e.key())) + ": key '" + section.key_path(e.key()) +
                      "': expected " + e.expected());
  }
  return c;
}

}  // namespace npuvp::config
