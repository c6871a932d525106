#include "platform/report/progress_line.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace npuvp::report {
namespace {

std::string duration_text(double seconds) {
  char buf[32];
  if (seconds < 1e-6)
    std::snprintf(buf, sizeof buf, "%.1f ns", seconds * 1e9);
  else if (seconds < 1e-3)
    std::snprintf(buf, sizeof buf, "%.1f us", seconds * 1e6);
  else if (seconds < 1)
    std::snprintf(buf, sizeof buf, "%.3f ms", seconds * 1e3);
  else
    std::snprintf(buf, sizeof buf, "%.3f s", seconds);
  return buf;
}

}  // namespace

ProgressLine::ProgressLine(std::ostream& os, bool enabled) : os_(&os), enabled_(enabled) {}

ProgressLine ProgressLine::for_stderr(bool quiet) {
  return ProgressLine(std::cerr, !quiet && ::isatty(STDERR_FILENO) == 1);
}

ProgressLine::ProgressLine(ProgressLine&& other) noexcept
    : os_(other.os_),
      enabled_(other.enabled_),
      start_(other.start_),
      last_draw_(other.last_draw_),
      last_width_(other.last_width_),
      drawn_(other.drawn_) {
  other.enabled_ = false;
  other.drawn_ = false;
}

ProgressLine::~ProgressLine() { finish(); }

void ProgressLine::update(std::size_t layer, std::size_t layers, double simulated_ns, const std::string& name) {
  if (!enabled_) return;
  const auto now = Clock::now();
  const bool boundary = !drawn_ || layer >= layers;
  if (!boundary && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;

  const double wall = std::chrono::duration<double>(now - start_).count();
  std::string line = "layer " + std::to_string(layer) + "/" + std::to_string(layers);
  if (!name.empty()) line += " " + name;
  line += " | simulated " + duration_text(simulated_ns * 1e-9) + " | wall " + duration_text(wall);
  const std::size_t width = line.size();
  if (width < last_width_) line.append(last_width_ - width, ' ');
  last_width_ = width;
  *os_ << '\r' << line << std::flush;
  drawn_ = true;
}

void ProgressLine::finish() {
  if (!drawn_) return;
  *os_ << '\n' << std::flush;
  drawn_ = false;
}

}  // namespace npuvp::report
