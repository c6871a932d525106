#!/usr/bin/env bash
# Peak RSS and CPU time of `npuvp run` with every trace on and with none, per
# network: the difference is what recording and writing the traces cost.
# Each configuration runs REPEAT times (default 3), alternating. On a shared
# or frequency-scaling machine single runs vary by more than the traces
# cost, so two estimates are printed: the least CPU time of each
# configuration's runs, subtracted (trace_cpu_s), and the median of the
# differences within each round, whose two runs ran next to each other
# (paired_median_s).
# Usage: bench/trace_bench.sh [build dir] [network...]   (from the repository root)
#        REPEAT=5 bench/trace_bench.sh build resnet50
set -euo pipefail
build=${1:-build}
shift || true
networks=("$@")
[ ${#networks[@]} -eq 0 ] && networks=(mobilenet_v1 resnet50)
repeat=${REPEAT:-3}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-14s %-6s %10s %10s %12s %16s\n' network traces "cpu_s" "peak_mb" "trace_cpu_s" "paired_median_s"
for net in "${networks[@]}"; do
  declare -A best=() peak=() cpu=()
  diffs=()
  for ((i = 0; i < repeat; ++i)); do
    for traces in all none; do
      /usr/bin/time -f '%U %S %M' -o "$out/time" "$build/platform/npuvp" run -q --network "$net" \
        --traces "$traces" --out "$out/$net-$traces" > /dev/null
      read -r user sys kb < "$out/time"
      cpu[$traces]=$(echo "$user + $sys" | bc)
      if [ -z "${best[$traces]:-}" ] || [ "$(echo "${cpu[$traces]} < ${best[$traces]}" | bc)" = 1 ]; then
        best[$traces]=${cpu[$traces]}
      fi
      peak[$traces]=$kb
    done
    diffs+=("$(echo "${cpu[all]} - ${cpu[none]}" | bc)")
  done
  median=$(printf '%s\n' "${diffs[@]}" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
  for traces in all none; do
    extra="" paired=""
    if [ "$traces" = all ]; then
      extra=$(echo "${best[all]} - ${best[none]}" | bc)
      paired=$median
    fi
    printf '%-14s %-6s %10.2f %10.1f %12s %16s\n' "$net" "$traces" "${best[$traces]}" \
      "$(echo "${peak[$traces]} / 1024" | bc -l)" "$extra" "$paired"
  done
  unset best peak cpu
done
