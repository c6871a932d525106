#!/bin/bash
# npuvp sweep on the local backend, end to end: the outputs and their columns,
# a point that fails at run time reported without sinking the others, exit
# statuses, resumption by point hash, figures equal to a direct npuvp run's,
# --dry-run, and a bad sweep file refused whole before anything runs.
# usage: local_test.sh NPUVP SOURCE_DIR
set -euo pipefail
npuvp=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
cd "$tmp"  # not the source tree: the sweep runs from anywhere

cat >sweep.yaml <<'YAML'
platform: edge-ip
networks: [conv_slice]
set: {simulation.vcd: false, firmware.column_strips: false}
vary:
  sram.bank_kb: [1, 16]   # 1 KiB banks cannot hold conv3x3's smallest tile of whole rows
zip:
  pe_array.rows: [8, 16]
  pe_array.cols: [8, 8]
run: {dataflow: hybrid, batch: 1}
objectives: [latency_ms, energy_uj]
maximize: [utilization]
YAML

status=0
"$npuvp" sweep sweep.yaml --out out -j 2 >stdout.txt 2>stderr.txt || status=$?
[[ $status == 1 ]] || fail "a failed point: expected exit 1, got $status: $(cat stderr.txt)"
[[ $(cat stdout.txt) == "4 runs: 2 ok, 0 unverified, 2 failed
wrote out/{results.csv,results.json,pareto.svg,index.html,points/}" ]] || fail "summary: $(cat stdout.txt)"
grep -q '^4/4 done, 2 failed, ETA 0:00:00' stderr.txt || fail "no final progress line: $(cat stderr.txt)"
for f in results.csv results.json pareto.svg index.html; do [[ -s out/$f ]] || fail "no out/$f"; done
header=$(head -1 out/results.csv)
expected_header="point,sram.bank_kb,pe_array.rows,pe_array.cols,network,status,error,latency_ms,fps,energy_uj,energy_per_inference_uj,avg_power_mw,dram_bytes,utilization,area_mm2,pareto,wall_s"
[[ $header == "$expected_header" ]] || fail "results.csv header: $header"

# Row order is the points' (first vary key slowest, zip tuple fastest); the
# failed rows carry the run's own error.
/usr/bin/python3 - "$npuvp" <<'PY' || fail "results check"
import csv, json, subprocess, sys
rows = list(csv.DictReader(open("out/results.csv")))
assert [(r["sram.bank_kb"], r["pe_array.rows"], r["status"]) for r in rows] == [
    ("1", "8", "failed"), ("1", "16", "failed"), ("16", "8", "ok"), ("16", "16", "ok")], rows
err = "npuvp: layer 'conv3x3': its smallest tile (one output row, 1 output channel(s)) needs 29632 bytes (29 KiB) of global buffer (descriptors and job slots included); sram.banks × sram.bank_kb give 16384 bytes (16 KiB)"
assert rows[0]["error"] == err, rows[0]["error"]
assert rows[0]["latency_ms"] == "" and rows[0]["pareto"] == "false"
assert len({r["point"] for r in rows}) == 4 and all(len(r["point"]) == 12 for r in rows)
doc = json.load(open("out/results.json"))
assert doc["columns"] == list(rows[0].keys()) and len(doc["rows"]) == 4
assert doc["objectives"] == [{"column": "latency_ms", "maximize": False}, {"column": "energy_uj", "maximize": False},
                             {"column": "utilization", "maximize": True}]
# The sweep's figures are the run's report's: run the same point by hand.
ok = doc["rows"][3]
subprocess.run([sys.argv[1], "run", "--network", "conv_slice", "--set", "simulation.vcd=false", "--set",
                "firmware.column_strips=false", "--set", "sram.bank_kb=16", "--set", "pe_array.rows=16", "--set", "pe_array.cols=8", "--out", "direct",
                "--quiet", "--traces", "none"], check=True, stdout=subprocess.DEVNULL)
rep = json.load(open("direct/report.json"))
t = rep["totals"]
for k in ("latency_ms", "fps", "energy_uj", "energy_per_inference_uj", "avg_power_mw", "area_mm2"):
    assert ok[k] == t[k], (k, ok[k], t[k])
assert ok["dram_bytes"] == sum(l["dram_read_bytes"] + l["dram_write_bytes"] for l in rep["layers"])
cycles = sum(l["cycles"] for l in rep["layers"])
util = sum(l["utilization"] * l["cycles"] for l in rep["layers"]) / cycles
assert abs(ok["utilization"] - util) < 1e-12, (ok["utilization"], util)
# Of two ok points, the one no other beats on every objective is on the front.
a, b = doc["rows"][2], doc["rows"][3]
dom = lambda x, y: x["latency_ms"] <= y["latency_ms"] and x["energy_uj"] <= y["energy_uj"] and x["utilization"] >= y["utilization"]
assert a["pareto"] == (not dom(b, a)) and b["pareto"] == (not dom(a, b)), (a, b)
PY
for r in $(cut -d, -f1 out/results.csv | tail -n +2); do
  [[ -f out/points/$r/conv_slice/run.log && -f out/points/$r/conv_slice/exit_code ]] || fail "points/$r/conv_slice"
done
ok_point=$(awk -F, '$6 == "ok" {print $1; exit}' out/results.csv)
grep -q "href=\"points/$ok_point/conv_slice/report.html\"" out/index.html || fail "index.html links no report"
[[ -f out/points/$ok_point/conv_slice/report.html ]] || fail "no report.html for $ok_point"
grep -q '<circle' out/pareto.svg || fail "pareto.svg has no points"

# Resumption: the ok runs are kept (their reports untouched), the failed rerun.
before=$(stat -c %Y.%s out/points/$ok_point/conv_slice/report.json)
cp out/results.csv first.csv
sleep 1
status=0
"$npuvp" sweep sweep.yaml --out out -j 2 >stdout2.txt 2>stderr2.txt || status=$?
[[ $status == 1 ]] || fail "rerun: expected exit 1, got $status"
grep -q '^npuvp sweep: 2 of 4 runs have results, skipped$' stderr2.txt || fail "rerun skipped nothing: $(cat stderr2.txt)"
[[ $(stat -c %Y.%s out/points/$ok_point/conv_slice/report.json) == "$before" ]] || fail "rerun rewrote an ok run"
cmp first.csv out/results.csv || fail "the rerun's results differ from the first run's"
# A report cut short is no result: the next sweep runs its point again (it
# was skipped on every rerun and listed as failed).
truncate -s 100 out/points/$ok_point/conv_slice/report.json
status=0
"$npuvp" sweep sweep.yaml --out out -j 2 >/dev/null 2>stderr3.txt || status=$?
grep -q '^npuvp sweep: 1 of 4 runs have results, skipped$' stderr3.txt || fail "a cut report was kept: $(cat stderr3.txt)"
grep -q "^$ok_point,.*,ok," out/results.csv || fail "the point run again is not ok: $(cat out/results.csv)"

# Every point ok: exit 0.
sed 's/\[1, 16\]/[16]/' sweep.yaml >good.yaml
"$npuvp" sweep good.yaml --out out >/dev/null 2>&1 || fail "an all-ok sweep did not exit 0"

# SIGTERM: no new run starts, the running one stops as npuvp run does, the
# results so far are written, exit 130; a rerun completes the rest.
printf 'platform: edge-ip\nnetworks: [squeezenet1_1]\nvary: {sram.bank_kb: [16, 32, 64, 128]}\n' >long.yaml
"$npuvp" sweep long.yaml --out stopped -j 1 >stop.out 2>stop.err &
sweep_pid=$!
for _ in $(seq 600); do
  compgen -G "stopped/points/*/squeezenet1_1/run.log" >/dev/null && break
  sleep 0.05
done
kill -TERM "$sweep_pid"
status=0
wait "$sweep_pid" || status=$?
[[ $status == 130 ]] || fail "SIGTERM: expected exit 130, got $status: $(cat stop.err)"
[[ $(grep -c ',squeezenet1_1,' stopped/results.csv) == 4 ]] || fail "SIGTERM: results.csv not written whole"
grep -q ',squeezenet1_1,ok,' stopped/results.csv && fail "SIGTERM: a run finished that should have stopped"
[[ $(ls stopped/points | wc -l) == 1 ]] || fail "SIGTERM: a new run started after the signal"
# The three never started are pending, not failed: nothing went wrong with them.
[[ $(grep -c ',squeezenet1_1,pending,not started,' stopped/results.csv) == 3 ]] ||
  fail "SIGTERM: the runs not started: $(cat stopped/results.csv)"
grep -q '^4 runs: 0 ok, 0 unverified, 1 failed, 3 not started (a rerun runs them)$' stop.out ||
  fail "SIGTERM: summary $(cat stop.out)"
"$npuvp" sweep long.yaml --out stopped -j 2 --cache "$tmp/cache" >/dev/null 2>&1 || fail "the rerun after SIGTERM"
[[ $(grep -c ',squeezenet1_1,ok,' stopped/results.csv) == 4 ]] || fail "the rerun did not complete the sweep"
# The points shared one prepared-network cache: one entry, no temporaries left.
[[ $(ls "$tmp/cache" | wc -l) == 1 && $(ls "$tmp/cache") == *.prepared ]] || fail "--cache: expected one entry, found: $(ls "$tmp/cache")"

# --dry-run: the command lines, nothing run or written.
"$npuvp" sweep sweep.yaml --out dry --dry-run >dry.txt
[[ ! -e dry ]] || fail "--dry-run wrote its --out"
[[ $(head -1 dry.txt) == "# 4 of 4 runs to do" ]] || fail "dry run: $(head -1 dry.txt)"
grep -q -- "run --platform [^ ]*/configs/platforms/edge-ip.yaml --network conv_slice --out $tmp/dry/points/[0-9a-f]\{12\}/conv_slice --quiet --set simulation.vcd=false --set firmware.column_strips=false --set sram.bank_kb=1 --set pe_array.rows=8 --set pe_array.cols=8 --batch 1 --dataflow hybrid --traces none --threads 1 --cache [^ ]*/npuvp$" dry.txt ||
  fail "dry run command line: $(sed -n 2p dry.txt)"

# A bad file: every problem listed, naming its key; nothing run, no --out.
cat >bad.yaml <<'YAML'
platform: edge-ip
networks: [conv_slice, nosuchnet]
colour: blue
set: {simulation.vcdd: false}
vary:
  sram.bank_kb: {from: 16, to: 8, step: 8}
  pe_array.rows: [8, 16]
zip:
  pe_array.rows: [8]
run: {dataflow: diagonal, batchsize: 2}
objectives: [latency_ms, joules]
YAML
status=0
"$npuvp" sweep bad.yaml --out badout >/dev/null 2>err.txt || status=$?
[[ $status == 1 ]] || fail "bad file: expected exit 1, got $status"
[[ ! -e badout ]] || fail "a bad file created its --out"
diff err.txt - <<'TXT' || fail "bad file errors"
npuvp: 7 problems in the sweep file, nothing was run:
  bad.yaml: key 'colour': expected one of description, platform, networks, set, vary, zip, run, objectives, maximize
  bad.yaml: key 'networks': expected a network from npuvp list networks or a .yaml/.onnx/.csv file, got 'nosuchnet'
  bad.yaml: key 'run.dataflow': --dataflow: expected ws, os, os2d or hybrid, got 'diagonal'
  bad.yaml: key 'run.batchsize': expected an npuvp run option (batch, dataflow, datatype, ideal_memory, input, input_size, layer_dataflow, objective, seed, traces, weight_sparsity)
  bad.yaml: key 'vary.sram.bank_kb': expected from <= to
  bad.yaml: key 'zip.pe_array.rows': a key in both vary and zip
  bad.yaml: key 'objectives': expected columns from latency_ms, fps, energy_uj, energy_per_inference_uj, avg_power_mw, dram_bytes, utilization, area_mm2, got 'joules'
TXT
# Config keys are checked on every point's platform, as npuvp run would.
printf 'platform: edge-ip\nnetworks: [conv_slice]\nset: {simulation.vcdd: false}\nvary: {sram.bank_kb: [16, 0]}\n' >bad2.yaml
status=0
"$npuvp" sweep bad2.yaml --out badout >/dev/null 2>err.txt || status=$?
[[ $status == 1 ]] || fail "bad2: expected exit 1, got $status"
# The key a point sets is named with it, as --set names its own.
grep -q "^  bad2.yaml: point {sram.bank_kb=16}: .*edge-ip.yaml with simulation.vcdd=false: unknown key 'simulation.vcdd'" err.txt || fail "bad2: $(cat err.txt)"
grep -q "^  bad2.yaml: point {sram.bank_kb=0}: .*edge-ip.yaml with sram.bank_kb=0: key 'sram.bank_kb': expected an integer from 1 to 1048576, got '0'$" err.txt ||
  fail "bad2: $(cat err.txt)"
# Bad command lines: exit 2.
for args in "sweep.yaml" "sweep.yaml --out o --backend ssh" "sweep.yaml --out o -j 0" "sweep.yaml --out o -j -3" "sweep.yaml --out o --partition p"; do
  status=0
  # shellcheck disable=SC2086
  "$npuvp" sweep $args >/dev/null 2>&1 || status=$?
  [[ $status == 2 ]] || fail "npuvp sweep $args: expected exit 2, got $status"
done
echo "sweep ran, resumed and refused bad input as expected"
