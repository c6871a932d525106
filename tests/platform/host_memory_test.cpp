// The npuvp executable's memory policy (platform/host_memory.cpp), linked
// into this test binary as it is into npuvp. Each TEST runs in its own process.
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
