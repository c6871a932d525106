// What the kernel says about the mapping that holds an address
// (/proc/self/smaps), for tests of how a store's memory becomes resident.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace npuvp::test {

// The value in kB of `field` ("Rss", "AnonHugePages", ...) of the mapping
// that holds `p`; -1 when no mapping does or it has no such field.
inline long smaps_kib_at(const void* p, const std::string& field) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  bool inside = false;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::istringstream range(line);
    if (range >> std::hex >> begin >> dash >> end && dash == '-' && line.find(':') > line.find(' ')) {
      inside = begin <= address && address < end;
    } else if (inside && line.rfind(field + ":", 0) == 0) {
      return std::stol(line.substr(field.size() + 1));
    }
  }
  return -1;
}

}  // namespace npuvp::test
