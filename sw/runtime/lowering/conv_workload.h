#pragma once
// One convolution layer as host software runs it on the NPU: seeded data
// and quantization parameters in one of the NPU's datatypes, lowering to a
// LayerCommand in DRAM, submission through the driver, and a check of every
// output element against an independent reference: bit-exact for the integer
// datatypes, within a stated tolerance for fp16 (see ConvOnNpu).

#include <cstdint>
#include <string>
#include <vector>

#include "contract/command_format.h"
#include "sw/driver/npu_driver.h"
#include "sw/runtime/quantize/quantization.h"
#include "sw/runtime/reference/reference_kernels.h"

namespace npuvp::runtime {

struct ConvLayerSpec {
  std::string name = "conv";
  int in_c = 64, in_h = 56, in_w = 56;
  int out_c = 64;
  // Dense (one group). SCALE-Sim's layers pad the bottom and right only, to
  // keep a partial last window that an unpadded convolution would drop.
  ConvWindow window{{3, 3, 1, 1, Padding::uniform(1)}};
  bool relu = true;
  // Fraction of each filter's input channels whose weights are zero (as
  // channel pruning leaves them), for zero-skipping studies.
  double weight_sparsity = 0;
  firmware::DataflowChoice dataflow = firmware::DataflowChoice::kHybridLatency;
  // Element format of input, weights and output (contract/command_format.h).
  firmware::Datatype datatype = firmware::Datatype::kInt8;
};

// "int8", "int4", "int16", "fp16".
const char* datatype_name(firmware::Datatype datatype);
// The inverse; throws std::invalid_argument for anything else.
firmware::Datatype parse_datatype(const std::string& name);

// The layer's tensors and quantization, generated from a seed. Tensors hold
// the bytes of elements of spec.datatype as the NPU reads them (HWC / OHWI,
// little-endian; int4 one sign-extended value per byte).
struct PreparedConv {
  ConvLayerSpec spec;
  ConvParams params;
  TensorShape in_shape, out_shape;
  std::vector<std::int8_t> input, weights;
  std::vector<std::int32_t> bias;     // int32, or the bits of an fp32 (fp16)
  Requantization requant;             // act_min/act_max in the datatype's range; no multipliers for fp16
  std::vector<std::int8_t> expected;  // integer datatypes: the reference output's bytes
  // fp16: the reference output (double math on the half inputs, ReLU applied)
  // and the accepted |npu - reference| per element.
  std::vector<double> expected_real, tolerance;

  unsigned element_bytes() const;
  std::uint64_t macs() const;
  std::uint64_t parameter_count() const { return weights.size() / element_bytes() + bias.size(); }
};

// Throws std::invalid_argument naming the bad field of the spec.
PreparedConv prepare_conv(const ConvLayerSpec& spec, std::uint32_t seed);

struct ConvOnNpu {
  std::vector<std::int8_t> output;  // bytes, as `expected`
  std::size_t mismatches = 0;       // output elements outside the check (bit-exact or tolerance)
  bool verified() const { return mismatches == 0; }
};

// Deliberate mistakes, for tests that prove the check catches them.
struct LoweringFaults {
  std::int32_t input_row_pitch_delta = 0;  // a wrong DMA source stride
};

// The layer's command with its tensors at the given DRAM addresses (zero:
// for checks of the shape alone).
struct ConvAddresses {
  std::uint64_t input = 0, output = 0, weights = 0, bias = 0, requant = 0;
};
firmware::LayerCommand conv_command(const PreparedConv& layer, std::uint32_t layer_id, const ConvAddresses& at = {},
                                    const LoweringFaults& faults = {});

// Writes the tensors and the command into DRAM, runs it, reads the output back
// and compares it with the reference.
//
// fp16 tolerance: |npu - ref| <= ulp + 1e-3 × |ref| + n × 2^-24 × (|bias| + Σ|x·w|),
// where ulp is one unit in the last place of a half at |ref| (2^-24 below
// the normal range) and n the number of summed terms (bias included). The
// ulp covers the NPU's final rounding to half, 1e-3 relative is the stated
// margin, and the last term is the worst-case error of n fp32 additions
// (n × unit roundoff × Σ|terms|): it scales with the summed terms, not the
// result, so a sum that cancels to near zero still passes honestly.
ConvOnNpu run_conv_on_npu(sw::NpuDriver& driver, const PreparedConv& layer, std::uint32_t layer_id,
                          const LoweringFaults& faults = {});

}  // namespace npuvp::runtime
