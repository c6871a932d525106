#include "platform/layer_fit.h"

#include <stdexcept>

#include "firmware/layer_geometry.h"
#include "firmware/layer_plan.h"

namespace npuvp::platform {
namespace {

std::string layer_name(const nlohmann::json& layers, std::uint32_t id) {
  if (id < layers.size() && layers[id].contains("name")) return layers[id]["name"].get<std::string>();
  return "#" + std::to_string(id);
}

std::string bytes_text(std::uint64_t bytes) {
  return std::to_string(bytes) + " bytes (" + std::to_string((bytes + 1023) / 1024) + " KiB)";
}

// Output index o reads inputs [o * stride - pad_before, ... + extent): the
// first and the last output must each reach a real input, and then every
// output between them does.
void check_axis(const std::string& layer, const char* axis, std::uint32_t in, std::uint32_t out, int kernel,
                int dilation, int stride, int pad_before) {
  const std::int64_t extent = std::int64_t{dilation} * (kernel - 1) + 1;
  const std::int64_t last_start = std::int64_t{out - 1} * stride - pad_before;
  if (pad_before >= extent || last_start >= std::int64_t{in}) {
    const bool first = pad_before >= extent;
    throw std::invalid_argument("layer '" + layer + "': output " + axis + " " + std::to_string(first ? 0 : out - 1) +
                                " reads only padding (kernel extent " + std::to_string(extent) + ", stride " +
                                std::to_string(stride) + ", padding before " + std::to_string(pad_before) + ", " +
                                std::to_string(in) + " input " + axis + "s); the NPU needs every output " + axis +
                                " to read at least one input " + axis +
                                ": padding below the kernel extent and a stride that stays within the input");
  }
}

// A command holds each dimension in 16 bits; the NPU refused a larger one
// mid-run as an inconsistent command.
void check_dimensions(const std::string& layer, const firmware::LayerCommand& c) {
  const std::pair<const char*, std::uint32_t> dims[] = {{"channels", c.in_c},       {"input height", c.in_h},
                                                        {"input width", c.in_w},    {"output channels", c.out_c},
                                                        {"output height", c.out_h}, {"output width", c.out_w}};
  for (const auto& [name, value] : dims)
    if (value > firmware::kMaxLayerDim)
      throw std::invalid_argument("layer '" + layer + "': " + name + " " + std::to_string(value) +
                                  " exceeds the NPU's layer dimensions (at most " +
                                  std::to_string(firmware::kMaxLayerDim) + " each)");
}

// A convolution forced to a dataflow the arrays cannot run.
void check_dataflow(const std::string& layer, const firmware::LayerCommand& c, const firmware::NpuLayout& npu) {
  pe_array::Dataflow forced{};
  if (firmware::opcode_of(c) != firmware::Opcode::kConv2d ||
      !firmware::forced_dataflow(static_cast<firmware::DataflowChoice>(c.dataflow), forced) ||
      (npu.dataflows >> static_cast<unsigned>(forced) & 1u) != 0)
    return;
  std::string has;
  for (unsigned d = 0; d < pe_array::kDataflows; ++d)
    if (npu.dataflows >> d & 1u) has += (has.empty() ? "" : ", ") + std::string(pe_array::kDataflowNames[d]);
  throw std::invalid_argument("layer '" + layer + "': dataflow " +
                              pe_array::kDataflowNames[static_cast<unsigned>(forced)] +
                              " is not one the arrays run; pe_array.dataflows gives [" + has + "]");
}

// Whether the firmware's planner finds a tiling for `c`, as the command
// processor will ask it: for a convolution, in the dataflow the command forces
// or in any the arrays run.
bool firmware_plans(const firmware::LayerCommand& c, const firmware::NpuLayout& npu) {
  if (firmware::opcode_of(c) != firmware::Opcode::kConv2d) {
    firmware::LayerTiling t;
    return firmware::plan_fastest_tiling(c, npu, t, nullptr);
  }
  firmware::DataflowCosts costs;
  if (!firmware::plan_dataflows(c, npu, firmware::Objective::kLatency, costs)) return false;
  pe_array::Dataflow forced{};
  return !firmware::forced_dataflow(static_cast<firmware::DataflowChoice>(c.dataflow), forced) ||
         costs.plan(forced).candidate;
}

}  // namespace

bool smallest_tile_fits(const firmware::LayerCommand& c, const firmware::NpuLayout& npu) {
  const firmware::TileNeeds need = firmware::smallest_tile_needs(c, npu);
  return need.weight_buffer_bytes <= npu.cluster_weight_buffer_bytes &&
         need.input_buffer_bytes <= npu.cluster_input_buffer_bytes && need.sram_bytes <= npu.sram_bytes;
}

void check_layers_fit(const std::vector<firmware::LayerCommand>& commands, const nlohmann::json& layers,
                      const firmware::NpuLayout& npu) {
  for (const firmware::LayerCommand& c : commands) {
    if (!firmware::is_tiled(firmware::opcode_of(c))) continue;
    const std::string name = layer_name(layers, c.layer_id);
    check_dimensions(name, c);
    const contract::ConvWindow w = firmware::read_window(c);
    if (c.out_h > 0 && c.out_w > 0 && w.stride_h > 0 && w.stride_w > 0) {
      check_axis(name, "row", c.in_h, c.out_h, w.kernel_h, w.dilation_h, w.stride_h, w.pad.top);
      check_axis(name, "column", c.in_w, c.out_w, w.kernel_w, w.dilation_w, w.stride_w, w.pad.left);
    }
    check_dataflow(name, c, npu);
    const firmware::TileNeeds need = firmware::smallest_tile_needs(c, npu);
    const std::string row =
        need.cols == 0 ? "one output row" : "one output row of " + std::to_string(need.cols) + " column(s)";
    const std::string tile = "layer '" + name + "': its smallest tile (" + row + ", " +
                             std::to_string(firmware::k_unit(c)) + " output channel(s)) needs ";
    if (need.weight_buffer_bytes > npu.cluster_weight_buffer_bytes)
      throw std::invalid_argument(tile + bytes_text(need.weight_buffer_bytes) +
                                  " of weights in a cluster's weight buffer; pe_array.weight_buffer_kb gives " +
                                  bytes_text(npu.cluster_weight_buffer_bytes));
    if (need.input_buffer_bytes > npu.cluster_input_buffer_bytes)
      throw std::invalid_argument(tile + bytes_text(need.input_buffer_bytes) +
                                  " of inputs in a cluster's input buffer; pe_array.input_buffer_kb gives " +
                                  bytes_text(npu.cluster_input_buffer_bytes));
    if (need.sram_bytes > npu.sram_bytes)
      throw std::invalid_argument(tile + bytes_text(need.sram_bytes) +
                                  " of global buffer (descriptors and job slots included); sram.banks × "
                                  "sram.bank_kb give " +
                                  bytes_text(npu.sram_bytes));
    // So small a tile may take more steps than a command may have; the
    // firmware then needs larger tiles, which only its planner can place.
    if (need.steps > firmware::kMaxLayerSteps && !firmware_plans(c, npu))
      throw std::invalid_argument("layer '" + name +
                                  "': tiles small enough for the global buffer (sram.banks × "
                                  "sram.bank_kb give " +
                                  bytes_text(npu.sram_bytes) + ") take more than the firmware's " +
                                  std::to_string(firmware::kMaxLayerSteps) +
                                  " steps (row tiles × column strips × K blocks × images), and no larger tile fits: "
                                  "raise sram.bank_kb or sram.banks");
  }
}

}  // namespace npuvp::platform
