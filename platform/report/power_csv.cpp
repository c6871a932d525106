#include "platform/report/power_csv.h"

#include <stdexcept>

#include <iterator>

#include <spdlog/fmt/fmt.h>

namespace npuvp::report {

PowerCsvWriter::PowerCsvWriter(const std::string& path, std::vector<std::string> components)
    : path_(path), components_(std::move(components)), out_(path, std::ios::binary) {
  out_ << "time_ns,window_ns";
  for (const auto& c : components_) out_ << ',' << c << "_mw";
  out_ << ",total_mw\n";
  if (!out_) throw std::runtime_error("cannot write " + path_);
}

void PowerCsvWriter::append(const PowerSample& s) {
  // One row per power window: numbers in their shortest exact form, which
  // is also the cheapest to produce (no fixed precision to round to).
  row_.clear();
  fmt::format_to(std::back_inserter(row_), "{},{}", s.time_ns, s.window_ns);
  for (const auto& c : components_) {
    const auto it = s.component_mw.find(c);
    fmt::format_to(std::back_inserter(row_), ",{}", it != s.component_mw.end() ? it->second : 0.0);
  }
  fmt::format_to(std::back_inserter(row_), ",{}\n", s.total_mw);
  out_ << row_;
  if (!out_) throw std::runtime_error("cannot write " + path_);
}

}  // namespace npuvp::report
