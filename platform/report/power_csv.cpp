#include "platform/report/power_csv.h"

#include "models/common/number_text.h"

namespace npuvp::report {

PowerCsvWriter::PowerCsvWriter(const std::string& path) : out_(path) {
  out_.stream() << "time_ns,window_ns";
  for (const char* c : kPowerComponents) out_.stream() << ',' << c << "_mw";
  out_.stream() << ",total_mw\n";
}

void PowerCsvWriter::append(const PowerSample& s) {
  // One row per power window: numbers in their shortest exact form, which
  // is also the cheapest to produce (no fixed precision to round to).
  row_.clear();
  text::append_number(row_, s.time_ns);
  row_.push_back(',');
  text::append_number(row_, s.window_ns);
  for (const double mw : s.component_mw) {
    row_.push_back(',');
    text::append_number(row_, mw);
  }
  row_.push_back(',');
  text::append_number(row_, s.total_mw);
  row_.push_back('\n');
  out_.stream().write(row_.data(), static_cast<std::streamsize>(row_.size()));
}

void PowerCsvWriter::close() { out_.commit(); }

}  // namespace npuvp::report
