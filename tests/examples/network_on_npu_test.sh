#!/bin/bash
# examples/network_on_npu runs ResNet-20 (CIFAR) through the runtime and
# prints every layer bit-exact; an unknown network is refused.
# usage: network_on_npu_test.sh NETWORK_ON_NPU
set -euo pipefail
example=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
# stdout alone: the table and its summary line (SystemC's banner goes to stderr).
out=$("$example" resnet20_cifar edge-ip 2>"$tmp/err") || fail "network_on_npu exited non-zero: $out $(cat "$tmp/err")"
grep -q '^resnet20_cifar: [0-9]* layers, .*, every layer bit-exact$' <<<"$out" || fail "$out"
grep -q 'MISMATCH' <<<"$out" && fail "$out"
layers=$(sed -n 's/^resnet20_cifar: \([0-9]*\) layers.*/\1/p' <<<"$out")
rows=$(($(wc -l <<<"$out") - 2))
[[ $rows == "$layers" ]] || fail "$rows table rows for $layers layers: $out"
if bad=$("$example" no_such_net 2>&1); then fail "ran no_such_net"; fi
grep -q "^network_on_npu: .*no_such_net" <<<"$bad" || fail "$bad"
echo "network_on_npu: $layers layers bit-exact"
