#include "models/common/tlm_target_checks.h"

#include <cstring>

namespace npuvp::tlmx {

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
  std::uint8_t* data = gp.get_data_ptr();
  const std::uint32_t len = gp.get_data_length();
  const std::uint8_t* be = gp.get_byte_enable_ptr();
  if (be == nullptr) {
    if (gp.is_read())
      std::memcpy(data, mem, len);
    else
      std::memcpy(mem, data, len);
    return;
  }
  const std::uint32_t be_len = gp.get_byte_enable_length();
  for (std::uint32_t i = 0; i < len; ++i) {
    if (be[i % be_len] != TLM_BYTE_ENABLED) continue;
    if (gp.is_read())
      data[i] = mem[i];
    else
      mem[i] = data[i];
  }
}

}  // namespace npuvp::tlmx
