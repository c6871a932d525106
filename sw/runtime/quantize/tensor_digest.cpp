#include "sw/runtime/quantize/tensor_digest.h"

#include <cstring>

namespace npuvp::runtime {
namespace {

constexpr std::uint64_t kPrime1 = 0x9E3779B185EBCA87ull;
constexpr std::uint64_t kPrime2 = 0xC2B2AE3D27D4EB4Full;
constexpr std::uint64_t kPrime3 = 0x165667B19E3779F9ull;

std::uint64_t rotl(std::uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

std::uint64_t mix(std::uint64_t acc, std::uint64_t word) { return rotl(acc + word * kPrime2, 31) * kPrime1; }

std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

}  // namespace

std::uint64_t hash_bytes(const void* data, std::size_t n, std::uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  const unsigned char* const end = p + n;
  std::uint64_t h;
  if (n >= 32) {
    std::uint64_t v[4] = {seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1};
    for (; p + 32 <= end; p += 32)
      for (int k = 0; k < 4; ++k) v[k] = mix(v[k], load64(p + 8 * k));
    h = rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18);
    for (std::uint64_t x : v) h = (h ^ mix(0, x)) * kPrime1 + kPrime3;
  } else {
    h = seed + kPrime3;
  }
  h += n;
  for (; p + 8 <= end; p += 8) h = rotl(h ^ mix(0, load64(p)), 27) * kPrime1 + kPrime3;
  for (; p < end; ++p) h = rotl(h ^ (*p * kPrime3), 11) * kPrime1;
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  return h ^ (h >> 32);
}

}  // namespace npuvp::runtime
