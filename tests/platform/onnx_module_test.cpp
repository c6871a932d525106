// The ONNX importer as a module (sw/runtime/frontend/onnx_module.h): the
// executable does without protobuf until a network is ONNX, finds the module
// beside itself, and says where it looked when it cannot load one.
#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "sw/runtime/frontend/onnx_import.h"
#include "sw/runtime/frontend/onnx_module.h"
#include "tests/support/cli_runner.h"

namespace {

using npuvp::test::CliResult;
using npuvp::test::run_command;

// The test models (Debian's python3-onnx) in a directory of this process's own.
std::string make_models() {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_onnx_module_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const CliResult r = run_command(std::string("/usr/bin/python3 ") + NPUVP_ONNX_MODEL_SCRIPT + " " + dir.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return dir.string();
}

// `npuvp run` of one of the test models with NPUVP_ONNX_MODULE set to `module`
// ("" leaves it unset).
CliResult run_model(const std::string& model, const std::string& module) {
  const std::string dir = make_models();
  const std::string env = module.empty() ? "env -u NPUVP_ONNX_MODULE " : "NPUVP_ONNX_MODULE=" + module + " ";
  return run_command(env + NPUVP_CLI + " run -q --traces none --no-cache --network " + dir + "/" + model + " --out " +
                     dir + "/out");
}

TEST(OnnxModule, TheExecutableLinksNeitherProtobufNorOnnx) {
  const CliResult r = run_command(std::string("readelf -d ") + NPUVP_CLI);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("libsystemc"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("protobuf"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("onnx"), std::string::npos) << r.out;
}

TEST(OnnxModule, AnOnnxNetworkLoadsTheModuleBesideTheExecutable) {
  // The module this build put beside the executable, found without help.
  ASSERT_EQ(std::filesystem::path(NPUVP_ONNX_MODULE_FILE).parent_path(),
            std::filesystem::path(NPUVP_CLI).parent_path());
  const CliResult r = run_model("qdq_cnn.onnx", "");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("verified          all outputs bit-exact against the reference"), std::string::npos) << r.out;
}

TEST(OnnxModule, AMissingModuleIsAnErrorNamingWhereItWasLookedFor) {
  const CliResult r = run_model("float_cnn.onnx", "/nonexistent/npuvp_onnx.so");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "npuvp: cannot load the ONNX importer npuvp_onnx.so (NPUVP_ONNX_MODULE names it); tried:\n"
            "  /nonexistent/npuvp_onnx.so: no such file\n");
}

TEST(OnnxModule, ASharedObjectThatIsNoModuleIsRefused) {
  const CliResult r = run_model("float_cnn.onnx", NPUVP_NOT_A_MODULE);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::string(NPUVP_NOT_A_MODULE) + ": no npuvp_onnx_importer in it (not an npuvp ONNX module)"),
            std::string::npos)
      << r.err;
}

TEST(OnnxModule, AModuleOfAnotherBuildIsRefused) {
  const CliResult r = run_model("float_cnn.onnx", NPUVP_OTHER_BUILD_MODULE);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(std::string(NPUVP_OTHER_BUILD_MODULE) + ": built for another npuvp (this one is 'npuvp onnx "
                                                               "module 1: Network "),
            std::string::npos)
      << r.err;
}

TEST(OnnxModule, TheModuleAcceptsItsOwnFingerprintOnly) {
  void* module = dlopen(NPUVP_ONNX_MODULE_FILE, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(module, nullptr) << dlerror();
  using Entry = const npuvp::runtime::OnnxImporter* (*)(const char*);
  const auto entry = reinterpret_cast<Entry>(dlsym(module, "npuvp_onnx_importer"));
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry(nullptr), nullptr);
  EXPECT_EQ(entry("npuvp onnx module 0"), nullptr);
  const npuvp::runtime::OnnxImporter* importer = entry(npuvp::runtime::onnx_module_fingerprint().c_str());
  ASSERT_NE(importer, nullptr);
  // The module's importer is the library's: the same network, layer by layer.
  const std::string model = make_models() + "/float_cnn.onnx";
  EXPECT_FALSE(importer->is_quantized(model));
  const npuvp::runtime::Network loaded = importer->import_float(model);
  const npuvp::runtime::Network linked = npuvp::runtime::import_onnx_float(model);
  EXPECT_EQ(loaded.layers_json(), linked.layers_json());
  EXPECT_EQ(loaded.size(), linked.size());
}

}  // namespace
