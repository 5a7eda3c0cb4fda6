#!/bin/bash
# make bench-xps: stock 6.12 (xps unloaded) against XPS (the shipped redis
# and http handlers) in one VM boot with four general-purpose CPUs
# (VM_ISOLATE=0), alternating stock and XPS runs:
#   Redis  redis-benchmark 100 % GET; redis-mixload 95/5 and 75/25 GET/SET
#          (32-byte keys, 128-byte values, keyspace preloaded, 100 connections)
#   nginx  wrk POSTs: nginx's own `return 405` against the kernel's 405
# Throughput, p50, p99 and CPU per request (perf) as XPS/stock ratios,
# median and min..max over BENCH_REPS repetitions.
#
#   scripts/bench-xps.sh          (after `make all`; builds nothing itself)
#
# Output: build/results/xps.json (summary and every run), the raw runs and
# perf profiles of the last repetition in build/results/xps-raw/, their top
# entries in build/results/xps-profile.txt, Markdown tables on stdout. The BENCH_* variables of scripts/guest-bench-xps.sh pass
# through, e.g. a smoke run of a few minutes:
#   BENCH_REPS=1 BENCH_SECS=5 BENCH_KEYS=2000 make bench-xps
# VM_ICOUNT=SHIFT counts guest instructions as guest time (scripts/vm-run.sh):
# the figures then measure the guest's work per request, without the cost
# TCG adds outside the guest (its TLB flush at every address-space switch).
# Output then goes to xps-icount.json, xps-icount-raw/, xps-icount-profile.txt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build}
name=xps
[ -z "${VM_ICOUNT:-}" ] || name=xps-icount
[ "${BENCH_CLIENT:-guest}" = guest ] || name=$name-hostcli
RAW=$B/results/$name-raw
cd "$ROOT"

die() {
	printf 'bench-xps: %s\n' "$*" >&2
	exit 1
}

[ -f modules/xps/xps.ko ] || die "modules/xps/xps.ko missing: run 'make modules'"
for f in build/userspace/bin/xpsctl build/userspace/bin/redis-mixload; do
	[ -x "$f" ] || die "$f missing: run 'make userspace'"
done
for c in redis-server redis-benchmark redis-cli wrk nginx perf curl stdbuf; do
	command -v "$c" >/dev/null || [ -x "/usr/sbin/$c" ] ||
		die "'$c' missing (the guest runs the host's binaries): run 'make deps'"
done

vars=()
for v in $(compgen -v | grep -E '^BENCH_' || true); do
	vars+=("$v=$(printf '%q' "${!v}")")
done

# Time budget: per repetition and mode about 5 runs of BENCH_SECS plus the
# warm-ups (redis-benchmark's iterations run at the stock rate), set-up.
secs=${BENCH_SECS:-15}
reps=${BENCH_REPS:-3}
est=$((reps * 2 * (5 * secs + ${BENCH_RB_WARM:-1} * secs + 60) + 180))
timeout=${VM_TIMEOUT:-$((est * 2 > 1800 ? est * 2 : 1800))}
echo "[bench-xps] estimated ${est}s in the guest (VM timeout ${timeout}s)"

# The guest's clocksource is the TSC (scripts/vm-run.sh, VM_CLOCKSOURCE):
# with the HPET, TCG's fallback, clock_gettime() (which redis-benchmark, wrk
# and Redis call per request) was 40 % of redis-benchmark's CPU time in a
# first run. Both modes boot the same.
# BENCH_CLIENT=host: the clients run on the host (scripts/host-client-agent.py,
# reached from the guest over the NIC's tap), natively, like the paper's
# clients on other machines. Only the server is emulated then. The agent
# runs them on BENCH_HOST_CLIENT_CPUS (taskset list; default: anywhere).
tap_addr=
if [ "${BENCH_CLIENT:-guest}" = host ]; then
	net=${BENCH_HOST_NET:-10.213.0}
	python3 scripts/host-client-agent.py "$net.1" 7070 "${BENCH_HOST_CLIENT_CPUS:-}" &
	agent=$!
	trap 'kill $agent 2>/dev/null' EXIT
	sleep 1
	kill -0 $agent 2>/dev/null || die "host-client-agent.py did not start (port 7070 taken?)"
	vars+=("BENCH_HOST_AGENT=$net.1:7070" "BENCH_SERVER_ADDR=$net.2/24")
	tap_addr=$net.1/24
fi

rm -rf "$RAW"
mkdir -p "$RAW"
VM_TAP_ADDR=$tap_addr VM_ISOLATE=0 VM_TIMEOUT=$timeout scripts/vm-run.sh \
	"${vars[*]} scripts/guest-bench-xps.sh $(printf '%q' "$RAW")" ||
	die "the guest part failed (raw output in $RAW, kernel log build/vm/last.log)"

python3 scripts/bench-summary.py xps "$RAW/runs.jsonl" "$B/results/$name.json"

# Where the time went (the last repetition's windows), side by side
{
	for f in "$RAW"/profile-*.txt; do
		echo "==== ${f##*/}"
		cat "$f"
		echo
	done
} >"$B/results/$name-profile.txt"
echo "profiles (perf report, top entries): $B/results/$name-profile.txt"
