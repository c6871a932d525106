// Zero-filled memory behind a memory model, for stores of any size.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npuvp {

// A zero-filled byte array whose untouched pages cost no memory, so a model
// can back a whole DRAM's address range while a run touches only a part.
//
// Where the host can (Linux), the array is its own anonymous mapping advised
// for transparent huge pages: a run writing a network's weights and
// activations into DRAM otherwise takes one page fault per 4 KiB it touches,
// about 8,000 for ResNet-50, which cost more host time than copying the bytes
// (docs/performance.md, "2026-12-05 (morning): page faults"). The price is
// memory: a 2 MiB page is resident as soon as one of its bytes is written.
class BackingStore {
 public:
  // Throws std::bad_alloc when the host cannot reserve `bytes`.
  explicit BackingStore(std::size_t bytes);
  ~BackingStore();
  BackingStore(const BackingStore&) = delete;
  BackingStore& operator=(const BackingStore&) = delete;

  std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::uint8_t* data_;
  std::size_t size_;
};

}  // namespace npuvp
