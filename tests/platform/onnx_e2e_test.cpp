// ONNX models written by the test itself (Debian's python3-onnx), imported
// and run on the NPU through the driver, every layer bit-exact.
#include <cstdlib>
#include <filesystem>

#include <unistd.h>

#include <gtest/gtest.h>

#include "platform/platform_config.h"
#include "platform/run.h"

namespace npuvp::platform {
namespace {

constexpr const char* kPython = "/usr/bin/python3";

std::string make_models() {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_onnx_e2e_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string cmd =
      std::string(kPython) + " " + NPUVP_ONNX_MODEL_SCRIPT + " " + dir.string() + " > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) return "";
  return dir.string();
}

// Runs `model` at `datatype`: every layer verified, every convolution of
// that datatype. Returns what the run threw, "" when it ran.
std::string run_onnx(const std::string& model, const std::string& datatype = "int8") {
  const std::string dir = make_models();
  EXPECT_FALSE(dir.empty()) << "the model script failed";
  const PlatformConfig config = load_platform("configs/platforms/edge-ip.yaml", {});
  RunOptions options;
  options.network = dir + "/" + model;
  options.out_dir = dir + "/out";
  options.datatype = datatype;
  std::string error;
  try {
    const nlohmann::json r = run(config, options);
    EXPECT_TRUE(r["totals"]["all_verified"].get<bool>());
    EXPECT_GE(r["layers"].size(), 3u);
    for (const auto& layer : r["layers"]) {
      EXPECT_TRUE(layer["verified"].get<bool>()) << layer["name"];
      if (layer["type"] == "conv2d") {
        EXPECT_EQ(layer["datatype"], datatype) << layer["name"];
      }
    }
  } catch (const std::invalid_argument& e) {
    error = e.what();
    const auto at = error.find(dir);
    if (at != std::string::npos) error.replace(at, dir.size(), "DIR");
  }
  std::filesystem::remove_all(dir);
  return error;
}

class OnnxOnNpu : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system((std::string(kPython) + " -c 'import onnx' > /dev/null 2>&1").c_str()) != 0)
      GTEST_SKIP() << "python3-onnx is not installed for " << kPython;
  }
};

TEST_F(OnnxOnNpu, FloatModelQuantizedOnImportIsBitExact) { EXPECT_EQ(run_onnx("float_cnn.onnx"), ""); }
TEST_F(OnnxOnNpu, FloatModelQuantizedToInt4IsBitExact) { EXPECT_EQ(run_onnx("float_cnn.onnx", "int4"), ""); }
TEST_F(OnnxOnNpu, QdqModelWithItsOwnScalesIsBitExact) { EXPECT_EQ(run_onnx("qdq_cnn.onnx"), ""); }
TEST_F(OnnxOnNpu, QdqModelRefusesInt4NamingTheModel) {
  EXPECT_EQ(run_onnx("qdq_cnn.onnx", "int4"),
            "DIR/qdq_cnn.onnx: --datatype int4 needs a float model (a quantized ONNX model brings its own int8 "
            "quantization)");
}
TEST_F(OnnxOnNpu, QLinearConvModelIsBitExact) { EXPECT_EQ(run_onnx("qlinear_int8.onnx"), ""); }

}  // namespace
}  // namespace npuvp::platform
