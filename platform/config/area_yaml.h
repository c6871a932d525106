#pragma once
// An area table (configs/area/*.yaml): µm² per structure at the table's node.
// Every key is required, so a table states each figure and its source.

#include <string>

#include "models/power/area_model.h"

namespace npuvp::config {

// Throws ConfigError naming the file and the key (e.g. "sram.cell_um2").
power::AreaTable parse_area_file(const std::string& file);

}  // namespace npuvp::config
