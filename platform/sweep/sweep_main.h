#pragma once
// npuvp sweep: the command line over the sweep library (docs/sweeps.md).

namespace npuvp::sweep {

// argv[0] is "sweep". Returns the exit status: 0 every run ok, 1 a run
// failed or did not verify (results written all the same), 130 interrupted.
// Throws boost::program_options::error for a bad command line and
// std::exception for a bad sweep file or an output that cannot be written.
int sweep_main(int argc, char** argv);

}  // namespace npuvp::sweep
