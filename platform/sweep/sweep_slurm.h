#pragma once
// The Slurm backend: the runs a sweep still needs as one job array, each
// array task one `npuvp run` (docs/sweeps.md, "On a Slurm cluster").

#include <string>
#include <vector>

#include "platform/sweep/sweep_tasks.h"

namespace npuvp::sweep {

struct SlurmOptions {
  std::string partition, time, account;  // empty: the cluster's defaults
};

// The job script for `todo`: array task i runs todo[i] and records its exit
// status as the local backend does.
std::string slurm_script(const std::vector<const Task*>& todo, const SlurmOptions& options, const std::string& out_dir);

// Submits the runs of `tasks` without results with sbatch, waits for the
// array to leave the queue, showing progress. Throws when sbatch fails;
// false when interrupted (the array is cancelled with scancel).
bool run_slurm(const std::vector<Task>& tasks, const SlurmOptions& options, const std::string& out_dir);

}  // namespace npuvp::sweep
