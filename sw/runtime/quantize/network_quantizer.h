#pragma once
// The network quantizer: TFLite-style post-training int8 quantization of a
// float network IR. BatchNorm is folded, float weights are generated from a
// seed (unless the network already carries them), weights are quantized per
// output channel (symmetric int8), biases to int32 at input_scale *
// weight_scale, and every activation tensor per tensor (asymmetric int8) from
// the min/max of a float forward pass over one seeded random input (the
// calibration, on the float reference kernels).
// Layers that cannot change quantization (pools, standalone ReLU, concat,
// channel shuffle, shift, slice, pad, flatten) share their input's
// parameters; the inputs of a concat share one set chosen over their union
// range, which each producer then outputs directly. A ReLU/ReLU6 that is the
// only reader of a conv/FC/add is fused into that layer's clamp.
// The expected int8 output of every layer comes from the reference executor.
//
// int4 (a layer's datatype, or QuantizationOptions::bits): its weights are
// per channel in [-7, 7], and its input and output tensors per tensor in
// [-8, 7]. A tensor is int4 when an int4 layer writes or reads it (a whole
// quantization group at once), so an int8 layer feeding an int4 one
// requantizes straight to int4 in its own output stage (its clamp narrows to
// [-8, 7]) and an int8 layer reading an int4 tensor reads it as int8 values:
// both conversions are exact integer steps the reference and the NPU share.
//
// int16 (a layer's datatype, or QuantizationOptions::bits 16): TFLite's
// scheme for int16 activations (int16_values.h) with int16 weights per
// channel in [-32767, 32767]. A tensor is int16 when an int16 layer writes or
// reads it, and an add's inputs and output are int16 together; int4 and int8
// layers cannot touch an int16 tensor (an error names the layers), so int16
// and int8 meet only where no layer would have to convert.
//
// Unsupported layers or parameters throw std::invalid_argument naming the
// network, the layer and what is supported.

#include <cstdint>
#include <functional>
#include <vector>

#include "sw/runtime/ir/network.h"
#include "sw/runtime/quantize/quantized_network.h"

namespace npuvp::runtime {

struct QuantizationOptions {
  // Seed of generate_float_weights; ignored when the network already has float
  // weights.
  std::uint64_t weight_seed = 1;
  // Seed of the calibration input (uniform in [-1, 1), HWC), used when
  // `float_input` is empty.
  std::uint64_t input_seed = 2;
  std::vector<float> float_input;
  // Fuse ReLU/ReLU6 into the clamp of a conv/FC/add it is the only reader of.
  bool fuse_activations = true;
  // The integer type (4, 8 or 16 bits) of every conv-like layer whose
  // Layer::datatype is empty.
  int bits = 8;
  // false: layers[i].expected is left empty but for the input's, for a caller
  // that runs compute_reference_outputs itself (beside the simulation).
  bool reference_outputs = true;
  // false: each reference output is released to its digest
  // (release_reference_output) once the reference outputs reading it are
  // computed, but the input's and the network output's; the calibration
  // then never holds more than the outputs its next steps read.
  bool keep_reference_outputs = true;
  // Called with true before and false after each layer's reference output
  // (and SQNR), which the calibration computes as it goes, so that a caller
  // can time them apart; may be empty.
  std::function<void(bool)> on_reference_step;
  // false: float weights the quantizer generates (the network had none) are
  // freed layer by layer once the calibration has quantized them, and the
  // result's network has none; for a caller with no further use for them,
  // which then never holds the whole network's at once (about 100 MB for
  // ResNet-50, each page faulted in afresh).
  bool keep_generated_weights = true;
};

// Quantizes `network` at its current input shape (call infer_shapes first for
// another resolution) and runs the reference executor.
QuantizedNetwork quantize_network(Network network, const QuantizationOptions& options = {});

// quantize_network with the reference outputs (options.reference_outputs, else
// std::invalid_argument) and `sqnr_db` set to layer_sqnr_db of the result,
// taken from the calibration's own float outputs rather than a second float
// pass over the network.
QuantizedNetwork quantize_network(Network network, const QuantizationOptions& options, std::vector<double>& sqnr_db);

// Per layer, the signal-to-quantization-noise ratio of its expected int8
// output against the float network's output for q.float_input, in dB:
// 10·log10(Σ f² / Σ (f − scale·(q − zero_point))²); +inf where the two agree
// exactly, NaN for a layer without an output. Meaningful when the expected
// outputs were computed from float_input quantized (the input layer's own
// entry is then its rounding noise).
std::vector<double> layer_sqnr_db(const QuantizedNetwork& q);

}  // namespace npuvp::runtime
