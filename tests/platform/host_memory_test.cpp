// The npuvp executable's memory policy (platform/host_memory.cpp), linked
// into this test binary as it is into npuvp. Each TEST runs in its own process.
#include <malloc.h>
#include <sys/prctl.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>

namespace npuvp {
namespace {

// Fresh huge pages cost this machine's kernel ten times 4 KiB ones
// (docs/performance.md, "2026-12-06 (evening): huge pages").
TEST(HostMemory, TransparentHugePagesAreOffForTheProcess) { EXPECT_EQ(prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0), 1); }

// A block freed by one layer serves the next from the same (already
// faulted-in) memory, however large: glibc's default maps a block above its
// mmap threshold (at most 32 MiB) on its own and unmaps it when freed.
TEST(HostMemory, AFreedBlockServesTheNextOneOfItsSizeFromTheHeap) {
  const std::size_t bytes = std::size_t{64} << 20;
  const std::size_t mapped_before = mallinfo2().hblkhd;
  char* first = new char[bytes];
  first[0] = 1;
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before);  // not a mapping of its own
  const auto first_address = reinterpret_cast<std::uintptr_t>(first);
  delete[] first;
  const std::unique_ptr<char[]> second(new char[bytes]);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(second.get()), first_address);
}

// Freed space stays in the heap, however much of it there is: the DRAM
// store's chunks, taken after the preparation, reuse it.
TEST(HostMemory, FreedSpaceIsKept) {
  const std::size_t bytes = std::size_t{300} << 20;
  char* block = new char[bytes];
  block[0] = 1;
  const std::size_t heap = mallinfo2().arena;
  ASSERT_GE(heap, bytes);
  delete[] block;
  EXPECT_EQ(mallinfo2().arena, heap);
}

}  // namespace
}  // namespace npuvp
