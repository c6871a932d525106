#pragma once
// Checks, before simulation, that the platform can run every layer command
// of a workload: every output row and column reads at least one input pixel
// (padding and stride leave none reading padding alone), and the smallest
// tile the firmware could choose fits the global buffer and a cluster's
// weight and input buffers. A workload that passes never stops inside the
// NPU for its shapes; one that fails is refused naming the layer, the config
// key to change and the size the layer needs.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "contract/command_format.h"
#include "firmware/hal.h"

namespace npuvp::platform {

// Whether the smallest tile of a tiled command fits the buffers.
bool smallest_tile_fits(const firmware::LayerCommand& c, const firmware::NpuLayout& npu);

// Throws std::invalid_argument for the first command the NPU cannot run.
// `layers` names them: command.layer_id indexes it (its entries' "name").
void check_layers_fit(const std::vector<firmware::LayerCommand>& commands, const nlohmann::json& layers,
                      const firmware::NpuLayout& npu);

}  // namespace npuvp::platform
