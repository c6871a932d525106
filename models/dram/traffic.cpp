#include "models/dram/traffic.h"

#include <algorithm>
#include <stdexcept>

namespace npuvp::dram {

const char* to_string(Pattern pattern) {
  switch (pattern) {
    case Pattern::kSequential:
      return "seq";
    case Pattern::kRandom:
      return "random";
    case Pattern::kStride:
      return "stride";
  }
  return "?";
}

const char* to_string(Operation operation) {
  switch (operation) {
    case Operation::kRead:
      return "read";
    case Operation::kWrite:
      return "write";
    case Operation::kMix:
      return "mix";
  }
  return "?";
}

AddressStream::AddressStream(const TrafficOptions& options, std::uint64_t range_bytes, std::uint64_t page_bytes)
    : options_(options),
      range_(range_bytes),
      stride_(options.stride_bytes != 0 ? options.stride_bytes : page_bytes),
      state_(options.seed * 0x9E3779B97F4A7C15ull + 1),
      slots_(options.size_bytes != 0 ? range_bytes / options.size_bytes : 0) {
  if (options_.size_bytes == 0 || options_.size_bytes > range_)
    throw std::invalid_argument("request size must be 1 byte to the address range");
}

// splitmix64: fast, and the same sequence on every platform for a seed.
std::uint64_t AddressStream::random() {
  std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::uint64_t AddressStream::next() {
  const std::uint64_t size = options_.size_bytes;
  const std::uint64_t i = index_++;
  std::uint64_t a = 0;
  switch (options_.pattern) {
    case Pattern::kSequential:
      a = (i * size) % (range_ / size * size);
      break;
    case Pattern::kRandom:
      a = random() % slots_ * size;
      break;
    case Pattern::kStride:
      a = (i * stride_) % range_;
      break;
  }
  return std::min(a, range_ - size);
}

bool AddressStream::next_is_write() {
  switch (options_.operation) {
    case Operation::kRead:
      return false;
    case Operation::kWrite:
      return true;
    case Operation::kMix:
      return double(random() >> 11) * 0x1.0p-53 < options_.write_fraction;
  }
  return false;
}

std::uint64_t run_closed_loop(DramSystem& system, const TrafficOptions& options) {
  const DramConfig& config = system.config();
  const std::uint64_t range = options.range_bytes != 0 ? options.range_bytes : config.capacity_bytes();
  AddressStream stream(options, std::min(range, config.capacity_bytes()), config.memspec.page_bytes());
  std::uint64_t issued = 0, last = 0;
  auto issue = [&](std::uint64_t cycle) {
    const bool write = stream.next_is_write();
    system.submit(write, stream.next(), options.size_bytes, cycle);
    ++issued;
  };
  system.queue_completions(true);
  const std::uint64_t start = system.now();
  for (unsigned k = 0; k < options.outstanding && issued < options.requests; ++k) issue(start);
  DramSystem::Completion c;
  while (system.next_completion(c)) {
    last = std::max(last, c.done_cycle);
    if (issued < options.requests) issue(c.done_cycle);
  }
  system.queue_completions(false);
  system.flush_observers();
  return last;
}

}  // namespace npuvp::dram
