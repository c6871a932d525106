#pragma once
// The only way host software reaches the hardware: 32-bit MMIO, bulk memory
// access and waiting for the NPU's interrupt. On a board this would be
// volatile pointers and an interrupt handler; on npuvp it is the CPU stub.

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace npuvp::sw {

// A host bus access that came back with an error response.
class HostBusError : public std::runtime_error {
 public:
  HostBusError(const std::string& what, std::uint64_t address) : std::runtime_error(what), address_(address) {}
  std::uint64_t address() const { return address_; }

 private:
  std::uint64_t address_;
};

class HostHal {
 public:
  virtual ~HostHal() = default;
  virtual std::uint32_t mmio_read32(std::uint64_t addr) = 0;
  virtual void mmio_write32(std::uint64_t addr, std::uint32_t value) = 0;
  virtual void memory_read(std::uint64_t addr, void* dst, std::size_t bytes) = 0;
  virtual void memory_write(std::uint64_t addr, const void* src, std::size_t bytes) = 0;
  // Sleeps until the interrupt line is high or `timeout_ns` passed; returns
  // whether the interrupt came. A line that stays high is an interrupt the
  // software has not acknowledged: waiting on it again and again without a
  // bus access in between throws std::runtime_error (it would spin forever
  // with no simulated time passing).
  virtual bool wait_for_interrupt(std::uint64_t timeout_ns) = 0;
  virtual std::uint64_t now_ns() const = 0;
};

}  // namespace npuvp::sw
