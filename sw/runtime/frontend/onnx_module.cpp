#include "sw/runtime/frontend/onnx_module.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace npuvp::runtime {
namespace {

constexpr const char* kModuleFile = "npuvp_onnx.so";

std::vector<std::string> module_candidates() {
  if (const char* path = std::getenv("NPUVP_ONNX_MODULE"); path != nullptr && *path != '\0') return {path};
  std::vector<std::string> candidates;
  std::error_code error;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    candidates.push_back((exe.parent_path() / kModuleFile).string());
    candidates.push_back((exe.parent_path().parent_path() / "lib" / "npuvp" / kModuleFile).string());
  }
  candidates.emplace_back(NPUVP_ONNX_MODULE_BUILT);
  candidates.emplace_back(NPUVP_ONNX_MODULE_INSTALLED);
  return candidates;
}

// The importer of the first candidate that loads and accepts this build's
// fingerprint; why each one before it did not, in `failures`.
const OnnxImporter* load(std::string& failures) {
  const std::string fingerprint = onnx_module_fingerprint();
  for (const std::string& path : module_candidates()) {
    if (!std::filesystem::exists(path)) {
      failures += "\n  " + path + ": no such file";
      continue;
    }
    // Never closed: the networks it imports may hold nothing of it, but its
    // libraries' static objects live until the process ends.
    void* module = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (module == nullptr) {
      failures += "\n  " + path + ": " + dlerror();
      continue;
    }
    using Entry = const OnnxImporter* (*)(const char*);
    const auto entry = reinterpret_cast<Entry>(dlsym(module, "npuvp_onnx_importer"));
    if (entry == nullptr) {
      failures += "\n  " + path + ": no npuvp_onnx_importer in it (not an npuvp ONNX module)";
      continue;
    }
    if (const OnnxImporter* importer = entry(fingerprint.c_str())) return importer;
    failures += "\n  " + path + ": built for another npuvp (this one is '" + fingerprint + "')";
  }
  return nullptr;
}

}  // namespace

const OnnxImporter& onnx_importer() {
  static std::mutex mutex;
  static const OnnxImporter* importer = nullptr;
  static std::string failures;
  const std::lock_guard<std::mutex> lock(mutex);
  if (importer == nullptr && failures.empty()) importer = load(failures);
  if (importer == nullptr)
    throw std::runtime_error("cannot load the ONNX importer " + std::string(kModuleFile) +
                             " (NPUVP_ONNX_MODULE names it); tried:" + failures);
  return *importer;
}

}  // namespace npuvp::runtime
