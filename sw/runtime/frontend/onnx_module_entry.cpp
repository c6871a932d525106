// The ONNX module's entry point (onnx_module.h): built into npuvp_onnx.so
// with the importer, the only symbol the module exports.
#include "sw/runtime/frontend/onnx_import.h"
#include "sw/runtime/frontend/onnx_module.h"

extern "C" __attribute__((visibility("default"))) const npuvp::runtime::OnnxImporter* npuvp_onnx_importer(
    const char* fingerprint) {
  using namespace npuvp::runtime;
  static const OnnxImporter importer{onnx_model_is_quantized, import_onnx_float, import_onnx_quantized};
  if (fingerprint == nullptr || onnx_module_fingerprint() != fingerprint) return nullptr;
  return &importer;
}
