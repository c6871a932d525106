#pragma once
// Real tensors in and out of `npuvp run`: the network input from a .npy file
// (--input) and every layer's output as the NPU wrote it to DRAM (--dump).
// Files are NCHW with batch 1, as frameworks hold them; the runtime's
// tensors are HWC (tensor_shape.h).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sw/runtime/ir/tensor_shape.h"
#include "sw/runtime/quantize/quantization.h"

namespace npuvp::apps {

// A network input read from --input: float values (to be quantized with the
// input's scale) or int8 codes already in the input's quantization (a uint8
// file's codes moved by -128, as the int8 runtime stores uint8 tensors).
struct InputTensor {
  std::string file;
  bool quantized = false;
  std::vector<float> values;       // HWC, when !quantized
  std::vector<std::int8_t> codes;  // HWC, when quantized
};

// Reads `file` (float32, int8 or uint8; shape (1, C, H, W) or (C, H, W)) for a
// network named `network` whose input is `shape`. Throws std::invalid_argument
// starting with the file name for a bad file or a shape that differs.
InputTensor read_input_tensor(const std::string& file, runtime::TensorShape shape, const std::string& network);

// ONNX QuantizeLinear: saturate(round_half_to_even(x / scale) + zero_point) to
// q's [qmin, qmax] (int8, or int4 for an int4 input), the division in float32.
std::vector<std::int8_t> quantize_linear(const std::vector<float>& hwc, runtime::QuantParams q);

// One layer's output as the NPU wrote it.
struct LayerTensor {
  std::string layer;
  runtime::QuantParams q;
  runtime::TensorShape shape;
  std::vector<std::int8_t> codes;  // HWC
};

struct NetworkTensors {
  std::string network;
  std::string input_file;  // empty: the seeded input
  std::vector<LayerTensor> layers;
};

// A flatten's output as frameworks order it: the runtime flattens its {C, H, W}
// input in HWC order, ONNX and PyTorch in CHW order.
std::vector<std::int8_t> flatten_in_chw_order(const std::vector<std::int8_t>& hwc, runtime::TensorShape input);

// "NNN_<name>.npy": the layer index, three digits or more, and its name with
// every character outside [A-Za-z0-9._-] replaced by '_'.
std::string dump_file_name(std::size_t index, const std::string& layer);

// Writes into `dir` (created if missing) one int8 NCHW .npy per layer,
// output.npy (the last layer dequantized to float32) and manifest.json; returns
// the manifest. Throws std::runtime_error naming a file it cannot write.
nlohmann::json write_tensor_dump(const std::string& dir, const NetworkTensors& tensors);

}  // namespace npuvp::apps
