#pragma once
// What a workload holds at least, known from its shapes before any tensor is
// generated: the DRAM its program allocates and the host memory of its
// tensors. A run that cannot fit fails at once, saying which option to
// change, instead of after minutes of host reference and gigabytes.

#include <cstdint>
#include <string>
#include <vector>

#include "sw/runtime/ir/network.h"
#include "sw/runtime/lowering/conv_workload.h"

namespace npuvp::apps {

struct Footprint {
  double dram_bytes = 0;  // allocated through the driver, 64-byte aligned
  // Host memory, a lower bound: the generated tensors, the reference outputs
  // and the DRAM pages the program writes (the backing is allocated lazily).
  double host_bytes = 0;
  std::string largest_layer;  // the layer needing the most DRAM
  double largest_dram_bytes = 0;
  int images = 1;  // a batch's: its tensors are per image, its parameters shared
};

// Convolution workloads (conv_slice, SCALE-Sim): run_conv_on_npu's buffers of
// every layer (the program frees none), and per layer its input, weights,
// bias and expected output on the host (fp16: the real-valued reference and
// tolerance too). Specs prepare_conv() refuses count nothing.
Footprint conv_footprint(const std::vector<runtime::ConvLayerSpec>& specs);

// Networks (zoo, YAML, float ONNX) before quantization: the input's and every
// convolution's and fully connected layer's output (per image of a batch) and
// parameters (once) in DRAM as int8; every layer's on the host as float
// (calibration, once) and int8 (reference, per image).
Footprint network_footprint(const runtime::Network& network, int images = 1);

// Throws std::invalid_argument when `f` needs more DRAM than `dram_bytes`
// (naming dram.backing_mib) or more host memory than `max_host_bytes`
// (naming --max-memory); 0 leaves either unchecked.
void check_footprint(const Footprint& f, std::uint64_t dram_bytes, std::uint64_t max_host_bytes);

}  // namespace npuvp::apps
