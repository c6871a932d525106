// The npuvp executable's heap policy (platform/host_memory.cpp), linked into
// this test binary as it is into npuvp. Each TEST runs in its own process.
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "tests/support/huge_pages.h"

namespace npuvp {
namespace {

std::uintptr_t heap_top() { return reinterpret_cast<std::uintptr_t>(sbrk(0)); }

TEST(HostMemory, ALargeBlockIsAdvisedForHugePages) {
  if (!test::transparent_huge_pages_advisable()) GTEST_SKIP() << "this kernel has no transparent huge pages to advise";
  const std::unique_ptr<char[]> block(new char[std::size_t{8} << 20]);
  EXPECT_NE(test::vm_flags_at(block.get() + (4 << 20)).find(" hg"), std::string::npos);
}

// Small blocks never reach the large-block rule: only the heap's growth
// is advised under them.
TEST(HostMemory, TheHeapIsAdvisedAsItGrows) {
  if (!test::transparent_huge_pages_advisable()) GTEST_SKIP() << "this kernel has no transparent huge pages to advise";
  const std::uintptr_t start = heap_top();
  std::vector<std::unique_ptr<char[]>> blocks;
  // Bounded: a heap that cannot grow by brk (glibc then maps its memory
  // elsewhere) fails the test instead of looping.
  while (heap_top() < start + (std::uintptr_t{96} << 20) && blocks.size() < 4096)
    blocks.emplace_back(new char[64 << 10]);
  ASSERT_GE(heap_top(), start + (std::uintptr_t{96} << 20)) << "the heap did not grow by brk";
  EXPECT_NE(test::vm_flags_at(blocks.back().get()).find(" hg"), std::string::npos);
  EXPECT_NE(test::vm_flags_at(blocks[blocks.size() / 2].get()).find(" hg"), std::string::npos);
}

// A block freed by one layer serves the next from the same (already
// faulted-in) memory; glibc's default would map and unmap it each time.
TEST(HostMemory, AFreedBlockServesTheNextOneOfItsSize) {
  const std::size_t bytes = std::size_t{16} << 20;
  char* first = new char[bytes];
  first[0] = 1;
  const auto first_address = reinterpret_cast<std::uintptr_t>(first);
  delete[] first;
  const std::unique_ptr<char[]> second(new char[bytes]);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(second.get()), first_address);
}

}  // namespace
}  // namespace npuvp
