#!/bin/bash
# npuvp sweep --backend slurm for real: a single-node Slurm cluster (munged,
# slurmctld, slurmd) started on this machine for the test and stopped at its
# end whatever happens; a small sweep through it as one job array; results
# identical to the local backend's but for wall-clock time. Also the job
# script --dry-run prints. Needs Debian's slurm-wlm and munge: without them
# the test fails saying so (it never passes without having run).
# usage: slurm_test.sh NPUVP SOURCE_DIR
set -euo pipefail
npuvp=$1
source_dir=$2
for tool in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool not found: apt-get install slurm-wlm munge" >&2; exit 1; }
done
tmp=$(mktemp -d)
# shellcheck source=tests/sweep/slurm_cluster.sh
source "$source_dir/tests/sweep/slurm_cluster.sh"
cleanup() {
  slurm_cluster_stop
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  for log in "$tmp"/cluster/*.log; do [[ -f $log ]] && { echo "--- $log" >&2; tail -5 "$log" >&2; }; done
  exit 1
}
cd "$tmp"

cat >sweep.yaml <<'YAML'
platform: edge-ip
networks: [conv_slice, resnet20_cifar]
vary:
  sram.bank_kb: [16, 32]
zip:
  pe_array.rows: [8, 16]
  pe_array.cols: [8, 16]
run: {dataflow: hybrid}
YAML

# The job script, without a cluster.
"$npuvp" sweep sweep.yaml --out dry --backend slurm --partition debug --time 0:10:00 --account lab --dry-run >job.sh
[[ ! -e dry ]] || fail "--dry-run wrote its --out"
for line in '#!/bin/bash' '#SBATCH --array=0-7' '#SBATCH --partition=debug' '#SBATCH --time=0:10:00' \
  '#SBATCH --account=lab' '#SBATCH --cpus-per-task=1' "#SBATCH --chdir=$tmp/dry"; do
  grep -qxF -- "$line" job.sh || fail "job script lacks '$line'"
done
[[ $(grep -c '^  [0-9]) run ' job.sh) == 8 ]] || fail "job script: expected 8 runs"
bash -n job.sh || fail "the job script is not valid bash"

slurm_cluster_start "$tmp/cluster" || fail "the Slurm cluster did not start"
start=$(date +%s)
"$npuvp" sweep sweep.yaml --out slurm --backend slurm --time 0:10:00 >slurm.txt 2>slurm.err ||
  fail "the Slurm sweep: $(cat slurm.txt slurm.err)"
echo "Slurm round trip: $(($(date +%s) - start)) s"
grep -q '^npuvp sweep: submitted job array [0-9]* (8 runs)' slurm.err || fail "no job array: $(cat slurm.err)"
[[ $(head -1 slurm.txt) == "8 runs: 8 ok, 0 unverified, 0 failed" ]] || fail "slurm summary: $(cat slurm.txt)"
[[ -s slurm/slurm/job.sh && -f slurm/slurm/task-0.log ]] || fail "no job script or task logs"
"$npuvp" sweep sweep.yaml --out local -j 2 >/dev/null 2>&1 || fail "the local sweep"

# Identical but for wall-clock time (wall_s), in the CSV and the JSON.
cmp <(cut -d, -f1-16 slurm/results.csv) <(cut -d, -f1-16 local/results.csv) ||
  fail "results.csv differs: $(diff <(cut -d, -f1-16 slurm/results.csv) <(cut -d, -f1-16 local/results.csv))"
[[ $(head -1 slurm/results.csv | cut -d, -f17-) == "wall_s" ]] || fail "wall_s is not the last column (17)"
/usr/bin/python3 - <<'PY' || fail "results.json differs"
import json
def rows(d):
    out = []
    for r in json.load(open(d + "/results.json"))["rows"]:
        r.pop("wall_s")
        out.append(r)
    return out
assert rows("slurm") == rows("local")
PY
# A rerun through Slurm finds every point done and submits nothing.
"$npuvp" sweep sweep.yaml --out slurm --backend slurm >/dev/null 2>again.err || fail "the Slurm rerun"
grep -q '^npuvp sweep: 8 of 8 runs have results, skipped$' again.err || fail "Slurm rerun: $(cat again.err)"
grep -q 'submitted' again.err && fail "the rerun submitted a job"
echo "Slurm and local sweeps agree"
