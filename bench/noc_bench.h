#pragma once
// `npuvp noc-bench`: the NoC alone under synthetic traffic. For each offered
// load it reports accepted throughput and packet latency; once per run the
// analytic and measured zero-load latency, the throughput bound (bisection
// and endpoint channels) and the simulation speed. --model both runs the
// cycle-level reference and the fast model on the same traffic, side by
// side. Results go to stdout and to a JSON file.

namespace npuvp::bench {

// argv[0] is the command name and is skipped. Returns 0 on success, 2 on a bad
// option (the message names the option and what was expected), 1 if the JSON
// file cannot be written.
int noc_bench_main(int argc, const char* const* argv);

}  // namespace npuvp::bench
