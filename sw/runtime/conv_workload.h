#pragma once
// One quantized convolution layer as host software runs it on the NPU:
// seeded data and quantization parameters, lowering to a LayerCommand in
// DRAM, submission through the driver, and a bit-exact check of every output
// element against the independent reference kernel.

#include <cstdint>
#include <string>
#include <vector>

#include "firmware/command_format.h"
#include "sw/driver/npu_driver.h"
#include "sw/runtime/quantization.h"
#include "sw/runtime/reference_kernels.h"

namespace npuvp::runtime {

struct ConvLayerSpec {
  std::string name = "conv";
  int in_c = 64, in_h = 56, in_w = 56;
  int out_c = 64;
  int kernel_h = 3, kernel_w = 3;
  int stride = 1, pad = 1, dilation = 1;
  // Padding beyond `pad` at the bottom and right only: SCALE-Sim's layers keep
  // a partial last window, which an unpadded convolution would drop.
  int extra_pad_bottom = 0, extra_pad_right = 0;
  bool relu = true;
  // Fraction of each filter's input channels whose weights are zero (as
  // channel pruning leaves them), for zero-skipping studies.
  double weight_sparsity = 0;
  firmware::DataflowChoice dataflow = firmware::DataflowChoice::kAuto;
};

// The layer's tensors and quantization, generated from a seed.
struct PreparedConv {
  ConvLayerSpec spec;
  ConvParams params;
  TensorShape in_shape, out_shape;
  std::vector<std::int8_t> input, weights;
  std::vector<std::int32_t> bias;
  Requantization requant;
  std::vector<std::int8_t> expected;  // the reference kernel's output

  std::uint64_t macs() const;
  std::uint64_t parameter_count() const { return weights.size() + bias.size(); }
};

// Throws std::invalid_argument naming the bad field of the spec.
PreparedConv prepare_conv(const ConvLayerSpec& spec, std::uint32_t seed);

struct ConvOnNpu {
  std::vector<std::int8_t> output;
  std::size_t mismatches = 0;
  bool verified() const { return mismatches == 0; }
};

// Deliberate mistakes, for tests that prove the check catches them.
struct LoweringFaults {
  std::int32_t input_row_pitch_delta = 0;  // a wrong DMA source stride
};

// Writes the tensors and the command into DRAM, runs it, reads the output back
// and compares it with the reference.
ConvOnNpu run_conv_on_npu(sw::NpuDriver& driver, const PreparedConv& layer, std::uint32_t layer_id,
                          const LoweringFaults& faults = {});

}  // namespace npuvp::runtime
