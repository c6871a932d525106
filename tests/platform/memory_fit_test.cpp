// Platforms and layers the NPU cannot run are refused before simulation,
// naming the layer, the key and the size needed; platforms that pass run to
// the end bit-exact (they once stopped mid-run with NPU errors 4 and 5).
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

namespace {

struct Result {
  int exit_code = -1;
  std::string err;
};

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// One directory per test: ctest runs them side by side.
std::filesystem::path test_dir() {
  return std::filesystem::temp_directory_path() /
         (std::string("npuvp_memory_fit_") + ::testing::UnitTest::GetInstance()->current_test_info()->name());
}

Result run(const std::string& args) {
  const std::filesystem::path dir = test_dir();
  std::filesystem::create_directories(dir);
  const auto err = dir / "stderr.txt";
  const std::string out = (dir / "out").string();
  std::filesystem::remove_all(out);
  const int status = std::system(
      (std::string(NPUVP_CLI) + " run -q --traces none --out " + out + " " + args + " > /dev/null 2> " + err.string())
          .c_str());
  Result r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.err = slurp(err);
  return r;
}

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  const std::filesystem::path dir = test_dir();
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name) << text;
  return dir / name;
}

void expect_refused(const std::string& args, const std::string& message) {
  const Result r = run(args);
  EXPECT_EQ(r.exit_code, 1) << args;
  EXPECT_EQ(r.err, "npuvp: " + message + "\n") << args;
  EXPECT_FALSE(std::filesystem::exists(test_dir() / "out" / "report.json")) << args;
}

// A preset value set by --set: the message names the override with the file.
void expect_set_refused(const std::string& assignment, const std::string& message) {
  expect_refused("--set " + assignment, "configs/platforms/edge-ip.yaml with --set " + assignment + ": " + message);
}

void expect_runs_bit_exact(const std::string& args) {
  const Result r = run(args);
  EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
  EXPECT_NE(slurp(test_dir() / "out" / "report.json").find("\"all_verified\": true"), std::string::npos) << args;
}

// conv_slice (3x3, 56x56x64 -> 64, padding 1, int8) at its smallest tile of
// whole rows, one output row of one output channel: descriptor slots 2 x 8 x
// 64 and two job tables of 16 completion words (64) and 16 jobs x 192
// (7296); weights 576 + bias 64 + requantization 64 (704); two input buffers
// of 3 rows x 56 x 64 (2 x 10752); two output buffers of 56 bytes, 64
// aligned (128). 29632 in all. In column strips the narrowest is a 32nd of
// the 56 columns, 2, reading 4 input columns: input buffers of 3 x 4 x 64
// (2 x 768) and output buffers of 2 bytes (2 x 64), 9664 in all.
TEST(MemoryFit, AGlobalBufferBelowTheSmallestTileIsRefusedNamingTheKeys) {
  expect_refused("--set sram.bank_kb=1 --set firmware.column_strips=false",
                 "layer 'conv3x3': its smallest tile (one output row, 1 output channel(s)) needs 29632 bytes (29 KiB) "
                 "of global buffer (descriptors and job slots included); sram.banks × sram.bank_kb give 16384 bytes "
                 "(16 KiB)");
  expect_refused("--set sram.banks=2 --set sram.bank_kb=4",
                 "layer 'conv3x3': its smallest tile (one output row of 2 column(s), 1 output channel(s)) needs 9664 "
                 "bytes (10 KiB) of global buffer (descriptors and job slots included); sram.banks × sram.bank_kb give "
                 "8192 bytes (8 KiB)");
}

// What the smallest strip needs is what a platform must give: 2 x 5 KiB
// holds the 9664 bytes above, and 16 x 1 KiB holds strips of 4 columns.
TEST(MemoryFit, BuffersThatHoldOnlyColumnStripsRunBitExact) {
  expect_runs_bit_exact("--set sram.banks=2 --set sram.bank_kb=5");
  expect_runs_bit_exact("--set sram.bank_kb=1");
  expect_runs_bit_exact("--set pe_array.input_buffer_kb=8");
}

// A K slice writes each result row as one span of the tile's pixels, the
// other slices' channels masked, so the last output buffer's span reaches
// past the buffer by the block's pixel less the slice's. MobileNet v1 on 4 x
// 8 KiB banks planned conv_dw_6 in strips whose second output buffer ended at
// the SRAM's last byte, and its slices' writes went past it (NPU error 5,
// kResultWrite).
TEST(MemoryFit, AResultSpanPastTheLastBufferStaysInTheGlobalBuffer) {
  expect_runs_bit_exact("--network mobilenet_v1 --set sram.banks=4 --set sram.bank_kb=8");
}

TEST(MemoryFit, SmallGlobalBuffersThatHoldTheSmallestTileRunBitExact) {
  expect_runs_bit_exact("--set sram.bank_kb=2");
  expect_runs_bit_exact("--set sram.bank_kb=3");
  expect_runs_bit_exact("--set sram.banks=8 --set sram.bank_kb=4");
}

// The smallest tile by bytes may take more steps than a command may have
// (kMaxLayerSteps): on one 32x32 array (squeezelerator) with 4 KiB of global
// buffer, conv_slice's one-row strips of 2 columns and 1 channel are 56 x 28
// x 64 = 100,352 steps, and every larger tile overflows the buffer. It passed
// the byte check and failed on the NPU (error 3); 5 KiB runs.
TEST(MemoryFit, TilesThatFitOnlyBeyondTheStepLimitAreRefused) {
  expect_refused("--platform squeezelerator --set sram.banks=1 --set sram.bank_kb=4 --set sram.interleave_bytes=4096",
                 "layer 'conv3x3': tiles small enough for the global buffer (sram.banks × sram.bank_kb give 4096 bytes "
                 "(4 KiB)) take more than the firmware's 65536 steps (row tiles × column strips × K blocks × images), "
                 "and no larger tile fits: raise sram.bank_kb or sram.banks");
  expect_runs_bit_exact(
      "--platform squeezelerator --set sram.banks=1 --set sram.bank_kb=5 --set "
      "sram.interleave_bytes=5120");
}

TEST(MemoryFit, ClusterBuffersBelowTheSmallestTileAreRefused) {
  // 3 input rows x 56 x 64 (10752) and weight-stationary's partial sums of
  // the row, 56 pixels x 1 filter x 4 bytes (224): 576 reduction steps do not
  // fit 8 rows.
  expect_refused("--set pe_array.input_buffer_kb=8 --set firmware.column_strips=false",
                 "layer 'conv3x3': its smallest tile (one output row, 1 output channel(s)) needs 10976 bytes (11 KiB) "
                 "of inputs in a cluster's input buffer; pe_array.input_buffer_kb gives 8192 bytes (8 KiB)");
  // 3x3 over 256 input channels: 2304 bytes of weights per output channel,
  // whatever the tile's width (its narrowest strip: an 8th of 14 columns).
  const auto net = write_file("wide.yaml",
                              "name: wide\ninput: [256, 14, 14]\nlayers:\n"
                              "  - {name: wide3x3, type: conv2d, out_channels: 8, kernel: 3, padding: 1}\n");
  expect_refused("--network " + net.string() + " --set pe_array.weight_buffer_kb=2",
                 "layer 'wide3x3': its smallest tile (one output row of 2 column(s), 1 output channel(s)) needs 2304 "
                 "bytes (3 KiB) "
                 "of weights in a cluster's weight buffer; pe_array.weight_buffer_kb gives 2048 bytes (2 KiB)");
}

TEST(MemoryFit, PaddingThatLeavesAnOutputRowOnlyPaddingIsRefused) {
  const auto net = write_file("pad4.yaml",
                              "name: pad4\ninput: [8, 8, 8]\nlayers:\n"
                              "  - {name: padded, type: conv2d, out_channels: 8, kernel: 3, padding: 4}\n");
  expect_refused("--network " + net.string(),
                 "layer 'padded': output row 0 reads only padding (kernel extent 3, stride 1, padding before 4, 8 "
                 "input rows); the NPU needs every output row to read at least one input row: padding below the "
                 "kernel extent and a stride that stays within the input");
}

TEST(MemoryFit, AScaleSimStrideBeyondTheInputIsRefused) {
  // SCALE-Sim's ceil((4 - 1 + 5) / 5) = 2 output rows: the second starts at input row 5 of 4.
  const auto net =
      write_file("stride.csv",
                 "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                 "Strides,\nbig_stride, 4, 4, 1, 1, 8, 8, 5,\n");
  expect_refused("--network " + net.string(),
                 "layer 'big_stride': output row 1 reads only padding (kernel extent 1, stride 5, padding before 0, 4 "
                 "input rows); the NPU needs every output row to read at least one input row: padding below the "
                 "kernel extent and a stride that stays within the input");
}

TEST(MemoryFit, DmaBurstsArePowersOfTwo) {
  for (const char* bad : {"17", "100", "255", "1000"})
    expect_set_refused(
        std::string("dma.max_burst_bytes=") + bad,
        std::string("key 'dma.max_burst_bytes': expected a power of two from 16 to 1048576, got '") + bad + "'");
  // Bursts longer than a bank, split over the banks they cover.
  expect_runs_bit_exact("--set dma.max_burst_bytes=65536");
}

TEST(MemoryFit, DmaKeepsAtLeastOneBurstInFlight) {
  for (const char* bad : {"0", "257"})
    expect_set_refused(std::string("dma.max_outstanding=") + bad,
                       std::string("key 'dma.max_outstanding': expected an integer from 1 to 256, got '") + bad + "'");
  expect_runs_bit_exact("--set dma.max_outstanding=1");
}

TEST(MemoryFit, DmaHasOnePortPerMeshRowAtMost) {
  for (const char* bad : {"0", "256"})
    expect_set_refused(std::string("dma.noc_ports=") + bad,
                       std::string("key 'dma.noc_ports': expected an integer from 1 to 255, got '") + bad + "'");
  expect_set_refused("dma.noc_ports=5",
                     "key 'dma.noc_ports': expected at most one port per mesh row (noc.height = 4), got '5'");
  expect_runs_bit_exact("--set dma.noc_ports=1");
  expect_runs_bit_exact("--set dma.noc_ports=3");
}

TEST(MemoryFit, InterleaveIsAPowerOfTwoMultipleOfTheWordDividingTheBank) {
  const std::string expected =
      "a power of two that is a multiple of word_bytes (32) and divides the bank (bank_kb × 1024 = 32768), or the "
      "bank size itself (banks back to back)";
  for (const char* bad : {"16", "48", "65536"})
    expect_set_refused(std::string("sram.interleave_bytes=") + bad,
                       "key 'sram.interleave_bytes': expected " + expected + ", got '" + bad + "'");
  // Every burst of the DMA and the clusters spans several banks.
  expect_runs_bit_exact("--set sram.interleave_bytes=64");
  expect_runs_bit_exact("--set sram.interleave_bytes=32768");
}

TEST(MemoryFit, BankPlacementIsSpreadOrRowMajor) {
  expect_set_refused("sram.placement=diagonal",
                     "key 'sram.placement': expected one of spread|row_major, got 'diagonal'");
  expect_runs_bit_exact("--set sram.banks=4 --set sram.bank_kb=128 --set sram.placement=row_major");
  expect_runs_bit_exact("--set sram.banks=4 --set sram.bank_kb=128");
}

}  // namespace
