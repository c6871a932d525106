#pragma once
// Sums the firmware's cost walk takes in closed form with the result a walk
// term by term gives, bit for bit: the walk's figures choose the plans, so a
// sum that rounds differently could choose another one.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

namespace npuvp::firmware {

// `acc` plus `c`, `n` times, each addition rounded to nearest (ties to even)
// as a loop of `acc += c` rounds it, in far fewer steps: while the sum stays
// within one binade (one exponent) every addition adds the same amount, `c`
// rounded to the binade's unit, so the additions up to the binade's end are
// one multiplication in integers of that unit. An addition that leaves the
// binade, a tie, or values outside the range where the units are exact
// (negative, zero, subnormal or huge) take the loop's step.
inline double add_repeatedly(double acc, double c, std::uint64_t n) {
  constexpr double kTwo52 = 0x1p52;
  const auto of_bits = [](std::uint64_t bits) {
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  };
  // A few dozen additions cost less than working out their binades (about
  // two steps each of the log2(n) binades the sum passes).
  if (n <= 32) {
    for (; n > 0; --n) acc += c;
    return acc;
  }
  while (n > 0) {
    std::uint64_t bits;
    std::memcpy(&bits, &acc, sizeof bits);
    // acc = a · 2^(biased - 1075) with a in [2^52, 2^53): a unit is 2^(biased - 1075).
    const std::uint64_t biased = bits >> 52;
    if (biased >= 63 && biased <= 1983 && c >= 0) {
      const double q = c * of_bits((2098 - biased) << 52);  // c in units, exact
      if (q < kTwo52) {
        const double rounded = (q + kTwo52) - kTwo52;  // to nearest, ties to even
        if (q - rounded != 0.5 && rounded - q != 0.5) {
          if (rounded == 0) return acc;  // c below half a unit: no addition changes acc
          // An addition to a' stays within the binade (or rounds up onto its
          // end, 2^53 units) while a' + floor(q) < 2^53.
          const std::uint64_t a = (bits & ((std::uint64_t{1} << 52) - 1)) | std::uint64_t{1} << 52;
          const auto step = static_cast<std::uint64_t>(rounded), below = static_cast<std::uint64_t>(q);
          const std::uint64_t room = (std::uint64_t{1} << 53) - a;
          if (below < room) {
            const std::uint64_t steps = std::min(n, (room - 1 - below) / step + 1);
            acc = static_cast<double>(a + steps * step) * of_bits((biased - 52) << 52);
            n -= steps;
            continue;
          }
        }
      }
    }
    const double before = acc;
    acc += c;
    --n;
    // The same state (or NaN): every later step gives the same.
    if (acc == before || std::isnan(acc)) return acc;
  }
  return acc;
}

// Σ_{r<n} floor((a·r + b) / m) for m > 0, in O(log m) (the Euclid-like
// reduction of the lattice points under a line); exact while a·n + b and
// n·n·(a/m) fit 64 bits.
inline std::uint64_t floor_sum(std::uint64_t n, std::uint64_t m, std::uint64_t a, std::uint64_t b) {
  std::uint64_t sum = 0;
  for (;;) {
    if (a >= m) {
      sum += (n % 2 == 0 ? n / 2 * (n - 1) : (n - 1) / 2 * n) * (a / m);
      a %= m;
    }
    if (b >= m) {
      sum += n * (b / m);
      b %= m;
    }
    const std::uint64_t top = a * n + b;
    if (top < m) return sum;
    n = top / m;
    b = top % m;
    std::swap(m, a);
  }
}

}  // namespace npuvp::firmware
