#!/usr/bin/env bash
# A signal stops `npuvp run` cleanly: exit 130, report.json says the run was
# interrupted and which layers completed, the traces are whole and open, and
# no temporary file is left. Usage: interrupt_test.sh NPUVP SOURCE_DIR SIGNAL
set -uo pipefail
npuvp=$1
root=$2
signal=$3
work=$(mktemp -d)
out=$work/run
pid=
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  echo "--- stderr"; cat "$work/stderr"
  exit 1
}

cd "$root"
"$npuvp" run --network resnet50 -q --out "$out" >"$work/stdout" 2>"$work/stderr" &
pid=$!
# power.csv.<pid>.part grows by a row per power window (about 120 bytes per
# microsecond simulated), in 64 KiB pieces. 300 kB is some 2.5 ms into the
# run: past the host's set-up and a few dozen layers, well before the end
# (resnet50 runs for about 12 ms simulated, about a second of CPU from the
# prepared cache, so the poll is short enough not to miss the window).
part=$out/power.csv.$pid.part
started() { [ -f "$part" ] && [ "$(stat -c %s "$part")" -ge 300000 ]; }
for _ in $(seq 12000); do
  started && break
  kill -0 "$pid" 2>/dev/null || fail "the run ended before the signal"
  sleep 0.02
done
started || fail "the run did not get under way within 240 s"
kill -s "$signal" "$pid"
wait "$pid"
status=$?
pid=
[ "$status" -eq 130 ] || fail "exit status $status, expected 130"
grep -q "^npuvp: interrupted by SIG$signal after .* ns simulated; the report covers the layers completed so far\$" \
  "$work/stderr" || fail "no interruption message"
grep -q "^  interrupted       by SIG$signal: [0-9]* of 123 layers completed" "$work/stdout" ||
  fail "the terminal report does not say the run was interrupted"

leftovers=$(find "$out" -name '*.part' -o -name '.npuvp-probe-*')
[ -z "$leftovers" ] || fail "temporary files left: $leftovers"
for f in report.json layers.csv report.html roofline.svg trace.vcd timeline.json power.csv; do
  [ -s "$out/$f" ] || fail "$f missing"
done
grep -q '^\$enddefinitions \$end$' "$out/trace.vcd" || fail "trace.vcd has no \$enddefinitions"
[ "$(tail -c 1 "$out/trace.vcd" | od -An -c | tr -d ' ')" = '\n' ] || fail "trace.vcd ends mid-line"

/usr/bin/python3 - "$out" "SIG$signal" <<'PY' || fail "report.json or timeline.json"
import json, sys
out, signal = sys.argv[1], sys.argv[2]
report = json.load(open(out + "/report.json"))
json.load(open(out + "/timeline.json"))  # whole: it parses
sim = report["sim"]
assert sim["interrupted"] is True, sim
assert sim["interrupted_by"] == signal, sim
layers = report["layers"]
done = [l for l in layers if l["completed"]]
assert 0 < len(done) < len(layers), f"{len(done)} of {len(layers)} completed"
# Completed layers come first and carry the time they took; the totals are theirs.
first_open = next(i for i, l in enumerate(layers) if not l["completed"])
assert all(not l["completed"] for l in layers[first_open:]), "a layer after the stop completed"
assert all(l["cycles"] == 0 for l in layers[first_open + 1:]), "a layer after the stop took time"
assert report["totals"]["cycles"] == sum(l["cycles"] for l in layers)
# The rates count the MACs of the layers completed, not the network's.
totals, ops = report["totals"], 2 * sum(l["macs"] for l in done)
for rate, per in (("effective_tops", totals["latency_ms"] * 1e-3), ("tops_per_w", totals["energy_uj"] * 1e-6)):
    assert abs(totals[rate] * per * 1e12 - ops) <= 1e-9 * ops, f"{rate} {totals[rate]} is not of {ops} ops"
assert "trace.vcd" in sim["files"] and "power.csv" in sim["files"]
print(f"interrupted by {signal} at {sim['simulated_ns']:.0f} ns: {len(done)} of {len(layers)} layers completed")
PY
echo "ok"
