// Zero-filled memory behind a memory model, for stores of any size.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npuvp {

// A zero-filled byte array whose unwritten parts cost no memory, so a model
// can back a whole DRAM's address range while a run touches only a part.
//
// It is kept in chunks of kChunkBytes, each taken from the process's heap
// the first time a byte of it is written (or a direct pointer to it is
// granted) and zero-filled then; a chunk never written reads as zeros
// without being allocated. Until 2026-12-07 the store was one anonymous
// mapping, every page of it fresh to the process: on the virtual machine the
// benchmarks run on, a page fresh to its host costs 2-16 us of kernel time
// at its first touch, while a run's preparation has by then freed tens of
// MB of heap (its float calibration tensors) that the chunks now reuse
// (docs/performance.md, "2026-12-07 (morning): the DRAM store on the heap").
class BackingStore {
 public:
  // Small enough to come from the heap under glibc's default policy too
  // (below its 128 KiB mmap threshold), to fit the holes freed blocks leave
  // and to keep a sparse store small; large enough that a run's copies
  // seldom straddle two chunks.
  static constexpr std::size_t kChunkBytes = std::size_t{64} << 10;

  // Throws std::bad_alloc when the host cannot reserve the chunk table.
  explicit BackingStore(std::size_t bytes);
  ~BackingStore();
  BackingStore(const BackingStore&) = delete;
  BackingStore& operator=(const BackingStore&) = delete;

  std::size_t size() const { return size_; }

  // The byte at `address` (below size()) for writing, and in `room` how many
  // bytes from it lie in the same chunk (up to the chunk's or the store's end).
  std::uint8_t* writable(std::uint64_t address, std::size_t& room);
  // The same for reading: a chunk never written is a shared block of zeros.
  const std::uint8_t* readable(std::uint64_t address, std::size_t& room) const;

  // Bytes held by the chunks written so far.
  std::size_t resident_bytes() const { return resident_chunks_ * kChunkBytes; }

 private:
  std::size_t room_from(std::uint64_t address) const;

  std::size_t size_;
  std::size_t chunk_count_;
  // A pointer per chunk, null until it is written. The table is a mapping of
  // its own where the host has them, so that only the parts of it a run
  // reaches cost memory (a 16 GiB store's is 2 MiB), and a size the host
  // cannot reserve is refused by the host rather than by the allocator.
  std::uint8_t** chunks_;
  std::size_t resident_chunks_ = 0;
};

}  // namespace npuvp
