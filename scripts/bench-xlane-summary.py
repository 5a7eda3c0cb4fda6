#!/usr/bin/env python3
"""Summarise `make bench-xlane` (scripts/guest-bench-xlane.sh output).

    bench-xlane-summary.py RAWDIR OUT.json [--plot-dir DIR]

RAWDIR holds runs.jsonl (one record per run: "meta", "lat", "fd") and the
tools' outputs it names. Writes OUT.json, prints Markdown tables and draws
DIR/xlane-cdf.png (latency CDF and tail of every variant) and
DIR/xlane-fd.png (X-FD accuracy against the threshold L, Fig. 7 style);
without python3-matplotlib the plots are skipped with a note.

Latency (paper 000, Table 2): xlane-lat's JSON per variant (count, lost,
l_min, p50, p99, p99_9, p99_99, l_max, d_max in ns, cdf [[ns, fraction]]).
Latencies are shown in µs, d_max (max jitter, l_max - l_min) in ns as in the
paper. P(1e5) is the paper's probability bound for at least one of the next
100,000 packets exceeding 10 x l_99 (Chebyshev with the sample mean and
variance, i.i.d.); mean and variance come from the JSON ("mean", "stddev")
or, when absent, from the CDF points (marked ~). Under QEMU TCG absolute
times are emulated: compare variants by their ratios in the same boot.

X-FD: `xlanectl fd start ... --json` output of every host per run. Accepted
forms: one JSON object (events in "events", counters such as beats_rx at top
level or under "table"/"stats"/"summary", or per-peer "peers"[].beats), a
JSON array of events, or JSON lines (events and counter objects). An event
has a type (2 or "suspected", 3 or "recovered", 1 or "joined"), the time the
engine decided ("ns"), the peer's last heartbeat ("last_alive_ns"), and the
peer ("node", "ip" as dotted string or __be32 number). A SUSPECTED event
inside the all-alive window of a run that is not about the failed host
during its failure is a false suspicion; the first suspicion of the failed
host by each other host is a detection, timed from the failed host's last
heartbeat (last_alive_ns) and from the injected failure.
"""
import argparse
import json
import math
import os
import socket
import statistics
import struct
import sys

MODES = ["xlane", "udp", "busypoll"]
LOADS = ["idle", "stress"]
PCTS = [("l_min", "l_min"), ("p50", "l_50"), ("p99", "l_99"), ("p99_9", "l_99.9"),
        ("p99_99", "l_99.99"), ("l_max", "l_max")]
P_PACKETS = 100_000
JOIN_GRACE_NS = 2_000_000_000   # hosts join within this after the last start
RESUME_GRACE_NS = 1_000_000_000  # a failed host may still be suspected this long after it resumed
APPROX_GRACE_NS = 3_000_000_000  # the same when the failure time is only known roughly (stall)

EV_NAMES = {1: "joined", 2: "suspected", 3: "recovered"}


def die(msg):
    sys.exit(f"bench-xlane-summary: {msg}")


# ------------------------------------------------------------------ latency

def moments_from_cdf(cdf):
    """Mean and variance from [[x, F(x)], ...] (mass at each point's x)."""
    pts = sorted((float(x), float(f)) for x, f in cdf)
    if not pts:
        return None
    prev, mean, sq = 0.0, 0.0, 0.0
    total = 0.0
    for x, f in pts:
        m = max(0.0, f - prev)
        prev = max(prev, f)
        mean += m * x
        sq += m * x * x
        total += m
    if total <= 0:
        return None
    mean /= total
    return mean, max(0.0, sq / total - mean * mean)


def violation_bound(r):
    """Paper's P^n_l with l = 10 * l_99 and n = 100,000; (value, approx)."""
    mean = r.get("mean", r.get("l_avg"))
    std = r.get("stddev", r.get("std"))
    approx = False
    if mean is None or std is None:
        m = moments_from_cdf(r.get("cdf") or [])
        if m is None:
            return None, False
        mean, var = m
        approx = True
    else:
        var = float(std) ** 2
    limit = 10 * float(r["p99"])
    if limit <= mean:
        return 1.0, approx
    p1 = min(1.0, var / (limit - mean) ** 2)
    if p1 >= 1.0:
        return 1.0, approx
    return -math.expm1(P_PACKETS * math.log1p(-p1)), approx


def cdf_at(cdf, x):
    """F(x) from the CDF points: the fraction of the last point <= x."""
    best = 0.0
    for lx, f in cdf:
        if lx <= x:
            best = max(best, float(f))
    return best


def latency_rows(runs, raw):
    rows = []
    for run in runs:
        if run.get("kind") != "lat":
            continue
        path = os.path.join(raw, run["file"])
        try:
            with open(path) as f:
                r = json.load(f)
        except (OSError, ValueError) as e:
            die(f"cannot read {path}: {e}")
        missing = [k for k, _ in PCTS if k not in r] + [k for k in ("count", "d_max") if k not in r]
        if missing:
            die(f"{path}: missing {', '.join(missing)}")
        row = {"mode": run["mode"], "load": run["load"], "period_us": run.get("period_us"),
               "count": r["count"], "warmup": r.get("warmup", 0), "lost": r.get("lost", 0),
               "d_max": r["d_max"], "worst": r.get("worst")}
        for k, _ in PCTS:
            row[k] = r[k]
        p, approx = violation_bound(r)
        row["p_1e5_10x_l99"] = p
        row["p_bound_from_cdf"] = approx
        m = moments_from_cdf(r.get("cdf") or [])
        mean = r.get("mean", r.get("l_avg", m[0] if m else None))
        if mean:
            row["relative_jitter"] = (r["l_max"] - r["l_min"]) / mean
        for k in ("sw2_band0_pkts", "sw2_band1_pkts", "rx_cpu", "engine"):
            if k in run:
                row[k] = run[k]
        row["cdf"] = r.get("cdf") or []
        rows.append(row)
    order = {(m, l): i for i, (m, l) in enumerate((m, l) for l in LOADS for m in MODES)}
    rows.sort(key=lambda x: order.get((x["mode"], x["load"]), 99))
    return rows


def us(ns):
    return f"{ns / 1000:.3f}" if ns < 1e8 else f"{ns / 1000:.3g}"


def sci(v):
    if v is None:
        return "-"
    return f"{v:.0f}" if v < 1e4 else f"{v:.1E}"


def print_latency(rows):
    print("### Timings (Table 2): latency in µs, d_max in ns\n")
    print("| variant | load | sent (warm-up) | lost | " + " | ".join(n for _, n in PCTS) +
          " | d_max (ns) | P(1e5) |")
    print("|---|---|---:|---:|" + "---:|" * len(PCTS) + "---:|---:|")
    for r in rows:
        p = "-" if r["p_1e5_10x_l99"] is None else \
            ("~" if r["p_bound_from_cdf"] else "") + f"{r['p_1e5_10x_l99']:.3f}"
        print(f"| {r['mode']} | {r['load']} | {r['count']} ({r['warmup']}) | {r['lost']} | " +
              " | ".join(us(r[k]) for k, _ in PCTS) + f" | {sci(r['d_max'])} | {p} |")
    for r in rows:
        if r["lost"]:
            print(f"warning: {r['mode']} ({r['load']}) lost {r['lost']} of {r['count']} messages")
    for r in rows:
        e = r.get("engine") or {}
        b, a = e.get("before") or {}, e.get("after") or {}
        if r["mode"] != "xlane" or not a.get("engine_masked_gap_max_ns"):
            continue
        stalls = (a.get("engine_stalls") or 0) - (b.get("engine_stalls") or 0)
        print(f"engine during xlane ({r['load']}): {stalls} stalls; longest gap with IRQs "
              f"masked since load {us(a['engine_masked_gap_max_ns'])} µs "
              f"(before the run {us(b.get('engine_masked_gap_max_ns') or 0)} µs)")
    print("\nP(1e5): bound on at least one of the next 100,000 packets above 10 x l_99 "
          "(paper 000 §6.2; ~ = moments from the CDF points).")


def ratios(rows):
    by = {(r["mode"], r["load"]): r for r in rows}
    out = []
    for load in LOADS:
        x = by.get(("xlane", load))
        if not x:
            continue
        for base in ("udp", "busypoll"):
            b = by.get((base, load))
            if not b:
                continue
            out.append({"load": load, "baseline": base,
                        "d_max": x["d_max"] / b["d_max"] if b["d_max"] else None,
                        "p99_99": x["p99_99"] / b["p99_99"] if b["p99_99"] else None,
                        "p50": x["p50"] / b["p50"] if b["p50"] else None})
    return out


def print_ratios(rat):
    if not rat:
        return
    print("\n### X-Lane against the regular stack (same boot; < 1 means X-Lane is better)\n")
    print("| load | X-Lane / | d_max | p99.99 | p50 |")
    print("|---|---|---:|---:|---:|")
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    for r in sorted(rat, key=lambda r: (r["load"] != "stress", r["baseline"])):
        mark = "**" if r["load"] == "stress" and r["baseline"] == "udp" else ""
        print(f"| {mark}{r['load']}{mark} | {r['baseline']} | {mark}{fmt(r['d_max'])}{mark} | "
              f"{mark}{fmt(r['p99_99'])}{mark} | {fmt(r['p50'])} |")


# ------------------------------------------------------------------ X-FD

def ip_candidates(v):
    if v is None:
        return set()
    if isinstance(v, str):
        return {v}
    if isinstance(v, int) and 0 <= v < 2 ** 32:
        return {socket.inet_ntoa(struct.pack("<I", v)), socket.inet_ntoa(struct.pack("!I", v))}
    return {str(v)}


def first_num(d, keys):
    for k in keys:
        v = d.get(k)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return v
    return None


def norm_event(e):
    t = e.get("type", e.get("event"))
    if isinstance(t, int):
        t = EV_NAMES.get(t, str(t))
    else:
        s = str(t).lower()
        t = ("suspected" if "suspect" in s else "recovered" if "recover" in s
             else "joined" if "join" in s else s)
    return {"type": t, "ns": first_num(e, ("ns", "t_ns", "time_ns", "ts_ns", "when_ns")),
            "last_alive_ns": first_num(e, ("last_alive_ns", "last_ns")),
            "node": e.get("node"), "ips": ip_candidates(e.get("ip", e.get("peer_ip")))}


def is_event(o):
    return isinstance(o, dict) and ("type" in o or "event" in o) and \
        ("node" in o or "ip" in o or "peer_ip" in o)


def collect(obj, events, stats):
    if isinstance(obj, list):
        for o in obj:
            collect(o, events, stats)
    elif is_event(obj):
        events.append(norm_event(obj))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            if k == "events" and isinstance(v, list):
                collect(v, events, stats)
            elif k in ("table", "stats", "summary", "fd") and isinstance(v, dict):
                collect(v, events, stats)
            elif k == "event_ring" and isinstance(v, dict):
                # events the process did not read in time: its event count is short
                stats["events_lost"] = first_num(v, ("dropped",)) or 0
            elif k == "peers" and isinstance(v, list):
                stats.setdefault("peers", []).extend(p for p in v if isinstance(p, dict))
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                stats.setdefault(k, v)


def read_fd_output(path):
    """Events and counters of one `xlanectl fd start --json` output."""
    res = {"events": [], "stats": {}, "bad_lines": 0, "present": os.path.exists(path)}
    if not res["present"]:
        return res
    with open(path, errors="replace") as f:
        text = f.read()
    try:
        collect(json.loads(text), res["events"], res["stats"])
        return res
    except ValueError:
        pass
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            collect(json.loads(line), res["events"], res["stats"])
        except ValueError:
            res["bad_lines"] += 1
    return res


def beats_rx(stats):
    v = first_num(stats, ("beats_rx", "heartbeats_rx", "rx_beats"))
    if v is None and stats.get("peers"):
        v = sum(first_num(p, ("beats",)) or 0 for p in stats["peers"])
    return v


def spread(values):
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values),
            "n": len(values)}


def stall_marks(path):
    """{"liveness_stalled": ns, "liveness_resumed": ns} from an xlanectl output."""
    marks = {}
    try:
        with open(path, errors="replace") as f:
            for line in f:
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                if isinstance(o, dict) and o.get("event") in ("liveness_stalled", "liveness_resumed") \
                        and isinstance(o.get("ns"), int):
                    marks.setdefault(o["event"], o["ns"])
    except OSError:
        pass
    return marks


def analyse_fd_run(run, raw):
    hosts = sorted(run["outputs"])
    period_ns = run["period_us"] * 1000
    thr_ns = run["threshold_us"] * 1000
    starts = run.get("start_ns") or []
    win_lo = (max(starts) + JOIN_GRACE_NS) if starts else None
    win_hi = run.get("end_ns") or ((min(starts) + run["seconds"] * 1_000_000_000) if starts else None)
    fail = run.get("fail") or {}
    mode = fail.get("mode", "none")
    victim, victim_ip = fail.get("victim"), fail.get("victim_ip")
    t_fail = int(fail.get("t_fail_ns") or 0)
    t_res = int(fail.get("t_resume_ns") or 0)
    approx = bool(fail.get("approx"))
    if mode == "stall" and victim in run["outputs"]:
        # xlanectl stamps its stall with CLOCK_MONOTONIC, the clock of the
        # events; the script's times are when it saw the lines (late under
        # stress, 1.5 s in one run)
        marks = stall_marks(os.path.join(raw, run["outputs"][victim]))
        if "liveness_stalled" in marks and "liveness_resumed" in marks:
            t_fail, t_res = marks["liveness_stalled"], marks["liveness_resumed"]
            approx = False
    fail_hi = None
    if mode in ("stop", "stall"):
        fail_hi = t_res + period_ns + thr_ns + (APPROX_GRACE_NS if approx else RESUME_GRACE_NS)

    outs = {h: read_fd_output(os.path.join(raw, run["outputs"][h])) for h in hosts}
    early = {h: read_fd_output(os.path.join(raw, f)) for h, f in (run.get("early") or {}).items()}
    # node id -> ip, from any event that carries both
    node_ip = {}
    for o in outs.values():
        for e in o["events"]:
            if e["node"] is not None and e["ips"]:
                node_ip.setdefault(e["node"], e["ips"])

    def about_victim(e):
        ips = e["ips"] or node_ip.get(e["node"], set())
        return victim_ip is not None and victim_ip in ips

    res = {"tag": run["tag"], "threshold_us": run["threshold_us"], "period_us": run["period_us"],
           "seconds": run["seconds"], "beats_target": run.get("beats_target", 0), "hosts": len(hosts), "load": run.get("load"), "fail": mode, "victim": victim,
           "false_suspicions": 0, "suspicions_outside_window": 0, "recoveries": 0,
           "detections": [], "missed": [], "beats_rx": 0, "beats_rx_estimated": False,
           "beats_tx": 0, "no_output": [], "unparsed_lines": 0, "events_lost": 0,
           "table_suspicions": 0}
    for h in hosts:
        o = outs[h]
        res["unparsed_lines"] += o["bad_lines"]
        is_victim = h == victim
        if not o["present"] or (not o["events"] and not o["stats"]):
            if not (is_victim and mode == "kill"):
                res["no_output"].append(h)
        b = beats_rx(o["stats"])
        b0 = beats_rx(early[h]["stats"]) if h in early else None
        if b is not None and b0 is not None and b0 <= b:
            b -= b0  # only the counting window (the table may count since module load)
        if b is None and not (is_victim and mode == "kill"):
            b = (len(hosts) - 1) * run["seconds"] * 1e9 / period_ns
            res["beats_rx_estimated"] = True
        res["beats_rx"] += b or 0
        tx = first_num(o["stats"], ("beats_tx", "heartbeats_tx"))
        tx0 = first_num(early[h]["stats"], ("beats_tx", "heartbeats_tx")) if h in early else None
        if tx is not None and tx0 is not None and tx0 <= tx:
            tx -= tx0
        res["beats_tx"] += tx or 0
        res["events_lost"] += o["stats"].get("events_lost", 0)
        # The alive table counts every suspicion, whether or not its event
        # was read; in the counting window of a run without a failure all
        # of them are false.
        su = first_num(o["stats"], ("suspicions",))
        su0 = first_num(early[h]["stats"], ("suspicions",)) if h in early else None
        if su is not None and su0 is not None and su0 <= su:
            su -= su0
        res["table_suspicions"] += su or 0
        detected = False
        for e in sorted(o["events"], key=lambda e: e["ns"] or 0):
            if e["type"] == "recovered":
                res["recoveries"] += 1
            if e["type"] != "suspected":
                continue
            t = e["ns"]
            if t is not None and win_lo is not None and not (win_lo <= t <= win_hi):
                res["suspicions_outside_window"] += 1
                continue
            in_fail = mode != "none" and about_victim(e) and not is_victim and \
                (t is None or (t >= t_fail and (fail_hi is None or t <= fail_hi)))
            if in_fail:
                if not detected:
                    detected = True
                    d = {"observer": h}
                    if t is not None and e["last_alive_ns"]:
                        d["from_last_heartbeat_us"] = (t - e["last_alive_ns"]) / 1000
                    if t is not None and t_fail and not approx:
                        d["from_failure_us"] = (t - t_fail) / 1000
                    res["detections"].append(d)
                continue
            res["false_suspicions"] += 1
        if mode != "none" and not is_victim and not detected:
            res["missed"].append(h)
    if mode == "none":
        res["false_suspicions"] = max(res["false_suspicions"], res["table_suspicions"])
    return res


def fd_group(ps):
    fs = sum(p["false_suspicions"] for p in ps)
    beats = sum(p["beats_rx"] for p in ps)
    dets = [d for p in ps for d in p["detections"]]
    return {
        "runs": len(ps), "false_suspicions": fs, "beats_rx": beats,
        "events_lost": sum(p["events_lost"] for p in ps),
        "beats_rx_estimated": any(p["beats_rx_estimated"] for p in ps),
        "accuracy": (1 - fs / beats) if beats else None,
        "failures": sum(1 for p in ps if p["fail"] != "none"),
        "detections": len(dets), "missed": sum(len(p["missed"]) for p in ps),
        "detect_from_last_heartbeat_us": spread([d["from_last_heartbeat_us"] for d in dets
                                                 if "from_last_heartbeat_us" in d]),
        "detect_from_failure_us": spread([d["from_failure_us"] for d in dets
                                          if "from_failure_us" in d]),
        "no_output": sorted({h for p in ps for h in p["no_output"]}),
    }


def fd_summary(runs, raw):
    fd_runs = [r for r in runs if r.get("kind") == "fd"]
    if not fd_runs:
        return None
    per_run = [analyse_fd_run(r, raw) for r in fd_runs]
    long = [p for p in per_run if p["fail"] == "none"]
    by_l, by_lf = {}, {}
    for p in per_run:
        by_l.setdefault(p["threshold_us"], []).append(p)
        by_lf.setdefault((p["threshold_us"], p["fail"]), []).append(p)
    # accuracy over every run at L; detection per failure kind
    table = [dict(threshold_us=L, **fd_group(ps)) for L, ps in sorted(by_l.items())]
    detail = [dict(threshold_us=L, fail=f, **fd_group(ps))
              for (L, f), ps in sorted(by_lf.items())]
    return {"runs": per_run, "long": long, "by_threshold": table, "by_threshold_and_failure": detail}


def print_fd(fd):
    if not fd:
        return
    fmt = lambda s: "-" if not s else f"{s['median']:.0f} ({s['min']:.0f}..{s['max']:.0f})"  # noqa: E731
    for p in fd["long"]:
        acc = "-" if not p["beats_rx"] else f"{1 - p['false_suspicions'] / p['beats_rx']:.7f}"
        est = " (estimated)" if p["beats_rx_estimated"] else ""
        print(f"\n### X-FD accuracy run: T {p['period_us']} µs, L {p['threshold_us']} µs, "
              f"{p['seconds']} s, {p['load']}\n")
        print(f"heartbeats received {p['beats_rx']:.0f}{est}, sent {p['beats_tx']:.0f}; "
              f"false suspicions {p['false_suspicions']}; accuracy {acc}")
        if p["beats_target"] and p["beats_tx"] < p["beats_target"]:
            print(f"warning: {p['beats_tx']:.0f} heartbeats sent, short of the target "
                  f"{p['beats_target']} (BENCH_FD_LONG_MAX_S ended the run; the engine sent "
                  f"{p['beats_tx'] / max(1, p['seconds']) / max(1, p['hosts']):.0f} per second "
                  f"and host, 1e6 / T = {1e6 / p['period_us']:.0f} expected)")
    print("\n### X-FD against the threshold L (Fig. 7): accuracy and detection\n")
    print("| L (µs) | failure | runs | heartbeats rx | false susp. | accuracy | detected | "
          "missed | from last heartbeat µs, median (min..max) | from failure µs |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---|---|")
    for t in fd["by_threshold_and_failure"]:
        acc = "-" if t["accuracy"] is None else f"{t['accuracy']:.6f}"
        est = "~" if t["beats_rx_estimated"] else ""
        det = "-" if not t["failures"] else f"{t['detections']}"
        mis = "-" if not t["failures"] else f"{t['missed']}"
        print(f"| {t['threshold_us']} | {t['fail']} | {t['runs']} | {est}{t['beats_rx']:.0f} | "
              f"{t['false_suspicions']} | {acc} | {det} | {mis} | "
              f"{fmt(t['detect_from_last_heartbeat_us'])} | {fmt(t['detect_from_failure_us'])} |")
    print("\naccuracy = 1 - false suspicions / heartbeats received while every host was alive "
          "(~: heartbeats estimated); detected/missed: other hosts that did / did not suspect "
          "the failed one; stall failures have no exact failure time.")
    notes = sorted({h for t in fd["by_threshold"] for h in t["no_output"]})
    if notes:
        print(f"\nwarning: no usable X-FD output from {', '.join(notes)} in some runs")
    for t in fd["by_threshold_and_failure"]:
        if t["failures"] and not t["detections"]:
            print(f"warning: no '{t['fail']}' failure was detected at L {t['threshold_us']} µs"
                  + (" (does the engine stop heartbeats, or peers suspect, when the liveness "
                     "counter stalls?)" if t["fail"] in ("stall", "stop") else ""))


def cdf_accuracy(rows, thresholds):
    """Fig. 7 from the latency runs: P(latency <= L) per variant."""
    return [{"mode": r["mode"], "load": r["load"],
             "accuracy": {str(L): cdf_at(r["cdf"], L * 1000) for L in thresholds}}
            for r in rows if r["cdf"]]


def print_cdf_accuracy(acc, thresholds):
    if not acc or not thresholds:
        return
    print("\n### Accuracy a failure detector would reach on each variant: "
          "P(latency <= L) from the latency CDF\n")
    print("| variant | load | " + " | ".join(f"L={L} µs" for L in thresholds) + " |")
    print("|---|---|" + "---:|" * len(thresholds))
    for a in acc:
        print(f"| {a['mode']} | {a['load']} | " +
              " | ".join(f"{a['accuracy'][str(L)]:.6f}" for L in thresholds) + " |")


# ------------------------------------------------------------------ plots

def plot(rows, fd, cdf_acc, thresholds, plot_dir):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("\nplots skipped: matplotlib is missing (apt-get install python3-matplotlib)")
        return []
    written = []
    colors = {"xlane": "tab:green", "udp": "tab:blue", "busypoll": "tab:orange"}
    styles = {"idle": "-", "stress": "--"}
    if any(r["cdf"] for r in rows):
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
        for r in rows:
            pts = sorted((x / 1000, f) for x, f in r["cdf"])
            if not pts:
                continue
            xs, fs = zip(*pts)
            kw = {"color": colors.get(r["mode"]), "linestyle": styles.get(r["load"], ":"),
                  "label": f"{r['mode']} ({r['load']})"}
            ax1.plot(xs, fs, drawstyle="steps-post", **kw)
            tail = [(x, 1 - f) for x, f in pts if f < 1]
            if tail:
                ax2.plot(*zip(*tail), drawstyle="steps-post", **kw)
        ax1.set(xscale="log", xlabel="one-way latency (µs)", ylabel="fraction of messages",
                title="latency CDF")
        ax2.set(xscale="log", yscale="log", xlabel="one-way latency (µs)",
                ylabel="fraction above (1 - CDF)", title="tail")
        for ax in (ax1, ax2):
            ax.grid(True, which="both", alpha=0.3)
        ax1.legend(fontsize=8)
        fig.suptitle("X-Lane vs regular stack (QEMU TCG: compare shapes and ratios, not µs)")
        fig.tight_layout()
        path = os.path.join(plot_dir, "xlane-cdf.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    if (fd and fd["by_threshold"]) or cdf_acc:
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        for a in cdf_acc:
            ls = sorted(int(k) for k in a["accuracy"])
            ax.plot(ls, [a["accuracy"][str(L)] for L in ls], marker=".",
                    color=colors.get(a["mode"]), linestyle=styles.get(a["load"], ":"),
                    label=f"{a['mode']} ({a['load']}), from latency CDF")
        if fd:
            pts = [(t["threshold_us"], t["accuracy"]) for t in fd["by_threshold"]
                   if t["accuracy"] is not None]
            if pts:
                ax.plot(*zip(*pts), marker="o", color="black", linestyle="-",
                        label="X-FD measured (1 - false suspicions / heartbeats)")
        ax.set(xscale="log", xlabel="threshold L (µs)", ylabel="accuracy",
               title="X-FD accuracy vs threshold (Fig. 7 style)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = os.path.join(plot_dir, "xlane-fd.png")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        written.append(path)
    return written


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description="Summarise make bench-xlane runs.")
    ap.add_argument("raw", help="directory with runs.jsonl (guest-bench-xlane.sh)")
    ap.add_argument("out", help="merged JSON to write (build/results/xlane.json)")
    ap.add_argument("--plot-dir", help="where the PNGs go (default: next to OUT)")
    args = ap.parse_args()

    path = os.path.join(args.raw, "runs.jsonl")
    try:
        with open(path) as f:
            runs = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        die(f"cannot read {path}: {e}")
    if not any(r.get("kind") in ("lat", "fd") for r in runs):
        die(f"no runs in {path}")
    meta = next((r for r in runs if r.get("kind") == "meta"), {})

    rows = latency_rows(runs, args.raw)
    rat = ratios(rows)
    fd = fd_summary(runs, args.raw)
    thresholds = [t["threshold_us"] for t in fd["by_threshold"]] if fd else []
    cdf_acc = cdf_accuracy([r for r in rows], thresholds)

    if meta:
        print(f"X-Lane benchmark: kernel {meta.get('kernel')}, {meta.get('hosts')} hosts, "
              f"switch rate {meta.get('switch_rate') or 'unshaped'}, isolated CPU "
              f"{meta.get('isolated')} (host nice {meta.get('host_vcpu_nice') or 0}), "
              f"{meta.get('msgs')} messages every "
              f"{meta.get('period_us')} µs per variant\n")
    if rows:
        print_latency(rows)
        print_ratios(rat)
    print_fd(fd)
    print_cdf_accuracy(cdf_acc, thresholds)

    plot_dir = args.plot_dir or os.path.dirname(os.path.abspath(args.out))
    os.makedirs(plot_dir, exist_ok=True)
    plots = plot(rows, fd, cdf_acc, thresholds, plot_dir)

    out = {"mechanism": "xlane", "meta": meta,
           "latency": rows, "ratios": rat, "fd": fd, "fd_from_latency_cdf": cdf_acc,
           "plots": plots, "runs": runs}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1, default=sorted)
    print(f"\nwritten: {args.out}" + "".join(f", {p}" for p in plots))


if __name__ == "__main__":
    main()
