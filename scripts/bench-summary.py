#!/usr/bin/env python3
"""Summarise benchmark runs (JSON lines from a guest-bench-*.sh script).

    bench-summary.py latr RUNS.jsonl OUT.json
    bench-summary.py xps RUNS.jsonl OUT.json

Every figure is a ratio of the mechanism against stock measured in the same
VM boot; the spread is the min..max of the per-repetition ratios (each
repetition ran stock and the mechanism back to back). latr reports the
mean of the ratios, xps the median.
"""
import json
import os
import statistics
import sys
from collections import defaultdict


def spread(values):
    return {"mean": statistics.mean(values), "median": statistics.median(values),
            "min": min(values), "max": max(values), "n": len(values)}


def fmt(s, pct=False):
    if s is None:
        return "-"
    if pct:
        return f"{s['mean'] * 100:6.1f}% ({s['min'] * 100:.1f}..{s['max'] * 100:.1f})"
    return f"{s['mean']:6.2f}x ({s['min']:.2f}..{s['max']:.2f})"


def ipis(counts, run):
    """Shootdown IPIs of one run.

    The TLB row of /proc/interrupts counts the shootdowns a CPU received
    through the kernel's IPI path: all of stock's, and LATR's synchronous
    fallbacks. The IPIs LATR sends itself (completions after a timeout or
    for a reused range) the kernel counts only in the CAL row, among every
    other function-call IPI (remote wake-ups, mostly), so they are taken
    from the module's counters, zeroed before each run ("latr_per_run").
    Raw files from before that counted TLB + CAL, which counts each stock
    shootdown twice and the background in both modes; they are summarised
    that way, and marked.
    """
    if not run.get("latr_per_run"):
        return counts["tlb"] + counts["cal"], False
    stats = run.get("latr") or {}
    return counts["tlb"] + stats.get("timeout_ipis", 0) + stats.get("reuse_ipis", 0), True


def add_ipis(g, stock, latr, stock_counts, latr_counts):
    (si, s_new), (li, l_new) = ipis(stock_counts, stock), ipis(latr_counts, latr)
    if not (s_new and l_new):
        si, li = stock_counts["tlb"] + stock_counts["cal"], latr_counts["tlb"] + latr_counts["cal"]
        g["ipis_tlb_plus_cal"].append(1)
    g["stock_ipis"].append(si)
    g["latr_ipis"].append(li)
    g["stock_cal"].append(stock_counts["cal"])
    g["latr_cal"].append(latr_counts["cal"])
    if si:
        g["ipi_reduction"].append(1 - li / si)


def latr_figure(wl, run):
    """The headline figure of a run: munmap mean ns, ctxsw us/op, Apache req/s."""
    if wl in ("munmap", "noshoot"):
        return run["result"]["munmap_ns"]["mean"]
    if wl == "ctxsw":
        return run["usecs_per_op"]
    if wl == "autonuma":
        return run["result"]["pages_written_per_s"]
    return run["rps"]


def latr(runs):
    by = defaultdict(dict)  # (workload, key, rep) -> mode -> run
    for r in runs:
        if r["workload"] == "munmap":
            key = (r["cpu_list"], r["result"]["pages"])
        elif r["workload"] == "apache":
            key = (r.get("conns", 16),)  # runs before 2026-12-04: 16
        else:
            key = ()
        by[(r["workload"], key, r["rep"])][r["mode"]] = r

    groups = defaultdict(lambda: defaultdict(list))
    for (wl, key, rep), modes in by.items():
        if "stock" not in modes or "latr" not in modes:
            continue
        s, l = modes["stock"], modes["latr"]
        g = groups[(wl, key)]
        if "unpatched" in modes:
            # patched kernel, module unloaded, against 6.12 without the
            # patches (another boot: only meaningful with counted time)
            u = latr_figure(wl, modes["unpatched"])
            if u:
                g["unloaded_ratio"].append(latr_figure(wl, s) / u)
        if wl in ("munmap", "noshoot"):
            g["latency_ratio"].append(latr_figure(wl, l) / latr_figure(wl, s))
            g["p99_ratio"].append(l["result"]["munmap_ns"]["p99"] /
                                  s["result"]["munmap_ns"]["p99"])
            add_ipis(g, s, l, s["result"]["ipis"], l["result"]["ipis"])
            if "tracepoint" in s:
                g["stock_sent"].append(s["tracepoint"]["sent"])
                g["latr_sent"].append(l["tracepoint"]["sent"])
        elif wl == "ctxsw":
            g["latency_ratio"].append(latr_figure(wl, l) / latr_figure(wl, s))
        elif wl == "autonuma":
            # throughput: pages written per second by all writers; the IPIs
            # per 1000 hinting faults, since the modes need not scan alike
            # (the scan period adapts to the faults)
            g["rps_ratio"].append(latr_figure(wl, l) / latr_figure(wl, s))
            add_ipis(g, s, l, s["result"]["ipis"], l["result"]["ipis"])
            for name, run in (("stock", s), ("latr", l), ("nonuma", modes.get("latr-nonuma"))):
                if run is None:
                    continue
                numa = run["result"]["numa"]
                shootdowns = ipis(run["result"]["ipis"], run)[0]
                g[f"{name}_scan_passes"].append(numa["scan_passes"])
                g[f"{name}_faults"].append(numa["hinting_faults"])
                if numa["hinting_faults"]:
                    g[f"{name}_ipis_per_kfault"].append(shootdowns * 1000 / numa["hinting_faults"])
                if name == "nonuma":
                    g["nonuma_ipis"].append(shootdowns)
                    g["numa_recorded"].append((l.get("latr") or {}).get("numa_recorded", 0))
        elif wl == "apache":
            g["rps_ratio"].append(l["rps"] / s["rps"] if s["rps"] else 0)
            add_ipis(g, s, l, s["ipis"], l["ipis"])
            g["stock_rps"].append(s["rps"])
            g["latr_rps"].append(l["rps"])

    summary = []
    for (wl, key), g in sorted(groups.items(), key=lambda kv: (kv[0][0], [str(k).zfill(8) for k in kv[0][1]])):
        row = {"workload": wl}
        if wl == "munmap":
            row["cpus"] = key[0]
            row["pages"] = key[1]
        elif wl == "apache":
            row["conns"] = key[0]
        for k, v in g.items():
            row[k] = spread(v)
        summary.append(row)

    print(f"{'workload':10} {'CPUs':5} {'pages':>5}  {'munmap latency':22} "
          f"{'IPIs stock->latr':>18}  {'IPI reduction':24} {'throughput':20}")
    # apache's "pages" column holds wrk's connections (c16: 16)
    for row in summary:
        cpus = row.get("cpus", "")
        pages = row.get("pages", "")
        if "conns" in row:
            pages = f"c{row['conns']}"
        lat = fmt(row.get("latency_ratio"))
        counts = ""
        if "stock_ipis" in row:
            counts = f"{row['stock_ipis']['mean']:.0f} -> {row['latr_ipis']['mean']:.0f}"
        red = fmt(row.get("ipi_reduction"), pct=True)
        thr = fmt(row.get("rps_ratio"))
        print(f"{row['workload']:10} {cpus:5} {pages!s:>5}  {lat:22} {counts:>18}  {red:24} {thr:20}")
    for row in (r for r in summary if r["workload"] == "autonuma"):
        def m(k, d=0):
            return f"{row[k]['mean']:.{d}f}" if k in row else "-"
        print(f"autonuma: shootdown IPIs stock {m('stock_ipis')}, LATR numa=N {m('nonuma_ipis')}, "
              f"LATR {m('latr_ipis')} ({m('numa_recorded')} hinting states); per 1000 hinting "
              f"faults: {m('stock_ipis_per_kfault', 1)}, {m('nonuma_ipis_per_kfault', 1)}, "
              f"{m('latr_ipis_per_kfault', 1)}; hinting faults {m('stock_faults')}, "
              f"{m('nonuma_faults')}, {m('latr_faults')}; scan passes {m('stock_scan_passes')}, "
              f"{m('nonuma_scan_passes')}, {m('latr_scan_passes')}")
    print("ratios are latr/stock in the same boot, mean (min..max) over repetitions;"
          " IPIs = shootdowns: TLB row of /proc/interrupts + LATR's own timeout/reuse IPIs")
    if any("ipis_tlb_plus_cal" in r for r in summary):
        print("(raw runs without per-run LATR counters: IPIs there are TLB + CAL rows)")
    unloaded = [r for r in summary if "unloaded_ratio" in r]
    if unloaded:
        print("patched kernel, module unloaded / 6.12 without the patches"
              " (munmap latency, us per op, or requests/s):")
        for row in unloaded:
            what = " ".join(str(row[k]) for k in ("cpus", "pages") if k in row)
            print(f"  {row['workload']:10} {what:10} {fmt(row['unloaded_ratio'])}")
    return summary


# --- xps -------------------------------------------------------------------

# Processes of the measuring harness itself (guest-bench-xps.sh, perf and
# what they exec at the edges of a window): not part of any workload.
XPS_HARNESS = {"perf", "perf-exec", "date", "awk", "sleep", "cat", "sed", "seq",
               "guest-bench-xps", "bash"}
XPS_SERVER = {"redis-get": "redis-server", "redis-mix95": "redis-server",
              "redis-mix75": "redis-server", "nginx-post": "nginx"}
XPS_CLIENTS = {"redis-benchmark", "redis-mixload", "wrk", "redis-server", "nginx", "xpsctl"}
XPS_WORKLOADS = ["redis-get", "redis-mix95", "redis-mix75", "nginx-post"]
XPS_LABEL = {"redis-get": "Redis 100% GET (redis-benchmark)",
             "redis-mix95": "Redis 95/5 GET/SET (redis-mixload)",
             "redis-mix75": "Redis 75/25 GET/SET (redis-mixload)",
             "nginx-post": "nginx POST blocking (wrk)"}


def med(values):
    return {"median": statistics.median(values), "min": min(values),
            "max": max(values), "n": len(values)}


def fmt_med(s, digits=2):
    if s is None:
        return "-"
    return f"{s['median']:.{digits}f}× ({s['min']:.{digits}f}..{s['max']:.{digits}f})"


def xps_cpus(cpu, pick):
    """CPUs' worth of the samples whose command name pick() accepts: each
    CPU's share taken from its own samples (a halted vCPU may lose some)."""
    total = 0.0
    for comms in cpu["by_cpu"].values():
        n = sum(comms.values())
        if n:
            total += sum(v for c, v in comms.items() if pick(c)) / n
    return total


def xps_busy(cpu):
    """Busy CPUs of a window, the measuring harness and the idle task excluded."""
    return xps_cpus(cpu, lambda c: c != "swapper" and c not in XPS_HARNESS)


def xps_comm_cpus(cpu, comm):
    return xps_cpus(cpu, lambda c: c == comm)


def xps_delta(run):
    a, b = run.get("xps0"), run.get("xps1")
    if not a or not b:
        return None
    return {k: b[k] - a[k] for k in b}


def xps_run_figures(run):
    """Per-run figures: throughput, latency, CPU per request (us)."""
    rps = run["rps"]
    busy = xps_busy(run["cpu"])
    f = {"rps": rps, "p50_ms": run["p50_ms"], "p99_ms": run["p99_ms"],
         "busy_cpus": busy,
         "cpu_us_per_req": busy / rps * 1e6 if rps else None,
         "server_cpu_us_per_req":
             xps_comm_cpus(run["cpu"], XPS_SERVER[run["workload"]]) / rps * 1e6 if rps else None}
    if rps:
        f["by_comm_us_per_req"] = {c: xps_comm_cpus(run["cpu"], c) / rps * 1e6
                                   for c in {c for comms in run["cpu"]["by_cpu"].values()
                                             for c in comms}
                                   if c != "swapper" and c not in XPS_HARNESS}
    wall = run["cpu"].get("wall_s") or 0
    if wall and rps:
        f["ctxt_per_req"] = run["cpu"]["ctxt"] / (rps * wall)
        ps = run["cpu"]["procstat"]
        if ps["ticks"]:
            f["procstat_cpu_us_per_req"] = (run["cpu"]["ncpu"] * (ps["ticks"] - ps["idle_ticks"])
                                            / ps["ticks"]) / rps * 1e6
    if "server_cmds" in run and run.get("requests", 0) == 0 and wall and rps:
        f["server_cmds_per_req"] = run["server_cmds"] / (rps * wall)
    elif "server_cmds" in run and run.get("requests"):
        f["server_cmds_per_req"] = run["server_cmds"] / run["requests"]
    ss = run["cpu"].get("server_sched")
    if ss and ss["slices"] and wall:
        # the server's main thread: share of the window on a CPU and
        # waiting in a runqueue, and the mean wait before each slice
        f["server_run_share"] = ss["run_ns"] / (wall * 1e9)
        f["server_wait_share"] = ss["wait_ns"] / (wall * 1e9)
        f["server_wait_us_per_slice"] = ss["wait_ns"] / ss["slices"] / 1e3
    cl = run.get("client")
    for cmd in ("get", "set"):
        lat = cl.get(f"{cmd}_latency_ns") if isinstance(cl, dict) else None
        if lat and lat.get("count"):
            f[f"{cmd}_p99_ms"] = lat["p99"] / 1e6
    d = xps_delta(run)
    if d and d["calls"]:
        f["kernel_answered"] = d["tx"] / d["calls"]
        if "yielded" in d:
            f["yielded"] = d["yielded"] / d["calls"]
        f["handler_us_per_call"] = d["cpu_ns"] / d["calls"] / 1e3
    return f


def xps(runs):
    by = defaultdict(dict)
    for r in runs:
        if r.get("workload") in XPS_SERVER:
            by[(r["workload"], r["rep"])][r["mode"]] = r
    groups = defaultdict(lambda: defaultdict(list))
    for (wl, rep), modes in sorted(by.items()):
        if "stock" not in modes or "xps" not in modes:
            continue
        s, x = xps_run_figures(modes["stock"]), xps_run_figures(modes["xps"])
        g = groups[wl]
        if "xps-noyield" in modes:
            # BENCH_YIELD_AB: the same handler with yield_us=0, same repetition
            n = xps_run_figures(modes["xps-noyield"])
            for k in ("rps", "p99_ms", "set_p99_ms", "get_p99_ms"):
                if s.get(k) and n.get(k) is not None:
                    g["noyield_" + k + "_ratio"].append(n[k] / s[k])
        for k in ("rps", "p50_ms", "p99_ms", "cpu_us_per_req", "server_cpu_us_per_req",
                  "ctxt_per_req", "procstat_cpu_us_per_req", "server_cmds_per_req",
                  "get_p99_ms", "set_p99_ms", "server_run_share", "server_wait_share",
                  "server_wait_us_per_slice"):
            if s.get(k) is not None and x.get(k) is not None:
                g["stock_" + k].append(s[k])
                g["xps_" + k].append(x[k])
                if s[k]:
                    g[k + "_ratio"].append(x[k] / s[k])
        for k in ("kernel_answered", "handler_us_per_call", "yielded"):
            if k in x:
                g["xps_" + k].append(x[k])
        # where the CPU time per request went, by command name (>= 1 us/req)
        for mode, f in (("stock", s), ("xps", x)):
            for c, v in f.get("by_comm_us_per_req", {}).items():
                if v >= 1.0 or c in XPS_CLIENTS:
                    g[f"{mode}_us_per_req_{c}"].append(v)

    summary = []
    for wl in XPS_WORKLOADS:
        if wl not in groups:
            continue
        row = {"workload": wl, "label": XPS_LABEL[wl]}
        for k, v in groups[wl].items():
            row[k] = med(v)
        summary.append(row)

    # The targets, judged on the median ratio (and on every repetition).
    targets = []

    def target(wl, key, op, bound, what):
        row = next((r for r in summary if r["workload"] == wl), None)
        if row is None or key not in row:
            return
        s = row[key]
        ok = (lambda v: v >= bound) if op == ">=" else (lambda v: v <= bound)
        targets.append({"what": what, "workload": wl, "figure": key, "bound": f"{op} {bound}",
                        "median": s["median"], "min": s["min"], "max": s["max"],
                        "met": ok(s["median"]),
                        "met_every_rep": ok(s["min"]) and ok(s["max"])})

    target("redis-get", "rps_ratio", ">=", 1.5, "Redis 100% GET throughput >= 1.5x stock")
    target("redis-get", "p99_ms_ratio", "<=", 0.6, "Redis 100% GET p99 <= 0.6x stock")
    target("nginx-post", "rps_ratio", ">=", 1.5,
           "nginx POST blocking throughput >= 1.5x nginx's own return 405")

    def cell(row, key, digits=2):
        return fmt_med(row.get(key), digits)

    def absolute(row, key, digits=0):
        s, x = row.get("stock_" + key), row.get("xps_" + key)
        if not s or not x:
            return "-"
        return f"{s['median']:.{digits}f} → {x['median']:.{digits}f}"

    print("| workload | throughput | p50 | p99 | CPU / request | req/s stock → XPS "
          "| CPU µs/req stock → XPS | answered in kernel |")
    print("|---|---|---|---|---|---|---|---|")
    for row in summary:
        ka = row.get("xps_kernel_answered")
        ka = f"{ka['median'] * 100:.1f}%" if ka else "-"
        print(f"| {row['label']} | {cell(row, 'rps_ratio')} | {cell(row, 'p50_ms_ratio')} "
              f"| {cell(row, 'p99_ms_ratio')} | {cell(row, 'cpu_us_per_req_ratio')} "
              f"| {absolute(row, 'rps')} | {absolute(row, 'cpu_us_per_req')} | {ka} |")
    print()
    print("XPS/stock in the same boot: median (min..max) over repetitions; CPU / request = busy CPUs"
          " (perf samples of all CPUs, harness excluded) / throughput")
    print()
    print("| workload | CPU µs/req by process, stock → XPS (medians; a client's figure includes "
          "the softirq work it triggers: the kernel's TCP path and the XPS handler) "
          "| Redis commands / request | handler µs / call |")
    print("|---|---|---|---|")
    for row in summary:
        parts = []
        for c in ("redis-benchmark", "redis-mixload", "wrk", "redis-server", "nginx", "xpsctl"):
            sk, xk = f"stock_us_per_req_{c}", f"xps_us_per_req_{c}"
            if sk in row or xk in row:
                sv = f"{row[sk]['median']:.0f}" if sk in row else "0"
                xv = f"{row[xk]['median']:.0f}" if xk in row else "0"
                name = "xpsctl (filler)" if c == "xpsctl" else c
                parts.append(f"{name} {sv} → {xv}")
        cmds = absolute(row, "server_cmds_per_req", 2)
        h = row.get("xps_handler_us_per_call")
        h = f"{h['median']:.1f}" if h else "-"
        print(f"| {row['label']} | {'; '.join(parts)} | {cmds} | {h} |")
    def table(title, header, rows, line):
        # a Markdown table of the rows that have figures for it
        if not rows:
            return
        print()
        if title:
            print(title)
            print()
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for row in rows:
            y = row.get("xps_yielded")
            y = f"{y['median'] * 100:.1f}%" if y else "-"
            print("| " + " | ".join([row["label"]] + line(row) + [y]) + " |")

    table(None, ["workload", "GET p99 ms stock → XPS", "SET p99 ms stock → XPS", "SET p99",
                 "Redis on a CPU, stock → XPS (softirq in its context included)",
                 "Redis runnable, waiting", "mean wait per slice, µs", "yielded to the owner"],
          [r for r in summary if "stock_set_p99_ms" in r],
          lambda row: [absolute(row, "get_p99_ms", 1), absolute(row, "set_p99_ms", 1),
                       cell(row, "set_p99_ms_ratio"), absolute(row, "server_run_share", 2),
                       absolute(row, "server_wait_share", 2),
                       absolute(row, "server_wait_us_per_slice", 0)])
    table("Yield on (yield_us as in the settings) and off (0), each against stock in the "
          "same repetition:",
          ["workload", "throughput on / off", "p99 on / off", "GET p99 on / off",
           "SET p99 on / off", "yielded"],
          [r for r in summary if "noyield_rps_ratio" in r],
          lambda row: [f"{cell(row, k + '_ratio')} / {cell(row, 'noyield_' + k + '_ratio')}"
                       for k in ("rps", "p99_ms", "get_p99_ms", "set_p99_ms")])
    for t in targets:
        verdict = "met" if t["met"] else "NOT met"
        every = "" if t["met"] == t["met_every_rep"] else " (not in every repetition)"
        print(f"target: {t['what']}: {t['median']:.2f}x ({t['min']:.2f}..{t['max']:.2f})"
              f" -> {verdict}{every}")
    return summary, targets


def main():
    if not (len(sys.argv) == 4 or (len(sys.argv) == 5 and sys.argv[1] == "latr")) \
            or sys.argv[1] not in ("latr", "xps"):
        sys.exit("usage: bench-summary.py {latr|xps} RUNS.jsonl OUT.json\n"
                 "       bench-summary.py latr RUNS.jsonl OUT.json UNPATCHED-RUNS.jsonl")
    runs = []
    for path in [sys.argv[2]] + sys.argv[4:]:
        with open(path) as f:
            some = [json.loads(line) for line in f if line.strip()]
        if not some:
            sys.exit(f"bench-summary: no runs in {path}")
        runs += some
    out = {"mechanism": sys.argv[1]}
    if sys.argv[1] == "latr":
        out["summary"] = latr(runs)
    else:
        out["summary"], out["targets"] = xps(runs)
        out["settings"] = next((r for r in runs if r.get("workload") == "meta"), None)
    # what guest time measured: the host's time, or instructions (vm-run.sh)
    shift = os.environ.get("VM_ICOUNT")
    out["clock"] = (f"instructions (QEMU -icount shift={shift}: 2^{shift} ns each)"
                    if shift else "host time (TCG)")
    out["runs"] = runs
    with open(sys.argv[3], "w") as f:
        json.dump(out, f, indent=1)
    print(f"written: {sys.argv[3]}")


if __name__ == "__main__":
    main()
