#pragma once
// Shared by the DRAM tests: configurations built from the real memspec files.

#include <string>

#include "models/dram/dram_config.h"
#include "platform/config/dram_yaml.h"

namespace npuvp::dram::testing {

// Tests run from the repository root (see npuvp_add_test).
inline DramConfig config_of(const std::string& memspec = "configs/dram/lpddr4-3200.yaml", unsigned channels = 1) {
  DramConfig c;
  c.memspec = config::load_memspec(memspec);
  c.channels = channels;
  c.backing_bytes = 16u << 20;
  return c;
}

}  // namespace npuvp::dram::testing
