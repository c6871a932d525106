#include "models/common/backing_store.h"

#include <algorithm>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace npuvp {
namespace {

// What a chunk never written reads as. Handed out as const only; not const
// itself so that it takes no room in the executable (zero-filled at load,
// like any uninitialized static, rather than stored in its read-only data).
std::uint8_t zeros[BackingStore::kChunkBytes];

std::size_t table_bytes(std::size_t chunks) { return std::max<std::size_t>(chunks, 1) * sizeof(std::uint8_t*); }

#if defined(__linux__)

std::uint8_t** reserve_table(std::size_t chunks) {
  void* p =
      mmap(nullptr, table_bytes(chunks), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<std::uint8_t**>(p);
}

void release_table(std::uint8_t** table, std::size_t chunks) { munmap(table, table_bytes(chunks)); }

#else

std::uint8_t** reserve_table(std::size_t chunks) {
  void* p = std::calloc(table_bytes(chunks), 1);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<std::uint8_t**>(p);
}

void release_table(std::uint8_t** table, std::size_t) { std::free(table); }

#endif

}  // namespace

BackingStore::BackingStore(std::size_t bytes)
    : size_(bytes),
      chunk_count_(bytes / kChunkBytes + (bytes % kChunkBytes != 0 ? 1 : 0)),
      chunks_(reserve_table(chunk_count_)) {}

BackingStore::~BackingStore() {
  for (std::size_t k = 0; k < chunk_count_; ++k) delete[] chunks_[k];
  release_table(chunks_, chunk_count_);
}

std::size_t BackingStore::room_from(std::uint64_t address) const {
  return std::min<std::size_t>(kChunkBytes - address % kChunkBytes, size_ - address);
}

std::uint8_t* BackingStore::writable(std::uint64_t address, std::size_t& room) {
  std::uint8_t*& chunk = chunks_[address / kChunkBytes];
  if (chunk == nullptr) {
    // Value-initialized: zero-filled, from the heap's freed blocks where it
    // has some.
    chunk = new std::uint8_t[kChunkBytes]();
    ++resident_chunks_;
  }
  room = room_from(address);
  return chunk + address % kChunkBytes;
}

const std::uint8_t* BackingStore::readable(std::uint64_t address, std::size_t& room) const {
  const std::uint8_t* chunk = chunks_[address / kChunkBytes];
  room = room_from(address);
  return (chunk != nullptr ? chunk : zeros) + address % kChunkBytes;
}

}  // namespace npuvp
