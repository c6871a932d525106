#include "platform/sweep/sweep_main.h"

#include <filesystem>
#include <iostream>
#include <thread>

#include <boost/program_options.hpp>

#include "platform/sweep/sweep_results.h"
#include "platform/sweep/sweep_slurm.h"
#include "platform/sweep/sweep_spec.h"
#include "platform/sweep/sweep_tasks.h"
#include "sw/apps/prepared_cache.h"

namespace npuvp::sweep {
namespace {

namespace po = boost::program_options;
namespace fs = std::filesystem;

constexpr const char* kExitStatus =
    "exit status: 0 every run ok, 1 a run failed or was not bit-exact (results are written all the same)\n"
    "  or the sweep file is invalid (every problem listed, nothing run), 2 bad command line, 130 interrupted\n"
    "  (the runs so far are in the results; a rerun resumes)\n";

void print_dry_run(const std::vector<Task>& tasks, const std::string& backend, const SlurmOptions& slurm,
                   const std::string& out_dir) {
  std::vector<const Task*> todo;
  for (const auto& t : tasks)
    if (!has_results(t)) todo.push_back(&t);
  if (todo.empty()) {
    std::cout << "# all " << tasks.size() << " runs have results: nothing to run\n";
    return;
  }
  if (backend == "slurm") {
    std::cout << slurm_script(todo, slurm, out_dir);
    return;
  }
  std::cout << "# " << todo.size() << " of " << tasks.size() << " runs to do\n";
  for (const auto* t : todo) {
    std::cout << shell_quote(self_exe());
    for (const auto& a : t->args) std::cout << ' ' << shell_quote(a);
    std::cout << '\n';
  }
}

}  // namespace

int sweep_main(int argc, char** argv) {
  std::string file, out_dir, backend, cache_dir;
  long long jobs = 0;  // signed, so that -j -3 is refused rather than wrapped
  SlurmOptions slurm;
  po::options_description opts("npuvp sweep options");
  // clang-format off
  opts.add_options()
      ("help,h", "this help")
      ("out", po::value(&out_dir), "output directory (required): results.csv, results.json, pareto.svg, index.html, points/")
      ("jobs,j", po::value(&jobs), "local backend: runs at a time (default: the core count)")
      ("backend", po::value(&backend)->default_value("local"), "local | slurm")
      ("partition", po::value(&slurm.partition), "slurm: sbatch --partition")
      ("time", po::value(&slurm.time), "slurm: sbatch --time, each run's limit")
      ("account", po::value(&slurm.account), "slurm: sbatch --account")
      ("cache", po::value(&cache_dir), "the points' shared prepared-network cache (npuvp run --cache; default $XDG_CACHE_HOME/npuvp, else ~/.cache/npuvp)")
      ("no-cache", "the points prepare their networks without the cache")
      ("dry-run", "print the runs (local) or the job script (slurm) without running anything");
  // clang-format on
  po::options_description hidden;
  hidden.add_options()("file", po::value(&file));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("file", 1);
  po::variables_map vm;
  po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
  if (vm.count("help")) {
    std::cout << "usage: npuvp sweep FILE.yaml --out DIR [-j N] [--backend local|slurm [--partition P] [--time T] "
                 "[--account A]] [--dry-run]\n"
              << opts << '\n'
              << kExitStatus;
    return 0;
  }
  po::notify(vm);
  if (file.empty()) throw po::error("expected a sweep file: npuvp sweep FILE.yaml --out DIR");
  if (out_dir.empty()) throw po::error("--out DIR is required");
  if (backend != "local" && backend != "slurm")
    throw po::error("--backend: expected local or slurm, got '" + backend + "'");
  if (backend == "local" && (vm.count("partition") || vm.count("time") || vm.count("account")))
    throw po::error("--partition, --time and --account are for --backend slurm");
  if (backend == "slurm" && vm.count("jobs")) throw po::error("-j is for --backend local (Slurm schedules the array)");
  if (vm.count("jobs") && (jobs < 1 || jobs > 4096)) throw po::error("-j: expected 1 to 4096");
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  if (fs::exists(out_dir) && !fs::is_directory(out_dir))
    throw std::runtime_error(out_dir + ": --out exists and is not a directory");

  const SweepSpec spec = load_sweep(file);
  if (vm.count("no-cache") && vm.count("cache")) throw po::error("--cache and --no-cache exclude each other");
  if (!vm.count("no-cache") && !vm.count("cache")) cache_dir = apps::default_cache_dir();
  // Points run side by side, one thread each; they prepare a network once between them.
  std::vector<std::string> point_args = kPointThreadArgs;
  if (cache_dir.empty())
    point_args.push_back("--no-cache");
  else
    point_args.insert(point_args.end(), {"--cache", fs::absolute(cache_dir).string()});
  const std::vector<Task> tasks = make_tasks(spec, out_dir, point_args);
  if (vm.count("dry-run")) {
    print_dry_run(tasks, backend, slurm, out_dir);
    return 0;
  }
  fs::create_directories(out_dir);
  std::cerr << "npuvp sweep: " << spec.points.size() << " points x " << spec.networks.size()
            << " networks = " << tasks.size() << " runs, "
            << (backend == "slurm" ? "on Slurm" : std::to_string(jobs) + " at a time") << '\n';
  const bool completed =
      backend == "slurm" ? run_slurm(tasks, slurm, out_dir) : run_local(tasks, static_cast<unsigned>(jobs));
  nlohmann::json rows = gather_rows(spec, tasks);
  mark_front(rows, spec.objectives);
  write_results(spec, rows, out_dir);
  std::size_t ok = 0, unverified = 0, failed = 0, pending = 0;
  for (const auto& r : rows) {
    const std::string status = r["status"].get<std::string>();
    ok += status == "ok";
    unverified += status == "unverified";
    failed += status == "failed";
    pending += status == "pending";
    if ((status == "failed" || status == "unverified") && failed + unverified <= 10)
      std::cerr << "npuvp sweep: " << status << ": " << r["point"].get<std::string>() << "/"
                << r["network"].get<std::string>() << ": " << r["error"].get<std::string>() << '\n';
  }
  std::cout << tasks.size() << " runs: " << ok << " ok, " << unverified << " unverified, " << failed << " failed"
            << (pending != 0 ? ", " + std::to_string(pending) + " not started (a rerun runs them)" : std::string())
            << "\nwrote " << out_dir << "/{results.csv,results.json,pareto.svg,index.html,points/}\n";
  if (!completed) return 130;
  return ok == rows.size() ? 0 : 1;
}

}  // namespace npuvp::sweep
