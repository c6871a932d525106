#include "firmware/firmware.h"

#include "firmware/layer_runner.h"

namespace npuvp::firmware {
namespace {

// Waits for the load channel's chain to end and clears its IRQ.
void settle_load_channel(Hal& hal) {
  hal.wait_events(std::uint64_t{1} << kLoadChannel);
  const std::uint64_t regs = hal.layout().dma_regs_base + kLoadChannel * dma::kChannelStride;
  hal.write32(regs + dma::reg::kIrq, hal.read32(regs + dma::reg::kIrq));
}

void run_command_buffer(Hal& hal, const RingEntry& entry) {
  // Weights stay resident only within one command buffer: between buffers the
  // host may have rewritten DRAM at the same addresses. Likewise a layer
  // loads ahead only for the next command of its own buffer.
  ResidentWeights resident;
  Lookahead ahead;
  // A plan depends on the platform and the command alone (plan_key).
  PlannedDecisions planned;
  for (std::uint32_t i = 0; i < entry.layer_count; ++i) {
    LayerCommand layer;
    if (ahead.read) {
      layer = ahead.command;
    } else {
      try {
        hal.read(entry.command_buffer + std::uint64_t{i} * sizeof layer, &layer, sizeof layer);
      } catch (const BusError& e) {
        throw FirmwareError{npu::NpuError::kRingAccess, static_cast<std::uint32_t>(e.address())};
      }
    }
    hal.mark_layer(static_cast<std::int32_t>(layer.layer_id));
    // A layer that fails after starting the next one's loads lets them end
    // first, so that the next command buffer finds the load channel idle.
    // Only the failures firmware_main reports and moves on from: anything
    // else ends the run, and a thread being killed must not wait again.
    const auto settle = [&] {
      if (ahead.weights_loading || ahead.inputs_loading) settle_load_channel(hal);
    };
    try {
      LayerRunner(hal, layer, i, resident, ahead, CommandBuffer{entry.command_buffer, entry.layer_count}, planned)
          .run();
    } catch (const FirmwareError&) {
      settle();
      throw;
    } catch (const BusError&) {
      settle();
      throw;
    }
  }
}

}  // namespace

void firmware_main(Hal& hal) {
  for (;;) {
    hal.mark_layer(-1);
    hal.wait_for_work();
    const Hal::Ring ring = hal.ring();
    RingEntry entry{};
    try {
      if (ring.size == 0 || ring.head >= ring.size) throw FirmwareError{npu::NpuError::kRingAccess, ring.head};
      try {
        hal.read(ring.base + std::uint64_t{ring.head} * sizeof entry, &entry, sizeof entry);
      } catch (const BusError& e) {
        throw FirmwareError{npu::NpuError::kRingAccess, static_cast<std::uint32_t>(e.address())};
      }
      run_command_buffer(hal, entry);
      hal.complete_entry((ring.head + 1) % ring.size);
    } catch (const FirmwareError& e) {
      hal.report_error(static_cast<std::uint32_t>(e.code), e.info);
      hal.complete_entry(ring.size == 0 ? 0 : (ring.head + 1) % ring.size);
    } catch (const BusError& e) {
      hal.report_error(static_cast<std::uint32_t>(npu::NpuError::kDmaFault), static_cast<std::uint32_t>(e.address()));
      hal.complete_entry(ring.size == 0 ? 0 : (ring.head + 1) % ring.size);
    }
  }
}

}  // namespace npuvp::firmware
