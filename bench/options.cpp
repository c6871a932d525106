#include "bench/options.h"

namespace npuvp::bench {

std::uint64_t parse_count(const std::string& option, const std::string& text, std::uint64_t lo, std::uint64_t hi) {
  const std::string expected = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
    throw OptionError(option, expected, text);
  std::uint64_t v = 0;
  try {
    v = std::stoull(text);
  } catch (const std::exception&) {
    throw OptionError(option, expected, text);
  }
  if (v < lo || v > hi) throw OptionError(option, expected, text);
  return v;
}

}  // namespace npuvp::bench
