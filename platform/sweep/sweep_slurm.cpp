#include "platform/sweep/sweep_slurm.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "platform/stop_signal.h"

extern char** environ;

namespace npuvp::sweep {
namespace {

namespace fs = std::filesystem;

struct Captured {
  int status = 0;
  std::string output;  // stdout and stderr
};

// Runs a Slurm client (found on PATH) and collects what it printed.
Captured capture(std::vector<std::string> words) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("cannot create a pipe for " + words[0]);
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  pid_t pid = 0;
  const int err = posix_spawnp(&pid, words[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (err != 0) {
    close(fds[0]);
    throw std::runtime_error("cannot start " + words[0] + ": " + std::strerror(err) +
                             " (is Slurm installed and on PATH?)");
  }
  Captured c;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    c.output.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  c.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return c;
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::string slurm_script(const std::vector<const Task*>& todo, const SlurmOptions& options,
                         const std::string& out_dir) {
  const std::string dir = fs::absolute(out_dir).lexically_normal().string();
  std::string s = "#!/bin/bash\n# npuvp sweep: one array task per run (point x network).\n";
  s += "#SBATCH --job-name=npuvp-sweep\n";
  s += "#SBATCH --array=0-" + std::to_string(todo.size() - 1) + "\n";
  s += "#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n";
  s += "#SBATCH --chdir=" + shell_quote(dir) + "\n";
  // Slurm does not create this folder: npuvp sweep does before submitting.
  s += "#SBATCH --output=" + shell_quote(dir + "/slurm/task-%a.log") + "\n";
  if (!options.partition.empty()) s += "#SBATCH --partition=" + shell_quote(options.partition) + "\n";
  if (!options.time.empty()) s += "#SBATCH --time=" + shell_quote(options.time) + "\n";
  if (!options.account.empty()) s += "#SBATCH --account=" + shell_quote(options.account) + "\n";
  s += "\nnpuvp=" + shell_quote(self_exe()) + "\n";
  s += "# DIR ARGS...: the run writes into DIR, its exit status last (as `npuvp sweep` reads it).\n";
  s += "run() {\n  local dir=$1\n  shift\n  rm -rf \"$dir\" && mkdir -p \"$dir\" || exit 1\n"
       "  \"$npuvp\" \"$@\" </dev/null >\"$dir/run.log\" 2>&1\n"
       "  echo $? >\"$dir/exit_code.tmp\" && mv \"$dir/exit_code.tmp\" \"$dir/exit_code\"\n}\n\n";
  s += "case \"$SLURM_ARRAY_TASK_ID\" in\n";
  for (std::size_t i = 0; i < todo.size(); ++i) {
    s += "  " + std::to_string(i) + ") run " + shell_quote(todo[i]->dir);
    for (const auto& a : todo[i]->args) s += " " + shell_quote(a);
    s += " ;;\n";
  }
  s += "  *) echo \"npuvp sweep: no run for array task $SLURM_ARRAY_TASK_ID\" >&2; exit 1 ;;\nesac\n";
  return s;
}

bool run_slurm(const std::vector<Task>& tasks, const SlurmOptions& options, const std::string& out_dir) {
  std::vector<const Task*> todo;
  for (const auto& t : tasks)
    if (!has_results(t)) todo.push_back(&t);
  Progress progress(tasks.size(), tasks.size() - todo.size());
  if (todo.empty()) return true;
  const fs::path slurm_dir = fs::path(out_dir) / "slurm";
  fs::create_directories(slurm_dir);
  // A run is done once its exit status appears; stale ones must not count.
  for (const auto* t : todo) fs::remove(t->dir + "/exit_code");
  const std::string script = (fs::absolute(slurm_dir) / "job.sh").string();
  {
    std::ofstream os(script);
    os << slurm_script(todo, options, out_dir);
    if (!os) throw std::runtime_error(script + ": cannot write");
  }
  const Captured submitted = capture({"sbatch", "--parsable", script});
  if (submitted.status != 0)
    throw std::runtime_error("sbatch " + script + " failed (exit status " + std::to_string(submitted.status) +
                             "): " + trimmed(submitted.output));
  const std::string job = trimmed(submitted.output.substr(0, submitted.output.find(';')));
  std::cerr << "npuvp sweep: submitted job array " << job << " (" << todo.size() << " runs), script " << script << '\n';
  platform::StopOnSignal stop;
  std::set<const Task*> finished;
  for (auto last_poll = std::chrono::steady_clock::time_point{};;) {
    for (const auto* t : todo)
      if (finished.count(t) == 0 && exit_code(*t)) {
        finished.insert(t);
        progress.finished(*t, *exit_code(*t));
      }
    if (stop.received() != 0) {
      capture({"scancel", job});
      progress.end();
      return false;
    }
    if (finished.size() == todo.size()) break;
    // squeue lists the array while any task is pending or running; once it
    // has gone, a task without an exit status did not finish (time limit,
    // node failure) and is reported failed.
    if (std::chrono::steady_clock::now() - last_poll > std::chrono::seconds(2)) {
      last_poll = std::chrono::steady_clock::now();
      const Captured q = capture({"squeue", "-h", "-j", job, "-o", "%i"});
      if (trimmed(q.output).empty() || (q.status != 0 && q.output.find("Invalid job id") != std::string::npos)) {
        // Exit statuses written just before the job left the queue.
        for (const auto* t : todo)
          if (finished.count(t) == 0 && exit_code(*t)) {
            finished.insert(t);
            progress.finished(*t, *exit_code(*t));
          }
        break;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  progress.end();
  return true;
}

}  // namespace npuvp::sweep
