#include "models/common/backing_store.h"

#include <algorithm>

namespace npuvp {
namespace {

// What a chunk never written reads as. Handed out as const only; not const
// itself so that it takes no room in the executable (zero-filled at load,
// like any uninitialized static, rather than stored in its read-only data).
std::uint8_t zeros[BackingStore::kChunkBytes];

}  // namespace

BackingStore::BackingStore(std::size_t bytes) : size_(bytes) {
  chunks_.resize(bytes / kChunkBytes + (bytes % kChunkBytes != 0 ? 1 : 0));
}

std::size_t BackingStore::room_from(std::uint64_t address) const {
  return std::min<std::size_t>(kChunkBytes - address % kChunkBytes, size_ - address);
}

std::uint8_t* BackingStore::writable(std::uint64_t address, std::size_t& room) {
  std::unique_ptr<std::uint8_t[]>& chunk = chunks_[address / kChunkBytes];
  if (!chunk) {
    // Value-initialized: zero-filled, from the heap's freed blocks where it
    // has some.
    chunk = std::make_unique<std::uint8_t[]>(kChunkBytes);
    ++resident_chunks_;
  }
  room = room_from(address);
  return chunk.get() + address % kChunkBytes;
}

const std::uint8_t* BackingStore::readable(std::uint64_t address, std::size_t& room) const {
  const std::unique_ptr<std::uint8_t[]>& chunk = chunks_[address / kChunkBytes];
  room = room_from(address);
  return (chunk ? chunk.get() : zeros) + address % kChunkBytes;
}

}  // namespace npuvp
