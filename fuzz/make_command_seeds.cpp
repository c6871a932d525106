// Writes the command_stream fuzzer's seed corpus: command buffers as the
// runtime lowers real networks, one file per kind of command (opcode,
// grouped, kernel, stride, gathered input) of each network.
//   make_command_seeds OUTDIR     (from the repository root)
// A gathered command's InputSegments follow the commands in the same file,
// at the address the fuzzer's HAL maps the file to, so that the segments are
// read from the input as on the device.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "contract/address_map.h"
#include "contract/command_format.h"
#include "sw/runtime/frontend/network_yaml.h"
#include "sw/runtime/lowering/lowering.h"
#include "sw/runtime/quantize/network_quantizer.h"

namespace {

using npuvp::firmware::InputSegment;
using npuvp::firmware::LayerCommand;

// Where fuzz/command_stream_fuzzer.cpp maps the input.
constexpr std::uint64_t kCommandBase = npuvp::address_map::kDramBase + 0x1000;

void write_seed(const std::string& path, LayerCommand command, const std::vector<InputSegment>& segments) {
  if (!segments.empty()) command.input_segments_addr = kCommandBase + sizeof command;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(&command), sizeof command);
  out.write(reinterpret_cast<const char*>(segments.data()),
            static_cast<std::streamsize>(segments.size() * sizeof(InputSegment)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_command_seeds OUTDIR\n");
    return 2;
  }
  using namespace npuvp::runtime;
  for (const char* name : {"squeezenet1_1", "resnet20_cifar", "shufflenet_v2_x1_0", "diracdeltanet"}) {
    const QuantizedNetwork q =
        quantize_network(load_network_yaml(std::string("configs/networks/") + name + ".yaml"), {});
    std::map<std::uint64_t, std::vector<std::uint8_t>> dram;  // what the lowering wrote, by address
    std::uint64_t next = npuvp::address_map::kDramBase + 0x100000;
    const LoweredNetwork lowered = lower_network(q, [&](std::uint64_t bytes) {
      const std::uint64_t at = next;
      next += (bytes + 63) / 64 * 64;
      return at;
    });
    for (const DramBlock& b : lowered.initial_data) dram[b.addr] = b.bytes;
    std::map<std::tuple<std::uint32_t, bool, int, int, bool>, int> seen;
    for (const LayerCommand& c : lowered.commands) {
      const auto kind =
          std::make_tuple(c.opcode, c.groups > 1, int{c.kernel_h}, int{c.stride_h}, c.input_segment_count != 0);
      if (seen[kind]++ != 0) continue;
      std::vector<InputSegment> segments(c.input_segment_count);
      if (!segments.empty()) {
        auto block = dram.upper_bound(c.input_segments_addr);
        const std::size_t bytes = segments.size() * sizeof(InputSegment);
        if (block == dram.begin()) return 1;
        --block;
        const std::uint64_t offset = c.input_segments_addr - block->first;
        if (offset + bytes > block->second.size()) return 1;
        std::memcpy(segments.data(), block->second.data() + offset, bytes);
      }
      write_seed(std::string(argv[1]) + "/" + name + "-" + std::to_string(c.layer_id) + ".bin", c, segments);
    }
  }
  return 0;
}
