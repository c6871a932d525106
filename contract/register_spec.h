#pragma once
// The description of one memory-mapped register. Tables of these are the single
// definition of a device's registers: the model serves them, drivers and
// firmware take their offsets from them, and `npuvp regs` documents them.
// No SystemC here, so driver code can include it.

#include <cstddef>
#include <cstdint>

namespace npuvp::regs {

enum class Access { kReadWrite, kReadOnly, kWriteOnly, kWriteOneToClear };

struct RegisterSpec {
  const char* name;
  std::uint32_t offset;
  std::uint32_t reset;
  Access access;
  const char* description;
};

// One field of an in-memory format (a command or a job descriptor).
struct FieldSpec {
  const char* name;
  std::size_t offset, bytes;
  const char* description;
};

constexpr const char* to_string(Access access) {
  switch (access) {
    case Access::kReadWrite:
      return "RW";
    case Access::kReadOnly:
      return "RO";
    case Access::kWriteOnly:
      return "WO";
    case Access::kWriteOneToClear:
      return "W1C";
  }
  return "?";
}

}  // namespace npuvp::regs
