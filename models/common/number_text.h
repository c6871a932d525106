#pragma once
// Numbers appended to a text buffer in their shortest exact form, as fmt's
// "{}" writes them. Trace writers append hundreds of thousands of them, and
// fmt writing through an appender took about twice the instructions per
// number of writing into the buffer's own storage (docs/performance.md,
// "2026-12-04: traces").

#include <cstddef>
#include <type_traits>

#include <spdlog/fmt/compile.h>
#include <spdlog/fmt/fmt.h>

namespace npuvp::text {

template <typename T>
void append_number(fmt::memory_buffer& out, T value) {
  static_assert(std::is_arithmetic_v<T>);
  // The longest: a double's "-2.2250738585072014e-308" (24), an integer's 20 digits and sign.
  constexpr std::size_t kLongest = 32;
  const std::size_t size = out.size();
  out.resize(size + kLongest);
  char* const end = fmt::format_to(out.data() + size, FMT_COMPILE("{}"), value);
  out.resize(static_cast<std::size_t>(end - out.data()));
}

}  // namespace npuvp::text
