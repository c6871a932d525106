// The network YAML reader, and the shape inference and YAML writer that an
// accepted network goes through next.
#include <stdexcept>
#include <string>

#include "sw/runtime/frontend/network_yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const npuvp::runtime::Network network = npuvp::runtime::parse_network_yaml(text, "fuzz.yaml");
    (void)npuvp::runtime::parse_network_yaml(npuvp::runtime::network_to_yaml(network), "round-trip.yaml");
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
