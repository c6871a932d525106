// Sweep files: points expanded in a fixed order from lists, ranges and zips,
// run options carried, hashes that follow the configuration as used, and the
// data root's lookup rules for the files a config names.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "platform/config/config_node.h"
#include "platform/config/data_root.h"
#include "platform/sweep/sweep_spec.h"
#include "platform/sweep/sweep_tasks.h"

namespace npuvp::sweep {
namespace {

namespace fs = std::filesystem;

std::string write_temp(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / ("npuvp_sweep_spec_" + std::to_string(::getpid()));
  fs::create_directories((dir / name).parent_path());
  std::ofstream(dir / name) << text;
  return (dir / name).string();
}

std::string error_of(const std::string& file) {
  try {
    load_sweep(file);
  } catch (const config::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(SweepSpec, VaryIsACrossProductTimesTheZipTuples) {
  const SweepSpec s = load_sweep(write_temp("cross.yaml",
                                            "platform: edge-ip\nnetworks: [conv_slice, squeezenet1_1]\n"
                                            "vary:\n  sram.bank_kb: {from: 16, to: 64, step: 16}\n"
                                            "  run.dataflow: [ws, os]\n"
                                            "zip:\n  pe_array.rows: [8, 16]\n  pe_array.cols: [8, 16]\n"));
  EXPECT_EQ(s.varied, (std::vector<std::string>{"sram.bank_kb", "run.dataflow", "pe_array.rows", "pe_array.cols"}));
  ASSERT_EQ(s.points.size(), 4u * 2 * 2);
  // The first vary key changes slowest, the zip tuple fastest.
  EXPECT_EQ(s.points[0].values, (std::vector<std::string>{"16", "ws", "8", "8"}));
  EXPECT_EQ(s.points[1].values, (std::vector<std::string>{"16", "ws", "16", "16"}));
  EXPECT_EQ(s.points[2].values, (std::vector<std::string>{"16", "os", "8", "8"}));
  EXPECT_EQ(s.points[15].values, (std::vector<std::string>{"64", "os", "16", "16"}));
  EXPECT_EQ(s.points[1].overrides,
            (std::vector<std::string>{"sram.bank_kb=16", "pe_array.rows=16", "pe_array.cols=16"}));
  EXPECT_EQ(s.points[2].run.at("dataflow"), "os");
  EXPECT_EQ(s.networks, (std::vector<std::string>{"conv_slice", "squeezenet1_1"}));
  EXPECT_EQ(s.platform, (config::data_root() / "configs/platforms/edge-ip.yaml").lexically_normal().string());
  // Latency and energy are the axes unless the file names others.
  ASSERT_EQ(s.objectives.size(), 2u);
  EXPECT_EQ(s.objectives[0].column, "latency_ms");
  EXPECT_EQ(s.objectives[1].column, "energy_uj");
}

TEST(SweepSpec, GeometricRangesAndFractionalSteps) {
  const SweepSpec s = load_sweep(write_temp("ranges.yaml",
                                            "platform: edge-ip\nnetworks: [conv_slice]\n"
                                            "vary:\n  sram.bank_kb: {from: 2, to: 128, factor: 4}\n"
                                            "  npu.clock_mhz: {from: 400, to: 500, step: 50.5}\n"));
  ASSERT_EQ(s.points.size(), 4u * 2);
  std::vector<std::string> banks, clocks;
  for (std::size_t i = 0; i < s.points.size(); i += 2) banks.push_back(s.points[i].values[0]);
  for (std::size_t i = 0; i < 2; ++i) clocks.push_back(s.points[i].values[1]);
  EXPECT_EQ(banks, (std::vector<std::string>{"2", "8", "32", "128"}));
  EXPECT_EQ(clocks, (std::vector<std::string>{"400", "450.5"}));
}

TEST(SweepSpec, PointHashFollowsTheConfigurationAsUsed) {
  // The same configuration reached through `set` or `vary` is the same point;
  // a run option changes it; the hash is 12 hex digits.
  const SweepSpec a = load_sweep(write_temp("hash_a.yaml",
                                            "platform: edge-ip\nnetworks: [conv_slice]\n"
                                            "set: {sram.bank_kb: 64}\nvary: {run.batch: [1, 4]}\n"));
  const SweepSpec b = load_sweep(write_temp("hash_b.yaml",
                                            "platform: configs/platforms/edge-ip.yaml\nnetworks: [conv_slice]\n"
                                            "run: {batch: 1}\nvary: {sram.bank_kb: [32, 64]}\n"));
  EXPECT_EQ(a.points[0].hash, b.points[1].hash);
  EXPECT_NE(a.points[0].hash, a.points[1].hash);
  EXPECT_NE(b.points[0].hash, b.points[1].hash);
  EXPECT_EQ(a.points[0].hash.size(), 12u);
  EXPECT_EQ(a.points[0].hash.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST(SweepSpec, TasksAreNpuvpRunCommandLines) {
  const std::string file = write_temp("tasks.yaml",
                                      "platform: edge-ip\nnetworks: [conv_slice]\nset: {simulation.vcd: false}\n"
                                      "vary: {sram.bank_kb: [16]}\n"
                                      "run: {ideal_memory: true, layer_dataflow: [conv3x3=ws], traces: power}\n");
  const SweepSpec s = load_sweep(file);
  const std::vector<Task> tasks = make_tasks(s, "/tmp/out");
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].dir, "/tmp/out/points/" + s.points[0].hash + "/conv_slice");
  EXPECT_EQ(tasks[0].args,
            (std::vector<std::string>{"run", "--platform", s.platform, "--network", "conv_slice", "--out", tasks[0].dir,
                                      "--quiet", "--set", "simulation.vcd=false", "--set", "sram.bank_kb=16",
                                      "--ideal-memory", "--layer-dataflow", "conv3x3=ws", "--traces", "power"}));
}

// Resumed, a run directory's results count only if they are of the task's
// network: a sweep of b/net.onnx into the output a/net.onnx had been swept
// into took a's results as its own ("2 of 2 runs have results, skipped").
TEST(SweepTasks, ResultsOfAnotherNetworkOfTheSameNameAreNotReused) {
  const auto dir = std::filesystem::temp_directory_path() / ("npuvp_sweep_resume_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "exit_code") << "0\n";
  std::ofstream(dir / "report.json")
      << R"({"totals": {}, "layers": [], "sim": {"command_line": ["npuvp", "run", "--network", "/a/net.onnx"]}})";
  Task task;
  task.dir = dir.string();
  task.network = "/a/net.onnx";
  EXPECT_TRUE(has_results(task));
  task.network = "/b/net.onnx";
  EXPECT_FALSE(has_results(task));
  std::filesystem::remove_all(dir);
}

TEST(SweepSpec, AnErrorEveryPointSharesIsListedOnce) {
  const std::string e = error_of(write_temp("shared.yaml",
                                            "platform: edge-ip\nnetworks: [conv_slice]\n"
                                            "set: {pe_array.rowz: 8}\nvary: {sram.bank_kb: [16, 32, 64]}\n"));
  EXPECT_EQ(e.rfind("1 problem in the sweep file, nothing was run:\n  ", 0), 0u) << e;
  EXPECT_NE(e.find("shared.yaml: point {sram.bank_kb=16} and 2 more: "), std::string::npos) << e;
  EXPECT_NE(e.find("unknown key 'pe_array.rowz'"), std::string::npos) << e;
}

TEST(SweepSpec, ShapeErrorsNameTheirKeys) {
  const std::string e = error_of(write_temp("shape.yaml",
                                            "platform: no-such-preset\nnetworks: []\n"
                                            "set: {sram.bank_kb: 16}\n"
                                            "vary:\n  sram.bank_kb: [16]\n  npu.clock_mhz: {from: 1, to: 2}\n"
                                            "  sram.banks: {from: 1, to: 8, factor: 1}\n  dma.channels: []\n"
                                            "zip:\n  pe_array.rows: [8, 16]\n  pe_array.cols: [8]\n"
                                            "objectives: [latency_ms]\nmaximize: [latency_ms]\n"));
  const std::string f = write_temp("shape.yaml", "") + ": key ";
  const std::string root = config::data_root().string();
  EXPECT_EQ(e,
            "8 problems in the sweep file, nothing was run:\n"
            "  " +
                f + "'platform': --platform 'no-such-preset': no preset of that name in " + root +
                "/configs/platforms (npuvp list platforms)\n"
                "  " +
                f +
                "'networks': expected a network name or a list of them (npuvp list networks)\n"
                "  " +
                f +
                "'vary.npu.clock_mhz': expected exactly one of step and factor\n"
                "  " +
                f +
                "'vary.sram.banks.factor': expected a factor above 1\n"
                "  " +
                f +
                "'vary.dma.channels': expected at least one value, got an empty list\n"
                "  " +
                f +
                "'sram.bank_kb': both fixed (set) and varied\n"
                "  " +
                f +
                "'maximize': 'latency_ms' is listed twice\n"
                "  " +
                f + "'zip.pe_array.cols': expected 2 values like zip.pe_array.rows, got 1");
}

// A list where a map belongs ended in yaml-cpp's "invalid node; this may
// result from using a map iterator as a sequence iterator", naming nothing.
TEST(SweepSpec, AListWhereAMapBelongsIsNamed) {
  const std::string file =
      write_temp("lists.yaml", "platform: edge-ip\nnetworks: [conv_slice]\nset: [a, b]\nrun: [1]\n");
  EXPECT_EQ(error_of(file), "2 problems in the sweep file, nothing was run:\n  " + file +
                                ": key 'set': expected a map of config keys to values\n  " + file +
                                ": key 'run': expected a map of npuvp run options to values");
}

// A missing --input failed each point it reached, naming the path as the
// file wrote it; it is looked for as the tasks look for it, beside the file.
TEST(SweepSpec, AnInputFileIsFoundBeforeAnythingRuns) {
  const std::string file = write_temp("inputs.yaml",
                                      "platform: edge-ip\nnetworks: [resnet20_cifar]\n"
                                      "vary: {run.input: [no-such-input.npy]}\n");
  const std::string dir = std::filesystem::path(file).parent_path().string();
  EXPECT_EQ(error_of(file), "1 problem in the sweep file, nothing was run:\n  " + file +
                                ": key 'run.input': expected an existing .npy file (tried " + dir +
                                "/no-such-input.npy and " + config::data_root().string() +
                                "/no-such-input.npy), got 'no-such-input.npy'");
}

// Run options take what npuvp run takes, os2d among the dataflows, and each
// problem quotes the value once.
TEST(SweepSpec, RunOptionsAcceptWhatTheRunAcceptsAndQuoteTheValueOnce) {
  const SweepSpec s = load_sweep(write_temp("os2d.yaml",
                                            "platform: squeezelerator\nnetworks: [conv_slice]\n"
                                            "vary: {run.dataflow: [ws, os2d]}\n"
                                            "run: {layer_dataflow: [conv3x3=os2d, conv3x3=os]}\n"));
  const std::vector<Task> tasks = make_tasks(s, "/tmp/out");
  ASSERT_EQ(tasks.size(), 2u);
  const auto has = [](const Task& t, const std::vector<std::string>& pair) {
    return std::search(t.args.begin(), t.args.end(), pair.begin(), pair.end()) != t.args.end();
  };
  EXPECT_TRUE(has(tasks[1], {"--dataflow", "os2d"}));
  EXPECT_TRUE(has(tasks[1], {"--layer-dataflow", "conv3x3=os2d"}));

  const std::string e = error_of(write_temp("runbad.yaml",
                                            "platform: edge-ip\nnetworks: [conv_slice]\n"
                                            "run: {dataflow: diagonal, input_size: 3by4, traces: zz, batch: 0,\n"
                                            "      layer_dataflow: [conv3x3=ws, conv3x3=rs]}\n"));
  const std::string f = write_temp("runbad.yaml", "") + ": key ";
  EXPECT_EQ(e,
            "5 problems in the sweep file, nothing was run:\n"
            "  " +
                f + "'run.dataflow': --dataflow: expected ws, os, os2d or hybrid, got 'diagonal'\n  " + f +
                "'run.input_size': --input-size: expected HxW with H and W from 1 to 16384 (e.g. 112x112), got "
                "'3by4'\n  " +
                f +
                "'run.traces': --traces: expected all, none or a comma-separated list of vcd, timeline, power, fst, "
                "packets; got 'zz'\n  " +
                f + "'run.batch': expected a whole number from 1 to 256, got '0'\n  " + f +
                "'run.layer_dataflow': expected LAYER=ws|os|os2d or a list of them, got 'conv3x3=rs'");
}

// A range is counted before its values are made: a step too small to move
// `from` once looped forever, and ten million values took a minute to refuse.
TEST(SweepSpec, ARangeIsCountedBeforeItsValuesAreMade) {
  const auto error = [](const std::string& range) {
    return error_of(
        write_temp("range.yaml", "platform: edge-ip\nnetworks: [conv_slice]\nvary: {npu.clock_mhz: " + range + "}\n"));
  };
  EXPECT_NE(error("{from: 100, to: 101, step: 1e-300}")
                .find("key 'vary.npu.clock_mhz': expected at most 100000 values (from 100 to 101 by step 1e-300)"),
            std::string::npos);
  EXPECT_NE(error("{from: 1, to: 10000000, step: 1}").find("expected at most 100000 values"), std::string::npos);
  EXPECT_NE(error("{from: 1, to: 1e300, factor: 1.0000001}").find("expected at most 100000 values"), std::string::npos);
  const SweepSpec one = load_sweep(write_temp("one.yaml",
                                              "platform: edge-ip\nnetworks: [conv_slice]\n"
                                              "vary: {npu.clock_mhz: {from: 100, to: 100, step: 1e-300}}\n"));
  ASSERT_EQ(one.points.size(), 1u);
  const SweepSpec batch =
      load_sweep(write_temp("batch.yaml", "platform: edge-ip\nnetworks: [conv_slice]\nvary: {run.batch: [1, 256]}\n"));
  EXPECT_EQ(batch.points.size(), 2u);
  EXPECT_NE(error_of(write_temp("batch.yaml", "platform: edge-ip\nnetworks: [conv_slice]\nvary: {run.batch: [300]}\n"))
                .find("key 'vary.run.batch': expected a whole number from 1 to 256, got '300'"),
            std::string::npos);
}

TEST(DataRoot, ConfigFilesAreFoundBesideTheirFileThenUnderTheDataRoot) {
  const fs::path dir =
      fs::path(write_temp("beside/configs/energy/x.yaml", "")).parent_path().parent_path().parent_path();
  const std::string referrer = (dir / "preset.yaml").string();
  // Beside the naming file first...
  EXPECT_EQ(config::find_config_file("configs/energy/x.yaml", referrer), dir / "configs/energy/x.yaml");
  // ... then the data root ...
  // (named relative to the current directory when under it, as before data roots)
  const auto shipped = config::find_config_file("configs/area/45nm.yaml", referrer);
  ASSERT_TRUE(shipped);
  EXPECT_EQ(fs::absolute(*shipped), config::data_root() / "configs/area/45nm.yaml");
  // ... and an absolute path as given, or nowhere.
  EXPECT_EQ(config::find_config_file(referrer + ".none", "x"), std::nullopt);
  EXPECT_EQ(config::config_file_candidates("a.yaml", referrer),
            (dir / "a.yaml").string() + " and " + (config::data_root() / "a.yaml").string());
  setenv("NPUVP_DATA", "/elsewhere", 1);
  EXPECT_EQ(config::data_root(), fs::path("/elsewhere"));
  unsetenv("NPUVP_DATA");
  EXPECT_TRUE(fs::is_regular_file(config::data_root() / "configs/platforms/edge-ip.yaml"));
}

}  // namespace
}  // namespace npuvp::sweep
