#pragma once
// Running a quantized network (lowering.h) and checking every layer's output
// against the reference executor, on the NPU through the driver or on the
// host with an interpreter of the command format.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "contract/address_map.h"
#include "contract/command_format.h"
#include "sw/driver/npu_driver.h"
#include "sw/runtime/lowering/lowering.h"

namespace npuvp::runtime {

struct ExecutionOptions {
  firmware::DataflowChoice dataflow = firmware::DataflowChoice::kHybridLatency;  // of every conv command
  // Submit one command buffer per layer instead of one for the whole network.
  bool one_buffer_per_layer = false;
  // Keep every layer's output as read back (LayerCheck::output), for a dump.
  bool keep_outputs = false;
  bool fold_data_movement = true;                                // LoweringOptions::fold_data_movement
  std::uint32_t dram_access_bytes = 32;                          // LoweringOptions::dram_access_bytes
  bool fuse_layers = true;                                       // LoweringOptions::fuse_layers, unless keep_outputs
  std::function<bool(const firmware::LayerCommand&)> tile_fits;  // LoweringOptions::tile_fits
  // Called once the NPU has run and before its outputs are compared: the
  // expected outputs may still be computed beside the simulation until then.
  std::function<void()> await_reference;
};

// One IR layer's output compared with the reference executor's.
struct LayerCheck {
  int index = 0;
  std::string name;
  std::string type;              // layer_type_name
  std::size_t commands = 0;      // LayerCommands the layer lowered to
  std::vector<int> folded_into;  // LoweredLayer::folded_into
  std::string not_fused;         // LoweredLayer::not_fused
  std::size_t mismatches = 0;
  bool verified = false;
  std::vector<std::int8_t> output;  // as read back (HWC), with ExecutionOptions::keep_outputs
};

struct NetworkRun {
  std::vector<LayerCheck> layers;  // one per IR layer, in network order
  std::size_t commands = 0;
  std::size_t command_buffers = 0;
  std::uint64_t dram_bytes = 0;  // tensors + parameters + commands
  bool all_verified() const;
};

// Layer outputs against a network's expected outputs, held or released to
// their digests (release_reference_output). A released layer's output is
// told by its digest; its values are recomputed from `q` (every layer's, once)
// only when it differs, to count the values that do. A further image of a
// batch may hold no weights of its own (drop_weights): `weights` is then the
// image whose weights it shares.
class ReferenceCheck {
 public:
  explicit ReferenceCheck(const QuantizedNetwork& q, const QuantizedNetwork* weights = nullptr);
  ~ReferenceCheck();
  // Bytes of layer i's expected output.
  std::size_t bytes(int i) const;
  // How many of `actual`'s bytes differ from layer i's expected output;
  // std::invalid_argument when its size is not bytes(i).
  std::size_t mismatches(int i, const std::vector<std::int8_t>& actual);

 private:
  const QuantizedNetwork& q_;
  const QuantizedNetwork* weights_;
  std::unique_ptr<QuantizedNetwork> recomputed_;
};

// The lowering a run with `options` uses (run_network_on_npu, run_batch_on_npu).
LoweringOptions lowering_options(const ExecutionOptions& options);

// Lowers `q`, allocates every tensor, parameter block and command buffer with
// driver.alloc, writes the input and parameters, submits, waits and reads
// back every layer's output. NpuFault and driver errors propagate.
NetworkRun run_network_on_npu(sw::NpuDriver& driver, const QuantizedNetwork& q, const ExecutionOptions& options = {});

// Runs several images through one network, layer by layer: every layer's
// commands for all images follow each other, sharing one copy of the
// parameters, so the NPU can keep a layer's weights resident across the batch.
// `images` share their quantization and differ in their input (and expected
// outputs); only the first's weights are read, so the others' may be dropped
// (drop_weights). Returns one NetworkRun per image.
std::vector<NetworkRun> run_batch_on_npu(sw::NpuDriver& driver, const std::vector<const QuantizedNetwork*>& images,
                                         const ExecutionOptions& options = {});

// A byte array standing for DRAM at [base, base + size), grown by alloc().
class HostDram {
 public:
  explicit HostDram(std::uint64_t base = address_map::kDramBase) : base_(base) {}

  // 64-byte aligned, like NpuDriver::alloc.
  std::uint64_t alloc(std::uint64_t bytes);
  void write(std::uint64_t addr, const void* src, std::size_t bytes);
  void read(std::uint64_t addr, void* dst, std::size_t bytes) const;
  // Throws std::out_of_range naming the address unless [addr, addr + bytes) is
  // allocated.
  std::uint8_t* span(std::uint64_t addr, std::size_t bytes);
  const std::uint8_t* span(std::uint64_t addr, std::size_t bytes) const;
  std::uint64_t base() const { return base_; }
  std::uint64_t size() const { return bytes_.size(); }

 private:
  std::uint64_t base_;
  std::vector<std::uint8_t> bytes_;
};

// Executes LayerCommands as the firmware defines them (command_format.h),
// with the reference kernels, on `dram`. Throws std::invalid_argument naming
// the command index and layer_id for a malformed command.
void execute_commands_on_host(HostDram& dram, const std::vector<firmware::LayerCommand>& commands);

// The host twin of run_network_on_npu: lowers `q` into a HostDram, executes
// the commands and compares every layer's output.
NetworkRun run_network_on_host(const QuantizedNetwork& q, const ExecutionOptions& options = {});

}  // namespace npuvp::runtime
