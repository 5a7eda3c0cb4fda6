#!/bin/bash
# make bench-latr: stock 6.12 (latr unloaded) against LATR (latr loaded,
# mode all) in one VM boot, repeated; build/results/latr.json and a table.
# As in the paper's setup all four CPUs are general purpose (VM_ISOLATE=0).
#   BENCH_REPS=3 (repetitions), BENCH_SCALE=1 (iteration count factor),
#   BENCH_OVERHEAD_REPS=10 (repetitions of the short overhead workloads),
#   BENCH_ONLY="munmap autonuma apache noshoot ctxsw" (a subset), BENCH_PROFILE=1
#   (a profiled Apache run per mode: build/results/latr-profile.txt),
#   BENCH_APACHE_WARMUP_S=5 (an unmeasured Apache run per mode first),
#   BENCH_APACHE_CONNS="16 256" (wrk's connections, one set of runs each),
#   LATR_PARAMS='idle_leave=0' (insmod),
#   VM_ICOUNT=SHIFT: count instructions instead of host time (see
#   scripts/vm-run.sh); the results go to latr-icount.json, so a timed run's
#   latr.json stays. Meant for the overhead workloads, whose differences
#   are smaller than TCG's timing noise:
#     VM_ICOUNT=3 BENCH_ONLY="noshoot ctxsw" make bench-latr
#   BENCH_UNPATCHED=1 (with VM_ICOUNT only): first boot 6.12 without the
#   patches (make kernel-stock) and run the same workloads there, as mode
#   "unpatched", to show what the patches cost with the module unloaded.
#   Two boots compare only when guest time counts instructions.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build}
name=latr
[ -z "${VM_ICOUNT:-}" ] || name=latr-icount
RAW=$B/results/$name-runs.jsonl
mkdir -p "$B/results"
cd "$ROOT" || exit 2
vars=()
for v in BENCH_REPS BENCH_SCALE BENCH_ONLY BENCH_OVERHEAD_REPS BENCH_PROFILE BENCH_PERF_HZ BENCH_APACHE_WARMUP_S BENCH_APACHE_CONNS LATR_PARAMS; do
	[ -z "${!v:-}" ] || vars+=("$v=$(printf '%q' "${!v}")")
done
extra=()
if [ "${BENCH_UNPATCHED:-0}" = 1 ]; then
	[ -n "${VM_ICOUNT:-}" ] || {
		echo "bench-latr: BENCH_UNPATCHED=1 compares two boots, which needs VM_ICOUNT" >&2
		exit 2
	}
	stock_kernel=$B/linux-stock/arch/x86/boot/bzImage
	[ -f "$stock_kernel" ] || {
		echo "bench-latr: $stock_kernel missing: make kernel-stock" >&2
		exit 2
	}
	extra=("$B/results/$name-unpatched-runs.jsonl")
	VM_KERNEL=$stock_kernel VM_ISOLATE=0 scripts/vm-run.sh \
		"${vars[*]} BENCH_MODES=unpatched scripts/guest-bench-latr.sh ${extra[0]}" || exit 1
fi
VM_ISOLATE=0 scripts/vm-run.sh "${vars[*]} scripts/guest-bench-latr.sh $RAW" || exit 1
python3 scripts/bench-summary.py latr "$RAW" "$B/results/$name.json" "${extra[@]}"
