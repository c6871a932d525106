#pragma once
// Reads the DRAM part of a platform configuration: the preset's `dram:`
// section and the memspec file it names.
//
//   dram:
//     memspec: configs/dram/lpddr4x-4266.yaml  # required
//     channels: 4
//     mapping: rbc                 # rbc | brc
//     page_policy: open            # open | closed
//     queue_depth: 16              # bursts per bank
//     per_bank_refresh: false
//     backing_mib: 256             # bytes actually stored
//     channel_interleave_bytes: 256
//     max_wait_ns: 2000
//     write_high_watermark: 0      # write batching: writes (bursts per channel) that start a drain; 0: off
//     write_low_watermark: 0       # writes left when a drain ends (less than the high watermark)
//     allow_dmi: true
//     power_window_ns: 1000
//     protocol_check: false        # Lpddr4 runs a JEDEC protocol checker on every command
//
// Unknown keys are errors; every error names the file and the key.

#include <string>

#include "models/dram/dram_config.h"
#include "platform/config/config_node.h"

namespace npuvp::config {

// Loads and validates a memspec file (see configs/dram/*.yaml).
dram::Memspec load_memspec(const std::string& file);

// Parses a `dram:` section. A relative memspec path is taken from the current
// directory (the repository root for the npuvp CLI) and, failing that, from
// the directory of the file holding the section.
dram::DramConfig parse_dram(const ConfigNode& section);

}  // namespace npuvp::config
