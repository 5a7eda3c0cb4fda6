#!/bin/bash
# Runs in the guest for `make bench-xlane` (scripts/bench-xlane.sh boots the
# VM): X-Lane's timings against the regular network stack (paper 000, section
# 6.2 / Table 2) and the X-FD failure detector (section 6.4 / Fig. 7), all in
# one boot, on the namespace topology of scripts/xlane-topo.sh (hosts xl1..xlN
# behind a strict-priority switch; the lane engine on the isolated CPU).
#
#   guest-bench-xlane.sh RAWDIR
#
# Writes RAWDIR/runs.jsonl (one JSON object per run, "kind": meta | lat | fd)
# and the tools' own outputs next to it; scripts/bench-xlane-summary.py turns
# them into build/results/xlane.json, a table and plots.
#
# Steps (each fails loudly, naming what broke):
#   1. topology up (XLANE_TOPO_RATE shapes the switch ports so that cross
#      traffic queues), insmod modules/xlane/xlane.ko, `xlanectl -n xlK
#      attach dev eth0` for every host (xlanectl -n, not `ip netns exec`:
#      the pins must land in the bpffs of this mount namespace, and in the
#      guest /proc/1 is the initramfs, outside the chroot);
#   2. latency: for each load in {idle, stress} and each mode in {xlane, udp,
#      busypoll}: `xlane-lat MODE --ns-send xl1 --ns-recv xl2 --count
#      BENCH_MSGS --period-us BENCH_PERIOD_US --json FILE`; stress is
#      `xlane-topo.sh cross start` (iperf3 TCP+UDP on the lane's links and
#      stress-ng, all on the housekeeping CPUs);
#   3. X-FD accuracy: `xlanectl -n xlK fd start group G period T threshold L
#      --json` in every host at once, until the hosts have sent
#      BENCH_FD_BEATS heartbeats in total (their alive tables, polled) or
#      BENCH_FD_LONG_MAX_S passed, then SIGTERM (xlanectl stops X-FD and
#      prints its table); every SUSPECTED event is a false suspicion;
#   4. X-FD detection, for each threshold L of BENCH_FD_THRESHOLDS_US, each
#      failure kind of BENCH_FD_FAIL, BENCH_FD_REPS times: all hosts alive
#      for BENCH_FD_ALIVE_S, then one host's application fails:
#        stall  its liveness counter stops for BENCH_FD_DOWN_S (xlanectl fd
#               start --stall-after/--stall-for: the process lives on; the
#               engine sends no heartbeat while the counter does not move);
#        kill   SIGKILL of its `xlanectl fd start` (the session closes, its
#               heartbeats stop: a crash);
#        stop   SIGSTOP, SIGCONT BENCH_FD_DOWN_S later (the whole process
#               hangs, liveness thread included);
#      the other hosts' SUSPECTED events give the time from the failed
#      host's last heartbeat to the suspicion; any other suspicion in the
#      all-alive part of a run counts against the accuracy at that L.
#   Heartbeats received are counted from each host's alive table: `xlanectl
#   fd status --json` 2 s into a run and the table of the final "stopped"
#   line; the difference covers the window in which suspicions are counted.
#
# Environment (defaults in brackets):
#   BENCH_MSGS [1000000]         messages per latency run
#   BENCH_PERIOD_US [100]        message period of the latency runs
#   BENCH_MODES [xlane udp busypoll], BENCH_LOADS [idle stress]
#   BENCH_HOSTS [3]              hosts in the topology (>= 3)
#   BENCH_WARMUP_S [5]           cross traffic runs this long before measuring
#   BENCH_LAT [1]                0 skips the latency runs (step 2)
#   BENCH_LAT_WARMUP [1000]      messages each latency run sends first and
#                                leaves out of its statistics, the same for
#                                every variant: the first messages meet code
#                                TCG has not translated yet (the outliers of
#                                one run were messages 0, 178, 358 and 983)
#   BENCH_LAT_TIMEOUT_S          limit of one latency run (default: 3x its
#                                nominal length + 120 s; under TCG a stressed
#                                sender can be far slower than its period)
#   BENCH_FD [1]                 0 skips X-FD (steps 3 and 4)
#   BENCH_FD_GROUP [239.1.1.1], BENCH_FD_PERIOD_US [1000] (T)
#   BENCH_FD_THRESHOLD_US [500000] L of the long accuracy run: the L chosen
#                                for this platform (under TCG, an application's
#                                liveness thread on the stressed CPU 0 misses
#                                up to 230 ms; on hardware the paper's µs apply)
#   BENCH_FD_BEATS [1000000]     heartbeats sent (all hosts) in that run...
#   BENCH_FD_LONG_MAX_S [1800]   ...or this long, whichever comes first
#   BENCH_FD_THRESHOLDS_US [5000 20000 100000 500000]   L of step 4 (Fig. 7;
#                                the paper's 50..2000 µs for hardware)
#   BENCH_FD_REPS [2], BENCH_FD_ALIVE_S [10], BENCH_FD_DOWN_S [3]
#   BENCH_FD_FAIL [stall kill]   failure kinds of step 4: stall, kill, stop
#   BENCH_FD_LOAD [stress]       idle | stress: load during steps 3 and 4
#   XLANE_TOPO_RATE [50mbit]     switch port rate ('' for none)
#   XLANE_TOPO_SHAPE [besteffort] the rate shapes band 1 only: lane frames
#                                leave a port at once, as from a strict-
#                                priority switch, and do not wait for a tbf
#                                watchdog on a stressed CPU; the other
#                                XLANE_TOPO_* / XLANE_CROSS_* of xlane-topo.sh
#                                pass through
#   XLANE_PARAMS                 insmod parameters of xlane.ko
#   XLANE_PORT [7400]            lane UDP port: the classifier's band 0 and
#                                `xlanectl attach ... port N` when set
#   XLANE_ATTACH_ARGS            extra words for `xlanectl attach dev eth0`
#   XLANE_LAT_ARGS               extra words for every xlane-lat run
#   BENCH_RT_PRIO [50]           SCHED_FIFO priority of xlane-lat's sender
#                                and receiver in every mode (0: SCHED_OTHER);
#                                under stress the baselines' wake-ups and the
#                                lane's feeder then do not queue behind
#                                stress-ng
#   BENCH_BASE_TOS [184]         IP TOS of the udp/busypoll baselines (184 =
#                                DSCP EF, the switch band lane traffic gets)
#   XLANECTL, XLANE_LAT, XLANE_KO  other binaries / module than the build's
set -Eeuo pipefail
trap 'printf "guest-bench-xlane: failed at line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RAW=${1:?usage: guest-bench-xlane.sh RAWDIR}
TOPO=$ROOT/scripts/xlane-topo.sh
XLANECTL=${XLANECTL:-$ROOT/build/userspace/bin/xlanectl}
XLAT=${XLANE_LAT:-$ROOT/build/userspace/bin/xlane-lat}
KO=${XLANE_KO:-$ROOT/modules/xlane/xlane.ko}

MSGS=${BENCH_MSGS:-1000000}
PERIOD=${BENCH_PERIOD_US:-100}
MODES=${BENCH_MODES:-xlane udp busypoll}
LOADS=${BENCH_LOADS:-idle stress}
HOSTS=${BENCH_HOSTS:-3}
WARMUP=${BENCH_WARMUP_S:-5}
LAT_WARMUP=${BENCH_LAT_WARMUP:-1000}
FD_GROUP=${BENCH_FD_GROUP:-239.1.1.1}
FD_T=${BENCH_FD_PERIOD_US:-1000}
FD_L=${BENCH_FD_THRESHOLD_US:-500000}
FD_BEATS=${BENCH_FD_BEATS:-1000000}
FD_LONG_MAX=${BENCH_FD_LONG_MAX_S:-1800}
FD_LS=${BENCH_FD_THRESHOLDS_US:-5000 20000 100000 500000}
FD_REPS=${BENCH_FD_REPS:-2}
FD_ALIVE=${BENCH_FD_ALIVE_S:-10}
FD_DOWN=${BENCH_FD_DOWN_S:-3}
FD_FAIL=${BENCH_FD_FAIL:-stall kill}
FD_LOAD=${BENCH_FD_LOAD:-stress}
export XLANE_TOPO_RATE=${XLANE_TOPO_RATE-50mbit}
export XLANE_TOPO_SHAPE=${XLANE_TOPO_SHAPE:-besteffort}
RUNS=$RAW/runs.jsonl
# shellcheck source=scripts/lib-trace.sh
. "$ROOT/scripts/lib-trace.sh"

die() {
	printf 'guest-bench-xlane: %s\n' "$*" >&2
	exit 1
}
step() { printf '\n== [%ds] %s\n' "$SECONDS" "$*"; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }

# CLOCK_BOOTTIME in ns (10 ms resolution), without a fork; in the guest it
# equals CLOCK_MONOTONIC (no suspend), the clock of the engine's events.
now_ns() {
	local up _
	read -r up _ </proc/uptime
	echo "${up/./}0000000"
}

# Send a signal and print CLOCK_MONOTONIC (ns) just before sending it. On
# the stressed CPU 0 a normal task can lose the CPU for milliseconds between
# reading the clock and sending the signal, which would read as detection
# time, so those two steps run under SCHED_FIFO. Only those: with the whole
# Python under SCHED_FIFO (chrt), the victim's last heartbeat came 23-41 ms
# before the signal, and at L = 5 and 20 ms it was suspected before it
# failed. A send that still takes more than 1 ms is reported.
signal_at() { # pid SIGNAME
	python3 -c 'import os, signal, sys, time
os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(90))
t = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
try:
    os.kill(int(sys.argv[1]), getattr(signal, sys.argv[2]))
except ProcessLookupError:
    sys.exit(1)
gap = time.clock_gettime_ns(time.CLOCK_MONOTONIC) - t
if gap > 1000000:
    print(f"signal_at: {sys.argv[2]} took {gap / 1e6:.1f} ms to send", file=sys.stderr)
print(t)' "$1" "SIG$2"
}

# SIGTERM to every pid still alive; prints CLOCK_MONOTONIC (ns) just before.
terminate_at() { # pid...
	python3 -c 'import os, signal, sys, time
t = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
for p in sys.argv[1:]:
    try:
        os.kill(int(p), signal.SIGTERM)
    except ProcessLookupError:
        pass
print(t)' "$@"
}

# Band 0 and band 1 packets of a port (`xlane-topo.sh bands`, summed over
# the port's queues): "b0 b1"
band_pkts() { # ns dev
	"$TOPO" bands "$1" "$2" | awk '{
		for (i = 1; i < NF; i++) if ($i ~ /^band[01]$/) p[$i] = $(i + 1)
		printf "%d %d\n", p["band0"], p["band1"] }'
}

# ------------------------------------------------------------- checks
for v in MSGS PERIOD HOSTS WARMUP LAT_WARMUP FD_T FD_L FD_BEATS FD_LONG_MAX FD_REPS FD_ALIVE FD_DOWN; do
	is_uint "${!v}" || die "$v must be a non-negative integer, not '${!v}'"
done
if [ "$MSGS" -eq 0 ] || [ "$PERIOD" -eq 0 ] || [ "$FD_T" -eq 0 ]; then
	die "BENCH_MSGS, BENCH_PERIOD_US and BENCH_FD_PERIOD_US must be > 0"
fi
for L in $FD_LS; do
	is_uint "$L" || die "BENCH_FD_THRESHOLDS_US: '$L' is not a number of µs"
done
for f in $FD_FAIL; do
	case $f in stall | kill | stop) ;; *) die "BENCH_FD_FAIL: '$f' is not stall, kill or stop" ;; esac
done
case $FD_LOAD in idle | stress) ;; *) die "BENCH_FD_LOAD must be idle or stress" ;; esac
for l in $LOADS; do
	case $l in idle | stress) ;; *) die "BENCH_LOADS: unknown load '$l'" ;; esac
done
[ -f "$KO" ] || die "$KO missing: run 'make modules'"
[ -x "$XLANECTL" ] || die "$XLANECTL missing: run 'make userspace'"
[ -x "$XLAT" ] || die "$XLAT missing: run 'make userspace'"
[ -x "$TOPO" ] || die "$TOPO missing"
for c in iperf3 stress-ng python3 tc ip nsenter taskset; do
	command -v "$c" >/dev/null || die "'$c' not found in the guest (make deps on the host)"
done
[ -n "$(tr -d '\n' </sys/devices/system/cpu/isolated)" ] ||
	echo "guest-bench-xlane: warning: no CPU is isolated (VM_ISOLATE=0?)" >&2
mkdir -p "$RAW"
: >"$RUNS"

# ------------------------------------------------------------- cleanup
FD_PIDS=()
ATTACHED=()
cleanup() {
	local rc=$? p
	trap - ERR
	for p in "${FD_PIDS[@]}"; do
		kill -CONT "$p" 2>/dev/null || true
		kill -9 "$p" 2>/dev/null || true
	done
	"$TOPO" cross stop >/dev/null 2>&1 || true
	# xlane_rx (XDP, pinned) holds the module until detached
	for p in "${ATTACHED[@]}"; do
		"$XLANECTL" -n "$p" detach dev eth0 >/dev/null ||
			echo "guest-bench-xlane: xlanectl detach dev eth0 failed in $p" >&2
	done
	"$TOPO" down >/dev/null 2>&1 || true
	if [ -d /sys/module/xlane ] && ! rmmod xlane; then
		echo "guest-bench-xlane: rmmod xlane failed after the benchmark" >&2
		[ $rc -ne 0 ] || rc=1
	fi
	dmesg | grep -i xlane | tail -n 50 >"$RAW/dmesg-xlane.txt" 2>/dev/null || true
	exit $rc
}
trap cleanup EXIT

# ------------------------------------------------------------- step 1
step "topology: $HOSTS hosts, switch rate ${XLANE_TOPO_RATE:-unshaped}"
"$TOPO" up "$HOSTS" || die "xlane-topo.sh up failed"

step "module and attach"
if [ ! -d /sys/module/xlane ]; then
	# shellcheck disable=SC2086 # parameters are words
	insmod "$KO" ${XLANE_PARAMS:-} || die "insmod $KO failed (see dmesg)"
fi
for _ in $(seq 1 20); do
	[ -c /dev/xlane ] && break
	sleep 0.1
done
[ -c /dev/xlane ] || die "/dev/xlane did not appear after insmod"
for k in $(seq 1 "$HOSTS"); do
	# shellcheck disable=SC2086
	"$XLANECTL" -n "xl$k" attach dev eth0 ${XLANE_PORT:+port "$XLANE_PORT"} ${XLANE_ATTACH_ARGS:-} ||
		die "xlanectl attach dev eth0 failed in xl$k"
	ATTACHED+=("xl$k")
done

printf '{"kind":"meta","kernel":"%s","cmdline":"%s","hosts":%d,"switch_rate":"%s","host_rate":"%s","msgs":%d,"period_us":%d,"isolated":"%s","host_vcpu_nice":"%s","housekeeping_load":"%s","fd_fail":"%s","clock":"events CLOCK_MONOTONIC; run windows CLOCK_BOOTTIME (10 ms)"}\n' \
	"$(uname -r)" "$(tr -d '"\n' </proc/cmdline)" "$HOSTS" "${XLANE_TOPO_RATE:-}" \
	"${XLANE_TOPO_HOST_RATE:-}" "$MSGS" "$PERIOD" "$(cat /sys/devices/system/cpu/isolated)" "${XLANE_HOST_VCPU_NICE:-}" \
	"tcp=${XLANE_CROSS_TCP:-1} udp=${XLANE_CROSS_UDP:-1}@${XLANE_CROSS_UDP_BW:-10M} stress=${XLANE_CROSS_STRESS:-auto}" \
	"$FD_FAIL" >>"$RUNS"

load_on() { # idle | stress
	if [ "$1" = stress ]; then
		"$TOPO" cross start || die "xlane-topo.sh cross start failed"
		sleep "$WARMUP"
	fi
}
load_off() {
	if [ "$1" = stress ]; then
		"$TOPO" cross status | grep -q 'NOT running' &&
			echo "guest-bench-xlane: warning: some cross traffic died during the run" >&2
		"$TOPO" cross stop || die "xlane-topo.sh cross stop failed"
	fi
}

# Which CPU received each lane packet: a kprobe on bpf_xlane_rx() (the XDP
# program's call into the module), counted per CPU from the trace buffer's
# statistics. Packets received on a housekeeping CPU waited for it (its
# NAPI or qdisc run), which is where the lane's jitter comes from when the
# engine's own CPU is quiet.
TR=/sys/kernel/tracing
rx_cpu_start() {
	[ -w $TR/kprobe_events ] || return 0
	echo 0 >$TR/tracing_on
	grep -q 'xlbench/rx' $TR/kprobe_events 2>/dev/null ||
		echo 'p:xlbench/rx bpf_xlane_rx' >>$TR/kprobe_events 2>/dev/null || return 0
	echo 4096 >$TR/buffer_size_kb
	echo 1 >$TR/events/xlbench/rx/enable
	echo >$TR/trace
	echo 1 >$TR/tracing_on
}
rx_cpu_stop() { # prints {"0": n, ...} (entries + overruns per CPU) or null
	if [ ! -d $TR/events/xlbench/rx ]; then
		echo null
		return
	fi
	echo 0 >$TR/tracing_on
	echo 0 >$TR/events/xlbench/rx/enable
	local d first=1
	printf '{'
	for d in "$TR"/per_cpu/cpu*; do
		[ $first = 1 ] || printf ','
		printf '"%s":%d' "${d##*cpu}" "$(trace_stat_sum 'entries|overrun' "$d/stats")"
		first=0
	done
	printf '}'
}

# ------------------------------------------------------------- step 2
lat_timeout=${BENCH_LAT_TIMEOUT_S:-$((3 * MSGS * PERIOD / 1000000 + 120))}
[ "${BENCH_LAT:-1}" = 1 ] || LOADS=
# The engine's own counters (one engine serves every namespace): stalls
# (rounds > stall_us late), the time lost in them, the longest stall, the
# longest gap while it spun with IRQs masked (the vCPU did not run) and the
# longest send. The maxima are since the module was loaded: a run whose
# "after" is larger than its "before" contains the new maximum.
engine_json() {
	"$XLANECTL" -n xl1 show --json 2>/dev/null | python3 -c 'import json, sys
c = json.load(sys.stdin).get("counters", {})
keys = ("engine_stalls", "engine_stolen_ns", "engine_max_stall_ns",
        "engine_masked_gap_max_ns", "tx_cost_max_ns")
print(json.dumps({k: c.get(k) for k in keys}))' 2>/dev/null || echo null
}

for load in $LOADS; do
	load_on "$load"
	for mode in $MODES; do
		tag=lat-$mode-$load
		eng0=$(engine_json)
		step "latency: $mode, $load: $MSGS messages every $PERIOD µs (timeout ${lat_timeout}s)"
		read -r b0 b1 < <(band_pkts xlsw sw2)
		rc=0
		# shellcheck disable=SC2086
		# The baselines' packets get the lane traffic's DSCP (EF), so
		# that the switch's strict priority is no part of the ratios.
		tos=
		[ "$mode" = xlane ] || tos="--tos ${BENCH_BASE_TOS:-184}"
		[ "$mode" != xlane ] || rx_cpu_start
		# shellcheck disable=SC2086
		timeout -k 10 "$lat_timeout" "$XLAT" "$mode" --ns-send xl1 --ns-recv xl2 \
			--count $((MSGS + LAT_WARMUP)) --warmup "$LAT_WARMUP" --period-us "$PERIOD" --json "$RAW/$tag.json" \
			--rt-prio "${BENCH_RT_PRIO:-50}" $tos ${XLANE_LAT_ARGS:-} >"$RAW/$tag.log" 2>&1 || rc=$?
		tail -n 5 "$RAW/$tag.log"
		[ $rc -ne 124 ] || die "xlane-lat $mode ($load) did not finish within ${lat_timeout}s"
		[ $rc -eq 0 ] || die "xlane-lat $mode ($load) failed with status $rc (log: $RAW/$tag.log)"
		python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
miss = [k for k in ("count", "l_min", "p50", "p99", "p99_9", "p99_99", "l_max", "d_max") if k not in r]
sys.exit("missing " + ", ".join(miss) if miss else 0)' "$RAW/$tag.json" ||
			die "xlane-lat $mode ($load) wrote no valid JSON to $RAW/$tag.json"
		rxcpu=null
		[ "$mode" != xlane ] || rxcpu=$(rx_cpu_stop)
		read -r a0 a1 < <(band_pkts xlsw sw2)
		eng1=$(engine_json)
		printf '{"kind":"lat","mode":"%s","load":"%s","msgs":%d,"period_us":%d,"file":"%s","sw2_band0_pkts":%d,"sw2_band1_pkts":%d,"rx_cpu":%s,"engine":{"before":%s,"after":%s}}\n' \
			"$mode" "$load" "$MSGS" "$PERIOD" "$tag.json" $((a0 - b0)) $((a1 - b1)) "$rxcpu" \
			"$eng0" "$eng1" >>"$RUNS"
		[ "$rxcpu" = null ] || echo "lane packets received per CPU (bpf_xlane_rx kprobe): $rxcpu"
		echo "engine before: $eng0"
		echo "engine after:  $eng1"
		echo "switch port sw2 (to the receiver): band 0 +$((a0 - b0)) packets, band 1 +$((a1 - b1))"
	done
	load_off "$load"
done

# ------------------------------------------------------------- X-FD
# Sum of beats_tx of every host's alive table (`xlanectl fd status --json`).
beats_tx_total() {
	local k
	for k in $(seq 1 "$HOSTS"); do
		"$XLANECTL" -n "xl$k" fd status --json 2>/dev/null || echo '{}'
	done | python3 -c 'import json, sys
print(sum(json.loads(l).get("beats_tx", 0) for l in sys.stdin if l.strip().startswith("{")))'
}

# Waits until FILE has a line with WORD; prints the time it was seen (ns).
wait_line() { # file word deadline_s
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ $SECONDS -lt "$3" ] || return 1
		sleep 0.2
	done
	now_ns
}

# One X-FD run: every host runs `xlanectl fd start` until this script ends
# it with SIGTERM. fail=none: until the hosts sent BENCH_FD_BEATS
# heartbeats (or BENCH_FD_LONG_MAX_S); otherwise host VICTIM's application
# fails BENCH_FD_ALIVE_S into the run, for BENCH_FD_DOWN_S (kill: for good),
# and the run ends BENCH_FD_DOWN_S after that.
fd_run() { # tag threshold_us fail(none|stall|kill|stop) victim
	local tag=$1 L=$2 fail=$3 victim=$4
	local k pid starts=() t_fail=0 t_resume=0 t_end approx=false rc out extra
	local t0=$SECONDS max_s late deadline alive b0 b
	if [ "$fail" = none ]; then
		max_s=$((FD_LONG_MAX + 60))
	else
		max_s=$((FD_ALIVE + 2 * FD_DOWN + 300))
	fi
	FD_PIDS=()
	for k in $(seq 1 "$HOSTS"); do
		out=$RAW/$tag-xl$k
		extra=()
		if [ "$fail" = stall ] && [ "$k" = "$victim" ]; then
			extra=(--stall-after "$FD_ALIVE" --stall-for "$FD_DOWN")
		fi
		starts+=("$(now_ns)")
		"$XLANECTL" -n "xl$k" fd start group "$FD_GROUP" period "$FD_T" threshold "$L" \
			--for "$max_s" --json "${extra[@]}" >"$out.json" 2>"$out.err" </dev/null &
		FD_PIDS+=($!)
	done
	sleep 2
	for k in $(seq 1 "$HOSTS"); do
		kill -0 "${FD_PIDS[k - 1]}" 2>/dev/null || {
			tail -n 5 "$RAW/$tag-xl$k.err" >&2 || true
			die "xlanectl fd start exited early in xl$k ($tag)"
		}
	done
	# the alive tables now: beats received before the counting window
	local snaps=()
	for k in $(seq 1 "$HOSTS"); do
		"$XLANECTL" -n "xl$k" fd status --json >"$RAW/$tag-xl$k.early.json" 2>&1 &
		snaps+=($!)
	done
	for k in $(seq 1 "$HOSTS"); do
		wait "${snaps[k - 1]}" || die "xlanectl fd status failed in xl$k ($tag)"
	done
	late="xl$victim's xlanectl fd start is gone before its failure ($tag)"
	deadline=$((t0 + max_s - 30))
	case $fail in
	none)
		b0=$(beats_tx_total)
		while [ $((SECONDS - t0)) -lt "$FD_LONG_MAX" ]; do
			sleep 10
			b=$(beats_tx_total)
			echo "  $((SECONDS - t0))s: $((b - b0)) of $FD_BEATS heartbeats sent"
			[ $((b - b0)) -lt "$FD_BEATS" ] || break
		done
		;;
	stall)
		# xlanectl stalls its own counter; the times are when it said so
		pid=${FD_PIDS[victim - 1]}
		t_fail=$(wait_line "$RAW/$tag-xl$victim.json" liveness_stalled "$deadline") ||
			die "xl$victim never reported its liveness stall ($tag)"
		t_resume=$(wait_line "$RAW/$tag-xl$victim.json" liveness_resumed "$deadline") ||
			die "xl$victim never reported the end of its liveness stall ($tag)"
		approx=true
		sleep "$FD_DOWN"
		;;
	kill | stop)
		sleep "$((FD_ALIVE > SECONDS - t0 ? FD_ALIVE - (SECONDS - t0) : 0))"
		pid=${FD_PIDS[victim - 1]}
		if [ "$fail" = stop ]; then
			t_fail=$(signal_at "$pid" STOP) || die "$late"
			sleep "$FD_DOWN"
			t_resume=$(signal_at "$pid" CONT) || die "$late"
		else
			t_fail=$(signal_at "$pid" KILL) || die "$late"
		fi
		sleep "$FD_DOWN"
		;;
	esac
	t_end=$(terminate_at "${FD_PIDS[@]}")
	deadline=$((SECONDS + 60))
	while :; do
		alive=0
		for pid in "${FD_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ $alive = 1 ] || break
		[ $SECONDS -lt $deadline ] || die "xlanectl fd start still running 60 s after SIGTERM ($tag)"
		sleep 0.5
	done
	for k in $(seq 1 "$HOSTS"); do
		rc=0
		# (quiet: bash would report the killed victim)
		{ wait "${FD_PIDS[k - 1]}"; } 2>/dev/null || rc=$?
		if [ $rc -ne 0 ] && ! { [ "$fail" = kill ] && [ "$k" = "$victim" ]; }; then
			tail -n 5 "$RAW/$tag-xl$k.err" >&2 || true
			die "xlanectl fd start failed in xl$k with status $rc ($tag)"
		fi
	done
	FD_PIDS=()
	local files="" early=""
	for k in $(seq 1 "$HOSTS"); do
		files+="${files:+,}\"xl$k\":\"$tag-xl$k.json\""
		early+="${early:+,}\"xl$k\":\"$tag-xl$k.early.json\""
	done
	printf '{"kind":"fd","tag":"%s","load":"%s","group":"%s","period_us":%d,"threshold_us":%d,"seconds":%d,"hosts":%d,"beats_target":%d,"start_ns":[%s],"end_ns":%s,"fail":{"mode":"%s","victim":"%s","victim_ip":"%s","t_fail_ns":%s,"t_resume_ns":%s,"approx":%s},"outputs":{%s},"early":{%s}}\n' \
		"$tag" "$FD_LOAD" "$FD_GROUP" "$FD_T" "$L" $((SECONDS - t0)) "$HOSTS" \
		"$([ "$fail" = none ] && echo "$FD_BEATS" || echo 0)" \
		"$(
			IFS=,
			echo "${starts[*]}"
		)" "$t_end" "$fail" "$([ "$fail" = none ] || echo "xl$victim")" \
		"$([ "$fail" = none ] || echo "10.77.0.$victim")" "$t_fail" "$t_resume" "$approx" \
		"$files" "$early" >>"$RUNS"
	local n
	n=$(cat "$RAW/$tag"-xl*.json | grep -c '"event": *"suspected"' || true)
	echo "$tag: $((SECONDS - t0))s, $n suspicion events"
}

if [ "${BENCH_FD:-1}" = 1 ]; then
	load_on "$FD_LOAD"
	step "X-FD accuracy: $HOSTS hosts, T $FD_T µs, L $FD_L µs, until $FD_BEATS heartbeats are sent (at most ${FD_LONG_MAX}s), $FD_LOAD"
	fd_run fd-long "$FD_L" none 0
	# Step 4: detection and accuracy per threshold and failure kind.
	for L in $FD_LS; do
		for fail in $FD_FAIL; do
			for rep in $(seq 1 "$FD_REPS"); do
				victim=$((HOSTS - (rep - 1) % HOSTS))
				step "X-FD detection: L $L µs, $fail xl$victim after ${FD_ALIVE}s (rep $rep)"
				fd_run "fd-L$L-$fail-r$rep" "$L" "$fail" "$victim"
			done
		done
	done
	load_off "$FD_LOAD"
fi

step "done: $(grep -c . "$RUNS") records in $RUNS"
