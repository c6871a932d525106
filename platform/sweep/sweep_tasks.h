#pragma once
// The runs a sweep is made of: one `npuvp run` process per point and network,
// each writing into points/<point>/<network>/ with its log (run.log) and,
// once it has ended, its exit status (exit_code). Both backends run these
// same command lines; the status files are how a rerun resumes and how the
// results are gathered, whichever backend ran them.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "platform/sweep/sweep_spec.h"

namespace npuvp::sweep {

struct Task {
  std::size_t point = 0;  // index into SweepSpec::points
  std::string network;
  std::string dir;                // absolute: points/<point>/<network>
  std::vector<std::string> args;  // after `npuvp`: run --platform ... --out dir
};

// What every point's run gets: one thread, since points run side by side,
// and, unless the sweep's run keys set `traces`, no trace files, since a
// sweep compares figures and traces cost much of a run's time and disk.
// `npuvp bench` measures its sweep point with the same.
extern const std::vector<std::string> kPointThreadArgs;  // --threads 1
extern const std::vector<std::string> kPointTraceArgs;   // --traces none

// One run per point and network; `point_args` follow every run's own options
// (the sweep's --threads and --cache).
std::vector<Task> make_tasks(const SweepSpec& spec, const std::string& out_dir,
                             const std::vector<std::string>& point_args = {});

// The exit status a finished run left, if it has finished.
std::optional<int> exit_code(const Task& task);
// The run's report.json, if it reads as a report; else empty, with why in
// `error`. A file cut short or emptied (a full disk, an interrupted copy) is
// no result: it was skipped on every later sweep and listed as zeros.
std::optional<nlohmann::json> read_report(const Task& task, std::string& error);
// Ran to its end with a report that reads (exit 0, or 3 when an output was
// not bit-exact): a rerun skips it.
bool has_results(const Task& task);
// Clears what an earlier, unfinished attempt left and makes the directory.
void prepare(const Task& task);

// This binary, for the runs to use the same simulator as the sweep.
std::string self_exe();
// Starts this binary with `args`, no input, its output and errors in `log`.
// Throws std::runtime_error when it cannot be started.
pid_t spawn_self(const std::vector<std::string>& args, const std::string& log);

// "done/total, failed, ETA" on stderr: redrawn in place on a terminal, one
// line per finished run otherwise (logs).
class Progress {
 public:
  Progress(std::size_t total, std::size_t skipped);
  void finished(const Task& task, int code);
  void end();

 private:
  std::size_t total_, skipped_, done_ = 0, failed_ = 0;
  bool tty_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// Runs `tasks` on this machine, `jobs` at a time; false when interrupted
// (SIGINT/SIGTERM: no new run starts, the running ones stop as npuvp run does).
bool run_local(const std::vector<Task>& tasks, unsigned jobs);

// Quotes one argument for a POSIX shell.
std::string shell_quote(const std::string& arg);

}  // namespace npuvp::sweep
