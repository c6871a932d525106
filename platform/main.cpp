// npuvp command line: a thin dispatcher over the platform library.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <boost/program_options.hpp>
#include <systemc>

#include "bench/dram_bench.h"
#include "bench/noc_bench.h"
#include "bench/options.h"
#include "contract/address_map.h"
#include "contract/cluster_regs.h"
#include "contract/dma_regs.h"
#include "contract/npu_regs.h"
#include "models/common/log.h"
#include "models/common/timeline_recorder.h"
#include "platform/config/config_node.h"
#include "platform/config/data_root.h"
#include "platform/perf_bench.h"
#include "platform/platform_config.h"
#include "platform/report/report_compare.h"
#include "platform/run.h"
#include "platform/sweep/sweep_main.h"
#include "sw/apps/prepared_cache.h"

namespace po = boost::program_options;

// The kernel prints its banner when it first initializes, which can happen in
// static initializers before main: the switch must be set before any of them.
__attribute__((constructor(101))) static void quiet_systemc_banner() {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
}

namespace {

constexpr const char* kUsage =
    "usage: npuvp <command> [options]\n"
    "  run          run a network on a platform (npuvp run --help)\n"
    "  list         list platforms | networks [--json]\n"
    "  sweep        run a design-space sweep file: npuvp sweep FILE.yaml --out DIR (npuvp sweep --help)\n"
    "  compare      what changed between two runs: npuvp compare A/report.json B/report.json\n"
    "  dram-bench   LPDDR4 microbenchmark (npuvp dram-bench --help)\n"
    "  noc-bench    NoC latency/throughput under synthetic traffic (npuvp noc-bench --help)\n"
    "  regs         print the address map and register maps (markdown)\n"
    "  bench        the simulator's own speed on a fixed set of runs (npuvp bench --help)\n"
    "  --version    print the version\n"
    "exit status: 0 success, 1 error, 2 bad command line, 3 an output was not bit-exact,\n"
    "  130 interrupted (SIGINT/SIGTERM): what was measured so far is written, sim.interrupted true\n";

constexpr const char* kRunExitStatus =
    "exit status: 0 success, 1 error (an output that cannot be written is named), 2 bad command line,\n"
    "  3 an output was not bit-exact, 130 interrupted by SIGINT or SIGTERM: the run stops at its next power\n"
    "  window and writes what it measured so far (sim.interrupted true, layers[].completed) and whole traces\n";

constexpr const char* kCompareUsage =
    "usage: npuvp compare A B\n"
    "  A, B: two runs' report.json files (or their --out directories). Prints what differs,\n"
    "  B against A: the platform and network sections (A -> B), every numeric total with the\n"
    "  ratio B/A, and the layers matched by name (cycles, energy, DRAM traffic with ratios,\n"
    "  dataflow, verdict). sim.* (wall time, command line, overrides) is never a difference.\n"
    "  The last line says \"identical (sim.* aside)\" or \"N figures differ\".\n"
    "exit status: 0 compared (whether or not they differ), 1 a file cannot be read, 2 bad command line\n";

// --cache, --no-cache and --threads.
void set_host_options(const po::variables_map& vm, const std::string& cache_dir, int threads,
                      npuvp::platform::RunOptions& ro) {
  if (vm.count("no-cache") && vm.count("cache")) throw po::error("--cache and --no-cache exclude each other");
  if (threads < 1 || threads > 256) throw po::error("--threads: expected 1 to 256");
  ro.threads = threads;
  if (!vm.count("no-cache")) ro.cache_dir = vm.count("cache") ? cache_dir : npuvp::apps::default_cache_dir();
}

// A value that no run takes is a bad command line (exit 2), as an unknown
// option is; what a value cannot do with this network or platform is found
// by the run (exit 1).
void parse_run_values(const po::variables_map& vm, npuvp::platform::RunOptions& ro) {
  const auto text = [&](const char* option) { return vm[option].as<std::string>(); };
  ro.seed = static_cast<std::uint32_t>(npuvp::bench::parse_count("--seed", text("seed"), 0, UINT32_MAX));
  if (vm.count("max-memory"))
    ro.max_host_bytes = npuvp::bench::parse_count("--max-memory", text("max-memory"), 1, 1 << 30) << 20;
  try {
    if (vm.count("traces")) ro.trace.files = npuvp::platform::parse_traces(text("traces"));
    if (vm.count("trace-window")) ro.trace.window_ns = npuvp::platform::parse_trace_window(text("trace-window"));
    if (vm.count("input-size")) std::tie(ro.input_h, ro.input_w) = npuvp::apps::parse_input_size(text("input-size"));
    npuvp::apps::parse_dataflow(ro.dataflow, ro.objective);
  } catch (const std::invalid_argument& e) {
    throw po::error(e.what());
  }
  ro.batch = vm["batch"].as<int>();
  if (ro.batch < 1 || ro.batch > npuvp::apps::kMaxBatch)
    throw npuvp::bench::OptionError("--batch", "an integer from 1 to " + std::to_string(npuvp::apps::kMaxBatch),
                                    std::to_string(ro.batch));
  ro.weight_sparsity = vm["weight-sparsity"].as<double>();
  if (!(ro.weight_sparsity >= 0 && ro.weight_sparsity <= 1)) {
    std::ostringstream got;
    got << ro.weight_sparsity;
    throw npuvp::bench::OptionError("--weight-sparsity", "a fraction from 0 to 1", got.str());
  }
}

// A trace the options left empty was written without a word.
void warn_empty_trace(const nlohmann::json& sim, const npuvp::platform::TraceOptions& trace) {
  const bool vcd = std::find(sim["files"].begin(), sim["files"].end(), "trace.vcd") != sim["files"].end();
  if (!vcd) return;
  const double end_ns = sim["simulated_ns"].get<double>();
  if (trace.window_ns && trace.window_ns->first >= end_ns)
    std::cerr << "npuvp: warning: trace.vcd and timeline.json hold nothing: --trace-window starts at "
              << trace.window_ns->first << " ns, after the run ended at " << end_ns << " ns\n";
  else if (!trace.include.empty() && sim["trace_changes"].get<std::uint64_t>() == 0)
    std::cerr << "npuvp: warning: trace.vcd holds no signal: none lies under --trace-include (scopes start with "
                 "soc., e.g. soc.npu)\n";
}

int run_command(int argc, char** argv) {
  po::options_description opts("npuvp run options");
  std::string platform_file, network, dataflow, objective, datatype, out_dir, input_file, dump_dir, cache_dir;
  std::vector<std::string> sets;
  std::vector<std::string> log_options;
  std::vector<std::string> layer_dataflow;
  int threads = 2;
  std::vector<std::string> trace_include;
  // clang-format off
  opts.add_options()
      ("help,h", "this help")
      ("platform", po::value(&platform_file)->default_value("edge-ip"), "a preset name from npuvp list platforms, or a platform file")
      ("network", po::value(&network)->default_value("conv_slice"), "a name from npuvp list networks, or a network file: *.yaml, *.onnx, SCALE-Sim *.csv")
      ("input-size", po::value<std::string>(), "input HxW")
      ("input", po::value(&input_file), "network input from a .npy file: float32 NCHW (quantized with the input's scale; a float network's calibration input too) or int8/uint8 codes in the input's quantization (zoo, YAML and ONNX networks)")
      ("dump", po::value(&dump_dir), "write every layer's output as read back from DRAM into DIR: NNN_<layer>.npy (int8 NCHW), output.npy (float32) and manifest.json")
      ("dataflow", po::value(&dataflow)->default_value("hybrid"), "ws | os | os2d | hybrid (among pe_array.dataflows)")
      ("objective", po::value(&objective)->default_value("latency"), "what --dataflow hybrid minimizes per layer: latency | energy (the firmware's cost model)")
      ("datatype", po::value(&datatype)->default_value("int8"), "int8 | int4 | int16 (any network) | fp16 (conv_slice / SCALE-Sim layers only)")
      ("set", po::value(&sets)->composing(), "override a config key: --set pe_array.rows=16 (repeatable)")
      ("out", po::value(&out_dir)->default_value("traces/run"), "output directory")
      ("seed", po::value<std::string>()->default_value("1"), "seed of weights and inputs (0 to 4294967295)")
      ("quiet,q", "no progress line and no layer table: the totals only")
      ("weight-sparsity", po::value<double>()->default_value(0.0), "conv_slice / SCALE-Sim layers: fraction of input channels pruned to zero")
      ("layer-dataflow", po::value(&layer_dataflow)->composing(), "force one layer's dataflow: --layer-dataflow conv_pw_3.conv=ws|os|os2d (repeatable)")
      ("batch", po::value<int>()->default_value(1), "images per run (weights loaded once per layer)")
      ("cache", po::value(&cache_dir), "directory of the prepared-network cache (zoo, YAML and float ONNX networks: quantized weights, scales and reference outputs, reused by later runs and sweep points; default $XDG_CACHE_HOME/npuvp, else ~/.cache/npuvp)")
      ("no-cache", "prepare the network without reading or writing the cache")
      ("threads", po::value(&threads)->default_value(2), "host threads: with 2 the reference outputs are computed beside the simulation (results are identical with 1)")
      ("max-memory", po::value<std::string>(), "host memory in MiB the run may take: one whose tensors need more fails before they are made")
      ("ideal-memory", "operands always on time: layer cycles are the array schedule alone (SCALE-Sim's view)")
      ("traces", po::value<std::string>(), "trace files to write: all | none | a list of vcd,timeline,power,fst,packets (fst: trace.vcd converted to trace.fst by GTKWave's vcd2fst, found on PATH; packets: noc_packets.csv, every NoC packet as timed, for noc-bench --replay; not in all; default all; overrides simulation.vcd and simulation.vcd_fst)")
      ("trace-include", po::value(&trace_include)->composing(), "trace only VCD signals under this scope, e.g. soc.npu or soc.npu.cluster_1 (whole names: not cluster_10; repeatable; overrides simulation.vcd_include)")
      ("trace-dram-commands", "trace.vcd also shows each DRAM channel's command bus (sets simulation.vcd_dram_commands; most of a network run's VCD)")
      ("trace-noc-links", "trace.vcd also shows each NoC link's busy cycles, edge by edge (sets simulation.vcd_noc_links; most of a network run's VCD; each link's utilization per power window is always there)")
      ("trace-window", po::value<std::string>(), "trace.vcd and timeline.json cover START_NS:END_NS only (power.csv covers the whole run)")
      ("log", po::value(&log_options)->composing(), "log level, trace|debug|info|warn|error|off (default warn), or MODULE=LEVEL for the components whose hierarchical name starts with MODULE, e.g. soc.npu.dma=trace (repeatable; debug shows register accesses, interrupts, DMA descriptors, cluster jobs and firmware decisions, trace also host-bus transactions)");
  // clang-format on
  po::variables_map vm;
  // No positional options: "npuvp run squeezenet1_1" is an error, not conv_slice.
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool takes_value = arg.rfind("--", 0) == 0 && arg.find('=') == std::string::npos &&
                             opts.find_nothrow(arg.substr(2), false) != nullptr &&
                             opts.find(arg.substr(2), false).semantic()->max_tokens() > 0;
    if (arg.empty() || arg[0] != '-')
      throw po::error("unexpected argument '" + arg + "'" +
                      (i == 1 ? " (a network is given as --network " + arg + ")" : std::string()));
    if (takes_value) ++i;
  }
  po::store(po::command_line_parser(argc, argv).options(opts).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: npuvp run [options]\n" << opts << '\n' << kRunExitStatus;
    return 0;
  }
  po::notify(vm);
  auto log_level = spdlog::level::warn;
  std::vector<npuvp::log::ModuleLevel> module_levels;
  try {
    for (const auto& option : log_options) npuvp::log::parse_option(option, log_level, module_levels);
  } catch (const std::invalid_argument& e) {
    throw po::error(e.what());
  }
  npuvp::log::setup(log_level, std::move(module_levels));
  npuvp::platform::RunOptions ro;
  // A network file not found as given may be a shipped one: configs/networks/... from any directory.
  const auto network_file = npuvp::config::find_config_file(network, "");
  ro.network = network_file ? network_file->string() : network;
  ro.dataflow = dataflow;
  ro.objective = objective;
  ro.datatype = datatype;
  ro.out_dir = out_dir;
  ro.ideal_memory = vm.count("ideal-memory") > 0;
  ro.quiet = vm.count("quiet") > 0;
  ro.layer_dataflow = layer_dataflow;
  ro.input_file = input_file;
  ro.dump_dir = dump_dir;
  set_host_options(vm, cache_dir, threads, ro);
  ro.command_line.assign(argv, argv + argc);
  ro.command_line.insert(ro.command_line.begin(), "npuvp");
  ro.overrides = sets;
  ro.trace.include = trace_include;
  ro.trace.dram_commands = vm.count("trace-dram-commands") > 0;
  ro.trace.noc_links = vm.count("trace-noc-links") > 0;
  parse_run_values(vm, ro);
  const auto config = npuvp::platform::load_platform(platform_file, sets);
  nlohmann::json report;
  try {
    report = npuvp::platform::run(config, ro);
  } catch (const npuvp::platform::OutputError& e) {
    std::cout << npuvp::platform::format_report(e.report(), !ro.quiet);
    throw;
  }
  std::cout << npuvp::platform::format_report(report, !ro.quiet);
  const nlohmann::json& sim = report["sim"];
  if (sim["trace_vcd_complete_until_ns"].is_number())
    std::cerr << "npuvp: warning: trace.vcd reached its cap (simulation.vcd_max_changes): every signal is complete "
                 "up to "
              << sim["trace_vcd_complete_until_ns"].get<double>() << " ns, later changes are left out\n";
  if (sim["trace_timeline_truncated"].get<bool>())
    std::cerr << "npuvp: warning: timeline.json reached its cap of " << npuvp::trace::TimelineOptions{}.max_slices
              << " slices: later slices are left out (narrow it with --trace-window)\n";
  std::string files;
  for (const auto& f : sim["files"]) files += (files.empty() ? "" : ",") + f.get<std::string>();
  warn_empty_trace(sim, ro.trace);
  std::cout << "wrote " << out_dir << "/{" << files << "}\n";
  if (sim["interrupted"].get<bool>()) {
    std::cerr << "npuvp: interrupted by " << sim["interrupted_by"].get<std::string>() << " after "
              << sim["simulated_ns"].get<double>() << " ns simulated; the report covers the layers completed so far\n";
    return 130;
  }
  if (!dump_dir.empty()) std::cout << "wrote " << dump_dir << "/{NNN_<layer>.npy,output.npy,manifest.json}\n";
  return report["totals"]["all_verified"].get<bool>() ? 0 : 3;
}

int compare_command(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h")) {
    std::cout << kCompareUsage;
    return 0;
  }
  if (args.size() != 2 || args[0].rfind("-", 0) == 0 || args[1].rfind("-", 0) == 0) {
    std::cerr << "npuvp compare: expected two report.json files (or run directories)\n" << kCompareUsage;
    return 2;
  }
  const auto load = [](std::string path) {
    if (std::filesystem::is_directory(path)) path += "/report.json";
    std::ifstream is(path);
    if (!is) throw std::runtime_error(path + ": cannot open");
    try {
      return std::make_pair(path, nlohmann::json::parse(is));
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(path + ": not a JSON report (" + e.what() + ")");
    }
  };
  const auto [name_a, a] = load(args[0]);
  const auto [name_b, b] = load(args[1]);
  std::cout << npuvp::report::compare_reports(a, b, name_a, name_b).text;
  return 0;
}

int list_command(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  const std::string what = args.empty() ? "" : args[0];
  const bool json = args.size() == 2 && args[1] == "--json";
  if ((what != "networks" && what != "platforms") || args.size() > 2 || (args.size() == 2 && !json)) {
    std::cerr << "npuvp list: expected 'platforms' or 'networks', optionally followed by --json\n";
    return 2;
  }
  if (what == "networks") {
    const auto nets = npuvp::apps::list_networks();
    if (json) {
      std::cout << nets.dump(2) << '\n';
    } else {
      for (const auto& n : nets)
        std::cout << n["name"].get<std::string>() << "  input " << n["input"].dump() << "  params "
                  << n["params"].get<std::uint64_t>() << "  MACs " << n["macs"].get<std::uint64_t>() << "  ("
                  << n["description"].get<std::string>() << ")\n";
    }
    return 0;
  }
  const auto list = npuvp::platform::list_platforms((npuvp::config::data_root() / "configs" / "platforms").string());
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [name, description] : list)
      out.push_back({{"name", name}, {"description", description}, {"file", "configs/platforms/" + name + ".yaml"}});
    std::cout << out.dump(2) << '\n';
  } else {
    for (const auto& [name, description] : list) std::cout << name << "  " << description << '\n';
  }
  return 0;
}

template <std::size_t N>
void print_registers(const char* title, std::uint64_t base, std::uint32_t stride, const char* instances,
                     const std::array<npuvp::regs::RegisterSpec, N>& specs) {
  std::cout << "## " << title << "\n\nBase 0x" << std::hex << base << std::dec;
  if (stride != 0) std::cout << ", one block of 0x" << std::hex << stride << std::dec << " bytes per " << instances;
  std::cout << ".\n\n| offset | name | access | reset | description |\n|---|---|---|---|---|\n";
  for (const auto& r : specs)
    std::cout << "| 0x" << std::hex << r.offset << " | " << r.name << " | " << npuvp::regs::to_string(r.access)
              << " | 0x" << r.reset << std::dec << " | " << r.description << " |\n";
  std::cout << '\n';
}

// PoolEpilogue's fields (contract/cluster_regs.h), at kPoolEpilogueOffset of the job.
constexpr std::array<npuvp::regs::FieldSpec, 6> kPoolEpilogueFields{{
    {"kernel_h", offsetof(npuvp::pe_array::PoolEpilogue, kernel_h), 4,
     "the pool's kernel (h, w) and stride (h, w), a byte each"},
    {"pad_top", offsetof(npuvp::pe_array::PoolEpilogue, pad_top), 4,
     "its padding (top, left, bottom, right), a byte each"},
    {"origin_y", offsetof(npuvp::pe_array::PoolEpilogue, origin_y), 4,
     "result row of the first pooled row's first tap"},
    {"out_h", offsetof(npuvp::pe_array::PoolEpilogue, out_h), 4,
     "pooled rows and columns the job writes (uint16 each)"},
    {"image_h", offsetof(npuvp::pe_array::PoolEpilogue, image_h), 4,
     "rows and columns of the convolution's whole map (uint16 each)"},
    {"first_row", offsetof(npuvp::pe_array::PoolEpilogue, first_row), 4, "the map row of the job's first result row"},
}};

template <std::size_t N>
void print_fields(const char* title, const char* intro, std::size_t size,
                  const std::array<npuvp::firmware::FieldSpec, N>& fields) {
  std::cout << "## " << title << "\n\n"
            << intro << " (" << size << " bytes).\n\n| offset | bytes | field | description |\n|---|---|---|---|\n";
  for (const auto& f : fields)
    std::cout << "| 0x" << std::hex << f.offset << std::dec << " | " << f.bytes << " | " << f.name << " | "
              << f.description << " |\n";
  std::cout << '\n';
}

void print_address_map() {
  std::cout << "## Address map\n\n| view | region | base | size | notes |\n|---|---|---|---|---|\n";
  for (const auto& r : npuvp::address_map::kRegions) {
    std::cout << "| " << r.view << " | " << r.name << " | 0x" << std::hex << r.base << " | ";
    if (r.size != 0) std::cout << "0x" << r.size;
    std::cout << std::dec << " | " << r.description << " |\n";
  }
  std::cout << "\nThe command processor and the DMA send NPU-local addresses in [0x" << std::hex
            << npuvp::address_map::kLocalWindowBase << ", 0x"
            << npuvp::address_map::kLocalWindowBase + npuvp::address_map::kLocalWindowSize << std::dec
            << ") over the NoC, all others to the system bus.\n\n";
}

int regs_command() {
  namespace map = npuvp::address_map;
  std::cout << "# npuvp register maps\n\nGenerated by `npuvp regs` from the address map and the register tables "
               "the models use (contract/).\n\n";
  print_address_map();
  print_registers("NPU (host view)", map::kNpuRegsBase, 0, "", npuvp::npu::kNpuRegisters);
  print_registers("DMA channels (NPU-local)", map::kDmaRegsBase, npuvp::dma::kChannelStride, "channel",
                  npuvp::dma::kChannelRegisters);
  print_registers("PE clusters (NPU-local)", map::kClusterRegsBase, npuvp::pe_array::kClusterStride, "cluster",
                  npuvp::pe_array::kClusterRegisters);
  print_fields("LayerCommand addressing (DRAM)",
               "Where a command reads and writes; the rest of the format is in contract/command_format.h",
               sizeof(npuvp::firmware::LayerCommand), npuvp::firmware::kLayerCommandAddressing);
  print_fields("InputSegment (DRAM)",
               "One run of a gathered input's channels: concatenations, channel slices and shuffles, and shifts are "
               "read this way without a copy (docs/lowering.md)",
               sizeof(npuvp::firmware::InputSegment), npuvp::firmware::kInputSegmentFields);
  print_fields("BatchImage (DRAM)",
               "Where image b of a batched command reads and writes (the table holds images 1 to batch_count - 1); "
               "the images share the command's weights, shape and pitches",
               sizeof(npuvp::firmware::BatchImage), npuvp::firmware::kBatchImageFields);
  print_fields(
      "ClusterJob epilogue (NPU-local SRAM)",
      "The job fields of a convolution's fused residual add or pool (the whole job is in contract/cluster_regs.h); "
      "the epilogue's datapath and cost are in docs/dataflows.md",
      sizeof(npuvp::pe_array::ClusterJob), npuvp::pe_array::kClusterJobFuseFields);
  print_fields("ClusterJob operand group (NPU-local SRAM)",
               "The clusters whose jobs load the same weights: the leader reads them once and the NoC multicasts the "
               "response into each follower's weight-fill window, after every follower's READY token "
               "(GROUP_READY); docs/dataflows.md",
               sizeof(npuvp::pe_array::ClusterJob), npuvp::pe_array::kClusterJobGroupFields);
  print_fields("PoolEpilogue (in a ClusterJob, from in2_addr)",
               "A convolution job's fused pool (fuse 2 or 3): the window it pools the job's results with and where "
               "they lie in the convolution's map",
               sizeof(npuvp::pe_array::PoolEpilogue), kPoolEpilogueFields);
  return 0;
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  // Reports are the output; the kernel's banner and its "stopped by user" note
  // are noise to scripts reading stdout.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string command = argv[1];
  if (command == "--version") {
    std::cout << npuvp::platform::version_string() << '\n';
    return 0;
  }
  try {
    if (command == "run") return run_command(argc - 1, argv + 1);
    if (command == "list") return list_command(argc - 1, argv + 1);
    if (command == "sweep") return npuvp::sweep::sweep_main(argc - 1, argv + 1);
    if (command == "compare") return compare_command(argc - 1, argv + 1);
    if (command == "dram-bench") return npuvp::bench::dram_bench_main(argc - 1, argv + 1);
    if (command == "noc-bench") return npuvp::bench::noc_bench_main(argc - 1, argv + 1);
    if (command == "regs") return regs_command();
    if (command == "bench") return npuvp::platform::bench_main(argc - 1, argv + 1);
    if (command == "--help" || command == "-h" || command == "help") {
      std::cout << kUsage;
      return 0;
    }
    std::cerr << "npuvp: unknown command '" << command << "'\n" << kUsage;
    return 2;
  } catch (const po::error& e) {
    std::cerr << "npuvp " << command << ": " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "npuvp: " << e.what() << '\n';
    return 1;
  }
}
