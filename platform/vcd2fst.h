#pragma once
// FST traces: Debian ships no library that writes FST, so the streamed VCD is
// converted after the run by GTKWave's vcd2fst, found on PATH when the run
// starts.

#include <string>

namespace npuvp::platform {

// The program's path on PATH, or empty when it is not there.
std::string find_on_path(const std::string& program);

// Throws std::runtime_error saying that FST traces need vcd2fst when it is
// not on PATH: called before simulating, so a run does not end unable to
// write what it was asked for.
void require_vcd2fst();

// Converts `vcd` into `fst` (written whole or not at all) and removes `vcd`.
// Throws std::runtime_error naming both files and what vcd2fst printed.
void convert_to_fst(const std::string& vcd, const std::string& fst);

}  // namespace npuvp::platform
