#include "models/common/tlm_target_checks.h"

#include <algorithm>
#include <cstring>

namespace npuvp::tlmx {
namespace {

// Whether all eight mask bytes at p are enabled (`enabled`) or all disabled.
bool word_is(const std::uint8_t* p, bool enabled) {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);
  if (enabled) return w == ~std::uint64_t{0};
  // Disabled is anything but TLM_BYTE_ENABLED (0xff): no byte of ~w is zero.
  const std::uint64_t x = ~w;
  constexpr std::uint64_t kOnes = 0x0101010101010101, kHighs = 0x8080808080808080;
  return ((x - kOnes) & ~x & kHighs) == 0;
}

// Calls run(i, end) for each run [i, end) of enabled bytes among the
// payload's bytes [first, first + count), numbered from `first`; without
// byte enables, once for all of them.
template <typename Run>
void for_each_enabled_run(const tlm::tlm_generic_payload& gp, std::uint32_t first, std::uint32_t count, Run&& run) {
  const std::uint8_t* be = gp.get_byte_enable_ptr();
  if (be == nullptr) {
    run(std::uint32_t{0}, count);
    return;
  }
  // A cluster writing k channels of each pixel enables runs of bytes: each
  // run is copied whole, its end found a word of the mask at a time where
  // the word lies within both the mask and the data.
  const std::uint32_t be_len = gp.get_byte_enable_length();
  std::uint32_t j = first % be_len;  // (first + i) % be_len: the mask repeats when shorter than the data
  for (std::uint32_t i = 0; i < count;) {
    const bool enabled = be[j] == TLM_BYTE_ENABLED;
    std::uint32_t end = i;
    do {
      if (j + 8 <= be_len && end + 8 <= count && word_is(be + j, enabled)) {
        end += 8;
        j += 8;
      } else {
        ++end;
        ++j;
      }
      if (j == be_len) j = 0;
    } while (end < count && (be[j] == TLM_BYTE_ENABLED) == enabled);
    if (enabled) run(i, end);
    i = end;
  }
}

// The payload's bytes [first, first + count) into its data from `mem`, the
// storage of byte `first`.
void read_part(tlm::tlm_generic_payload& gp, std::uint32_t first, std::uint32_t count, const std::uint8_t* mem) {
  std::uint8_t* data = gp.get_data_ptr() + first;
  for_each_enabled_run(gp, first, count,
                       [&](std::uint32_t i, std::uint32_t end) { std::memcpy(data + i, mem + i, end - i); });
}

// The same bytes from its data into `mem`.
void write_part(const tlm::tlm_generic_payload& gp, std::uint32_t first, std::uint32_t count, std::uint8_t* mem) {
  const std::uint8_t* data = gp.get_data_ptr() + first;
  for_each_enabled_run(gp, first, count,
                       [&](std::uint32_t i, std::uint32_t end) { std::memcpy(mem + i, data + i, end - i); });
}

}  // namespace

tlm::tlm_response_status check_memory_access(const tlm::tlm_generic_payload& gp, std::uint64_t size) {
  const auto cmd = gp.get_command();
  if (cmd != tlm::TLM_READ_COMMAND && cmd != tlm::TLM_WRITE_COMMAND) return tlm::TLM_COMMAND_ERROR_RESPONSE;
  const std::uint64_t addr = gp.get_address();
  const std::uint64_t len = gp.get_data_length();
  if (len == 0 || addr >= size || len > size - addr) return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  // Streaming (a fixed-address FIFO window) is not something a memory does.
  if (gp.get_streaming_width() != 0 && gp.get_streaming_width() < len) return tlm::TLM_BURST_ERROR_RESPONSE;
  if (gp.get_byte_enable_ptr() != nullptr && gp.get_byte_enable_length() == 0)
    return tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
  return tlm::TLM_OK_RESPONSE;
}

void copy_payload(tlm::tlm_generic_payload& gp, std::uint8_t* storage) {
  std::uint8_t* mem = storage + gp.get_address();
  if (gp.is_read())
    read_part(gp, 0, gp.get_data_length(), mem);
  else
    write_part(gp, 0, gp.get_data_length(), mem);
}

void copy_payload(tlm::tlm_generic_payload& gp, BackingStore& storage) {
  const std::uint64_t address = gp.get_address();
  const std::uint32_t length = gp.get_data_length();
  std::size_t part = 0;  // the bytes copied in one chunk
  for (std::uint32_t done = 0; done < length; done += static_cast<std::uint32_t>(part)) {
    if (gp.is_read()) {
      // A chunk never written stays unallocated: it reads as zeros.
      const std::uint8_t* from = storage.readable(address + done, part);
      part = std::min<std::size_t>(part, length - done);
      read_part(gp, done, static_cast<std::uint32_t>(part), from);
    } else {
      std::uint8_t* to = storage.writable(address + done, part);
      part = std::min<std::size_t>(part, length - done);
      write_part(gp, done, static_cast<std::uint32_t>(part), to);
    }
  }
}

}  // namespace npuvp::tlmx
