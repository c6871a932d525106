#!/usr/bin/env bash
# Peak RSS and CPU time of `npuvp run` with every trace on and with none, per
# network: the difference is what recording and writing the traces cost.
# Each configuration runs REPEAT times (default 3), alternating, and the least
# CPU time counts: on a shared or frequency-scaling machine single runs vary by
# more than the traces cost.
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
printf '%-14s %-6s %10s %10s %12s\n' network traces "cpu_s" "peak_mb" "trace_cpu_s"
for net in "${networks[@]}"; do
  declare -A best=() peak=()
  for ((i = 0; i < repeat; ++i)); do
    for traces in all none; do
      /usr/bin/time -f '%U %S %M' -o "$out/time" "$build/platform/npuvp" run -q --network "$net" \
        --traces "$traces" --out "$out/$net-$traces" > /dev/null
      read -r user sys kb < "$out/time"
      cpu=$(echo "$user + $sys" | bc)
      if [ -z "${best[$traces]:-}" ] || [ "$(echo "$cpu < ${best[$traces]}" | bc)" = 1 ]; then best[$traces]=$cpu; fi
      peak[$traces]=$kb
    done
  done
  for traces in all none; do
    extra=""
    [ "$traces" = all ] && extra=$(echo "${best[all]} - ${best[none]}" | bc)
    printf '%-14s %-6s %10.2f %10.1f %12s\n' "$net" "$traces" "${best[$traces]}" "$(echo "${peak[$traces]} / 1024" | bc -l)" "$extra"
  done
  unset best peak
done
