#include "models/common/number_text.h"

#include <array>
#include <cstdint>
#include <cstring>

namespace npuvp::text {
namespace {

// "00" to "99": digits are written two at a time.
constexpr std::array<char, 200> kTwoDigits = [] {
  std::array<char, 200> text{};
  for (int i = 0; i < 100; ++i) {
    text[2 * i] = static_cast<char>('0' + i / 10);
    text[2 * i + 1] = static_cast<char>('0' + i % 10);
  }
  return text;
}();

char* two_digits(char* p, unsigned n) {
  std::memcpy(p, &kTwoDigits[2 * n], 2);
  return p + 2;
}

// Writes n < 10^8 as exactly eight digits at p.
void eight_digits(char* p, std::uint32_t n) {
  const std::uint32_t high = n / 10000, low = n % 10000;
  two_digits(p, high / 100);
  two_digits(p + 2, high % 100);
  two_digits(p + 4, low / 100);
  two_digits(p + 6, low % 100);
}

// 10^0 to 10^19, every power of ten a std::uint64_t holds.
constexpr std::array<std::uint64_t, 20> kPowersOfTen = [] {
  std::array<std::uint64_t, 20> powers{};
  std::uint64_t power = 1;
  for (std::uint64_t& p : powers) {
    p = power;
    power *= 10;  // wraps once, after the last
  }
  return powers;
}();

// The number of decimal digits of n > 0: log10 from the bit length, then
// one comparison.
int digit_count(std::uint64_t n) {
  const int guess = ((64 - __builtin_clzll(n)) * 1233) >> 12;
  return guess + (n >= kPowersOfTen[static_cast<std::size_t>(guess)] ? 1 : 0);
}

}  // namespace

char* write_shortest(char* p, double value) {
  std::uint64_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  constexpr std::uint64_t kExponentMask = std::uint64_t{0x7ff} << 52;
  // Infinities and NaNs as fmt spells them; zero has no shortest digits.
  if ((bits & kExponentMask) == kExponentMask) return fmt::format_to(p, FMT_COMPILE("{}"), value);
  if (bits >> 63 != 0) {
    *p++ = '-';
    value = -value;
  }
  if ((bits << 1) == 0) {
    *p++ = '0';
    return p;
  }
  // Dragonbox's shortest digits (without trailing zeros, at most 17) and
  // their exponent: value = significand * 10^exponent. fmt's own writer then
  // chooses between fixed and exponent notation as below.
  const auto decimal = fmt::detail::dragonbox::to_decimal(value);
  const std::uint64_t significand = decimal.significand;
  // Digits are copied 17 at a time (a constant size, no call), so the array
  // has room to read past the last one.
  char digits[2 * 17] = {};
  const std::uint64_t upper = significand / 100000000;
  digits[0] = static_cast<char>('0' + upper / 100000000);
  eight_digits(digits + 1, static_cast<std::uint32_t>(upper % 100000000));
  eight_digits(digits + 9, static_cast<std::uint32_t>(significand % 100000000));
  const int size = digit_count(significand);
  const char* const first = digits + 17 - size;
  const int exponent = decimal.exponent;
  const int output_exponent = exponent + size - 1;  // of the first digit
  if (output_exponent < -4 || output_exponent >= 16) {
    // 1.2345e+20, 1e-05: a point only after a first digit that has others after it.
    *p++ = *first;
    if (size > 1) {
      *p++ = '.';
      std::memcpy(p, first + 1, 17);
      p += size - 1;
    }
    *p++ = 'e';
    *p++ = output_exponent < 0 ? '-' : '+';
    const unsigned magnitude = static_cast<unsigned>(output_exponent < 0 ? -output_exponent : output_exponent);
    if (magnitude >= 100) *p++ = static_cast<char>('0' + magnitude / 100);
    return two_digits(p, magnitude % 100);
  }
  if (exponent >= 0) {
    // 1234e3 -> 1234000
    std::memcpy(p, first, 17);
    p += size;
    std::memset(p, '0', 16);
    return p + exponent;
  }
  const int integral = size + exponent;  // digits before the point
  if (integral > 0) {
    // 1234e-2 -> 12.34
    std::memcpy(p, first, 17);
    p += integral;
    *p++ = '.';
    std::memcpy(p, first + integral, 17);
    return p + (size - integral);
  }
  // 1234e-6 -> 0.001234
  *p++ = '0';
  *p++ = '.';
  std::memset(p, '0', 4);
  p += -integral;
  std::memcpy(p, first, 17);
  return p + size;
}

}  // namespace npuvp::text
