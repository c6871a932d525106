#pragma once
// power.csv written as the run produces its windows, so a long run's power
// trace goes to disk instead of into memory.

#include <string>

#include <spdlog/fmt/fmt.h>

#include "models/common/output_file.h"
#include "platform/report/run_record.h"

namespace npuvp::report {

// Columns: time_ns (window start), window_ns, one <component>_mw per
// component, total_mw; sum(total_mw * window_ns) is energy in pJ.
class PowerCsvWriter {
 public:
  // Throws std::runtime_error when the file cannot be created.
  explicit PowerCsvWriter(const std::string& path);
  void append(const PowerSample& sample);
  // Completes the file and renames it into place (until then it is
  // <path>.<pid>.part; a writer destroyed unclosed removes it). Throws
  // std::runtime_error "cannot write <path>: <cause>" when any row could not
  // be written: a failed write mid-run is reported here, with the rest of the
  // run's outputs already safe.
  void close();

 private:
  io::OutputFile out_;
  fmt::memory_buffer row_;  // fmt appends to its own buffer without resizing a string per number
};

}  // namespace npuvp::report
