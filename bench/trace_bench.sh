#!/usr/bin/env bash
# Peak RSS and CPU time of `npuvp run` with every trace on and with none, per
# network: the difference is what recording and writing the traces cost.
# Usage: bench/trace_bench.sh [build dir] [network...]   (from the repository root)
set -euo pipefail
build=${1:-build}
shift || true
networks=("$@")
[ ${#networks[@]} -eq 0 ] && networks=(mobilenet_v1 resnet50)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-14s %-6s %10s %10s\n' network traces "cpu_s" "peak_mb"
for net in "${networks[@]}"; do
  for traces in all none; do
    /usr/bin/time -f '%U %S %M' -o "$out/time" "$build/platform/npuvp" run -q --network "$net" \
      --traces "$traces" --out "$out/$net-$traces" > /dev/null
    read -r user sys kb < "$out/time"
    printf '%-14s %-6s %10.2f %10.1f\n' "$net" "$traces" "$(echo "$user + $sys" | bc)" "$(echo "$kb / 1024" | bc -l)"
  done
done
