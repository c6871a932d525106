#!/usr/bin/python3
"""The co-design studies in docs/studies.md, regenerated from sweep outputs.

Each study is a shipped sweep file, configs/sweeps/STUDY.yaml. This script runs
them through `npuvp sweep` (--run; a rerun resumes) and writes, per study with
results, its table into docs/studies.md between the markers
<!-- study:STUDY --> and <!-- /study:STUDY -->, and its chart to
docs/studies/STUDY.svg. A study without results keeps what the page had.

A rerun resumes: points with results are not run again. The point hash covers
a point's inputs, not the simulator, so after the model changes use --fresh.

usage: bench/studies.py [--run [--fresh]] [--npuvp BIN] [--out DIR] [-j N] [STUDY ...]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDIES = ["global-buffer", "register-file", "dataflow", "datatype", "batch", "compact-networks"]
UNITS = {"latency_ms": "ms", "energy_uj": "µJ", "energy_per_inference_uj": "µJ", "fps": "FPS", "avg_power_mw": "mW", "dram_bytes": "B",
         "utilization": "", "area_mm2": "mm²"}
COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"]


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.4g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)


def combos(doc):
    """The varied values of each point, in the sweep's order, without repeats."""
    out = []
    for r in doc["rows"]:
        key = tuple(r[k] for k in doc["varied"])
        if key not in out:
            out.append(key)
    return out


def cell(r, m):
    if r is None:
        return ""
    if r["status"] in ("failed", "pending"):  # pending: the sweep stopped before it
        return r["status"]
    mark = "**" if r["pareto"] else ""
    return mark + fmt(r[m]) + mark


def table(doc):
    """Networks side by side when there are one or two, else one row per network and point."""
    metrics = [o["column"] for o in doc["objectives"]]
    nets = list(dict.fromkeys(r["network"] for r in doc["rows"]))
    by = {(tuple(r[k] for k in doc["varied"]), r["network"]): r for r in doc["rows"]}
    names = {"energy_per_inference_uj": "energy per image"}
    label = lambda m: f"{names.get(m, m.split('_')[0])} ({UNITS[m]})".replace(" ()", "")
    wide = len(nets) <= 2
    head = list(doc["varied"]) + ([f"{n} {label(m)}" for n in nets for m in metrics] if wide
                                  else ["network"] + [label(m) for m in metrics])
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    if wide:
        for c in combos(doc):
            lines.append("| " + " | ".join([fmt(v) for v in c] + [cell(by.get((c, n)), m) for n in nets
                                                                  for m in metrics]) + " |")
    else:
        for n in nets:
            for c in combos(doc):
                lines.append("| " + " | ".join([fmt(v) for v in c] + [n] + [cell(by.get((c, n)), m)
                                                                        for m in metrics]) + " |")
    failed = [r for r in doc["rows"] if r["status"] == "failed"]
    notes = ["", "Bold: on that network's Pareto front (" + ", ".join(
        o["column"] + (" maximized" if o["maximize"] else "") for o in doc["objectives"]) + ")."]
    errors = list(dict.fromkeys(r["error"] for r in failed))
    for e in errors[:3]:
        notes.append(f"Failed: `{e[:300]}`")
    return "\n".join(lines + notes)


def chart(doc):
    """One panel per objective. x: the first varied key's values; one line per network and value
    of the other varied keys, each relative to its first point."""
    metrics = [o["column"] for o in doc["objectives"]]
    varied = doc["varied"]
    xs = list(dict.fromkeys(r[varied[0]] for r in doc["rows"])) if varied else [""]
    lines = {}  # (network, other varied values) -> {x: row}
    for r in doc["rows"]:
        key = (r["network"],) + tuple(r[k] for k in varied[1:])
        lines.setdefault(key, {})[r[varied[0]] if varied else ""] = r
    pw, ph, ml, mt, mb = 330, 260, 50, 30, 60
    width = ml + len(metrics) * (pw + ml) + 220
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{max(ph + mt + mb, 24 + 16 * len(lines))}" '
           'font-family="sans-serif" font-size="11">']
    for p, m in enumerate(metrics):
        series = {}
        for key, by_x in lines.items():
            base = next((by_x[x][m] for x in xs if x in by_x and by_x[x][m]), None)
            series[key] = [by_x[x][m] / base if base and x in by_x and by_x[x][m] is not None else None for x in xs]
        vals = [v for s in series.values() for v in s if v is not None] or [1.0]
        lo, hi = min(vals + [1.0]), max(vals + [1.0])
        span = (hi - lo) or 1.0
        lo, hi = lo - 0.05 * span, hi + 0.05 * span
        x0 = ml + p * (pw + ml)
        px = lambda i: x0 + (i + 0.5) * pw / len(xs)
        py = lambda v: mt + (hi - v) / (hi - lo) * ph
        svg.append(f'<rect x="{x0}" y="{mt}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
        svg.append(f'<text x="{x0 + pw / 2}" y="{mt - 10}" text-anchor="middle">{m}, relative to the first point</text>')
        ticks = [lo + (hi - lo) * (0.05 + 0.3 * i) for i in range(4)]
        for t in [1.0] + [t for t in ticks if abs(t - 1.0) > 0.08 * (hi - lo)]:
            svg.append(f'<text x="{x0 - 4}" y="{py(t) + 4:.1f}" text-anchor="end">{t:.2f}</text>')
        for i, x in enumerate(xs):
            svg.append(f'<text x="{px(i):.1f}" y="{mt + ph + 14}" text-anchor="middle">{fmt(x)}</text>')
        svg.append(f'<text x="{x0 + pw / 2}" y="{mt + ph + 34}" text-anchor="middle">{varied[0] if varied else ""}</text>')
        for k, key in enumerate(series):
            pts = [(px(i), py(v)) for i, v in enumerate(series[key]) if v is not None]
            colour = COLOURS[k % len(COLOURS)]
            if len(pts) > 1:
                svg.append('<polyline fill="none" stroke="%s" points="%s"/>' % (
                    colour, " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)))
            for x, y in pts:
                svg.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
    lx = ml + len(metrics) * (pw + ml)
    for k, key in enumerate(lines):
        name = key[0] + "".join(f", {v}" for v in key[1:])
        svg.append(f'<rect x="{lx}" y="{mt + 16 * k}" width="10" height="10" fill="{COLOURS[k % len(COLOURS)]}"/>'
                   f'<text x="{lx + 14}" y="{mt + 16 * k + 9}">{name}</text>')
    if len(varied) > 1:
        svg.append(f'<text x="{lx}" y="{mt + 16 * len(lines) + 14}">network, {", ".join(varied[1:])}</text>')
    svg.append("</svg>")
    return "\n".join(svg) + "\n"


def block(study, doc):
    return (f"<!-- study:{study} -->\n"
            f"Generated by `bench/studies.py` from `npuvp sweep configs/sweeps/{study}.yaml`:\n\n"
            f"{table(doc)}\n\n![{study}](studies/{study}.svg)\n"
            f"<!-- /study:{study} -->")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("studies", nargs="*", default=STUDIES)
    ap.add_argument("--run", action="store_true", help="run the sweeps first (a rerun resumes)")
    ap.add_argument("--fresh", action="store_true", help="with --run: discard earlier results first")
    ap.add_argument("--npuvp", default=os.path.join(ROOT, "build/platform/npuvp"))
    ap.add_argument("--out", default=os.path.join(ROOT, "traces/studies"), help="sweep outputs, one folder per study")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--page", default=os.path.join(ROOT, "docs/studies.md"), help="the page to rewrite")
    args = ap.parse_args()
    for s in args.studies:
        if s not in STUDIES:
            sys.exit(f"studies.py: unknown study '{s}' (one of {', '.join(STUDIES)})")
    page_path = args.page
    charts = os.path.join(os.path.dirname(os.path.abspath(page_path)), "studies")
    page = open(page_path).read()
    for s in args.studies:
        out = os.path.join(args.out, s)
        if args.run and args.fresh:
            shutil.rmtree(out, ignore_errors=True)
        if args.run:
            subprocess.run([args.npuvp, "sweep", os.path.join(ROOT, "configs/sweeps", s + ".yaml"), "--out", out,
                            "-j", str(args.jobs)], check=False)
        results = os.path.join(out, "results.json")
        if not os.path.exists(results):
            print(f"studies.py: {s}: no {results}, left as it was (run with --run)")
            continue
        doc = json.load(open(results))
        pattern = re.compile(rf"<!-- study:{re.escape(s)} -->.*?<!-- /study:{re.escape(s)} -->", re.S)
        if not pattern.search(page):
            sys.exit(f"studies.py: {page_path} has no <!-- study:{s} --> ... <!-- /study:{s} --> block")
        page = pattern.sub(lambda _: block(s, doc), page)
        os.makedirs(charts, exist_ok=True)
        with open(os.path.join(charts, s + ".svg"), "w") as f:
            f.write(chart(doc))
        print(f"studies.py: {s}: {len(doc['rows'])} rows from {results}")
    with open(page_path, "w") as f:
        f.write(page)


if __name__ == "__main__":
    main()
