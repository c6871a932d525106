#include "models/common/tlm_target_checks.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace npuvp::tlmx {
namespace {

constexpr unsigned char kOn = TLM_BYTE_ENABLED;
constexpr unsigned char kOff = TLM_BYTE_DISABLED;

void prepare(tlm::tlm_generic_payload& gp, tlm::tlm_command cmd, std::uint64_t addr, std::vector<std::uint8_t>& data,
             std::vector<unsigned char>& enables) {
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(data.data());
  gp.set_data_length(static_cast<unsigned>(data.size()));
  gp.set_byte_enable_ptr(enables.empty() ? nullptr : enables.data());
  gp.set_byte_enable_length(static_cast<unsigned>(enables.size()));
}

TEST(CopyPayload, WritesOnlyEnabledRunsOfAMaskThatRepeats) {
  std::vector<std::uint8_t> memory(16, 0xee);
  std::vector<std::uint8_t> data = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  // Two bytes on, one off: the mask is shorter than the data and repeats.
  std::vector<unsigned char> enables = {kOn, kOn, kOff};
  tlm::tlm_generic_payload gp;
  prepare(gp, tlm::TLM_WRITE_COMMAND, 3, data, enables);
  ASSERT_EQ(check_memory_access(gp, memory.size()), tlm::TLM_OK_RESPONSE);
  copy_payload(gp, memory.data());
  const std::vector<std::uint8_t> expected = {0xee, 0xee, 0xee, 1,    2,  0xee, 4,    5,
                                              0xee, 7,    8,    0xee, 10, 0xee, 0xee, 0xee};
  EXPECT_EQ(memory, expected);
}

TEST(CopyPayload, ReadsOnlyEnabledBytesAndLeavesTheOthers) {
  std::vector<std::uint8_t> memory = {10, 11, 12, 13, 14, 15, 16, 17};
  std::vector<std::uint8_t> data(6, 0);
  std::vector<unsigned char> enables = {kOff, kOn, kOn, kOn, kOff, kOn};
  tlm::tlm_generic_payload gp;
  prepare(gp, tlm::TLM_READ_COMMAND, 1, data, enables);
  copy_payload(gp, memory.data());
  EXPECT_EQ(data, (std::vector<std::uint8_t>{0, 12, 13, 14, 0, 16}));
}

TEST(CopyPayload, LongRunsAndAnyNonzeroDisabledValueMatchByteByByte) {
  // Runs longer and shorter than a word, a disabled value other than 0 and a
  // mask that repeats from an offset no word boundary lines up with.
  std::vector<unsigned char> enables;
  bool on = true;
  for (unsigned run : {19u, 3u, 1u, 9u, 16u, 2u, 8u, 7u}) {
    enables.insert(enables.end(), run, on ? kOn : kOff);
    on = !on;
  }
  for (unsigned k = 0; k < enables.size(); k += 5)
    if (enables[k] == kOff) enables[k] = 0x7f;
  std::vector<std::uint8_t> data(150);
  for (std::size_t k = 0; k < data.size(); ++k) data[k] = static_cast<std::uint8_t>(k + 1);
  std::vector<std::uint8_t> memory(160, 0), expected(160, 0);
  for (std::size_t k = 0; k < data.size(); ++k)
    if (enables[k % enables.size()] == kOn) expected[5 + k] = data[k];
  tlm::tlm_generic_payload gp;
  prepare(gp, tlm::TLM_WRITE_COMMAND, 5, data, enables);
  copy_payload(gp, memory.data());
  EXPECT_EQ(memory, expected);
}

TEST(CopyPayload, WithoutByteEnablesCopiesEverything) {
  std::vector<std::uint8_t> memory(4, 0);
  std::vector<std::uint8_t> data = {5, 6, 7};
  std::vector<unsigned char> none;
  tlm::tlm_generic_payload gp;
  prepare(gp, tlm::TLM_WRITE_COMMAND, 1, data, none);
  copy_payload(gp, memory.data());
  EXPECT_EQ(memory, (std::vector<std::uint8_t>{0, 5, 6, 7}));
}

// Into a chunked store: a payload across three chunks, its mask repeating
// from a different offset in each, lands where the flat copy puts it.
TEST(CopyPayload, IntoAStoreAcrossChunksAsIntoFlatMemory) {
  constexpr std::size_t kChunk = BackingStore::kChunkBytes;
  std::vector<unsigned char> enables = {kOn, kOn, kOn, kOff, kOn, kOn, kOff};  // 7: no divisor of a chunk
  std::vector<std::uint8_t> data(kChunk + 200);
  for (std::size_t k = 0; k < data.size(); ++k) data[k] = static_cast<std::uint8_t>(k * 7 + 3);
  const std::uint64_t address = kChunk - 100;  // 100 bytes in the first chunk, 100 in the third
  std::vector<std::uint8_t> flat(3 * kChunk, 0);
  BackingStore store(3 * kChunk);
  tlm::tlm_generic_payload gp;
  prepare(gp, tlm::TLM_WRITE_COMMAND, address, data, enables);
  copy_payload(gp, flat.data());
  copy_payload(gp, store);
  EXPECT_EQ(store.resident_bytes(), 3 * kChunk);
  for (std::size_t at = 0; at < flat.size(); ++at) {
    std::size_t room = 0;
    ASSERT_EQ(*store.readable(at, room), flat[at]) << at;
  }
  // Read back through the same mask: the enabled bytes, the others left.
  std::vector<std::uint8_t> back(data.size(), 0xee);
  prepare(gp, tlm::TLM_READ_COMMAND, address, back, enables);
  copy_payload(gp, store);
  for (std::size_t k = 0; k < data.size(); ++k)
    ASSERT_EQ(back[k], enables[k % enables.size()] == kOn ? data[k] : 0xee) << k;
}

// A read of chunks never written gives zeros and takes no memory.
TEST(CopyPayload, FromAStoreReadsUnwrittenChunksAsZeros) {
  constexpr std::size_t kChunk = BackingStore::kChunkBytes;
  BackingStore store(4 * kChunk);
  std::size_t room = 0;
  *store.writable(kChunk + 1, room) = 9;
  std::vector<std::uint8_t> data(kChunk + 4, 0xee);
  std::vector<unsigned char> none;
  tlm::tlm_generic_payload gp;
  prepare(gp, tlm::TLM_READ_COMMAND, 2 * kChunk - 2, data, none);  // the written chunk's last bytes, then the next
  copy_payload(gp, store);
  EXPECT_EQ(data, std::vector<std::uint8_t>(data.size(), 0));
  prepare(gp, tlm::TLM_READ_COMMAND, kChunk, data, none);
  copy_payload(gp, store);
  EXPECT_EQ(data[1], 9);
  EXPECT_EQ(store.resident_bytes(), kChunk);
}

}  // namespace
}  // namespace npuvp::tlmx
