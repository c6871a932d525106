// npuvp run --input / --dump against an independent numpy implementation of
// the ONNX operators (tests/platform/onnx_spec_check.py), and the CLI's record
// of how a run was asked for: sim.command_line, sim.overrides, the header and
// npuvp compare.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sw/apps/npy.h"
#include "tests/support/cli_runner.h"

namespace {

using npuvp::test::run_cli;

constexpr const char* kPython = "/usr/bin/python3";

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_tensors_" + std::to_string(::getpid())) / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

nlohmann::json load(const std::filesystem::path& file) { return nlohmann::json::parse(std::ifstream(file)); }

// The models and inputs of onnx_spec_check.py, or "" (the test skips) without python3-onnx.
std::string spec_models() {
  if (std::system((std::string(kPython) + " -c 'import onnx' > /dev/null 2>&1").c_str()) != 0) return "";
  const std::string dir = scratch("models").string();
  const std::string cmd = std::string(kPython) + " " + NPUVP_SPEC_SCRIPT + " models " + dir + " > /dev/null 2>&1";
  return std::system(cmd.c_str()) == 0 ? dir : "";
}

// Runs MODEL on INPUT with --dump and has the numpy operators check every layer.
nlohmann::json run_and_check(const std::string& model, const std::string& input) {
  const std::string models = spec_models();
  if (models.empty()) return nullptr;
  const auto out = scratch("out"), dump = scratch("dump");
  const auto r = run_cli("run -q --traces none --network " + models + "/" + model + ".onnx --input " + models + "/" +
                         input + ".npy --dump " + dump.string() + " --out " + out.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto check = npuvp::test::run_command(std::string(kPython) + " " + NPUVP_SPEC_SCRIPT + " check " + models +
                                              "/" + model + ".onnx " + models + "/" + input + ".npy " + dump.string() +
                                              " " + (out / "report.json").string());
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  const nlohmann::json report = load(out / "report.json");
  std::size_t sum = 0;
  for (const auto& l : report["layers"]) sum += l["onnx_spec_mismatches"].get<std::size_t>();
  EXPECT_EQ(report["totals"]["onnx_spec_mismatches"].get<std::size_t>(), sum);
  EXPECT_TRUE(report["totals"]["all_verified"].get<bool>());
  return report;
}

TEST(OnnxSpec, FloatModelDumpMatchesTheOperatorSpecification) {
  if (run_and_check("spec_float", "spec_float_input").is_null()) GTEST_SKIP() << "no python3-onnx";
}

TEST(OnnxSpec, QdqModelDumpMatchesTheOperatorSpecification) {
  if (run_and_check("spec_qdq", "spec_qdq_input").is_null()) GTEST_SKIP() << "no python3-onnx";
}

TEST(OnnxSpec, QLinearConvModelDumpMatchesTheOperatorSpecification) {
  if (run_and_check("qlinear_int8", "qlinear_input").is_null()) GTEST_SKIP() << "no python3-onnx";
}

TEST(OnnxSpec, Int8CodesAreTakenAsTheQuantizedInput) {
  if (run_and_check("qlinear_int8", "qlinear_input_codes").is_null()) GTEST_SKIP() << "no python3-onnx";
}

TEST(OnnxSpec, Uint8CodesOfAUint8ModelAreTakenWithItsZeroPoint) {
  if (run_and_check("qlinear_uint8", "qlinear_input_ucodes").is_null()) GTEST_SKIP() << "no python3-onnx";
}

TEST(Tensors, DumpManifestListsEveryLayerWithTheModelsQuantization) {
  const std::string models = spec_models();
  if (models.empty()) GTEST_SKIP() << "no python3-onnx";
  const auto out = scratch("out"), dump = scratch("dump");
  const std::string input = models + "/qlinear_input.npy";
  const auto r = run_cli("run -q --traces none --network " + models + "/qlinear_int8.onnx --input " + input +
                         " --dump " + dump.string() + " --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The scales and zero points are the model's own (make_onnx_models.py qlinear()).
  const auto entry = [](const char* file, const char* layer, const char* dtype, std::vector<int> shape, float scale,
                        int zero_point) {
    return nlohmann::json{{"file", file},   {"layer", layer}, {"dtype", dtype},
                          {"shape", shape}, {"scale", scale}, {"zero_point", zero_point}};
  };
  nlohmann::json files = {entry("000_input.npy", "input", "int8", {1, 4, 8, 8}, 0.01f, -3),
                          entry("001_qconv1.npy", "qconv1", "int8", {1, 8, 8, 8}, 0.05f, -20),
                          entry("002_qconv2.npy", "qconv2", "int8", {1, 8, 8, 8}, 0.08f, 5),
                          entry("output.npy", "qconv2", "float32", {1, 8, 8, 8}, 0.08f, 5)};
  files[3]["dequantized_from"] = "002_qconv2.npy";
  const nlohmann::json manifest = load(dump / "manifest.json");
  EXPECT_EQ(manifest["files"], files);
  EXPECT_EQ(manifest["network"], "qlinear_int8");
  EXPECT_EQ(manifest["input"], input);
  for (const auto& f : files) EXPECT_TRUE(std::filesystem::exists(dump / f["file"].get<std::string>())) << f;
  EXPECT_EQ(load(out / "report.json")["sim"]["dump_dir"], dump.string());
  EXPECT_NE(r.out.find("wrote " + dump.string() + "/{NNN_<layer>.npy,output.npy,manifest.json}"), std::string::npos);
}

TEST(Tensors, AFloatInputIsAlsoTheCalibrationInputOfAFloatNetwork) {
  // Values in [-4, 4] with both ends present: the input's range is the file's, so its
  // scale is 8 / 255 (the seeded input's would be about 2 / 255) and its zero point
  // -0.5 rounded away from zero.
  std::vector<float> values(3 * 32 * 32);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = -4.0f + 8.0f * static_cast<float>(i % 97) / 96.0f;
  const std::string file = (scratch("input") / "wide.npy").string();
  npuvp::apps::write_npy(file, npuvp::apps::make_npy(values, {1, 3, 32, 32}));
  const auto out = scratch("out"), dump = scratch("dump");
  const auto r = run_cli("run -q --traces none --network resnet20_cifar --input " + file + " --dump " + dump.string() +
                         " --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json input = load(dump / "manifest.json")["files"][0];
  EXPECT_EQ(input["layer"], "input");
  EXPECT_EQ(input["scale"].get<double>(), static_cast<double>(8.0f / 255.0f));
  EXPECT_EQ(input["zero_point"], -1);
  // -4 and 4 over the float scale, a hair above 8 / 255: -127.49999 and 127.49999, rounded
  // to -127 and 127 and moved by the zero point.
  const auto codes = npuvp::apps::read_npy((dump / "000_input.npy").string()).int8s();
  EXPECT_EQ(codes[0], -128);
  EXPECT_EQ(codes[96], 126);
  // Not an ONNX model: nothing to count against the ONNX specification.
  const nlohmann::json report = load(out / "report.json");
  EXPECT_FALSE(report["totals"].contains("onnx_spec_mismatches"));
  EXPECT_FALSE(report["layers"][1].contains("onnx_spec_mismatches"));
  EXPECT_TRUE(report["totals"]["all_verified"].get<bool>());
}

TEST(Tensors, AnInputOfAnotherShapeIsRefusedNamingTheFile) {
  const std::string file = (scratch("input") / "wrong.npy").string();
  npuvp::apps::write_npy(file, npuvp::apps::make_npy(std::vector<float>(3 * 8 * 8, 0.5f), {1, 3, 8, 8}));
  const auto r =
      run_cli("run -q --traces none --network squeezenet1_1 --input " + file + " --out " + scratch("out").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "npuvp: " + file +
                       ": shape (1, 3, 8, 8) does not match the input (1, 3, 224, 224) (NCHW) of network "
                       "'squeezenet1_1'\n");
}

// A finite input whose sums overflow float was blamed on "its weights", in a
// message naming an internal function (choose_quant_params).
TEST(Tensors, AnInputThatOverflowsTheCalibrationIsNamedAsSuch) {
  const std::string file = (scratch("input") / "huge.npy").string();
  npuvp::apps::write_npy(file, npuvp::apps::make_npy(std::vector<float>(3 * 32 * 32, 3e38f), {1, 3, 32, 32}));
  const auto r = run_cli("run -q --traces none --no-cache --network resnet20_cifar --input " + file + " --out " +
                         scratch("out").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "npuvp: network 'resnet20_cifar': layer 'conv1': its float output overflows to infinity while the ranges "
            "are measured (the values reaching it are up to 3e+38 in magnitude): scale the input down (--input) or "
            "check the weights\n");
}

// Values near 1e-8 make the input's scale so small that a bias no longer fits
// int32; the reference found it later, naming neither the layer nor --input.
TEST(Tensors, AnInputTooSmallForTheBiasesNamesTheLayer) {
  const std::string file = (scratch("input") / "tiny.npy").string();
  std::vector<float> values(3 * 32 * 32);
  for (std::size_t k = 0; k < values.size(); ++k) values[k] = 1e-8f * static_cast<float>(k % 7);
  npuvp::apps::write_npy(file, npuvp::apps::make_npy(values, {1, 3, 32, 32}));
  const auto r = run_cli("run -q --traces none --no-cache --network resnet20_cifar --input " + file + " --out " +
                         scratch("out").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("npuvp: network 'resnet20_cifar': layer 'conv1': the bias ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("does not fit int32 at its scale"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("(an --input scaled down?)\n"), std::string::npos) << r.err;
}

TEST(Tensors, Int8CodesOutsideAnInt4InputAreRefused) {
  std::vector<std::int8_t> codes(3 * 32 * 32, 0);
  codes[5] = 9;
  const std::string file = (scratch("input") / "codes.npy").string();
  npuvp::apps::write_npy(file, npuvp::apps::make_npy(codes, {1, 3, 32, 32}));
  const auto r = run_cli("run -q --traces none --network resnet20_cifar --datatype int4 --input " + file + " --out " +
                         scratch("out").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "npuvp: --input: code 9 outside the int4 input's range [-8, 7]\n");
}

// It failed only once the simulation had started: "conv2d_int16: input has
// 3072 bytes, expected 6144".
TEST(Tensors, Int8CodesForAnInt16InputAreRefused) {
  const std::string file = (scratch("input") / "codes16.npy").string();
  npuvp::apps::write_npy(file, npuvp::apps::make_npy(std::vector<std::int8_t>(3 * 32 * 32, 1), {1, 3, 32, 32}));
  const auto r = run_cli("run -q --traces none --network resnet20_cifar --datatype int16 --input " + file + " --out " +
                         scratch("out").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "npuvp: --input: int8/uint8 codes for an int16 input, whose codes take 16 bits; give it float32 values\n");
}

TEST(Tensors, ConvSliceHasNoLayersToDump) {
  const auto r =
      run_cli("run -q --traces none --dump " + scratch("dump").string() + " --out " + scratch("out").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "npuvp: --dump: only zoo, YAML and ONNX networks take input tensors and dump their layers\n");
}

TEST(Cli, ReportRecordsTheCommandLineAndOverridesAndCompareShowsThem) {
  const auto a = scratch("a"), b = scratch("b");
  const auto ra = run_cli("run -q --traces none --out " + a.string());
  ASSERT_EQ(ra.exit_code, 0) << ra.err;
  const auto rb = run_cli("run -q --traces none --set pe_array.rows=16 --out " + b.string());
  ASSERT_EQ(rb.exit_code, 0) << rb.err;
  const nlohmann::json report = load(b / "report.json");
  EXPECT_EQ(report["sim"]["command_line"], nlohmann::json({"npuvp", "run", "-q", "--traces", "none", "--set",
                                                           "pe_array.rows=16", "--out", b.string()}));
  EXPECT_EQ(report["sim"]["overrides"], nlohmann::json({"pe_array.rows=16"}));
  EXPECT_EQ(load(a / "report.json")["sim"]["overrides"], nlohmann::json::array());
  // The header says what ran, not the preset's "8x8".
  EXPECT_EQ(rb.out.substr(0, rb.out.find('\n')),
            "npuvp: conv_slice on edge-ip (16 clusters of 16x8 PEs = 2048 MACs @ 800 MHz, 16 x 32 KiB SRAM banks, 4ch "
            "lpddr4x-4266; --set pe_array.rows=16)");

  const auto c = run_cli("compare " + a.string() + " " + (b / "report.json").string());
  EXPECT_EQ(c.exit_code, 0) << c.err;
  const auto row = c.out.find("\npe_array.rows ");
  ASSERT_NE(row, std::string::npos) << c.out;
  const std::string line = c.out.substr(row + 1, c.out.find('\n', row + 1) - row - 1);
  EXPECT_NE(line.find(" 8 "), std::string::npos) << line;
  EXPECT_NE(line.find(" 16  2.0000"), std::string::npos) << line;
  EXPECT_NE(c.out.find("layers: 1 of 1 differ (matched by name)\n"), std::string::npos) << c.out;
  const std::string same = run_cli("compare " + a.string() + " " + a.string()).out;
  EXPECT_EQ(same.substr(same.rfind('\n', same.size() - 2) + 1), "identical (sim.* aside)\n") << same;
  EXPECT_EQ(run_cli("compare " + a.string()).exit_code, 2);
  const auto help = run_cli("compare --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_EQ(help.out.rfind("usage: npuvp compare A B\n", 0), 0u) << help.out;
  const auto missing = run_cli("compare /nonexistent/a.json " + a.string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.err, "npuvp: /nonexistent/a.json: cannot open\n");
}

}  // namespace
