// What the kernel says about the mapping that holds an address, for tests of
// the transparent huge page advice (BackingStore, platform/host_memory.cpp).
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace npuvp::test {

// Whether this kernel honours MADV_HUGEPAGE ("always" or "madvise").
inline bool transparent_huge_pages_advisable() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string modes;
  std::getline(f, modes);
  return modes.find("[always]") != std::string::npos || modes.find("[madvise]") != std::string::npos;
}

// The VmFlags line of the /proc/self/smaps entry whose range holds `p`
// ("hg" among them: advised for huge pages); empty when none does.
inline std::string vm_flags_at(const void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-' && line.find(':') > line.find(' ')) {
      inside = begin <= address && address < end;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

}  // namespace npuvp::test
