#!/bin/bash
# make bench-latr: stock 6.12 (latr unloaded) against LATR (latr loaded,
# mode all) in one VM boot, repeated; build/results/latr.json and a table.
# As in the paper's setup all four CPUs are general purpose (VM_ISOLATE=0).
#   BENCH_REPS=3 (repetitions), BENCH_SCALE=1 (iteration count factor),
#   BENCH_OVERHEAD_REPS=10 (repetitions of the short overhead workloads),
#   BENCH_ONLY="munmap apache noshoot ctxsw" (a subset), BENCH_PROFILE=1
#   (a profiled Apache run per mode: build/results/latr-profile.txt),
#   LATR_PARAMS='idle_leave=0' (insmod)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build}
RAW=$B/results/latr-runs.jsonl
mkdir -p "$B/results"
cd "$ROOT" || exit 2
vars=()
for v in BENCH_REPS BENCH_SCALE BENCH_ONLY BENCH_OVERHEAD_REPS BENCH_PROFILE BENCH_PERF_HZ LATR_PARAMS; do
	[ -z "${!v:-}" ] || vars+=("$v=$(printf '%q' "${!v}")")
done
VM_ISOLATE=0 scripts/vm-run.sh "${vars[*]} scripts/guest-bench-latr.sh $RAW" || exit 1
python3 scripts/bench-summary.py latr "$RAW" "$B/results/latr.json"
