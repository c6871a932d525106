#include "platform/vcd2fst.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

extern char** environ;

namespace npuvp::platform {
namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `argv` with standard output and error into `log`; returns its exit
// status, -1 when it could not be started or died of a signal.
int run_logged(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0].c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return "";
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + program;
    if (access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return candidate;
  }
  return "";
}

void require_vcd2fst() {
  if (find_on_path("vcd2fst").empty())
    throw std::runtime_error(
        "FST traces (--traces fst, simulation.vcd_fst) need GTKWave's vcd2fst, which is not on PATH: install GTKWave "
        "(Debian package gtkwave) or write the VCD (--traces vcd)");
}

void convert_to_fst(const std::string& vcd, const std::string& fst) {
  const std::string program = find_on_path("vcd2fst");
  if (program.empty()) require_vcd2fst();
  // Under a temporary name, as every output: a file under its own name is whole.
  const std::string part = fst + "." + std::to_string(getpid()) + ".part";
  const std::string log = fst + "." + std::to_string(getpid()) + ".log";
  const int status = run_logged({program, vcd, part}, log);
  const std::string printed = read_all(log);
  std::remove(log.c_str());
  std::error_code ignored;
  if (status != 0 || !std::filesystem::exists(part)) {
    std::filesystem::remove(part, ignored);
    throw std::runtime_error("cannot convert " + vcd + " to " + fst + ": " + program +
                             (status < 0 ? " did not run" : " exited with status " + std::to_string(status)) +
                             (printed.empty() ? "" : ": " + printed));
  }
  std::error_code error;
  std::filesystem::rename(part, fst, error);
  if (error) {
    std::filesystem::remove(part, ignored);
    throw std::runtime_error("cannot write " + fst + ": " + error.message());
  }
  std::filesystem::remove(vcd, ignored);
}

}  // namespace npuvp::platform
