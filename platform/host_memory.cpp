// The npuvp process's memory policy.
//
// A whole-network run touches its memory once and mostly in large blocks:
// float calibration tensors, lowered command and weight blobs, reference
// outputs, the DRAM model's store. On the virtual machine the benchmarks run
// on, touching a page for the first time costs far more than using it, and
// what it costs depends on the page size (docs/performance.md, "2026-12-05
// (morning): page faults" and "2026-12-06 (evening): huge pages"). So for
// this process only:
// - every block comes from the main heap and freed space is kept (no block
//   mapped on its own, no trimming), so that a block freed by one layer
//   serves the next, and the DRAM model's store (taken from the heap in
//   chunks, models/common/backing_store.h) reuses what the preparation
//   freed, without faulting again. Until 2026-12-07 blocks above 32 MiB (the
//   most glibc's mmap threshold can be set to) were mapped and unmapped each
//   time, and space above 256 MiB trimmed: at 1080x1920 the calibration's
//   float tensors (up to 133 MB) were faulted in afresh layer after layer,
//   and the store's 209 MB after them (docs/performance.md,
//   "2026-12-07 (morning): the DRAM store on the heap");
// - one arena for all threads, so that the reference thread's blocks share
//   that heap;
// - no transparent huge pages. Until 2026-12-06 the heap and the DRAM store
//   were advised for them (one fault per 2 MiB instead of 512); measured
//   since, a huge page fresh to the host costs 8-10 ms of kernel time per MiB
//   and 4 KiB pages 0.4-0.9 ms, where the earlier measurements had put huge
//   pages 1.5-2x cheaper. 4 KiB pages have the smaller worst case, and a
//   store written sparsely stays small.
// It lives in the executable, not the libraries: a host program embedding the
// platform keeps its own policy. Sanitizer builds keep their own allocator.
#include <malloc.h>
#include <sys/prctl.h>

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

// Before main and before the executable's static objects allocate (priority
// 101 runs first among constructors with one); the libraries' initializers,
// which run earlier, allocate little.
[[gnu::constructor(101)]] void set_host_memory_policy() {
  mallopt(M_ARENA_MAX, 1);
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, -1);
  // Overrides any advice, and is kept across fork and exec: the runs that
  // bench and sweep start are npuvp processes too.
  prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
}

}  // namespace

#endif
