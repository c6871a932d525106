#pragma once
// The model zoo: the published CNN architectures npuvp runs, built as network
// IR (network.h) at their default input resolution. Each one follows its
// reference definition exactly (torchvision's where torchvision has one; the
// authors' released definition otherwise — see zoo.cpp for sources and the
// assumptions made), so that its parameter and MAC counts equal the published
// figures (tests/sw/zoo_test.cpp).

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sw/runtime/ir/network.h"

namespace npuvp::runtime {

struct ZooEntry {
  std::string name;
  std::string description;  // one line: architecture and source
  TensorShape input;        // default input (C, H, W)
};

// Every zoo network, in listing order.
const std::vector<ZooEntry>& zoo_entries();
std::vector<std::string> zoo_names();
bool is_zoo_network(const std::string& name);

// The named network at its default input. Throws std::invalid_argument naming
// the unknown name and listing the known ones.
Network make_network(const std::string& name);

// `npuvp list networks --json`: one object per network with `name`,
// `description`, `input` [C, H, W], `params`, `macs` (at the default input) and
// `fully_convolutional` (whether --input-size may change the resolution).
nlohmann::json zoo_listing();

}  // namespace npuvp::runtime
