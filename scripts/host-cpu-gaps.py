#!/usr/bin/env python3
"""How much of one host CPU the host itself takes away (for VM_PIN).

    host-cpu-gaps.py [--cpu N] [--seconds S] [--threshold-ms T]

Spins on host CPU N (default: the last one, where vm-run.sh puts the
isolated vCPU) reading CLOCK_MONOTONIC, and counts the gaps longer than T
ms (default 1) between two reads. A gap during which this thread was
switched out involuntarily (getrusage's ru_nivcsw grew) was a host task; one
without a switch was an interrupt or time the hypervisor under the host did
not run this CPU. Run it under `nice -n -20` to see what VM_PIN_NICE=-20
leaves. A busy-polling vCPU sees the same gaps.
"""
import argparse
import os
import resource
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cpu", type=int, default=os.cpu_count() - 1)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--threshold-ms", type=float, default=1.0)
    a = ap.parse_args()
    os.sched_setaffinity(0, {a.cpu})
    thr = int(a.threshold_ms * 1e6)
    stats = {k: [0, 0, 0] for k in ("host task", "no switch")}  # count, >5 ms, max ns
    now = time.monotonic_ns
    ivcsw = lambda: resource.getrusage(resource.RUSAGE_THREAD).ru_nivcsw
    sw = ivcsw()
    end = now() + int(a.seconds * 1e9)
    prev = now()
    while prev < end:
        t = now()
        gap, prev = t - prev, t
        if gap > thr:
            s = ivcsw()
            st = stats["host task" if s != sw else "no switch"]
            sw = s
            st[0] += 1
            st[1] += gap > 5_000_000
            st[2] = max(st[2], gap)
            prev = now()
    print(f"CPU {a.cpu}, {a.seconds:g} s, nice {os.nice(0)}: gaps over {a.threshold_ms:g} ms")
    for k, (n, n5, mx) in stats.items():
        print(f"  {k:9}: {n:5d} ({n5} over 5 ms), longest {mx / 1e6:.3f} ms")


if __name__ == "__main__":
    main()
