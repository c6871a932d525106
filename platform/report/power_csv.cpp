#include "platform/report/power_csv.h"

#include <stdexcept>

#include "platform/report/report_util.h"

namespace npuvp::report {

using detail::csv_number;

PowerCsvWriter::PowerCsvWriter(const std::string& path, std::vector<std::string> components)
    : path_(path), components_(std::move(components)), out_(path, std::ios::binary) {
  out_ << "time_ns,window_ns";
  for (const auto& c : components_) out_ << ',' << c << "_mw";
  out_ << ",total_mw\n";
  if (!out_) throw std::runtime_error("cannot write " + path_);
}

void PowerCsvWriter::append(const PowerSample& s) {
  std::string row = csv_number(s.time_ns) + ',' + csv_number(s.window_ns);
  for (const auto& c : components_) {
    const auto it = s.component_mw.find(c);
    row += ',' + csv_number(it != s.component_mw.end() ? it->second : 0.0);
  }
  out_ << row << ',' << csv_number(s.total_mw) << '\n';
  if (!out_) throw std::runtime_error("cannot write " + path_);
}

}  // namespace npuvp::report
