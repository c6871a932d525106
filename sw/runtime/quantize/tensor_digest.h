#pragma once
// A tensor told apart from others by its length and a 64-bit hash of its
// bytes: what a run keeps of a reference output it has no further use for
// (QuantizedLayer::expected_digest), and the hash the prepared-network cache
// keys and checks its entries with.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace npuvp::runtime {

// 64-bit hash of `n` bytes chained from `seed`: four 64-bit lanes over 32-byte
// blocks, multiply-rotate mixing (the xxHash64 construction), about 10 GB/s
// on one core, so hashing a network's outputs costs little beside checking them.
std::uint64_t hash_bytes(const void* data, std::size_t n, std::uint64_t seed);

struct TensorDigest {
  std::uint64_t bytes = 0;
  std::uint64_t hash = 0;
  bool operator==(const TensorDigest& o) const { return bytes == o.bytes && hash == o.hash; }
  bool operator!=(const TensorDigest& o) const { return !(*this == o); }
};

inline TensorDigest digest_of(const std::vector<std::int8_t>& values) {
  return {values.size(), hash_bytes(values.data(), values.size(), values.size())};
}

}  // namespace npuvp::runtime
