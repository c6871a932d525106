#pragma once
// Command-line number parsing shared by the benchmarks: whole numbers are read
// as text so that "-1" is refused rather than wrapped to 2^64 - 1.

#include <cstdint>
#include <string>

#include <boost/program_options/errors.hpp>

namespace npuvp::bench {

// A bad command line (exit status 2, as for an unknown option): the option
// and what it expected.
struct OptionError : boost::program_options::error {
  OptionError(const std::string& option, const std::string& expected, const std::string& got)
      : boost::program_options::error(option + ": expected " + expected + ", got '" + got + "'") {}
};

// `text` as a whole number in [lo, hi]; throws OptionError naming `option`.
std::uint64_t parse_count(const std::string& option, const std::string& text, std::uint64_t lo, std::uint64_t hi);

}  // namespace npuvp::bench
