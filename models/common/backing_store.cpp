#include "models/common/backing_store.h"

#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace npuvp {

#if defined(__linux__)

BackingStore::BackingStore(std::size_t bytes) : size_(bytes) {
  // mmap refuses a zero length; one page stands for an empty store.
  void* p =
      mmap(nullptr, bytes == 0 ? 1 : bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  // Advice only: a kernel without transparent huge pages has nothing to turn off.
  madvise(p, bytes, MADV_NOHUGEPAGE);
  data_ = static_cast<std::uint8_t*>(p);
}

BackingStore::~BackingStore() { munmap(data_, size_ == 0 ? 1 : size_); }

#else

BackingStore::BackingStore(std::size_t bytes)
    : data_(static_cast<std::uint8_t*>(std::calloc(bytes == 0 ? 1 : bytes, 1))), size_(bytes) {
  if (data_ == nullptr) throw std::bad_alloc();
}

BackingStore::~BackingStore() { std::free(data_); }

#endif

}  // namespace npuvp
