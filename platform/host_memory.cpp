// The npuvp process's heap on transparent huge pages.
//
// A whole-network run touches its memory once and mostly in large blocks:
// float calibration tensors, lowered command and weight blobs, reference
// outputs. With glibc's defaults every 4 KiB of it is a page fault, and
// medium blocks are mapped and unmapped again layer after layer; on a
// virtual machine the faults cost more than the work on the memory
// (ResNet-50: 39,000 faults and about 0.2 s of a 1.5 s run; docs/performance.md,
// "2026-12-05 (morning): page faults"). So for this process only:
// - blocks up to 32 MiB come from the main heap and freed space is kept
//   (a fixed mmap threshold, no trimming below 256 MiB), so that a block
//   freed by one layer serves the next without faulting again;
// - one arena for all threads, so that the reference thread's blocks share
//   that heap;
// - each stretch the heap grows by, and each block of 2 MiB or more, is advised
//   for transparent huge pages (one fault per 2 MiB; the kernel decides).
// It lives in the executable, not the libraries: a host program embedding the
// platform keeps its own allocator policy. Sanitizer builds keep their own.
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define NPUVP_OWN_HEAP_POLICY 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define NPUVP_OWN_HEAP_POLICY 0
#endif
#endif
#ifndef NPUVP_OWN_HEAP_POLICY
#define NPUVP_OWN_HEAP_POLICY 1
#endif

#if NPUVP_OWN_HEAP_POLICY

namespace {

constexpr std::uintptr_t kHugePage = std::uintptr_t{2} << 20;

// The whole 2 MiB pages inside [begin, end).
void advise_huge_pages(std::uintptr_t begin, std::uintptr_t end) {
  begin = (begin + kHugePage - 1) & ~(kHugePage - 1);
  end &= ~(kHugePage - 1);
  if (begin < end) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

class HeapPolicy {
 public:
  HeapPolicy() {
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_TOP_PAD, 32 << 20);  // the heap grows in stretches of whole huge pages
    advised_top_ = heap_top();
  }

  // After an allocation: advise what the heap has grown by since the last
  // one, and the block itself when it is large enough to hold a huge page
  // (above the mmap threshold it is a mapping of its own).
  void advise(const void* block, std::size_t bytes) {
    const std::uintptr_t top = heap_top();
    if (top > advised_top_.load(std::memory_order_relaxed)) {
      const std::lock_guard<std::mutex> lock(grow_mutex_);
      const std::uintptr_t advised = advised_top_.load(std::memory_order_relaxed);
      if (top > advised) {
        // From the huge page the last stretch ended in: brk grows it as a
        // mapping of its own, which the advice merges back.
        advise_huge_pages(advised & ~(kHugePage - 1), top);
        advised_top_.store(top, std::memory_order_relaxed);
      }
    }
    if (bytes >= kHugePage) {
      const auto begin = reinterpret_cast<std::uintptr_t>(block);
      advise_huge_pages(begin, begin + bytes);
    }
  }

 private:
  // sbrk(0) reads glibc's cached break: no system call.
  static std::uintptr_t heap_top() { return reinterpret_cast<std::uintptr_t>(sbrk(0)); }

  std::atomic<std::uintptr_t> advised_top_{0};
  std::mutex grow_mutex_;
};

// Built by the first allocation and never destroyed: static destructors run
// after it would be may still allocate.
HeapPolicy& heap_policy() {
  alignas(HeapPolicy) static unsigned char storage[sizeof(HeapPolicy)];
  static HeapPolicy* const policy = ::new (storage) HeapPolicy;
  return *policy;
}

}  // namespace

void* operator new(std::size_t bytes) {
  void* block = std::malloc(bytes == 0 ? 1 : bytes);
  if (block == nullptr) throw std::bad_alloc();
  heap_policy().advise(block, bytes);
  return block;
}

void operator delete(void* block) noexcept { std::free(block); }
void operator delete(void* block, std::size_t) noexcept { std::free(block); }

#endif
