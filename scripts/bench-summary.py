#!/usr/bin/env python3
"""Summarise benchmark runs (JSON lines from a guest-bench-*.sh script).

    bench-summary.py latr RUNS.jsonl OUT.json

Every figure is a ratio of the mechanism against stock measured in the same
VM boot; the spread is the min..max of the per-repetition ratios (each
repetition ran stock and the mechanism back to back).
"""
import json
import statistics
import sys
from collections import defaultdict


def spread(values):
    return {"mean": statistics.mean(values), "min": min(values),
            "max": max(values), "n": len(values)}


def fmt(s, pct=False):
    if s is None:
        return "-"
    if pct:
        return f"{s['mean'] * 100:6.1f}% ({s['min'] * 100:.1f}..{s['max'] * 100:.1f})"
    return f"{s['mean']:6.2f}x ({s['min']:.2f}..{s['max']:.2f})"


def ipis(counts):
    """Shootdown-related IPIs of one run: TLB + CAL rows."""
    return counts["tlb"] + counts["cal"]


def add_ipis(g, stock_counts, latr_counts):
    si, li = ipis(stock_counts), ipis(latr_counts)
    g["stock_ipis"].append(si)
    g["latr_ipis"].append(li)
    if si:
        g["ipi_reduction"].append(1 - li / si)


def latr(runs):
    by = defaultdict(dict)  # (workload, key, rep) -> mode -> run
    for r in runs:
        if r["workload"] == "munmap":
            key = (r["cpu_list"], r["result"]["pages"])
        else:
            key = ()
        by[(r["workload"], key, r["rep"])][r["mode"]] = r

    groups = defaultdict(lambda: defaultdict(list))
    for (wl, key, rep), modes in by.items():
        if "stock" not in modes or "latr" not in modes:
            continue
        s, l = modes["stock"], modes["latr"]
        g = groups[(wl, key)]
        if wl in ("munmap", "noshoot"):
            g["latency_ratio"].append(l["result"]["munmap_ns"]["mean"] /
                                      s["result"]["munmap_ns"]["mean"])
            g["p99_ratio"].append(l["result"]["munmap_ns"]["p99"] /
                                  s["result"]["munmap_ns"]["p99"])
            add_ipis(g, s["result"]["ipis"], l["result"]["ipis"])
            if "tracepoint" in s:
                g["stock_sent"].append(s["tracepoint"]["sent"])
                g["latr_sent"].append(l["tracepoint"]["sent"])
        elif wl == "apache":
            g["rps_ratio"].append(l["rps"] / s["rps"] if s["rps"] else 0)
            add_ipis(g, s["ipis"], l["ipis"])
            g["stock_rps"].append(s["rps"])
            g["latr_rps"].append(l["rps"])

    summary = []
    for (wl, key), g in sorted(groups.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        row = {"workload": wl}
        if wl == "munmap":
            row["cpus"] = key[0]
            row["pages"] = key[1]
        for k, v in g.items():
            row[k] = spread(v)
        summary.append(row)

    print(f"{'workload':10} {'CPUs':5} {'pages':>5}  {'munmap latency':22} "
          f"{'IPIs stock->latr':>18}  {'IPI reduction':24} {'throughput':20}")
    for row in summary:
        cpus = row.get("cpus", "")
        pages = row.get("pages", "")
        lat = fmt(row.get("latency_ratio"))
        ipis = ""
        if "stock_ipis" in row:
            ipis = f"{row['stock_ipis']['mean']:.0f} -> {row['latr_ipis']['mean']:.0f}"
        red = fmt(row.get("ipi_reduction"), pct=True)
        thr = fmt(row.get("rps_ratio"))
        print(f"{row['workload']:10} {cpus:5} {pages!s:>5}  {lat:22} {ipis:>18}  {red:24} {thr:20}")
    print("ratios are latr/stock in the same boot, mean (min..max) over repetitions;"
          " IPIs = TLB + CAL rows of /proc/interrupts")
    return summary


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("latr",):
        sys.exit("usage: bench-summary.py latr RUNS.jsonl OUT.json")
    with open(sys.argv[2]) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    if not runs:
        sys.exit(f"bench-summary: no runs in {sys.argv[2]}")
    summary = latr(runs)
    with open(sys.argv[3], "w") as f:
        json.dump({"mechanism": sys.argv[1], "summary": summary, "runs": runs}, f, indent=1)
    print(f"written: {sys.argv[3]}")


if __name__ == "__main__":
    main()
