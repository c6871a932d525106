#pragma once
// `npuvp run`: builds the platform, runs a network on it through the host
// software stack, and turns what the models counted into the report and the
// trace files. A run is a pure function of (platform config, options).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "platform/platform_config.h"

namespace npuvp::platform {

struct RunOptions {
  // A name from `npuvp list networks`, or a SCALE-Sim topology file (*.csv).
  std::string network = "conv_slice";
  std::string dataflow = "hybrid";    // ws | os | hybrid
  std::string objective = "latency";  // what hybrid minimizes: latency | energy
  std::string out_dir = "traces/run";
  std::uint32_t seed = 1;
  int input_h = 0, input_w = 0;  // 0: the network's default
  // Deliberate wrong DMA source stride (bytes added to the row pitch), for
  // tests that prove the bit-exact check catches it.
  std::int32_t fault_input_row_pitch_delta = 0;
  // Operands always on time (SCALE-Sim's compute view): a layer's cycles are
  // its array schedule alone; memory traffic still happens and costs energy.
  bool ideal_memory = false;
  bool quiet = false;  // no progress line on the terminal
  // Images per run (zoo, YAML and ONNX networks): run layer by layer over the
  // batch, weights loaded once per layer.
  int batch = 1;
  // Per-layer dataflow overrides, "layer_name=ws|os" (zoo, YAML and ONNX networks).
  std::vector<std::string> layer_dataflow;
  // Convolution workloads (conv_slice, SCALE-Sim files): fraction of each
  // filter's input channels pruned to zero.
  double weight_sparsity = 0;
  // Convolution workloads: element format, int8 | int4 | int16 | fp16 (zoo,
  // YAML and ONNX networks are int8).
  std::string datatype = "int8";
};

// Runs and writes report.json, trace.vcd, power.csv and timeline.json into
// options.out_dir; returns report.json's content. Throws std::invalid_argument
// for an unknown network or bad options.
nlohmann::json run(const PlatformConfig& config, const RunOptions& options);

// The per-layer table and totals, as printed on the terminal.
std::string format_report(const nlohmann::json& report);

// Networks `npuvp run --network` knows by name.
nlohmann::json list_networks();

}  // namespace npuvp::platform
