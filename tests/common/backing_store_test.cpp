#include "models/common/backing_store.h"

#include <gtest/gtest.h>

#include <cstring>
#include <new>

namespace npuvp {
namespace {

constexpr std::size_t kChunk = BackingStore::kChunkBytes;

std::uint8_t read_byte(const BackingStore& store, std::uint64_t address) {
  std::size_t room = 0;
  return *store.readable(address, room);
}

TEST(BackingStore, ReadsAsZerosUntilWrittenAndHoldsWhatIsWritten) {
  constexpr std::size_t kBytes = std::size_t{64} << 20;
  BackingStore store(kBytes);
  ASSERT_EQ(store.size(), kBytes);
  for (std::size_t at : {std::size_t{0}, kBytes / 3, kBytes - 1}) EXPECT_EQ(read_byte(store, at), 0) << at;
  std::size_t room = 0;
  std::memset(store.writable(kBytes / 2, room), 0x5a, 4096);
  EXPECT_EQ(room, kChunk);  // kBytes / 2 starts a chunk
  EXPECT_EQ(read_byte(store, kBytes / 2 + 4095), 0x5a);
  // The rest of the chunk was zero-filled when it was taken.
  EXPECT_EQ(read_byte(store, kBytes / 2 + 4096), 0);
  EXPECT_EQ(read_byte(store, kBytes / 2 - 1), 0);
  EXPECT_EQ(read_byte(store, kBytes - 1), 0);
}

// A span ends where its chunk does, or where the store does.
TEST(BackingStore, ASpanEndsAtItsChunksEndOrTheStores) {
  BackingStore store(kChunk + 100);
  std::size_t room = 0;
  store.writable(kChunk - 3, room);
  EXPECT_EQ(room, 3u);
  store.readable(kChunk + 10, room);
  EXPECT_EQ(room, 90u);
  std::uint8_t* first = store.writable(0, room);
  EXPECT_EQ(store.writable(kChunk - 3, room), first + kChunk - 3);
}

// Three bytes written far apart take three chunks; reading takes none.
TEST(BackingStore, WhatIsResidentFollowsWhatIsWritten) {
  constexpr std::size_t kBytes = std::size_t{64} << 20;
  BackingStore store(kBytes);
  std::size_t room = 0;
  for (std::size_t at = 0; at < kBytes; at += kBytes / 16) store.readable(at, room);
  EXPECT_EQ(store.resident_bytes(), 0u);
  for (std::size_t at : {std::size_t{5} << 20, std::size_t{30} << 20, kBytes - 100}) *store.writable(at, room) = 1;
  *store.writable((std::size_t{5} << 20) + 7, room) = 2;  // the same chunk again
  EXPECT_EQ(store.resident_bytes(), 3 * kChunk);
}

TEST(BackingStore, AnEmptyStoreIsValid) {
  BackingStore store(0);
  EXPECT_EQ(store.size(), 0u);
  EXPECT_EQ(store.resident_bytes(), 0u);
}

TEST(BackingStore, AStoreTheHostCannotReserveThrows) {
  EXPECT_THROW(BackingStore(~std::size_t{0} >> 1), std::bad_alloc);
}

}  // namespace
}  // namespace npuvp
