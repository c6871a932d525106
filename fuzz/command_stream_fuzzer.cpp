// The firmware's command decoder: one ring entry whose command buffer holds
// the fuzzer's bytes as LayerCommands, run by firmware_main() on edge-ip's
// NPU layout against a HAL whose DMA channels and clusters finish at once
// without error. Every command must end in a completed entry or an error
// status; the HAL checks that whatever the firmware writes lands in the NPU's
// SRAM or registers.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "contract/address_map.h"
#include "contract/command_format.h"
#include "firmware/firmware.h"
#include "firmware/hal.h"
#include "models/npu/npu.h"
#include "platform/platform_config.h"

namespace {

using namespace npuvp;
using firmware::BusError;

// firmware_main() never returns: the HAL ends it once the entry is done.
struct EntryDone {};
// A command that validates may be genuinely long (a 60000-row image moves
// row tile by row tile); past this many bus operations it is not the
// decoder's time any more.
struct BudgetSpent {};

constexpr std::uint64_t kRingBase = address_map::kDramBase;
constexpr std::uint64_t kCommandBase = address_map::kDramBase + 0x1000;
// System memory the fuzzed commands may point into; reads beyond it fail as
// the bus would.
constexpr std::uint64_t kDramBytes = std::uint64_t{1} << 32;
constexpr std::uint64_t kBusOperations = 100'000;

class FakeHal final : public firmware::Hal {
 public:
  FakeHal(const firmware::NpuLayout& layout, const std::uint8_t* data, std::size_t size)
      : layout_(layout), commands_(data, data + size) {
    commands_.resize((size + sizeof(firmware::LayerCommand) - 1) / sizeof(firmware::LayerCommand) *
                     sizeof(firmware::LayerCommand));
  }

  const firmware::NpuLayout& layout() const override { return layout_; }

  std::uint32_t read32(std::uint64_t addr) override {
    std::uint32_t v = 0;
    read(addr, &v, sizeof v);
    return v;
  }
  void write32(std::uint64_t addr, std::uint32_t value) override { write(addr, &value, sizeof value); }

  void read(std::uint64_t addr, void* dst, std::size_t bytes) override {
    spend();
    auto* out = static_cast<std::uint8_t*>(dst);
    if (addr == kRingBase && bytes == sizeof(firmware::RingEntry)) {
      const firmware::RingEntry entry{kCommandBase,
                                      static_cast<std::uint32_t>(commands_.size() / sizeof(firmware::LayerCommand)), 0};
      std::memcpy(out, &entry, sizeof entry);
      return;
    }
    if (npu_local(addr, bytes)) {
      // IRQ registers read "no error"; in SRAM only the jobs' completion
      // words are read back, and they read "done".
      std::memset(out, 0, bytes);
      if (addr >= layout_.sram_base && addr < layout_.sram_base + layout_.sram_bytes)
        for (std::size_t i = 0; i + 4 <= bytes; i += 4) out[i] = pe_array::kJobStatusDone;
      return;
    }
    if (addr < address_map::kDramBase || addr - address_map::kDramBase > kDramBytes - bytes)
      throw BusError("read outside DRAM", addr);
    std::memset(out, 0, bytes);
    if (addr + bytes > kCommandBase && addr < kCommandBase + commands_.size()) {
      const std::uint64_t from = std::max(addr, kCommandBase);
      const std::uint64_t to = std::min(addr + bytes, kCommandBase + commands_.size());
      std::memcpy(out + (from - addr), commands_.data() + (from - kCommandBase), to - from);
    }
  }

  void write(std::uint64_t addr, const void*, std::size_t bytes) override {
    spend();
    if (!npu_local(addr, bytes)) std::abort();  // the firmware writes only SRAM (slots) and registers
    // Past the banks the SRAM window answers with an error, as the NoC would.
    if (addr >= layout_.sram_base && addr < address_map::kClusterRegsBase &&
        addr + bytes > layout_.sram_base + layout_.sram_bytes)
      throw BusError("write past the SRAM", addr);
  }

  void write_multicast(const std::vector<std::uint64_t>& addrs, const void* src, std::size_t bytes) override {
    for (const std::uint64_t addr : addrs) write(addr, src, bytes);
  }

  std::uint64_t wait_events(std::uint64_t mask) override {
    spend();
    return mask;
  }

  void wait_for_work() override {
    if (served_) throw EntryDone{};
    served_ = true;
  }
  Ring ring() const override { return Ring{kRingBase, 1, 0, 1}; }
  void complete_entry(std::uint32_t new_head) override {
    if (new_head != 0) std::abort();  // a ring of one entry wraps to 0
  }
  void report_error(std::uint32_t, std::uint32_t) override {}
  void mark_layer(std::int32_t) override {}
  void record_decision(const firmware::LayerDecision&) override {}
  void spend_cycles(std::uint64_t) override {}

 private:
  bool npu_local(std::uint64_t addr, std::size_t bytes) const {
    const std::uint64_t end = address_map::kLocalWindowBase + address_map::kLocalWindowSize;
    return addr >= address_map::kLocalWindowBase && addr < end && bytes <= end - addr;
  }
  void spend() {
    if (++operations_ > kBusOperations) throw BudgetSpent{};
  }

  const firmware::NpuLayout& layout_;
  std::vector<std::uint8_t> commands_;
  bool served_ = false;
  std::uint64_t operations_ = 0;
};

const firmware::NpuLayout& edge_ip_layout() {
  static const firmware::NpuLayout layout =
      npu::Npu::firmware_layout(platform::load_platform("configs/platforms/edge-ip.yaml", {}).npu);
  return layout;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  FakeHal hal(edge_ip_layout(), data, size);
  try {
    firmware::firmware_main(hal);
  } catch (const EntryDone&) {
  } catch (const BudgetSpent&) {
  }
  return 0;
}
