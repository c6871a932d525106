// The ONNX readers: float models to the IR, QDQ / QLinear models with their
// own scales, chosen as the CLI chooses (onnx_model_is_quantized).
#include <stdexcept>

#include "fuzz/fuzz_input.h"
#include "sw/runtime/frontend/onnx_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace npuvp::runtime;
  const std::string& path = npuvp::fuzz::write_input(data, size, ".onnx");
  try {
    if (onnx_model_is_quantized(path))
      (void)import_onnx_quantized(path);
    else
      (void)import_onnx_float(path);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
