#pragma once
// Numbers written as text in their shortest exact form, as fmt's "{}" writes
// them. Trace writers write hundreds of thousands of them: fmt writing
// through an appender took about twice the instructions per number of
// writing into the buffer's own storage, and fmt's general float writer
// (padding, grouping, locale) three times what placing the shortest digits
// takes (docs/performance.md, "2026-12-04: traces" and "2026-12-04
// (evening): traces").

#include <cstddef>
#include <type_traits>

#include <spdlog/fmt/compile.h>
#include <spdlog/fmt/fmt.h>

namespace npuvp::text {

// Room for the longest number and then some: a double's
// "-2.2250738585072014e-308" is 24 characters, an integer's 20 digits and
// sign 21, and write_shortest() writes whole blocks of digits and zeros,
// past the end it returns (at most sign, 17 digits, point, 17 digits).
constexpr std::size_t kLongestNumber = 40;

// Writes `value` at p exactly as fmt::format("{}", value) does and returns
// the end; p has room for kLongestNumber bytes.
char* write_shortest(char* p, double value);

template <typename T>
void append_number(fmt::memory_buffer& out, T value) {
  static_assert(std::is_arithmetic_v<T>);
  const std::size_t size = out.size();
  out.resize(size + kLongestNumber);
  char* end;
  if constexpr (std::is_same_v<T, double>)
    end = write_shortest(out.data() + size, value);
  else
    end = fmt::format_to(out.data() + size, FMT_COMPILE("{}"), value);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace npuvp::text
