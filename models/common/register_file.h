#pragma once
// Memory-mapped registers as named objects: one RegisterSpec table per device
// serves the model, the driver header and the generated documentation.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <tlm>

#include "contract/register_spec.h"

namespace spdlog {
class logger;
}

namespace npuvp::regs {

// The registers of one device. Accesses are 32-bit and aligned; anything else
// is answered with an error response, never silently accepted.
class RegisterFile {
 public:
  using WriteHook = std::function<void(std::uint32_t value)>;
  using ReadHook = std::function<std::uint32_t()>;

  RegisterFile(std::string owner, std::vector<RegisterSpec> specs);

  // Called after a bus write has updated the stored value (for W1C, with the
  // bits written). A hook may reject a value by calling reject().
  void on_write(std::uint32_t offset, WriteHook hook);
  // Supplies the value of a register computed on read (counters, status).
  void on_read(std::uint32_t offset, ReadHook hook);

  std::uint32_t get(std::uint32_t offset) const;
  void set(std::uint32_t offset, std::uint32_t value);
  void reset();

  // Serves a bus access whose address is local to the register block.
  tlm::tlm_response_status access(tlm::tlm_generic_payload& gp);
  // Side-effect-free access for debug transport: reads stored values.
  unsigned debug_access(tlm::tlm_generic_payload& gp) const;

  const std::vector<RegisterSpec>& specs() const { return specs_; }
  std::uint64_t size_bytes() const { return size_; }

 private:
  int index_of(std::uint32_t offset) const;

  std::string owner_;
  // Register accesses at debug level, named: the firmware developer's view of the bus.
  std::shared_ptr<spdlog::logger> log_;
  std::vector<RegisterSpec> specs_;
  std::vector<std::uint32_t> values_;
  std::vector<WriteHook> write_hooks_;
  std::vector<ReadHook> read_hooks_;
  std::vector<int> index_by_word_;
  std::uint64_t size_ = 0;
};

}  // namespace npuvp::regs
