#!/bin/bash
# make bench-xlane: X-Lane against the regular network stack (UDP sockets,
# and UDP with busy polling), idle and under cross traffic + CPU stress, then
# the X-FD failure detector (accuracy over a long run, detection time and
# accuracy against the threshold L), all in one VM boot with CPU 3 isolated
# for the lane engine (paper 000, section 6.2 / Table 2, section 6.4 / Fig. 7).
#
#   scripts/bench-xlane.sh          (after `make all`; builds nothing itself)
#
# Output: build/results/xlane.json (merged), build/results/xlane-cdf.png and
# xlane-fd.png, the raw runs in build/results/xlane-raw/, a Markdown table
# on stdout. Every BENCH_*, XLANE_TOPO_*, XLANE_CROSS_* and XLANE_* variable
# documented in scripts/guest-bench-xlane.sh and scripts/xlane-topo.sh is
# passed to the guest, e.g.
#   BENCH_MSGS=20000 BENCH_FD_BEATS=30000 BENCH_FD_REPS=1 make bench-xlane
# for a smoke run of a few minutes. VM_TIMEOUT (s) defaults to an estimate
# from those settings. VM_PIN and VM_CPUS: see below and scripts/vm-run.sh.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build}
RAW=$B/results/xlane-raw
cd "$ROOT"

die() {
	printf 'bench-xlane: %s\n' "$*" >&2
	exit 1
}

[ -f modules/xlane/xlane.ko ] || die "modules/xlane/xlane.ko missing: run 'make modules'"
for f in build/userspace/bin/xlanectl build/userspace/bin/xlane-lat; do
	[ -x "$f" ] || die "$f missing: run 'make userspace'"
done
[ -f "$B/bpf/xlane_prio.bpf.o" ] || die "build/bpf/xlane_prio.bpf.o missing: run 'make bpf'"
for c in iperf3 stress-ng; do
	command -v "$c" >/dev/null || die "'$c' missing (the guest runs the host's binaries): run 'make deps'"
done
[ "${VM_ISOLATE:-1}" = 1 ] || die "VM_ISOLATE=0: X-Lane needs its isolated CPU"

# The guest starts with an empty environment: hand over the settings.
vars=()
for v in $(compgen -v | grep -E '^(BENCH_|XLANE_|XLANECTL$)' || true); do
	vars+=("$v=$(printf '%q' "${!v}")")
done

# Time budget: the latency runs at their nominal rate (x3 for TCG), the X-FD
# runs, set-up and cross-traffic warm-ups.
msgs=${BENCH_MSGS:-1000000}
period=${BENCH_PERIOD_US:-100}
nmodes=$(wc -w <<<"${BENCH_MODES:-xlane udp busypoll}")
nloads=$(wc -w <<<"${BENCH_LOADS:-idle stress}")
hosts=${BENCH_HOSTS:-3}
fd_s=0
if [ "${BENCH_FD:-1}" = 1 ]; then
	nls=$(wc -w <<<"${BENCH_FD_THRESHOLDS_US:-5000 20000 100000 500000}")
	nfail=$(wc -w <<<"${BENCH_FD_FAIL:-stall kill}")
	long_s=$((${BENCH_FD_BEATS:-1000000} * ${BENCH_FD_PERIOD_US:-1000} / (hosts * 1000000)))
	max_s=${BENCH_FD_LONG_MAX_S:-1800}
	fd_s=$((long_s < max_s ? long_s : max_s))
	fd_s=$((fd_s + nls * nfail * ${BENCH_FD_REPS:-2} * (${BENCH_FD_ALIVE_S:-10} + 2 * ${BENCH_FD_DOWN_S:-3} + 30)))
fi
[ "${BENCH_LAT:-1}" = 1 ] || nloads=0
est=$((nmodes * nloads * (3 * msgs * period / 1000000 + 30) + fd_s + 300))
timeout=${VM_TIMEOUT:-$((est * 2 > 1800 ? est * 2 : 1800))}
echo "[bench-xlane] estimated ${est}s in the guest (VM timeout ${timeout}s)"

rm -rf "$RAW"
mkdir -p "$RAW"
# Every vCPU gets a host CPU of its own (VM_PIN=0: shared), so on a host
# with fewer than four CPUs the guest has two: CPU 0 for everything else,
# CPU 1 isolated for the lane engine (VM_CPUS=4 to override).
cpus=${VM_CPUS:-4}
[ "$(nproc)" -ge 4 ] || cpus=${VM_CPUS:-2}
# The isolated vCPU's host thread at nice -20 (VM_PIN_NICE= for none):
# host kworkers then take that host CPU in short slices (see vm-run.sh).
nice_=${VM_PIN_NICE--20}
vars+=("XLANE_HOST_VCPU_NICE=$(printf '%q' "$nice_")")
VM_CPUS=$cpus VM_PIN=${VM_PIN:-1} VM_PIN_NICE=$nice_ VM_TIMEOUT=$timeout scripts/vm-run.sh \
	"${vars[*]} scripts/guest-bench-xlane.sh $(printf '%q' "$RAW")" ||
	die "the guest part failed (raw output in $RAW, kernel log build/vm/last.log)"

# Debian's python3 has python3-matplotlib; a python3 earlier in PATH may not.
PY=python3
[ ! -x /usr/bin/python3 ] || PY=/usr/bin/python3
"$PY" scripts/bench-xlane-summary.py "$RAW" "$B/results/xlane.json"
