#include "models/common/backing_store.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/support/huge_pages.h"

namespace npuvp {
namespace {

TEST(BackingStore, ReadsAsZerosUntilWrittenAndHoldsWhatIsWritten) {
  constexpr std::size_t kBytes = std::size_t{64} << 20;
  BackingStore store(kBytes);
  ASSERT_EQ(store.size(), kBytes);
  for (std::size_t at : {std::size_t{0}, kBytes / 3, kBytes - 1}) EXPECT_EQ(store.data()[at], 0) << at;
  std::memset(store.data() + kBytes / 2, 0x5a, 4096);
  EXPECT_EQ(store.data()[kBytes / 2 + 4095], 0x5a);
  EXPECT_EQ(store.data()[kBytes / 2 + 4096], 0);
  EXPECT_EQ(store.data()[kBytes - 1], 0);
}

// The store is advised for transparent huge pages, so that a run touching
// its DRAM takes one page fault per 2 MiB instead of one per 4 KiB.
TEST(BackingStore, IsAdvisedForHugePages) {
  if (!test::transparent_huge_pages_advisable()) GTEST_SKIP() << "this kernel has no transparent huge pages to advise";
  BackingStore store(std::size_t{16} << 20);
  EXPECT_NE(test::vm_flags_at(store.data() + (8 << 20)).find(" hg"), std::string::npos)
      << test::vm_flags_at(store.data());
}

TEST(BackingStore, AnEmptyStoreIsValid) {
  BackingStore store(0);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_NE(store.data(), nullptr);
}

TEST(BackingStore, AStoreTheHostCannotReserveThrows) {
  EXPECT_THROW(BackingStore(~std::size_t{0} >> 1), std::bad_alloc);
}

}  // namespace
}  // namespace npuvp
