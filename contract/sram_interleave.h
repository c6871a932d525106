#pragma once
// How the global buffer's address space is spread over its SRAM banks.
//
// Consecutive `chunk_bytes` chunks of the window go to consecutive banks,
// wrapping after the last one: chunk c lives in bank c % banks, at offset
// (c / banks) * chunk_bytes inside it. With chunk_bytes equal to the bank size
// every bank holds one contiguous range (the banks back to back). The NoC
// routes with it, the firmware places buffers with it and the platform
// validates and prints it; it is plain C++ so all of them share one copy.

#include <cstdint>

namespace npuvp::contract {

struct BankInterleave {
  std::uint64_t base = 0;
  std::uint64_t bank_bytes = 0;  // each bank's size; a multiple of chunk_bytes
  unsigned banks = 1;
  std::uint64_t chunk_bytes = 0;  // the interleave granule

  struct Place {
    unsigned bank = 0;
    std::uint64_t offset = 0;  // inside the bank
    std::uint64_t run = 0;     // bytes from the address to the end of its chunk
  };

  std::uint64_t size() const { return bank_bytes * banks; }
  bool contains(std::uint64_t address) const { return address >= base && address - base < size(); }

  // Where a byte of the window lives; `address` must be inside it.
  Place place(std::uint64_t address) const {
    const std::uint64_t rel = address - base;
    const std::uint64_t chunk = rel / chunk_bytes;
    const std::uint64_t within = rel % chunk_bytes;
    return {static_cast<unsigned>(chunk % banks), chunk / banks * chunk_bytes + within, chunk_bytes - within};
  }

  // The inverse of place(): the window address of a bank's byte.
  std::uint64_t address_of(unsigned bank, std::uint64_t offset) const {
    return base + (offset / chunk_bytes * banks + bank) * chunk_bytes + offset % chunk_bytes;
  }

  // Banks that [address, address + length) touches, at most all of them.
  unsigned banks_touched(std::uint64_t address, std::uint64_t length) const {
    if (length == 0) return 0;
    const std::uint64_t first = (address - base) / chunk_bytes;
    const std::uint64_t last = (address - base + length - 1) / chunk_bytes;
    return static_cast<unsigned>(last - first + 1 < banks ? last - first + 1 : banks);
  }
};

}  // namespace npuvp::contract
