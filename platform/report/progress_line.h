#pragma once
// One self-overwriting status line for long runs: layer k of n, simulated
// time, wall time. Silent unless enabled, so logs and pipes stay clean.

#include <chrono>
#include <cstddef>
#include <iosfwd>
#include <string>

namespace npuvp::report {

class ProgressLine {
 public:
  // Writes to `os` only when `enabled`; see for_stderr() for the usual choice.
  ProgressLine(std::ostream& os, bool enabled);
  // On std::cerr, enabled when stderr is a terminal and not `quiet`.
  static ProgressLine for_stderr(bool quiet);

  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;
  // The moved-from line goes silent, so only one of them ends the line.
  ProgressLine(ProgressLine&& other) noexcept;
  ProgressLine& operator=(ProgressLine&&) = delete;
  ~ProgressLine();

  // Layer `layer` (1-based) of `layers` has begun, named `name`. Redraws at
  // most every 100 ms of wall time, except the first and the last layer,
  // so calling it per tile costs little.
  void update(std::size_t layer, std::size_t layers, double simulated_ns, const std::string& name = "");
  // Ends the line with a newline if anything was drawn; idempotent.
  void finish();

  bool enabled() const { return enabled_; }

 private:
  using Clock = std::chrono::steady_clock;
  std::ostream* os_;
  bool enabled_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_draw_{};
  std::size_t last_width_ = 0;  // to blank out the rest of a longer previous line
  bool drawn_ = false;
};

}  // namespace npuvp::report
