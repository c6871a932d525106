#pragma once
// The host programs `npuvp run` executes: a named convolution workload
// (conv_slice), a SCALE-Sim topology, or a network (zoo, YAML, ONNX) quantized
// and lowered by the runtime. Each becomes a Workload: the layers the report
// lists and a program that runs them through the driver and records, per
// layer, whether the NPU's output matched the host reference.

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "contract/command_format.h"
#include "sw/apps/tensor_io.h"
#include "sw/driver/npu_driver.h"
#include "sw/runtime/lowering/conv_workload.h"

namespace npuvp::apps {

// The most images one run takes (--batch).
constexpr int kMaxBatch = 256;

struct WorkloadOptions {
  // A name from `npuvp list networks`, a network file (*.yaml, *.onnx) or a
  // SCALE-Sim topology file (*.csv).
  std::string network = "conv_slice";
  std::string dataflow = "hybrid";    // ws | os | hybrid
  std::string objective = "latency";  // what hybrid minimizes: latency | energy
  std::uint32_t seed = 1;
  int input_h = 0, input_w = 0;  // 0: the network's default
  // Deliberate wrong DMA source stride (bytes added to the row pitch), for
  // tests that prove the bit-exact check catches it.
  std::int32_t fault_input_row_pitch_delta = 0;
  // Images per run (zoo, YAML and ONNX networks): run layer by layer over the
  // batch, weights loaded once per layer.
  int batch = 1;  // 1 to kMaxBatch
  // Per-layer dataflow overrides, "layer_name=ws|os" (zoo, YAML and ONNX networks).
  std::vector<std::string> layer_dataflow;
  // Convolution workloads (conv_slice, SCALE-Sim files): fraction of each
  // filter's input channels pruned to zero.
  double weight_sparsity = 0;
  // Convolution workloads: element format, int8 | int4 | int16 | fp16 (zoo,
  // YAML and ONNX networks are int8).
  std::string datatype = "int8";
  // A .npy network input (zoo, YAML and ONNX networks, batch 1; tensor_io.h):
  // float32 NCHW values, quantized with the input's scale (and a float
  // network's calibration input), or int8/uint8 codes in the input's
  // quantization. Empty: the seeded input.
  std::string input_file;
  // Keep every layer's output as the NPU wrote it (Workload::tensors).
  bool keep_outputs = false;
  // Zoo, YAML and ONNX networks: data-movement layers folded into their
  // producers and consumers (the preset's firmware.fold_data_movement).
  bool fold_data_movement = true;
  // Residual adds and pools computed in the epilogue of the convolution
  // feeding them (the preset's firmware.fuse_layers).
  bool fuse_layers = true;
  std::function<bool(const firmware::LayerCommand&)> tile_fits;  // runtime::LoweringOptions::tile_fits
  std::uint32_t dram_access_bytes = 32;                          // the DRAM part's burst (runtime::LoweringOptions)
  // The platform's DRAM backing and a cap on host memory (--max-memory):
  // workloads whose tensors cannot fit fail before they are generated
  // (footprint.h). 0: not checked.
  std::uint64_t dram_bytes = 0;
  std::uint64_t max_host_bytes = 0;
  // Zoo, YAML and float ONNX networks: the prepared-network cache's directory
  // (prepared_cache.h); empty: prepared every run, no cache.
  std::string cache_dir;
  // Host threads the run may use: with 2 or more, the reference outputs are
  // computed beside the simulation (batch 1).
  int threads = 1;
};

// The per-layer verdicts a program fills in as it runs.
struct LayerVerdicts {
  std::vector<std::size_t> mismatches;
  std::vector<bool> verified;
  // ONNX models: per layer, the elements that differ from the ONNX operator
  // specification's arithmetic (onnx_spec.h). Empty for other networks.
  std::vector<std::size_t> onnx_spec_mismatches;
  // Per layer: the layers a folded layer's work went into (empty otherwise).
  std::vector<std::vector<int>> folded_into;
  // Per layer: why an add was not fused into a convolution (empty otherwise).
  std::vector<std::string> not_fused;
  // Networks with float weights run on the float input's quantization: per
  // layer, the expected output's SQNR against the float model
  // (runtime::layer_sqnr_db). Empty otherwise.
  std::vector<double> sqnr_db;
};

struct Workload {
  std::string name;
  nlohmann::json input_shape;
  nlohmann::json layers = nlohmann::json::array();  // name, type, shapes, kernel, stride, groups, macs, params
  std::shared_ptr<LayerVerdicts> verdicts;          // shared with `program`, which fills it
  // The commands `program` submits, their shapes as the NPU sees them (DRAM
  // addresses aside), for checks before simulation; layer_id indexes `layers`.
  std::vector<firmware::LayerCommand> commands;
  std::function<void(sw::NpuDriver&)> program;
  // With WorkloadOptions::keep_outputs: every layer's output, filled by `program`.
  std::shared_ptr<NetworkTensors> tensors;
  // The network's preparation was read from the cache (report.json's sim.prepared_from_cache).
  bool prepared_from_cache = false;
  // Work started beside the simulation (the reference outputs), which the
  // program waits for before comparing and the run before reporting.
  std::shared_future<void> background;
};

// A convolution layer as Workload::layers describes it to the report (name,
// type, shapes, kernel, stride, padding, dilation, groups, datatype, macs, params).
nlohmann::json describe_conv_layer(const runtime::PreparedConv& layer);

// Throws std::invalid_argument for an unknown network or options the
// workload cannot take.
Workload make_workload(const WorkloadOptions& options);

// --input-size "HxW" with H and W whole numbers from 1 to 16384; throws
// std::invalid_argument naming the option and quoting the text otherwise.
std::pair<int, int> parse_input_size(const std::string& text);

// The dataflow choice --dataflow and --objective ask for.
firmware::DataflowChoice parse_dataflow(const std::string& dataflow, const std::string& objective);

// Networks `npuvp run --network` knows by name.
nlohmann::json list_networks();

}  // namespace npuvp::apps
