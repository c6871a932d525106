// The npuvp command line as a user meets it: usage, version, strict argument
// checking and the documented exit codes (0 ok, 1 error, 2 usage, 3 not exact,
// 130 interrupted: interrupt_test.sh).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.h"

namespace {

using Result = npuvp::test::CliResult;

Result npuvp(const std::string& args) { return npuvp::test::run_cli(args); }

TEST(Cli, NoArgumentsPrintsUsageWithTheExitCodes) {
  const Result r = npuvp("");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("usage: npuvp <command> [options]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("exit status: 0 success, 1 error, 2 bad command line, 3 an output was not bit-exact,\n"
                       "  130 interrupted (SIGINT/SIGTERM)"),
            std::string::npos)
      << r.err;
  const Result run_help = npuvp("run --help");
  EXPECT_NE(run_help.out.find("3 an output was not bit-exact, 130 interrupted by SIGINT or SIGTERM"), std::string::npos)
      << run_help.out;
}

TEST(Cli, VersionNamesTheProjectAndSystemC) {
  const Result r = npuvp("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("npuvp 0.", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("(SystemC 2.3."), std::string::npos) << r.out;
}

TEST(Cli, APositionalNetworkIsRefusedNotReplacedByTheDefault) {
  // "npuvp run squeezenet1_1" once ran conv_slice silently.
  const Result r = npuvp("run squeezenet1_1 --traces none -q --out /tmp/npuvp_cli_positional");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("squeezenet1_1"), std::string::npos) << r.err;
}

TEST(Cli, AnUnknownLogLevelIsRefused) {
  // "--log bogus" once turned logging off silently.
  const Result r = npuvp("run --log bogus");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--log: expected one of trace|debug|info|warn|error|off or MODULE=LEVEL, got 'bogus'"),
            std::string::npos)
      << r.err;
  const Result no_module = npuvp("run --log =debug");
  EXPECT_EQ(no_module.exit_code, 2);
  EXPECT_NE(no_module.err.find("--log: MODULE=LEVEL needs a module (a hierarchical name prefix such as soc.npu), got "
                               "'=debug'"),
            std::string::npos)
      << no_module.err;
  const Result bad_level = npuvp("run --log soc.npu=loud");
  EXPECT_EQ(bad_level.exit_code, 2);
  EXPECT_NE(bad_level.err.find("or MODULE=LEVEL, got 'soc.npu=loud'"), std::string::npos) << bad_level.err;
}

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Whether a log line starts "[N ns] [soc." or "[N.F ns] [soc." with F's last
// digit not 0.
bool nanoseconds_first(const std::string& line) {
  const std::size_t digits = line.find_first_not_of("0123456789", 1);
  if (digits == 1 || digits == std::string::npos) return false;
  std::size_t at = digits;
  if (line[at] == '.') {
    at = line.find_first_not_of("0123456789", at + 1);
    if (at == std::string::npos || at == digits + 1 || line[at - 1] == '0') return false;
  }
  return line.compare(at, 10, " ns] [soc.") == 0;
}

TEST(Cli, DebugLogsShowRegistersInterruptsDescriptorsJobsAndDecisions) {
  const Result r = npuvp("run --traces none -q --out /tmp/npuvp_cli_log_debug --log debug");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Register accesses by name, with the value: the NPU's ID register reads its magic.
  EXPECT_NE(r.err.find("[soc.npu.control] [debug] read ID -> 0x4e505556"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[soc.npu.control] [debug] write RING_BASE_LO = 0x"), std::string::npos);
  EXPECT_NE(r.err.find("[soc.npu.control] [debug] host interrupt raised (IRQ_STATUS 0x1)"), std::string::npos);
  EXPECT_NE(r.err.find("[soc.npu.dma] [debug] channel 0: descriptor at 0x"), std::string::npos);
  EXPECT_NE(r.err.find("[soc.npu.dma] [debug] channel 0: interrupt raised (IRQ 0x1)"), std::string::npos);
  EXPECT_NE(r.err.find("[soc.npu.cluster_0] [debug] job at 0x"), std::string::npos);
  EXPECT_NE(r.err.find("[soc.npu.control] [debug] layer 0: dataflow "), std::string::npos);
  // Host-bus transactions only at trace level.
  EXPECT_EQ(count(r.err, "[soc.bus]"), 0);
  // Every line's time in nanoseconds: sc_time's text wrote "[9242500 ps]"
  // between "[9230 ns]" and "[9255 ns]".
  std::istringstream lines(r.err);
  int timed = 0;
  for (std::string line; std::getline(lines, line);)
    if (line.rfind("[", 0) == 0 && line.find("] [soc.") != std::string::npos) {
      ++timed;
      EXPECT_TRUE(nanoseconds_first(line)) << line;
    }
  EXPECT_GT(timed, 100);
}

TEST(Cli, LogLevelsAreSetPerModuleByTheLongestPrefix) {
  const Result r = npuvp(
      // Longest first: the order of the options must not matter.
      "run --traces none -q --out /tmp/npuvp_cli_log_modules --log soc.npu.dma=debug --log soc.npu=warn --log "
      "soc=trace");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(count(r.err, "[soc.bus] [trace] write 0x"), 0) << r.err;
  EXPECT_GT(count(r.err, "[soc.npu.dma] [debug]"), 0);
  EXPECT_GT(count(r.err, "[soc.npu.dma.ch0] [debug] write "), 0);  // the channels' registers: same prefix
  EXPECT_EQ(count(r.err, "[soc.npu.control]"), 0);
  EXPECT_EQ(count(r.err, "[soc.npu.cluster_"), 0);
}

TEST(Cli, ListIsStrictAndSpeaksJsonForPlatformsToo) {
  EXPECT_EQ(npuvp("list networks --foo").exit_code, 2);
  EXPECT_EQ(npuvp("list gadgets").exit_code, 2);
  const Result r = npuvp("list platforms --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_TRUE(j.is_array());
  bool edge_ip = false;
  for (const auto& p : j)
    edge_ip = edge_ip || (p["name"] == "edge-ip" && p["file"] == "configs/platforms/edge-ip.yaml");
  EXPECT_TRUE(edge_ip) << r.out;
}

TEST(Cli, QuietPrintsTheTotalsWithoutTheLayerTable) {
  const Result quiet = npuvp("run -q --traces none --out /tmp/npuvp_cli_quiet");
  ASSERT_EQ(quiet.exit_code, 0) << quiet.err;
  EXPECT_NE(quiet.out.find("\ntotals\n"), std::string::npos) << quiet.out;
  EXPECT_EQ(quiet.out.find("conv3x3"), std::string::npos) << "-q printed the layer table:\n" << quiet.out;
  const Result full = npuvp("run --traces none --out /tmp/npuvp_cli_quiet");
  EXPECT_NE(full.out.find("conv3x3"), std::string::npos) << full.out;
}

TEST(Cli, DramBenchJsonDashIsStandardOutput) {
  // It once wrote a file named "-".
  const Result r = npuvp("dram-bench --requests 2000 --json -");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["config"]["requests"], 2000);
  EXPECT_NE(r.err.find("bandwidth"), std::string::npos) << "the summary goes to stderr";
}

TEST(Cli, AnUnknownKernelPathStopsTheRunBeforeItStarts) {
  const Result r =
      npuvp::test::run_command("NPUVP_KERNEL=sse " NPUVP_CLI " run -q --traces none --out /tmp/npuvp_cli_kernel");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "npuvp: NPUVP_KERNEL=sse: expected scalar, avx2 or avx512\n");
}

// The default kernel path (the host's vector units where it has them) and
// the portable one write the same bytes for every layer.
TEST(Cli, TheScalarKernelPathWritesWhatTheDefaultOneDoes) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("npuvp_cli_kernel_" + std::to_string(::getpid()));
  const std::string run = " run -q --network resnet20_cifar --traces none --out " + (dir / "out").string();
  const Result scalar =
      npuvp::test::run_command("NPUVP_KERNEL=scalar " NPUVP_CLI + run + " --dump " + (dir / "scalar").string());
  ASSERT_EQ(scalar.exit_code, 0) << scalar.err;
  const Result fast = npuvp(run + " --dump " + (dir / "default").string());
  ASSERT_EQ(fast.exit_code, 0) << fast.err;
  int layers = 0;
  for (const auto& f : fs::directory_iterator(dir / "scalar")) {
    EXPECT_EQ(npuvp::test::slurp(f.path()), npuvp::test::slurp(dir / "default" / f.path().filename()))
        << f.path().filename();
    ++layers;
  }
  EXPECT_EQ(layers, 57);  // the input, 54 layers, output.npy, manifest.json
  fs::remove_all(dir);
}

std::filesystem::path scratch(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_cli_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

TEST(Cli, AnOutDirectoryThatCannotHoldFilesFailsBeforeAnythingIsSimulated) {
  // It was found only after the whole simulation, and the results were lost.
  const auto file = scratch("out_is_a_file");
  std::ofstream(file) << "a regular file";
  const std::string out = (file / "run").string();
  const Result r = npuvp("run --network resnet50 -q --out " + out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "npuvp: cannot write to output directory " + out + ": Not a directory\n");
  EXPECT_EQ(r.out, "") << "nothing was simulated";
  std::filesystem::remove(file);
}

// Runs `args` (the --out added) expecting it refused with `message` before
// anything is simulated.
void expect_refused_before_simulation(const std::string& args, const std::string& message) {
  const auto dir = scratch("refused");
  const Result r = npuvp(args + " --out " + (dir / "out").string());
  EXPECT_EQ(r.exit_code, 1) << args;
  EXPECT_EQ(r.err, "npuvp: " + message + "\n") << args;
  EXPECT_EQ(r.out, "") << args << ": nothing was simulated";
  std::filesystem::remove_all(dir);
}

TEST(Cli, ALayerThatCannotFitInDramFailsBeforeItsTensorsAreMade) {
  // A UHD input once ran the host reference for 119 s and 4.9 GB before
  // "DRAM exhausted". 64 x 2160 x 3840 bytes in and out: 1013 MiB.
  expect_refused_before_simulation(
      "run -q --input-size 2160x3840",
      "the layers' tensors need 1013 MiB of DRAM (layer 'conv3x3' 1013 MiB), more than the platform's "
      "dram.backing_mib = 256: raise it (--set dram.backing_mib=N, up to the part's capacity) or run a smaller "
      "--input-size");
}

// A batch's tensors are per image: VGG-16 at --batch 10 was accepted and ran
// out of DRAM mid-run.
TEST(Cli, ABatchThatCannotFitInDramFailsBeforeItsTensorsAreMade) {
  expect_refused_before_simulation(
      "run -q --network resnet20_cifar --batch 64 --set dram.backing_mib=1",
      "the layers' tensors need 12 MiB of DRAM (layer 'layer1.0.conv1' 2 MiB), more than the platform's "
      "dram.backing_mib = 1: raise it (--set dram.backing_mib=N, up to the part's capacity) or run a smaller "
      "--input-size or --batch");
}

// A command holds each layer dimension in 16 bits: 65536 filters were
// accepted and refused by the NPU mid-run as an inconsistent command.
TEST(Cli, ALayerDimensionBeyondSixteenBitsIsRefusedBeforeTheRun) {
  const auto dir = scratch("wide_layer");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "wide.csv") << "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                                     "Num Filter, Strides,\nL1, 2, 2, 1, 1, 16, 65536, 1,\n";
  expect_refused_before_simulation("run -q --platform systolic-32x32 --network " + (dir / "wide.csv").string(),
                                   "layer 'L1': filters 65536 exceeds the NPU's layer dimensions (at most 65535 each)");
  // A network file's layers the same: an input 65536 rows high was refused
  // by the NPU mid-run as an inconsistent command.
  std::ofstream(dir / "tall.yaml") << "name: tall\ninput: [1, 65536, 1]\nlayers:\n"
                                      "  - {name: c, type: conv2d, out_channels: 1, kernel: 1}\n";
  expect_refused_before_simulation(
      "run -q --network " + (dir / "tall.yaml").string(),
      "layer 'c': input height 65536 exceeds the NPU's layer dimensions (at most 65535 each)");
  std::filesystem::remove_all(dir);
}

TEST(Cli, MaxMemoryRefusesARunWhoseTensorsWouldExceedIt) {
  // 64 x 112 x 112 in and out, their reference and DRAM copies: 3.1 MiB.
  const auto dir = scratch("max_memory");
  const Result r = npuvp("run -q --input-size 112x112 --max-memory 1 --out " + dir.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err,
            "npuvp: the run needs at least 4 MiB of host memory for its tensors, their reference outputs and their "
            "DRAM copies, more than --max-memory 1: raise --max-memory or run a smaller --input-size\n");
  EXPECT_EQ(npuvp("run -q --input-size 112x112 --max-memory 4 --out " + dir.string()).exit_code, 0);
  EXPECT_EQ(npuvp("run -q --max-memory 0 --out " + dir.string()).err,
            "npuvp run: --max-memory: expected an integer from 1 to 1073741824, got '0'\n");
  std::filesystem::remove_all(dir);
}

// Trace options that leave the trace empty wrote it without a word.
TEST(Cli, AnEmptyTraceIsWarnedOf) {
  const auto dir = scratch("empty_trace");
  Result r = npuvp("run -q --trace-include zzz.nothing --out " + dir.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err,
            "npuvp: warning: trace.vcd holds no signal: none lies under --trace-include (scopes start with soc., e.g. "
            "soc.npu)\n");
  r = npuvp("run -q --trace-window 1000000000:2000000000 --out " + dir.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.rfind("npuvp: warning: trace.vcd and timeline.json hold nothing: --trace-window starts at 1e+09 ns, "
                        "after the run ended at ",
                        0),
            0u)
      << r.err;
  EXPECT_EQ(npuvp("run -q --trace-include soc.npu --out " + dir.string()).err, "");
  std::filesystem::remove_all(dir);
}

TEST(Cli, ATraceThatCannotBeWrittenIsAnErrorNamingItAndTheRestIsWritten) {
  // trace.vcd on a full disk was written without a check: exit 0, "wrote".
  const auto dir = scratch("full_disk");
  std::filesystem::create_directories(dir);
  std::filesystem::create_symlink("/dev/full", dir / "trace.vcd");
  const Result r = npuvp("run -q --out " + dir.string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "npuvp: cannot write " + (dir / "trace.vcd").string() +
                       ": No space left on device (the run's other outputs were written)\n");
  EXPECT_NE(r.out.find("\ntotals\n"), std::string::npos) << "the results still reach the terminal:\n" << r.out;
  EXPECT_EQ(r.out.find("wrote "), std::string::npos) << r.out;
  std::ifstream report(dir / "report.json");
  const nlohmann::json sim = nlohmann::json::parse(report)["sim"];
  EXPECT_EQ(sim["files"],
            nlohmann::json({"report.json", "layers.csv", "report.html", "roofline.svg", "timeline.json", "power.csv"}));
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    EXPECT_NE(entry.path().extension(), ".part") << entry.path();
  std::filesystem::remove_all(dir);
}

}  // namespace
