#pragma once
// Runs the npuvp command line (NPUVP_CLI, defined by the test's CMake target)
// through the shell and captures what a user would see.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace npuvp::test {

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

inline std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A shell command with stdout and stderr captured in files of this process's
// own (ctest runs test processes in parallel).
inline CliResult run_command(const std::string& command) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string pid = std::to_string(::getpid());
  const auto out = dir / ("npuvp_cli_out_" + pid + ".txt"), err = dir / ("npuvp_cli_err_" + pid + ".txt");
  const int status = std::system((command + " > " + out.string() + " 2> " + err.string()).c_str());
  CliResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

// `npuvp ARGS`.
inline CliResult run_cli(const std::string& args) { return run_command(std::string(NPUVP_CLI) + " " + args); }

}  // namespace npuvp::test
