#include "models/common/backing_store.h"

#include <gtest/gtest.h>

#include <cstring>

#include "tests/support/smaps.h"

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

// The store stays on 4 KiB pages: three bytes written far apart make three
// pages resident, where huge pages would make three of 2 MiB (and, fresh to
// the host, cost ten times as much kernel time; docs/performance.md).
TEST(BackingStore, WhatIsResidentFollowsWhatIsWritten) {
  constexpr std::size_t kBytes = std::size_t{64} << 20;
  BackingStore store(kBytes);
  for (std::size_t at : {std::size_t{5} << 20, std::size_t{30} << 20, kBytes - 100}) store.data()[at] = 1;
  EXPECT_LE(test::smaps_kib_at(store.data(), "Rss"), 3 * 4);
  EXPECT_LE(test::smaps_kib_at(store.data(), "AnonHugePages"), 0);  // -1: a kernel without the field
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
