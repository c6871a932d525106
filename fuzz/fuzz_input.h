#pragma once
// What every fuzz target shares: readers that take a path get the fuzzer's
// bytes through one temporary file per process, and the error types a reader
// documents are the only exceptions a target swallows; anything else escapes
// and libFuzzer reports it as a crash.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

namespace npuvp::fuzz {

// The file is named after the process so that parallel fuzzers (-jobs) and
// ctest's parallel runs never share it; `suffix` keeps readers that look at
// the extension on their normal path.
inline const std::string& input_path(const char* suffix) {
  static const std::string path = [suffix] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/npuvp-fuzz-" + std::to_string(::getpid()) +
           suffix;
  }();
  static const int removed_at_exit = std::atexit([] { std::remove(path.c_str()); });
  (void)removed_at_exit;
  return path;
}

inline const std::string& write_input(const std::uint8_t* data, std::size_t size, const char* suffix) {
  const std::string& path = input_path(suffix);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  if (!out) std::abort();  // a full /tmp is not the reader's bug: stop loudly
  return path;
}

}  // namespace npuvp::fuzz
