#include "platform/sweep/sweep_tasks.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include <yaml-cpp/yaml.h>

#include "platform/config/data_root.h"
#include "platform/stop_signal.h"

extern char** environ;

namespace npuvp::sweep {

const std::vector<std::string> kPointThreadArgs = {"--threads", "1"};
const std::vector<std::string> kPointTraceArgs = {"--traces", "none"};

namespace {

namespace fs = std::filesystem;

std::vector<std::string> run_option_args(const std::map<std::string, nlohmann::json>& run,
                                         const std::string& sweep_file) {
  std::vector<std::string> args;
  bool traces = false;
  for (const auto& [key, value] : run) {
    std::string flag = "--" + key;
    std::replace(flag.begin(), flag.end(), '_', '-');
    const std::string text = value.get<std::string>();
    if (key == "ideal_memory") {
      if (text == "true") args.push_back(flag);
    } else if (key == "layer_dataflow") {
      const YAML::Node list = YAML::Load(text);
      for (const auto& item : list.IsSequence() ? list : YAML::Load("[" + text + "]")) {
        args.push_back(flag);
        args.push_back(item.Scalar());
      }
    } else if (key == "input") {
      const auto found = config::find_config_file(text, sweep_file);
      args.push_back(flag);
      args.push_back(found ? fs::absolute(*found).string() : text);
    } else {
      args.push_back(flag);
      args.push_back(text);
    }
    traces = traces || key == "traces";
  }
  if (!traces) args.insert(args.end(), kPointTraceArgs.begin(), kPointTraceArgs.end());
  return args;
}

std::string format_duration(double seconds) {
  const long s = std::lround(seconds);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  return buf;
}

void record_exit(const Task& task, int code) {
  const std::string tmp = task.dir + "/exit_code.tmp";
  {
    std::ofstream os(tmp);
    os << code << '\n';
    if (!os) throw std::runtime_error(tmp + ": cannot write");
  }
  fs::rename(tmp, task.dir + "/exit_code");
}

}  // namespace

std::string shell_quote(const std::string& arg) {
  if (!arg.empty() &&
      arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") ==
          std::string::npos)
    return arg;
  std::string out = "'";
  for (const char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<Task> make_tasks(const SweepSpec& spec, const std::string& out_dir,
                             const std::vector<std::string>& point_args) {
  const fs::path root = fs::absolute(out_dir).lexically_normal() / "points";
  std::vector<Task> tasks;
  for (std::size_t i = 0; i < spec.points.size(); ++i) {
    const Point& p = spec.points[i];
    const std::vector<std::string> options = run_option_args(p.run, spec.file);
    for (const auto& network : spec.networks) {
      Task t;
      t.point = i;
      t.network = network;
      t.dir = (root / p.hash / network_dir_name(network)).string();
      t.args = {"run", "--platform", spec.platform, "--network", network, "--out", t.dir, "--quiet"};
      for (const auto& o : p.overrides) t.args.insert(t.args.end(), {"--set", o});
      t.args.insert(t.args.end(), options.begin(), options.end());
      t.args.insert(t.args.end(), point_args.begin(), point_args.end());
      tasks.push_back(std::move(t));
    }
  }
  return tasks;
}

std::optional<int> exit_code(const Task& task) {
  std::ifstream is(task.dir + "/exit_code");
  int code = 0;
  if (is >> code) return code;
  return std::nullopt;
}

std::optional<nlohmann::json> read_report(const Task& task, std::string& error) {
  const std::string path = task.dir + "/report.json";
  std::ifstream is(path);
  if (!is) {
    error = path + ": cannot open";
    return std::nullopt;
  }
  try {
    nlohmann::json report = nlohmann::json::parse(is);
    if (report.is_object() && report.contains("totals") && report["totals"].is_object() && report.contains("layers") &&
        report["layers"].is_array() && report.contains("sim") && report["sim"].is_object())
      return report;
    error = path + ": not a report (no totals, layers or sim)";
  } catch (const nlohmann::json::exception& e) {
    error = path + ": not a report (" + e.what() + ")";
  }
  return std::nullopt;
}

bool has_results(const Task& task) {
  const auto code = exit_code(task);
  std::string error;
  if (!code || (*code != 0 && *code != 3)) return false;
  const std::optional<nlohmann::json> report = read_report(task, error);
  if (!report) return false;
  // A run directory is named by the network file's name alone: a sweep of
  // another file of that name into the same output took this one's results
  // for its own (a/net.onnx, then b/net.onnx). The run must have been of
  // this network.
  const nlohmann::json& line = (*report)["sim"].value("command_line", nlohmann::json::array());
  for (std::size_t i = 0; i + 1 < line.size(); ++i)
    if (line[i] == "--network") return line[i + 1] == task.network;
  return false;
}

void prepare(const Task& task) {
  fs::remove_all(task.dir);
  fs::create_directories(task.dir);
}

std::string self_exe() { return fs::read_symlink("/proc/self/exe").string(); }

pid_t spawn_self(const std::vector<std::string>& args, const std::string& log) {
  const std::string exe = self_exe();
  std::vector<std::string> words = {"npuvp"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) throw std::runtime_error("cannot start " + exe + ": " + std::strerror(err));
  return pid;
}

Progress::Progress(std::size_t total, std::size_t skipped)
    : total_(total), skipped_(skipped), tty_(isatty(STDERR_FILENO) != 0) {
  if (skipped_ != 0) std::cerr << "npuvp sweep: " << skipped_ << " of " << total_ << " runs have results, skipped\n";
}

void Progress::finished(const Task& task, int code) {
  ++done_;
  if (code != 0 && code != 3) ++failed_;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::size_t todo = total_ - skipped_;
  const double eta = elapsed / static_cast<double>(done_) * static_cast<double>(todo - done_);
  const std::string counts = std::to_string(skipped_ + done_) + "/" + std::to_string(total_) + " done, " +
                             std::to_string(failed_) + " failed, ETA " + format_duration(eta);
  if (tty_)
    std::cerr << "\r\033[K" << counts << std::flush;
  else
    std::cerr << counts << "  (" << fs::path(task.dir).parent_path().filename().string() << "/"
              << fs::path(task.dir).filename().string() << " exit " << code << ")\n";
}

void Progress::end() {
  if (tty_ && done_ != 0) std::cerr << '\n';
}

bool run_local(const std::vector<Task>& tasks, unsigned jobs) {
  Progress progress(tasks.size(), static_cast<std::size_t>(std::count_if(tasks.begin(), tasks.end(), has_results)));
  std::vector<const Task*> todo;
  for (const auto& t : tasks)
    if (!has_results(t)) todo.push_back(&t);
  platform::StopOnSignal stop;
  std::map<pid_t, const Task*> running;
  std::size_t next = 0;
  bool forwarded = false;
  while (next < todo.size() || !running.empty()) {
    while (stop.received() == 0 && running.size() < jobs && next < todo.size()) {
      prepare(*todo[next]);
      running[spawn_self(todo[next]->args, todo[next]->dir + "/run.log")] = todo[next];
      ++next;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      // A SIGTERM meant for the sweep reaches the runs too; a terminal's
      // Ctrl-C reaches them already (same process group).
      if (stop.received() == SIGTERM && !forwarded)
        for (const auto& [child, task] : running) kill(child, SIGTERM);
      forwarded = stop.received() == SIGTERM;
      if (stop.received() != 0 && next < todo.size()) next = todo.size();
      continue;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    record_exit(*it->second, code);
    progress.finished(*it->second, code);
    running.erase(it);
  }
  progress.end();
  return stop.received() == 0;
}

}  // namespace npuvp::sweep
