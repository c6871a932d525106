// The .npy reader/writer and the tensors of `npuvp run --input/--dump`.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

#include "sw/apps/npy.h"
#include "sw/apps/tensor_io.h"

namespace npuvp::apps {
namespace {

class Npy : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("npuvp_npy_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A version 1.0 file with this header dict and `data_bytes` zero bytes of data.
  std::string file(const std::string& name, const std::string& dict, std::size_t data_bytes,
                   const std::string& version = std::string("\x01\x00", 2)) {
    std::string header = dict;
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    const std::string path = (dir_ / name).string();
    std::ofstream os(path, std::ios::binary);
    os << "\x93NUMPY" << version << static_cast<char>(header.size() & 0xff) << static_cast<char>(header.size() >> 8)
       << header << std::string(data_bytes, '\0');
    return path;
  }

  std::string error_of(const std::string& path) {
    try {
      read_npy(path);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "no error";
  }

  std::filesystem::path dir_;
};

TEST_F(Npy, Float32AndInt8RoundTripWithAnAlignedNumpyHeader) {
  const std::string path = (dir_ / "f.npy").string();
  const std::vector<float> values = {1.5f, -2.25f, 0.0f, 3e-8f, 7.0f, -0.5f};
  write_npy(path, make_npy(values, {1, 2, 3}));
  const NpyArray f = read_npy(path);
  EXPECT_EQ(f.type, NpyType::kFloat32);
  EXPECT_EQ(f.shape, (std::vector<std::size_t>{1, 2, 3}));
  EXPECT_EQ(f.floats(), values);
  // The header NumPy itself writes for this array: the dict, spaces, a newline, data from byte 128.
  std::ifstream is(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
  const std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }";
  ASSERT_EQ(bytes.size(), 128u + 6 * 4);
  EXPECT_EQ(bytes.substr(0, 10), std::string("\x93NUMPY\x01\x00\x76\x00", 10));
  EXPECT_EQ(bytes.substr(10, 118), dict + std::string(118 - dict.size() - 1, ' ') + "\n");

  const std::string p8 = (dir_ / "i.npy").string();
  const std::vector<std::int8_t> codes = {-128, 127, 0, 5, -1};
  write_npy(p8, make_npy(codes, {5}));
  const NpyArray i = read_npy(p8);
  EXPECT_EQ(i.type, NpyType::kInt8);
  EXPECT_EQ(npy_shape_text(i.shape), "(5,)");
  EXPECT_EQ(i.int8s(), codes);
}

TEST_F(Npy, RefusesWhatItCannotReadNamingTheFile) {
  const auto p = [&](const std::string& name) { return (dir_ / name).string(); };
  EXPECT_EQ(error_of(p("missing.npy")), p("missing.npy") + ": cannot open the file");
  std::ofstream(p("text.npy")) << "hello, world";
  EXPECT_EQ(error_of(p("text.npy")), p("text.npy") + ": not a .npy file (it does not start with \\x93NUMPY)");
  const std::string c_order = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
  EXPECT_EQ(error_of(file("v2.npy", c_order, 16, std::string("\x02\x00", 2))),
            p("v2.npy") + ": .npy format version 2.0; supported: 1.0");
  EXPECT_EQ(error_of(file("fortran.npy", "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16)),
            p("fortran.npy") + ": fortran_order is True; supported: C order (save np.ascontiguousarray(x))");
  EXPECT_EQ(error_of(file("big.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", 16)),
            p("big.npy") + ": big-endian data ('>f4'); supported: little-endian");
  EXPECT_EQ(error_of(file("f64.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 32)),
            p("f64.npy") + ": dtype '<f8'; supported: float32 ('<f4'), int8 ('|i1'), uint8 ('|u1')");
  EXPECT_EQ(error_of(file("short.npy", c_order, 12)),
            p("short.npy") + ": holds 12 data bytes; shape (2, 2) of '<f4' needs 16");
  EXPECT_EQ(error_of(file("noshape.npy", "{'descr': '<f4', 'fortran_order': False, }", 16)),
            p("noshape.npy") + ": the .npy header has no 'shape' (header: {'descr': '<f4', 'fortran_order': False, })");
  // 2^32 x 2^32 x 1024 wrapped to 0 elements: "holds 16 data bytes; ... needs 0".
  EXPECT_EQ(error_of(file("wraps.npy",
                          "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, "
                          "1024), }",
                          16)),
            p("wraps.npy") + ": the .npy header's shape (4294967296, 4294967296, 1024) has more than 2^40 elements");
}

TEST(TensorIo, QuantizeLinearRoundsHalfToEvenAndSaturates) {
  // x / 0.5: 0.5 -> 1 ... as ONNX: 0.25/0.5 = 0.5 -> 0, 0.75/0.5 = 1.5 -> 2, 1.25/0.5 = 2.5 -> 2, -0.25 -> -0.
  EXPECT_EQ(quantize_linear({0.25f, 0.75f, 1.25f, -0.25f, -0.75f, 100.0f, -100.0f}, {0.5f, 0}),
            (std::vector<std::int8_t>{0, 2, 2, 0, -2, 127, -128}));
  EXPECT_EQ(quantize_linear({0.25f}, {0.5f, 10}), (std::vector<std::int8_t>{10}));
}

TEST(TensorIo, AFlattenIsDumpedInChwOrder) {
  // {C=2, H=1, W=2} in HWC: (x0: c0 c1) (x1: c0 c1) = {1, 3, 2, 4}; CHW: c0 {1, 2}, c1 {3, 4}.
  EXPECT_EQ(flatten_in_chw_order({1, 3, 2, 4}, {2, 1, 2}), (std::vector<std::int8_t>{1, 2, 3, 4}));
}

TEST(TensorIo, DumpFileNamesNumberTheLayerAndReplaceUnsafeCharacters) {
  EXPECT_EQ(dump_file_name(0, "input"), "000_input.npy");
  EXPECT_EQ(dump_file_name(7, "fire2/squeeze 1x1:0"), "007_fire2_squeeze_1x1_0.npy");
  EXPECT_EQ(dump_file_name(1234, "a.b-c"), "1234_a.b-c.npy");
}

TEST_F(Npy, InputTensorsAreNchwFilesInHwcOrderAndCheckedAgainstTheNetwork) {
  // (1, C=2, H=1, W=2): c0 = {1, 2}, c1 = {3, 4} -> HWC {1, 3, 2, 4}.
  const std::string f = (dir_ / "in.npy").string();
  write_npy(f, make_npy(std::vector<float>{1, 2, 3, 4}, {1, 2, 1, 2}));
  const InputTensor in = read_input_tensor(f, {2, 1, 2}, "net");
  EXPECT_FALSE(in.quantized);
  EXPECT_EQ(in.values, (std::vector<float>{1, 3, 2, 4}));
  // (C, H, W) without the batch is accepted too; int8 codes are taken as they are.
  const std::string c = (dir_ / "codes.npy").string();
  write_npy(c, make_npy(std::vector<std::int8_t>{-1, -2, 3, 4}, {2, 1, 2}));
  EXPECT_EQ(read_input_tensor(c, {2, 1, 2}, "net").codes, (std::vector<std::int8_t>{-1, 3, -2, 4}));
  // uint8 codes are stored as int8 with the zero point moved by -128.
  NpyArray u;
  u.type = NpyType::kUint8;
  u.shape = {1, 1, 1, 2};
  u.data = {0, 200};
  const std::string up = (dir_ / "u8.npy").string();
  write_npy(up, u);
  EXPECT_EQ(read_input_tensor(up, {1, 1, 2}, "net").codes, (std::vector<std::int8_t>{-128, 72}));
  const std::string nan = (dir_ / "nan.npy").string();
  write_npy(nan, make_npy(std::vector<float>{1, std::nanf(""), 3, 4}, {1, 2, 1, 2}));
  try {
    read_input_tensor(nan, {2, 1, 2}, "net");
    FAIL() << "a NaN input was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), nan + ": holds a NaN or infinite value");
  }
  try {
    read_input_tensor(f, {3, 1, 2}, "net");
    FAIL() << "a shape mismatch was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              f + ": shape (1, 2, 1, 2) does not match the input (1, 3, 1, 2) (NCHW) of network 'net'");
  }
}

}  // namespace
}  // namespace npuvp::apps
