#pragma once
// power.csv written as the run produces its windows, so a long run's power
// trace goes to disk instead of into memory.

#include <fstream>
#include <string>
#include <vector>

#include "platform/report/run_record.h"

namespace npuvp::report {

// Columns: time_ns (window start), window_ns, one <component>_mw per
// component, total_mw; sum(total_mw * window_ns) is energy in pJ.
class PowerCsvWriter {
 public:
  // Throws std::runtime_error when the file cannot be opened.
  PowerCsvWriter(const std::string& path, std::vector<std::string> components);
  // Throws std::runtime_error when the row cannot be written.
  void append(const PowerSample& sample);

 private:
  std::string path_;
  std::vector<std::string> components_;
  std::ofstream out_;
  std::string row_;
};

}  // namespace npuvp::report
