#pragma once
// `npuvp bench`: the simulator's own speed on a fixed set of runs. Each case
// runs as a child process of this executable (so peak RSS and CPU time are
// the case's own, from wait4), and the runs report where their CPU time went
// (report.json's sim.cpu_seconds, models/common/cpu_profile.h). The host's
// int8 GEMM rate on the cluster kernel's vector path is measured for scale.

namespace npuvp::platform {

// argv[0] is "bench". Returns the exit status (0: every case succeeded).
int bench_main(int argc, char** argv);

}  // namespace npuvp::platform
