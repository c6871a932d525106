#pragma once
// The NoC configuration the NoC tests start from: the defaults on a k x k mesh.
#include "models/noc/noc_config.h"

namespace npuvp::noc {

inline NocConfig mesh_config(unsigned k, unsigned vcs = 2) {
  NocConfig c;
  c.width = c.height = k;
  c.virtual_channels = vcs;
  return c;
}

}  // namespace npuvp::noc
