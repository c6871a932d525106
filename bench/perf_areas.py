#!/usr/bin/env python3
"""Splits a `perf record --call-graph dwarf` profile of npuvp into areas.

Each sample counts once, for the innermost frame of its call chain that is
project or SystemC code: a sample in malloc or std::vector code called by the
NoC is the NoC's, one in memcpy called by an SRAM bank is the SRAM's. Project
code outside the areas (the clusters' compute, firmware, host compute, the
reference executor, quantization, report writers) is "other", and so is a
sample with no such frame.

Usage (from the repository root):
  perf record -F 999 --call-graph dwarf -o perf.data \
      ./build/platform/npuvp run -q --network resnet50 --traces none
  perf script -i perf.data -F comm,ip,sym --no-inline | bench/perf_areas.py
"""
import re
import sys

# First match wins, tried on each frame from the leaf outwards.
AREAS = [
    ("traces", re.compile(r"npuvp::trace::|npuvp::platform::RunMonitor|TimelineRecorder|npuvp::platform::.*[Pp]ower")),
    ("noc", re.compile(r"npuvp::noc::")),
    ("dram", re.compile(r"npuvp::dram::")),
    ("sram/dma", re.compile(r"npuvp::sram::|npuvp::dma::")),
    ("systemc/tlm", re.compile(r"sc_core::|sc_dt::|tlm::|tlm_utils::|npuvp::interconnect::|^qt_|npuvp::tlmx::")),
]
TIMING = ("noc", "dram", "sram/dma", "systemc/tlm")


PROJECT = re.compile(r"npuvp::")


def area_of(frames):
    for sym in frames:
        for name, pattern in AREAS:
            if pattern.search(sym):
                return name
        if PROJECT.search(sym):
            return "other"  # project code outside the areas (clusters' compute, firmware, ...)
    return "other"


def samples(lines):
    frames = []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if frames:
                yield frames
            frames = []
        elif line.startswith(("\t", " ")):
            parts = line.strip().split(" ", 1)
            frames.append(parts[1] if len(parts) > 1 else "")
        # a header line (comm) starts a sample
    if frames:
        yield frames


def main():
    counts = {}
    total = 0
    for frames in samples(sys.stdin):
        a = area_of(frames)
        counts[a] = counts.get(a, 0) + 1
        total += 1
    if total == 0:
        sys.exit("no samples on stdin")
    order = [n for n, _ in AREAS] + ["other"]
    for name in order:
        n = counts.get(name, 0)
        print(f"{name:12s} {n:8d} {100.0 * n / total:6.1f} %")
    timing = sum(counts.get(n, 0) for n in TIMING)
    print(f"{'timing model':12s} {timing:8d} {100.0 * timing / total:6.1f} %  (noc + dram + sram/dma + systemc/tlm)")
    print(f"{'total':12s} {total:8d}")


if __name__ == "__main__":
    main()
