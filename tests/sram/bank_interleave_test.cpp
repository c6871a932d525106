// The global buffer's address-to-bank mapping (contract/sram_interleave.h),
// below SystemC: every expected bank and offset is worked out by hand.
#include <gtest/gtest.h>

#include "contract/sram_interleave.h"

namespace npuvp::contract {
namespace {

// 4 banks of 1 KiB interleaved by 64 bytes from 0x1000.
constexpr BankInterleave kFour{0x1000, 1024, 4, 64};

TEST(BankInterleave, ConsecutiveChunksGoToConsecutiveBanksAndWrap) {
  // Chunk 0 (0x1000..0x103F) bank 0 offset 0; chunk 1 bank 1; chunk 4 wraps to bank 0 at 64.
  EXPECT_EQ(kFour.place(0x1000).bank, 0u);
  EXPECT_EQ(kFour.place(0x1000).offset, 0u);
  EXPECT_EQ(kFour.place(0x1000).run, 64u);
  EXPECT_EQ(kFour.place(0x1045).bank, 1u);  // chunk 1, byte 5
  EXPECT_EQ(kFour.place(0x1045).offset, 5u);
  EXPECT_EQ(kFour.place(0x1045).run, 59u);
  EXPECT_EQ(kFour.place(0x10FF).bank, 3u);  // chunk 3, last byte
  EXPECT_EQ(kFour.place(0x10FF).offset, 63u);
  EXPECT_EQ(kFour.place(0x10FF).run, 1u);
  EXPECT_EQ(kFour.place(0x1100).bank, 0u);  // chunk 4
  EXPECT_EQ(kFour.place(0x1100).offset, 64u);
  EXPECT_EQ(kFour.place(0x1FFF).bank, 3u);  // chunk 63 = 4 * 15 + 3, last byte
  EXPECT_EQ(kFour.place(0x1FFF).offset, 15u * 64 + 63);
}

TEST(BankInterleave, EveryBankByteHasExactlyOneAddress) {
  std::vector<int> hits(4 * 1024, 0);
  for (std::uint64_t a = kFour.base; a < kFour.base + kFour.size(); ++a) {
    const BankInterleave::Place p = kFour.place(a);
    ASSERT_LT(p.bank, 4u);
    ASSERT_LT(p.offset, 1024u);
    ++hits[p.bank * 1024 + p.offset];
    ASSERT_EQ(kFour.address_of(p.bank, p.offset), a);
  }
  for (int h : hits) ASSERT_EQ(h, 1);
}

TEST(BankInterleave, ChunkOfTheBankSizeIsBanksBackToBack) {
  const BankInterleave contiguous{0x1000, 1024, 4, 1024};
  EXPECT_EQ(contiguous.place(0x13FF).bank, 0u);
  EXPECT_EQ(contiguous.place(0x13FF).offset, 1023u);
  EXPECT_EQ(contiguous.place(0x1400).bank, 1u);
  EXPECT_EQ(contiguous.place(0x1400).offset, 0u);
  EXPECT_EQ(contiguous.place(0x1C10).bank, 3u);
  EXPECT_EQ(contiguous.place(0x1C10).offset, 0x10u);
  EXPECT_EQ(contiguous.place(0x1C10).run, 1024u - 0x10);
}

TEST(BankInterleave, ContainsAndBanksTouched) {
  EXPECT_FALSE(kFour.contains(0xFFF));
  EXPECT_TRUE(kFour.contains(0x1FFF));
  EXPECT_FALSE(kFour.contains(0x2000));
  EXPECT_EQ(kFour.banks_touched(0x1000, 0), 0u);
  EXPECT_EQ(kFour.banks_touched(0x1000, 64), 1u);
  EXPECT_EQ(kFour.banks_touched(0x103F, 2), 2u);  // the last byte of chunk 0, the first of chunk 1
  EXPECT_EQ(kFour.banks_touched(0x1010, 192), 4u);
  EXPECT_EQ(kFour.banks_touched(0x1000, 1000), 4u);
}

}  // namespace
}  // namespace npuvp::contract
