// The driver against the whole platform: ring wrap-around, the NPU's error
// interrupt on a bad address, bad commands, and the timeout. Each TEST builds
// its own platform (its own process under ctest).
#include <gtest/gtest.h>

#include <string>

#include "contract/address_map.h"
#include "contract/npu_regs.h"
#include "sw/driver/npu_driver.h"
#include "sw/runtime/lowering/conv_workload.h"
#include "tests/support/soc_harness.h"

namespace npuvp::platform {
namespace {

// Runs `program` as the host software of a fresh edge-ip platform.
void simulate(const std::function<void(sw::NpuDriver&)>& program, std::uint32_t ring_entries = 64) {
  const PlatformConfig config = testing::platform_config();
  sw::DriverConfig dc = testing::driver_config(config);
  dc.timeout_ns = 2'000'000;
  dc.ring_entries = ring_entries;
  testing::run_driver_on_soc(config, dc, program);
}

// Submits one command and expects the firmware to refuse it as a bad command
// (info: its index in the buffer).
void expect_bad_command(sw::NpuDriver& driver, const firmware::LayerCommand& c, const std::string& what) {
  const std::uint64_t buffer = driver.alloc(sizeof c);
  driver.hal().memory_write(buffer, &c, sizeof c);
  driver.submit(buffer, 1);
  try {
    driver.wait_idle();
    ADD_FAILURE() << what << " was accepted";
  } catch (const sw::NpuFault& f) {
    EXPECT_EQ(f.code(), static_cast<std::uint32_t>(npu::NpuError::kBadCommand)) << what << ": " << f.what();
    EXPECT_EQ(f.info(), 0u) << what;
  }
}

runtime::ConvLayerSpec small_conv() {
  runtime::ConvLayerSpec s;
  s.name = "small";
  s.in_c = 8;
  s.in_h = 9;
  s.in_w = 7;
  s.out_c = 16;
  return s;
}

TEST(Driver, RingWrapsAroundAndEveryCommandBufferIsExact) {
  simulate(
      [](sw::NpuDriver& driver) {
        for (std::uint32_t i = 0; i < 7; ++i) {
          const auto layer = runtime::prepare_conv(small_conv(), 100 + i);
          const auto result = runtime::run_conv_on_npu(driver, layer, i);
          EXPECT_TRUE(result.verified()) << "command buffer " << i;
          driver.free_all();
        }
        const auto counters = driver.counters();
        EXPECT_EQ(counters.command_buffers_done, 7u);
        EXPECT_EQ(counters.layers_done, 7u);
        EXPECT_GT(counters.busy_cycles, 0u);
        EXPECT_GE(counters.cycles, counters.busy_cycles);
        // Head and tail went round a 3-entry ring twice.
        EXPECT_EQ(driver.hal().mmio_read32(address_map::kNpuRegsBase + npu::reg::kRingHead), 7u % 3u);
      },
      3);
}

TEST(Driver, BadInputAddressRaisesTheErrorInterrupt) {
  simulate([](sw::NpuDriver& driver) {
    const auto layer = runtime::prepare_conv(small_conv(), 1);
    firmware::LayerCommand cmd{};
    cmd.opcode = static_cast<std::uint32_t>(firmware::Opcode::kConv2d);
    cmd.input_addr = 0x7000'0000;  // nothing is mapped there
    cmd.output_addr = driver.alloc(1024);
    cmd.weights_addr = driver.alloc(layer.weights.size());
    cmd.bias_addr = driver.alloc(64);
    cmd.requant_addr = driver.alloc(128);
    cmd.in_c = 8, cmd.in_h = 9, cmd.in_w = 7, cmd.out_c = 16, cmd.out_h = 9, cmd.out_w = 7;
    cmd.kernel_h = cmd.kernel_w = 3;
    cmd.stride_h = cmd.stride_w = cmd.dilation_h = cmd.dilation_w = 1;
    cmd.pad_top = cmd.pad_left = cmd.pad_bottom = cmd.pad_right = 1;
    cmd.groups = 1;
    cmd.act_min = -128, cmd.act_max = 127;
    const std::uint64_t buffer = driver.alloc(sizeof cmd);
    driver.hal().memory_write(buffer, &cmd, sizeof cmd);
    driver.submit(buffer, 1);
    try {
      driver.wait_idle();
      ADD_FAILURE() << "the NPU accepted an unmapped input address";
    } catch (const sw::NpuFault& f) {
      EXPECT_EQ(f.code(), static_cast<std::uint32_t>(npu::NpuError::kDmaFault));
      EXPECT_EQ(f.info(), 0x7000'0000u);
      EXPECT_EQ(std::string(f.what()),
                "NPU error in layer 0: DMA: a transfer touched address 0x70000000, where nothing is mapped "
                "(ERROR_CODE 4, ERROR_INFO 0x70000000, ERROR_LAYER 0)");
    }
    // The NPU goes on with the next command buffer after an error.
    const auto good = runtime::run_conv_on_npu(driver, runtime::prepare_conv(small_conv(), 2), 1);
    EXPECT_TRUE(good.verified());
  });
}

TEST(Driver, AnUnknownOpcodeIsABadCommandNamingTheLayer) {
  simulate([](sw::NpuDriver& driver) {
    firmware::LayerCommand cmd{};
    cmd.opcode = 99;
    cmd.layer_id = 12;
    const std::uint64_t buffer = driver.alloc(sizeof cmd);
    driver.hal().memory_write(buffer, &cmd, sizeof cmd);
    driver.submit(buffer, 1);
    try {
      driver.wait_idle();
      ADD_FAILURE() << "opcode 99 was accepted";
    } catch (const sw::NpuFault& f) {
      EXPECT_EQ(std::string(f.what()),
                "NPU error in layer 12: command processor: command 0 of the command buffer has an unknown opcode or "
                "inconsistent parameters (ERROR_CODE 2, ERROR_INFO 0x0, ERROR_LAYER 12)");
      EXPECT_EQ(f.layer(), 12u);
    }
  });
}

// A ring entry whose command buffer is not in DRAM.
TEST(Driver, AnUnmappedCommandBufferIsARingAccessErrorNamingTheAddress) {
  simulate([](sw::NpuDriver& driver) {
    driver.submit(0x7000'0000, 1);
    try {
      driver.wait_idle();
      ADD_FAILURE() << "an unmapped command buffer was accepted";
    } catch (const sw::NpuFault& f) {
      EXPECT_EQ(std::string(f.what()),
                "NPU error: command processor: the ring entry or command buffer at 0x70000000 could not be read "
                "(ERROR_CODE 1, ERROR_INFO 0x70000000)");
    }
    // The ring goes on.
    EXPECT_TRUE(runtime::run_conv_on_npu(driver, runtime::prepare_conv(small_conv(), 3), 1).verified());
  });
}

// A 3-entry ring holds two command buffers: the third submit waits for the
// NPU to take one instead of overwriting it.
TEST(Driver, SubmittingToAFullRingWaitsForRoom) {
  simulate(
      [](sw::NpuDriver& driver) {
        firmware::LayerCommand nothing{};
        const std::uint64_t buffer = driver.alloc(sizeof nothing);
        driver.hal().memory_write(buffer, &nothing, sizeof nothing);
        for (std::uint32_t i = 0; i < 5; ++i) EXPECT_EQ(driver.submit(buffer, 0), i % 3);
        driver.wait_idle();
        EXPECT_EQ(driver.counters().command_buffers_done, 5u);
      },
      3);
}

TEST(Driver, InconsistentShapesAreABadCommand) {
  simulate([](sw::NpuDriver& driver) {
    firmware::LayerCommand cmd{};
    cmd.opcode = static_cast<std::uint32_t>(firmware::Opcode::kConv2d);
    cmd.in_c = 8, cmd.in_h = 9, cmd.in_w = 7, cmd.out_c = 16;
    cmd.out_h = 5, cmd.out_w = 7;  // 9 rows, 3x3, pad 1, stride 1 give 9, not 5
    cmd.kernel_h = cmd.kernel_w = 3;
    cmd.stride_h = cmd.stride_w = cmd.dilation_h = cmd.dilation_w = 1;
    cmd.pad_top = cmd.pad_left = cmd.pad_bottom = cmd.pad_right = 1;
    cmd.groups = 1;
    expect_bad_command(driver, cmd, "inconsistent shapes");
  });
}

// Gathered inputs must cover the input's channels in at most eight segments,
// and an output pixel pitch must hold the output's channels.
TEST(Driver, BadGathersAndOutputPitchesAreABadCommand) {
  simulate([](sw::NpuDriver& driver) {
    firmware::LayerCommand cmd{};
    cmd.opcode = static_cast<std::uint32_t>(firmware::Opcode::kConv2d);
    cmd.in_c = 8, cmd.in_h = 9, cmd.in_w = 7, cmd.out_c = 16, cmd.out_h = 9, cmd.out_w = 7;
    cmd.kernel_h = cmd.kernel_w = 1;
    cmd.stride_h = cmd.stride_w = cmd.dilation_h = cmd.dilation_w = 1;
    cmd.groups = 1;
    cmd.act_min = -128, cmd.act_max = 127;
    const firmware::InputSegment six{driver.alloc(9 * 7 * 8), 8, 6, 0, 0};  // 6 of the 8 channels
    cmd.input_segments_addr = driver.alloc(sizeof six);
    driver.hal().memory_write(cmd.input_segments_addr, &six, sizeof six);
    firmware::LayerCommand short_gather = cmd;
    short_gather.input_segment_count = 1;
    expect_bad_command(driver, short_gather, "a gather of 6 of 8 channels");
    firmware::LayerCommand many = cmd;
    many.input_segment_count = firmware::kMaxInputSegments + 1;
    expect_bad_command(driver, many, "a gather of nine segments");
    // in_w × pixel_pitch past the DMA's signed 32-bit pitches
    // (fuzz/corpus/command_stream/regression-segment-pitch.bin).
    const firmware::InputSegment wide{six.addr, 0x4a000074, 8, 0, 0};
    firmware::LayerCommand wide_gather = cmd;
    wide_gather.input_segment_count = 1;
    wide_gather.input_segments_addr = driver.alloc(sizeof wide);
    driver.hal().memory_write(wide_gather.input_segments_addr, &wide, sizeof wide);
    expect_bad_command(driver, wide_gather, "a segment whose rows are 8.7 GB apart");
    firmware::LayerCommand narrow = cmd;
    narrow.input_addr = six.addr;
    narrow.output_pixel_pitch = 15;
    expect_bad_command(driver, narrow, "an output pixel pitch below out_c");
  });
}

// Packed int4 (kInt4PackedInput/Output) is for int4 values: not with a
// gathered input, an int16 convolution or a pitch below the packed pixel.
TEST(Driver, PackedInt4WhereItCannotBeIsABadCommand) {
  simulate([](sw::NpuDriver& driver) {
    firmware::LayerCommand cmd{};
    cmd.opcode = static_cast<std::uint32_t>(firmware::Opcode::kConv2d);
    cmd.datatype = static_cast<std::uint32_t>(firmware::Datatype::kInt4);
    cmd.flags = firmware::kInt4PackedInput | firmware::kInt4PackedOutput;
    cmd.in_c = 8, cmd.in_h = 9, cmd.in_w = 7, cmd.out_c = 16, cmd.out_h = 9, cmd.out_w = 7;
    cmd.kernel_h = cmd.kernel_w = 1;
    cmd.stride_h = cmd.stride_w = cmd.dilation_h = cmd.dilation_w = 1;
    cmd.groups = 1;
    cmd.act_min = -8, cmd.act_max = 7;
    const firmware::InputSegment all{driver.alloc(9 * 7 * 4), 4, 8, 0, 0};
    firmware::LayerCommand gathered = cmd;
    gathered.input_segment_count = 1;
    gathered.input_segments_addr = driver.alloc(sizeof all);
    driver.hal().memory_write(gathered.input_segments_addr, &all, sizeof all);
    expect_bad_command(driver, gathered, "a packed gathered input");
    firmware::LayerCommand int16 = cmd;
    int16.datatype = static_cast<std::uint32_t>(firmware::Datatype::kInt16);
    expect_bad_command(driver, int16, "packed int16");
    firmware::LayerCommand narrow = cmd;
    narrow.input_addr = all.addr;
    narrow.output_pixel_pitch = 7;  // 16 packed channels take 8 bytes
    expect_bad_command(driver, narrow, "an output pixel pitch below the packed pixel");
    firmware::LayerCommand good = cmd;
    good.input_addr = all.addr;
    good.output_pixel_pitch = 8;
    good.output_addr = driver.alloc(9 * 7 * 8);
    good.weights_addr = driver.alloc(16 * 4);
    good.bias_addr = driver.alloc(16 * 4);
    good.requant_addr = driver.alloc(16 * 8);
    const std::uint64_t buffer = driver.alloc(sizeof good);
    driver.hal().memory_write(buffer, &good, sizeof good);
    driver.submit(buffer, 1);
    driver.wait_idle();  // the same command with a packed pitch runs
  });
}

// A consistent 1x1 convolution 65536 pixels wide: past the firmware's 16-bit
// dimensions (kMaxLayerDim), refused before it is planned
// (fuzz/corpus/command_stream/regression-67m-channels.bin planned for minutes).
TEST(Driver, DimensionsPast16BitsAreABadCommand) {
  simulate([](sw::NpuDriver& driver) {
    firmware::LayerCommand cmd{};
    cmd.opcode = static_cast<std::uint32_t>(firmware::Opcode::kConv2d);
    cmd.in_c = 8, cmd.in_h = 1, cmd.in_w = firmware::kMaxLayerDim + 1;
    cmd.out_c = 8, cmd.out_h = 1, cmd.out_w = firmware::kMaxLayerDim + 1;
    cmd.kernel_h = cmd.kernel_w = 1;
    cmd.stride_h = cmd.stride_w = cmd.dilation_h = cmd.dilation_w = 1;
    cmd.groups = 1;
    cmd.act_min = -128, cmd.act_max = 127;
    expect_bad_command(driver, cmd, "a 65536-pixel row");
  });
}

TEST(Driver, TimesOutWhenTheNpuIsDisabled) {
  simulate([](sw::NpuDriver& driver) {
    driver.hal().mmio_write32(address_map::kNpuRegsBase + npu::reg::kCtrl, 0);
    const std::uint64_t buffer = driver.alloc(sizeof(firmware::LayerCommand));
    driver.submit(buffer, 1);
    const std::uint64_t before = driver.hal().now_ns();
    try {
      driver.wait_idle();
      ADD_FAILURE() << "wait_idle returned although the NPU never ran";
    } catch (const sw::NpuFault&) {
      ADD_FAILURE() << "a disabled NPU reported an error instead of staying silent";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("timeout"), std::string::npos) << e.what();
      EXPECT_GE(driver.hal().now_ns() - before, 2'000'000u);
    }
  });
}

TEST(Driver, ProbeReadsTheCapabilities) {
  simulate([](sw::NpuDriver& driver) {
    const auto caps = driver.probe();
    EXPECT_EQ(caps.clusters, 16u);
    EXPECT_EQ(caps.array_rows, 8u);
    EXPECT_EQ(caps.array_cols, 8u);
    EXPECT_EQ(caps.sram_kb, 512u);
    EXPECT_EQ(caps.version, npu::kNpuVersion);
  });
}

}  // namespace
}  // namespace npuvp::platform
