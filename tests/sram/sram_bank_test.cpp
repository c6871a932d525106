// SRAM bank: data, port timing, exact conflict counts, TLM error responses.
#include <gtest/gtest.h>

#include "models/sram/sram_bank.h"

namespace npuvp::sram {
namespace {

const sc_core::sc_time kCycle(1.25, sc_core::SC_NS);  // 800 MHz

struct Access {
  tlm::tlm_response_status status;
  sc_core::sc_time delay;
};

Access transport(SramBank& bank, tlm::tlm_command cmd, std::uint64_t addr, void* data, unsigned len,
                 sc_core::sc_time at = sc_core::SC_ZERO_TIME, const unsigned char* be = nullptr, unsigned be_len = 0) {
  tlm::tlm_generic_payload gp;
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(static_cast<unsigned char*>(data));
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(const_cast<unsigned char*>(be));
  gp.set_byte_enable_length(be_len);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = at;
  bank.target_socket.get_base_interface().b_transport(gp, delay);
  return {gp.get_response_status(), delay};
}

SramBankConfig config(unsigned ports) {
  SramBankConfig c;
  c.size_bytes = 4096;
  c.word_bytes = 32;
  c.ports = ports;
  c.read_latency_cycles = 2;
  c.write_latency_cycles = 1;
  return c;
}

TEST(SramBank, ConflictsOnOnePortAreCountedExactly) {
  SramBank bank("bank", config(1));
  std::vector<std::uint8_t> buf(256);
  // 256 bytes = 8 words: the port is busy for cycles [0, 8).
  auto a = transport(bank, tlm::TLM_READ_COMMAND, 0, buf.data(), 256);
  EXPECT_EQ(a.delay, kCycle * 10);  // 8 words + 2 cycles read latency
  // A second access arriving at cycle 3 waits 5 cycles, then takes 2 words.
  auto b = transport(bank, tlm::TLM_READ_COMMAND, 512, buf.data(), 64, kCycle * 3);
  EXPECT_EQ(b.delay, kCycle * (8 + 2 + 2));
  EXPECT_EQ(bank.stats().conflict_cycles, 5u);
  // One arriving after the port is free waits for nothing.
  transport(bank, tlm::TLM_WRITE_COMMAND, 0, buf.data(), 32, kCycle * 20);
  EXPECT_EQ(bank.stats().conflict_cycles, 5u);
  EXPECT_EQ(bank.stats().read_words, 10u);
  EXPECT_EQ(bank.stats().write_words, 1u);
  EXPECT_EQ(bank.stats().busy_cycles, 11u);
}

TEST(SramBank, AnEarlierAccessIssuedLaterTakesTheGapBeforeABooking) {
  // Loosely timed initiators reach the bank in the order they run: one far
  // ahead books cycles [100, 108) first; one at cycle 0 issued after it still
  // runs at once, and one at 96 needing 8 words cannot fit before 100.
  SramBank bank("bank", config(1));
  std::vector<std::uint8_t> buf(256);
  auto ahead = transport(bank, tlm::TLM_READ_COMMAND, 0, buf.data(), 256, kCycle * 100);
  EXPECT_EQ(ahead.delay, kCycle * (108 + 2));
  auto early = transport(bank, tlm::TLM_READ_COMMAND, 0, buf.data(), 256);
  EXPECT_EQ(early.delay, kCycle * (8 + 2));
  EXPECT_EQ(bank.stats().conflict_cycles, 0u);
  auto squeezed = transport(bank, tlm::TLM_READ_COMMAND, 0, buf.data(), 256, kCycle * 96);
  EXPECT_EQ(squeezed.delay, kCycle * (116 + 2));
  EXPECT_EQ(bank.stats().conflict_cycles, 12u);
}

TEST(SramBank, TwoPortsServeTwoAccessesAtOnce) {
  SramBank bank("bank", config(2));
  std::vector<std::uint8_t> buf(256);
  transport(bank, tlm::TLM_READ_COMMAND, 0, buf.data(), 256);
  auto b = transport(bank, tlm::TLM_READ_COMMAND, 0, buf.data(), 256);
  EXPECT_EQ(b.delay, kCycle * 10);
  auto c = transport(bank, tlm::TLM_READ_COMMAND, 0, buf.data(), 32);
  EXPECT_EQ(c.delay, kCycle * (8 + 1 + 2));
  EXPECT_EQ(bank.stats().conflict_cycles, 8u);
}

TEST(SramBank, StoresBytesAndHonoursByteEnables) {
  SramBank bank("bank", config(1));
  std::uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  transport(bank, tlm::TLM_WRITE_COMMAND, 100, data, 8);
  const unsigned char be[4] = {TLM_BYTE_ENABLED, TLM_BYTE_DISABLED, TLM_BYTE_DISABLED, TLM_BYTE_DISABLED};
  std::uint8_t ones[8] = {9, 9, 9, 9, 9, 9, 9, 9};
  EXPECT_EQ(transport(bank, tlm::TLM_WRITE_COMMAND, 100, ones, 8, sc_core::SC_ZERO_TIME, be, 4).status,
            tlm::TLM_OK_RESPONSE);
  std::uint8_t got[8] = {};
  transport(bank, tlm::TLM_READ_COMMAND, 100, got, 8);
  const std::uint8_t expected[8] = {9, 2, 3, 4, 9, 6, 7, 8};
  EXPECT_EQ(std::vector<std::uint8_t>(got, got + 8), std::vector<std::uint8_t>(expected, expected + 8));
}

TEST(SramBank, OutOfRangeAndBadCommandsAreErrors) {
  SramBank bank("bank", config(1));
  std::uint8_t buf[64] = {};
  EXPECT_EQ(transport(bank, tlm::TLM_READ_COMMAND, 4090, buf, 8).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(transport(bank, tlm::TLM_READ_COMMAND, 4096, buf, 1).status, tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(transport(bank, tlm::TLM_IGNORE_COMMAND, 0, buf, 8).status, tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(bank.stats().reads + bank.stats().writes, 0u);
}

}  // namespace
}  // namespace npuvp::sram
