// The platform preset reader: load_platform() on arbitrary bytes, with the
// files a preset names (memspec, energy, area) resolved from the working
// directory, the repository root, as the CLI does.
#include "fuzz/fuzz_input.h"
#include "platform/config/config_node.h"
#include "platform/platform_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string& path = npuvp::fuzz::write_input(data, size, ".yaml");
  try {
    const npuvp::platform::PlatformConfig config = npuvp::platform::load_platform(path, {});
    // What the platform derives from an accepted preset before it elaborates.
    (void)npuvp::platform::platform_area(config);
    (void)npuvp::platform::firmware_cost_table(config);
  } catch (const npuvp::config::ConfigError&) {
  }
  return 0;
}
