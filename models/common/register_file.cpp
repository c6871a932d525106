#include "models/common/register_file.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "models/common/log.h"

namespace npuvp::regs {

RegisterFile::RegisterFile(std::string owner, std::vector<RegisterSpec> specs)
    : owner_(std::move(owner)), log_(log::component(owner_)), specs_(std::move(specs)) {
  for (const auto& s : specs_) {
    if (s.offset % 4 != 0)
      throw std::invalid_argument(owner_ + ": register " + s.name + " offset is not 32-bit aligned");
    size_ = std::max<std::uint64_t>(size_, s.offset + 4);
  }
  index_by_word_.assign(size_ / 4, -1);
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    int& slot = index_by_word_[specs_[i].offset / 4];
    if (slot != -1) throw std::invalid_argument(owner_ + ": two registers at offset of " + specs_[i].name);
    slot = static_cast<int>(i);
  }
  values_.resize(specs_.size());
  write_hooks_.resize(specs_.size());
  read_hooks_.resize(specs_.size());
  reset();
}

void RegisterFile::reset() {
  for (std::size_t i = 0; i < specs_.size(); ++i) values_[i] = specs_[i].reset;
}

int RegisterFile::index_of(std::uint32_t offset) const {
  if (offset % 4 != 0 || offset / 4 >= index_by_word_.size()) return -1;
  return index_by_word_[offset / 4];
}

void RegisterFile::on_write(std::uint32_t offset, WriteHook hook) {
  const int i = index_of(offset);
  if (i < 0) throw std::invalid_argument(owner_ + ": no register at write hook offset");
  write_hooks_[i] = std::move(hook);
}

void RegisterFile::on_read(std::uint32_t offset, ReadHook hook) {
  const int i = index_of(offset);
  if (i < 0) throw std::invalid_argument(owner_ + ": no register at read hook offset");
  read_hooks_[i] = std::move(hook);
}

std::uint32_t RegisterFile::get(std::uint32_t offset) const {
  const int i = index_of(offset);
  if (i < 0) throw std::out_of_range(owner_ + ": no register at offset");
  return values_[i];
}

void RegisterFile::set(std::uint32_t offset, std::uint32_t value) {
  const int i = index_of(offset);
  if (i < 0) throw std::out_of_range(owner_ + ": no register at offset");
  values_[i] = value;
}

tlm::tlm_response_status RegisterFile::access(tlm::tlm_generic_payload& gp) {
  const auto refuse = [&](tlm::tlm_response_status status, const char* why) {
    log_->debug("{} at offset {:#x} (+{} bytes) refused: {}", gp.is_read() ? "read" : "write", gp.get_address(),
                gp.get_data_length(), why);
    return status;
  };
  if (gp.get_data_length() != 4 || gp.get_byte_enable_ptr() != nullptr)
    return refuse(tlm::TLM_BURST_ERROR_RESPONSE, "registers take aligned 32-bit accesses");
  const int i = gp.get_address() > UINT32_MAX ? -1 : index_of(static_cast<std::uint32_t>(gp.get_address()));
  if (i < 0) return refuse(tlm::TLM_ADDRESS_ERROR_RESPONSE, "no register there");
  const RegisterSpec& spec = specs_[i];
  std::uint32_t word;
  if (gp.is_read()) {
    if (spec.access == Access::kWriteOnly) return refuse(tlm::TLM_COMMAND_ERROR_RESPONSE, "write-only register");
    word = read_hooks_[i] ? read_hooks_[i]() : values_[i];
    std::memcpy(gp.get_data_ptr(), &word, 4);
    log_->debug("read {} -> {:#x}", spec.name, word);
    return tlm::TLM_OK_RESPONSE;
  }
  if (!gp.is_write()) return refuse(tlm::TLM_COMMAND_ERROR_RESPONSE, "neither a read nor a write");
  std::memcpy(&word, gp.get_data_ptr(), 4);
  switch (spec.access) {
    case Access::kReadOnly:
      return refuse(tlm::TLM_COMMAND_ERROR_RESPONSE, "read-only register");
    case Access::kWriteOneToClear:
      values_[i] &= ~word;
      break;
    case Access::kReadWrite:
    case Access::kWriteOnly:
      values_[i] = word;
      break;
  }
  log_->debug("write {} = {:#x}", spec.name, word);
  if (write_hooks_[i]) write_hooks_[i](word);
  return tlm::TLM_OK_RESPONSE;
}

unsigned RegisterFile::debug_access(tlm::tlm_generic_payload& gp) const {
  if (!gp.is_read()) return 0;
  unsigned done = 0;
  for (unsigned k = 0; k < gp.get_data_length(); ++k) {
    const std::uint64_t byte_addr = gp.get_address() + k;
    const int i = index_of(static_cast<std::uint32_t>(byte_addr & ~3ull));
    const std::uint32_t v = i < 0 ? 0 : values_[i];
    gp.get_data_ptr()[k] = static_cast<std::uint8_t>(v >> (8 * (byte_addr & 3)));
    ++done;
  }
  return done;
}

}  // namespace npuvp::regs
