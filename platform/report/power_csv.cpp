#include "platform/report/power_csv.h"

#include <spdlog/fmt/compile.h>
#include <spdlog/fmt/fmt.h>

namespace npuvp::report {

PowerCsvWriter::PowerCsvWriter(const std::string& path, std::vector<std::string> components)
    : components_(std::move(components)), out_(path) {
  out_.stream() << "time_ns,window_ns";
  for (const auto& c : components_) out_.stream() << ',' << c << "_mw";
  out_.stream() << ",total_mw\n";
}

void PowerCsvWriter::append(const PowerSample& s) {
  // One row per power window: numbers in their shortest exact form, which
  // is also the cheapest to produce (no fixed precision to round to); the
  // formats are compiled, so that no row parses one.
  row_.clear();
  fmt::format_to(fmt::appender(row_), FMT_COMPILE("{},{}"), s.time_ns, s.window_ns);
  for (const auto& c : components_) {
    const auto it = s.component_mw.find(c);
    fmt::format_to(fmt::appender(row_), FMT_COMPILE(",{}"), it != s.component_mw.end() ? it->second : 0.0);
  }
  fmt::format_to(fmt::appender(row_), FMT_COMPILE(",{}\n"), s.total_mw);
  out_.stream().write(row_.data(), static_cast<std::streamsize>(row_.size()));
}

void PowerCsvWriter::close() { out_.commit(); }

}  // namespace npuvp::report
