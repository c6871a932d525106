#pragma once
// The ONNX importer as a module loaded on first use. Reading ONNX needs
// protobuf and Debian's libonnx_proto, whose dynamic linking and static
// initialization (every descriptor of onnx.proto registered) cost about as
// much as a small network's whole simulation, in every process, whether or
// not it reads ONNX. So the npuvp executable does not link them: the importer
// (onnx_import.h, library npuvp_onnx) is built into the module npuvp_onnx.so,
// which the first ONNX network loads. docs/architecture.md, "The ONNX module".
//
// Where the module is looked for, first found wins:
//   1. $NPUVP_ONNX_MODULE, the module's path (a relocated build, a host
//      program of one's own);
//   2. beside the executable (the build tree's platform/npuvp);
//   3. <executable>/../lib/npuvp (an installed npuvp);
//   4. where this build put it, then where its configured install prefix puts
//      it (tests and host programs linking the libraries).
// The module and the loader must come from one build: they pass the IR's
// types between them, so the module refuses a loader whose interface
// fingerprint (version and the sizes of those types) differs.

#include <cstdint>
#include <string>

#include "sw/runtime/ir/network.h"
#include "sw/runtime/quantize/quantized_network.h"

namespace npuvp::runtime {

// What the module exports: onnx_import.h's three entry points.
struct OnnxImporter {
  bool (*is_quantized)(const std::string& path);
  Network (*import_float)(const std::string& path);
  QuantizedNetwork (*import_quantized)(const std::string& path, std::uint64_t input_seed);
};

// The interface each side was compiled against: inline, so the module and
// the loader each compute it from their own view of the types.
inline std::string onnx_module_fingerprint() {
  return "npuvp onnx module 1: Network " + std::to_string(sizeof(Network)) + ", Layer " +
         std::to_string(sizeof(Layer)) + ", QuantizedNetwork " + std::to_string(sizeof(QuantizedNetwork)) +
         ", QuantizedLayer " + std::to_string(sizeof(QuantizedLayer));
}

// The importer, the module loaded on the first call. Throws
// std::runtime_error naming each place looked in and why it failed there.
const OnnxImporter& onnx_importer();

}  // namespace npuvp::runtime

// The module's one exported symbol: the importer if `fingerprint` is its
// own, else nullptr.
extern "C" const npuvp::runtime::OnnxImporter* npuvp_onnx_importer(const char* fingerprint);
