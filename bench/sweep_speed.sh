#!/bin/bash
# The sweep speed target (issue 15): a 16-point sweep of squeezenet1_1 with
# -j 2 against the same 16 `npuvp run` command lines run one after another by
# hand. Prints both wall times and their ratio (target <= 0.6).
# usage: bench/sweep_speed.sh [NPUVP] [JOBS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
npuvp=${1:-$root/build/platform/npuvp}
jobs=${2:-2}
sweep=$root/configs/sweeps/squeezenet-sram-array.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# By hand: the very command lines the sweep runs (--dry-run prints them).
"$npuvp" sweep "$sweep" --out "$tmp/by-hand" --dry-run | grep -v '^#' >"$tmp/commands.sh"
runs=$(wc -l <"$tmp/commands.sh")
# Wall and CPU seconds (user + system, children included) of a command.
measure() {
  local start
  start=$(date +%s.%N)
  # This shell's own and its waited-for children's user and system ticks.
  local me=$BASHPID before after
  before=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$me/stat")
  "$@" >/dev/null 2>&1
  after=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$me/stat")
  echo "$(echo "$(date +%s.%N) - $start" | bc) $(echo "($after - $before) / $(getconf CLK_TCK)" | bc -l)"
}
one_after_another() {
  while read -r line; do eval "$line"; done <"$tmp/commands.sh"
}
# The order alternates over rounds so a change in the machine's other load
# does not favour one side.
for round in 1 2; do
  rm -rf "$tmp/by-hand" "$tmp/sweep"
  if [[ $round == 1 ]]; then
    read -r hand_wall hand_cpu < <(measure one_after_another)
    read -r sweep_wall sweep_cpu < <(measure "$npuvp" sweep "$sweep" --out "$tmp/sweep" -j "$jobs")
  else
    read -r sweep_wall sweep_cpu < <(measure "$npuvp" sweep "$sweep" --out "$tmp/sweep" -j "$jobs")
    read -r hand_wall hand_cpu < <(measure one_after_another)
  fi
  printf 'round %d, %d runs: one after another %.1f s wall (%.1f s CPU), npuvp sweep -j %d %.1f s wall (%.1f s CPU), ratio %.2f\n' \
    "$round" "$runs" "$hand_wall" "$hand_cpu" "$jobs" "$sweep_wall" "$sweep_cpu" "$(echo "$sweep_wall / $hand_wall" | bc -l)"
done
# How many runs the pool kept going: the runs' own wall times over the
# sweep's. With free cores each run's wall time is its CPU time, and the
# ratio above approaches 1 / this.
/usr/bin/python3 - "$tmp/sweep/results.json" "$sweep_wall" <<'PY'
import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
busy = sum(r["wall_s"] for r in rows)
print(f"runs in flight on average (last sweep): {busy / float(sys.argv[2]):.2f} of {len(rows)} runs")
PY
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
