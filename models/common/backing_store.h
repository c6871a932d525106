// Zero-filled memory behind a memory model, for stores of any size.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npuvp {

// A zero-filled byte array whose untouched pages cost no memory, so a model
// can back a whole DRAM's address range while a run touches only a part.
//
// Where the host can (Linux), the array is its own anonymous mapping kept
// on 4 KiB pages (MADV_NOHUGEPAGE), so what is resident follows what a run
// writes. It was advised for transparent huge pages until 2026-12-06; on the
// virtual machine the benchmarks run on, a huge page fresh to its host then
// cost 8-10 ms of kernel time per MiB against 0.4-0.9 ms for 4 KiB pages
// (docs/performance.md, "2026-12-06 (evening): huge pages").
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
