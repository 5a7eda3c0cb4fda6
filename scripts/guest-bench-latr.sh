#!/bin/bash
# Runs in the guest for `make bench-latr`: stock (latr unloaded) against
# LATR (latr loaded, mode all), alternating, in the same boot. Writes one
# JSON object per run to $1 (JSON lines); scripts/bench-latr.sh summarises.
#
# Workloads:
#   munmap  the paper's microbenchmark: 1..512 pages, threads sharing the mm
#           on 1, 2 and 4 CPUs (latr-munmap-bench)
#   apache  Debian apache2 (mpm_event, EnableMMAP On, sendfile off) serving
#           a 10 KB page to wrk, with 16 connections (bound by latency) and
#           with 256 (saturated, as the paper's 4 x 400): BENCH_APACHE_CONNS
#   autonuma AutoNUMA's hinting scans with a writer on every CPU
#           (latr-numa-bench), stock, LATR and LATR with numa=N
#   noshoot a workload with nothing to shoot down (single-threaded
#           mmap/touch/munmap): the overhead of the flush hook and sweeps
#   ctxsw   perf bench sched pipe on one CPU: the overhead of the sweep
#           before every address-space switch
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: guest-bench-latr.sh OUT.jsonl}
REPS=${BENCH_REPS:-3}
SCALE=${BENCH_SCALE:-1}	# multiply iteration counts (0.2 for a smoke run)
BENCH=$ROOT/build/userspace/bin/latr-munmap-bench
T=/sys/kernel/tracing
PROFILE=$(dirname "$OUT")/latr-profile.txt	# Apache profile (BENCH_PROFILE=0: none)
cd "$ROOT" || exit 2
: >"$OUT"
# shellcheck source=scripts/lib-trace.sh
. "$ROOT/scripts/lib-trace.sh"

set_mode() { # stock | latr
	if [ "$1" = latr ]; then
		# shellcheck disable=SC2086 # LATR_PARAMS: words for insmod
		[ -d /sys/kernel/latr ] || insmod modules/latr/latr.ko ${LATR_PARAMS:-} || exit 1
		echo all >/sys/kernel/latr/mode
		echo 1 >/sys/kernel/latr/stats/reset
	else	# stock, unpatched
		[ ! -d /sys/kernel/latr ] || rmmod latr || exit 1
	fi
}

# Zero the module's counters, so that a run's record holds its own.
latr_stats_reset() { [ ! -d /sys/kernel/latr/stats ] || echo 1 >/sys/kernel/latr/stats/reset; }

latr_stats_json() {
	if [ -d /sys/kernel/latr/stats ]; then
		printf '{'
		local first=1 f
		for f in /sys/kernel/latr/stats/*; do
			[ "${f##*/}" = reset ] && continue
			[ $first = 1 ] || printf ','
			printf '"%s":%s' "${f##*/}" "$(cat "$f")"
			first=0
		done
		printf '}'
	else
		printf 'null'
	fi
}

# tlb:tlb_flush events: shootdowns sent (reason "remote ipi send") and
# received ("remote shootdown").
trace_start() {
	echo 0 >$T/tracing_on
	echo 32768 >$T/buffer_size_kb
	echo 'reason == 1 || reason == 4' >$T/events/tlb/tlb_flush/filter
	echo 1 >$T/events/tlb/tlb_flush/enable
	echo >$T/trace
	echo 1 >$T/tracing_on
}
# Events the trace buffer lost to overruns, all CPUs.
trace_lost() { trace_stat_sum 'overrun|commit overrun' $T/per_cpu/cpu*/stats; }
trace_stop() {
	echo 0 >$T/tracing_on
	echo 0 >$T/events/tlb/tlb_flush/enable
	local sent recv lost
	sent=$(grep -c 'remote ipi send' $T/trace)
	recv=$(grep -c 'remote shootdown' $T/trace)
	lost=$(trace_lost)
	printf '{"sent":%d,"received":%d,"lost":%d}' "$sent" "$recv" "$lost"
}

run_munmap() { # mode cpus pages iterations rep
	local res trace
	latr_stats_reset
	trace_start
	res=$(taskset -c 0-3 "$BENCH" --json --cpus "$2" --pages "$3" --iterations "$4") || return 1
	trace=$(trace_stop)
	printf '{"workload":"munmap","mode":"%s","rep":%d,"cpu_list":"%s","result":%s,"tracepoint":%s,"latr_per_run":true,"latr":%s}\n' \
		"$1" "$5" "$2" "$res" "$trace" "$(latr_stats_json)" >>"$OUT"
	echo "munmap $1 rep $5 cpus $2 pages $3: $res"
}

# Sum of one /proc/interrupts row (TLB, CAL) over all CPUs.
irq_sum() { awk -v row="$1:" '$1 == row {for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i} END {print s + 0}' /proc/interrupts; }

iters() { awk -v n="$1" -v s="$SCALE" 'BEGIN {v = int(n * s); print (v < 20 ? 20 : v)}'; }

ONLY=${BENCH_ONLY:-}	# e.g. "apache ctxsw": run just those workloads
want() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# The order of the two modes in repetition N: stock first in odd ones, LATR
# first in even ones (ABBA), so a drift over the boot does not favour the
# mode that always runs first. Stock Apache fell from 993 to 724 req/s over
# three repetitions of one boot.
# BENCH_MODES=unpatched: the kernel without the patches (no module to load)
modes() {
	if [ -n "${BENCH_MODES:-}" ]; then
		echo "$BENCH_MODES"
	elif [ $(($1 % 2)) -eq 1 ]; then
		echo stock latr
	else
		echo latr stock
	fi
}

want munmap &&
for rep in $(seq 1 "$REPS"); do
	for mode in $(modes "$rep"); do
		set_mode "$mode"
		for cpus in 0 0-1 0-3; do
			for pages in 1 8 64 512; do
				case $pages in
				1 | 8) n=$(iters 4000) ;;
				64) n=$(iters 1000) ;;
				*) n=$(iters 200) ;;
				esac
				run_munmap "$mode" $cpus $pages "$n" "$rep" || exit 1
			done
		done
	done
done

# autonuma: AutoNUMA's hinting scans (latr-numa-bench: a writer per CPU,
# each over a slice it touched first), with the scan period shortened
# through debugfs for these runs and restored after. Three modes: stock,
# LATR, and LATR with numa=N (munmap/madvise only, as before patches/0008),
# so the shootdowns of the hinting scans are counted in each.
NB=/sys/kernel/debug/sched/numa_balancing
NB_KNOBS="/proc/sys/kernel/numa_balancing $NB/scan_delay_ms $NB/scan_period_min_ms $NB/scan_period_max_ms"
numa_knobs() { # fast | restore
	local k v
	if [ "$1" = fast ]; then
		[ -d $NB ] || mount -t debugfs none /sys/kernel/debug || return 1
		NB_SAVED=$(for k in $NB_KNOBS; do cat "$k"; done | xargs)
		# a scan delay of 0 would also reset the VMAs' accessing PIDs at every scan
		set -- 1 50 10 100
	else
		# shellcheck disable=SC2086 # the saved values, one word each
		set -- $NB_SAVED
	fi
	for k in $NB_KNOBS; do
		v=$1
		shift
		echo "$v" >"$k" || return 1
	done
}
run_autonuma() { # mode rep
	local res
	if [ "$1" = latr-nonuma ]; then
		set_mode latr
		echo N >/sys/module/latr/parameters/numa
	else
		set_mode "$1"
		[ "$1" != latr ] || echo Y >/sys/module/latr/parameters/numa
	fi
	latr_stats_reset
	res=$("$ROOT/build/userspace/bin/latr-numa-bench" --json --cpus 0-3 \
		--mb 64 --seconds "$(awk -v s="$SCALE" 'BEGIN {v = 10 * s; print (v < 2 ? 2 : v)}')") || return 1
	printf '{"workload":"autonuma","mode":"%s","rep":%d,"result":%s,"latr_per_run":true,"latr":%s}\n' \
		"$1" "$2" "$res" "$(latr_stats_json)" >>"$OUT"
	echo "autonuma $1 rep $2: $res"
}
want autonuma && {
	numa_knobs fast || { echo "autonuma: cannot set AutoNUMA's knobs" >&2; exit 1; }
	for rep in $(seq 1 "$REPS"); do
		# ABBA as everywhere, numa=N at either end
		order="$(modes "$rep") latr-nonuma"
		[ $((rep % 2)) -eq 1 ] || order="latr-nonuma $(modes "$rep")"
		for mode in $order; do
			run_autonuma "$mode" "$rep" || { numa_knobs restore; exit 1; }
		done
	done
	[ ! -d /sys/kernel/latr ] || echo Y >/sys/module/latr/parameters/numa
	numa_knobs restore
}

# Apache: a 10 KB static page, mmap'ed per request (EnableMMAP On, no sendfile)
APACHE=/usr/sbin/apache2
WRK=$(command -v wrk || true)
if ! want apache; then
	:
elif [ -x $APACHE ] && [ -n "$WRK" ]; then
	A=/tmp/latr-apache
	mkdir -p $A/www
	head -c 10240 /dev/urandom | base64 -w 100 | head -c 10240 >$A/www/10k.html
	cat >$A/httpd.conf <<EOF
ServerRoot /etc/apache2
ServerName localhost
Listen 127.0.0.1:8080
PidFile $A/httpd.pid
ErrorLog $A/error.log
LogLevel error
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
User www-data
Group www-data
DocumentRoot $A/www
<Directory $A/www>
  Require all granted
</Directory>
EnableMMAP On
EnableSendfile Off
KeepAlive On
MaxKeepAliveRequests 0
StartServers 1
ServerLimit 1
ThreadsPerChild 32
MaxRequestWorkers 32
EOF
	chmod -R a+rX $A
	apache_start() {
		taskset -c 1-3 $APACHE -f $A/httpd.conf -k start || exit 1
		sleep 1
	}
	# wrk, pinned apart from Apache; arguments go in front of it (a profiler).
	apache_wrk() {
		"$@" taskset -c 0 "$WRK" -t1 -c"$conns" -d"${WRK_SECS:-$(iters 10)}"s --latency http://127.0.0.1:8080/10k.html
	}
	apache_stop() {
		$APACHE -f $A/httpd.conf -k stop
		sleep 1
	}
	# Profile: one more run per mode after the measured ones, so the
	# sampling does not touch the ratios. It shows where the CPU time goes
	# (perf cpu-clock on every CPU, self time) and who sends the IPIs (the
	# ipi tracepoints, counted by call site and callback; the callback of a
	# function-call IPI is always the generic handler, so the call site
	# tells them apart: shootdowns are among on_each_cpu_cond_mask).
	# Kernel stacks of the on_each_cpu_cond_mask IPIs (tracefs option
	# stacktrace), counted by the N callers above that function: tells a
	# shootdown that stayed synchronous (flush_tlb_multi from mprotect,
	# fork, ...) from one LATR forced (latr_force from a reuse or timeout).
	ipi_chains() { # frames
		awk -v n="$1" '
			function count() { if (grab && chain != "") cnt[chain]++; grab = 0 }
			/^ *=> / {
				if (!grab) next
				f = $2; sub(/\+.*/, "", f)
				if (above && k < n) { chain = chain (k ? " < " : "") f; k++ }
				# the frames above its last occurrence (the stack
				# holds frames of the IPI handler below it as well)
				if (f == "on_each_cpu_cond_mask") { above = 1; k = 0; chain = "" }
				next
			}
			/<stack trace>/ { grab = want; chain = ""; above = 0; next }
			{ count(); want = /ipi_send_cpu(mask)?:.*callsite=on_each_cpu_cond_mask/ }
			END { count(); for (c in cnt) printf "%7d %s\n", cnt[c], c }
		' $T/trace | sort -rn | head -12
	}
	# Kernel stacks of perf.data's samples, counted by the first N frames
	# that are not the lock primitives themselves.
	perf_chains() { # perf.data frames
		perf script -i "$1" -F ip,sym 2>/dev/null | awk -v n="$2" '
			function count() { if (chain != "") cnt[chain]++; chain = ""; k = 0 }
			/^[[:space:]]*$/ { count(); next }
			{
				f = $2; sub(/\+.*/, "", f)
				if (f ~ /^(queued_spin_lock_slowpath|_raw_spin_lock.*|osq_lock|rwsem_.*|down_(read|write).*|__mutex_lock.*|mutex_lock.*|contention_begin|perf_.*|__traceiter.*|trace_.*)$/ && k == 0) next
				if (k < n) { chain = chain (k ? " < " : "") f; k++ }
			}
			END { count(); for (c in cnt) printf "%7d %s\n", cnt[c], c }
		' | sort -rn | head -15
	}
	apache_profile() { # mode
		local ev w wt wl
		echo 0 >$T/tracing_on
		echo 65536 >$T/buffer_size_kb
		for ev in ipi_send_cpu ipi_send_cpumask; do
			echo 1 >$T/events/ipi/$ev/enable
		done
		echo 1 >$T/options/stacktrace
		# Two runs: the IPI tracepoints with their kernel stacks, then
		# perf alone. Unwinding a stack at every IPI costs the sender
		# thousands of instructions, mostly stock's shootdowns, some with
		# mmap_lock held: sampled together, the CPU profile showed that
		# cost instead of the workload's (LATR 1.22x stock in such a run,
		# 0.95x without it, counted in instructions).
		apache_start
		echo >$T/trace
		echo 1 >$T/tracing_on
		wt=$(apache_wrk)
		echo 0 >$T/tracing_on
		echo 0 >$T/options/stacktrace
		for ev in ipi_send_cpu ipi_send_cpumask; do
			echo 0 >$T/events/ipi/$ev/enable
		done
		apache_stop
		apache_start
		w=$(apache_wrk perf record -a -F "${BENCH_PERF_HZ:-250}" -e cpu-clock -o $A/perf.data -q --)
		apache_stop
		# Who waits for which lock: the contention tracepoint with its
		# kernel stack, in a run of its own (a stack per event costs).
		apache_start
		wl=$(apache_wrk perf record -a -g -e lock:contention_begin -o $A/lock.data -q --)
		apache_stop
		{
			echo "## Apache, $conns connections, $1 (profiled runs, not in the ratios): $(echo "$wt" | awk '/Requests\/sec/ {print $2}') req/s with the IPIs traced, $(echo "$w" | awk '/Requests\/sec/ {print $2}') req/s under perf"
			echo
			echo "### IPIs sent (ipi tracepoints), by call site and callback"
			echo "events lost to overruns: $(trace_lost)"
			grep -E 'ipi_send_cpu(mask)?:' $T/trace |
				sed -E 's/.*(ipi_send_cpu(mask)?):.* callsite=([^ +]*)[^ ]* callback=([^ +]*).*/\1 \3 -> \4/' |
				sort | uniq -c | sort -rn | head -20
			echo
			echo "### Callers of the on_each_cpu_cond_mask IPIs (kernel stacks, 5 frames up)"
			ipi_chains 5
			echo
			echo "### CPU time by process (perf cpu-clock samples on all CPUs)"
			perf report -i $A/perf.data --stdio --sort comm -q 2>/dev/null | head -10
			echo
			echo "### CPU time by function (self), top 40"
			perf report -i $A/perf.data --stdio --sort comm,dso,sym -q 2>/dev/null | head -40
			echo
			echo "### Lock contention (lock:contention_begin, a run of its own: $(echo "$wl" | awk '/Requests\/sec/ {print $2}') req/s), by the 5 callers above the lock"
			perf_chains $A/lock.data 5
			echo
		} >>"$PROFILE"
		echo "apache $1: profile in $PROFILE"
	}
	# Warm-up, not measured: the boot's first run of Apache also pays
	# TCG's translation of Apache's and wrk's code, which in the ABBA order
	# would fall on stock's first repetition (784 req/s, against 951-1035
	# in its next four, in one run before this warm-up existed).
	conns_list=${BENCH_APACHE_CONNS:-16 256}
	conns=${conns_list%% *}
	for mode in $(modes 1); do
		set_mode "$mode"
		apache_start
		WRK_SECS=${BENCH_APACHE_WARMUP_S:-5} apache_wrk >/dev/null
		apache_stop
	done
	# wrk's connections: with few, each waits for its answer and the rate
	# follows latency; with many, Apache is saturated (mmap_lock-bound).
	for conns in $conns_list; do
	for rep in $(seq 1 "$REPS"); do
		for mode in $(modes "$rep"); do
			set_mode "$mode"
			apache_start
			latr_stats_reset
			tlb0=$(irq_sum TLB)
			cal0=$(irq_sum CAL)
			w=$(apache_wrk)
			tlb1=$(irq_sum TLB)
			cal1=$(irq_sum CAL)
			apache_stop
			rps=$(echo "$w" | awk '/Requests\/sec/ {print $2}')
			p50=$(echo "$w" | awk '$1 == "50%" {print $2}')
			p99=$(echo "$w" | awk '$1 == "99%" {print $2}')
			printf '{"workload":"apache","conns":%d,"mode":"%s","rep":%d,"rps":%s,"p50":"%s","p99":"%s","ipis":{"tlb":%d,"cal":%d},"latr_per_run":true,"latr":%s}\n' \
				"$conns" "$mode" "$rep" "${rps:-0}" "$p50" "$p99" $((tlb1 - tlb0)) $((cal1 - cal0)) "$(latr_stats_json)" >>"$OUT"
			echo "apache $conns connections $mode rep $rep: $rps req/s, p50 $p50, p99 $p99, IPIs $((tlb1 - tlb0)) TLB $((cal1 - cal0)) CAL"
		done
	done
	done
	if [ "${BENCH_PROFILE:-1}" = 1 ]; then
		: >"$PROFILE"
		for conns in $conns_list; do
			for mode in stock latr; do
				set_mode "$mode"
				apache_profile $mode
			done
		done
	fi
else
	echo "apache2 or wrk missing: skipping the Apache benchmark (make deps)"
fi

# Overhead where there is nothing to shoot down. The runs are short and TCG
# is noisy, so they repeat more often (BENCH_OVERHEAD_REPS) and alternate.
# Each workload first runs once unrecorded: in one instruction-counted
# boot (VM_ICOUNT) the first ctxsw run took 141 us/op and the other 19 took
# 72.5-73.1.
OREPS=${BENCH_OVERHEAD_REPS:-10}

# noshoot: one thread mapping, touching and unmapping, so no remote CPU
# ever needs a flush: the cost of the flush hook and the tick sweeps.
# One run of $1 iterations; prints the benchmark's JSON.
noshoot_run() { "$BENCH" --json --cpus 0 --pages 16 --iterations "$1"; }
want noshoot && {
	set_mode stock
	noshoot_run "$(iters 2000)" >/dev/null || exit 1
} &&
for rep in $(seq 1 "$OREPS"); do
	for mode in $(modes "$rep"); do
		set_mode "$mode"
		latr_stats_reset
		res=$(noshoot_run "$(iters 20000)") || exit 1
		printf '{"workload":"noshoot","mode":"%s","rep":%d,"result":%s,"latr_per_run":true,"latr":%s}\n' \
			"$mode" "$rep" "$res" "$(latr_stats_json)" >>"$OUT"
		echo "noshoot $mode rep $rep: $res"
	done
done

# ctxsw: two processes on one CPU passing a token through pipes (perf bench
# sched pipe), so every operation switches address space: the cost of the
# sweep that runs before switch_mm. No munmap, no shootdown.
# One run of $1 round trips; prints µs per operation.
ctxsw_us() {
	local us
	us=$(taskset -c 1 perf bench sched pipe -l "$1" 2>/dev/null |
		awk '$2 == "usecs/op" {print $1}')
	[ -n "$us" ] || { echo "ctxsw: perf bench sched pipe failed" >&2; return 1; }
	echo "$us"
}
want ctxsw && {
	set_mode stock
	ctxsw_us "$(iters 5000)" >/dev/null || exit 1
} &&
for rep in $(seq 1 "$OREPS"); do
	for mode in $(modes "$rep"); do
		set_mode "$mode"
		us=$(ctxsw_us "$(iters 50000)") || exit 1
		printf '{"workload":"ctxsw","mode":"%s","rep":%d,"usecs_per_op":%s,"latr":%s}\n' \
			"$mode" "$rep" "$us" "$(latr_stats_json)" >>"$OUT"
		echo "ctxsw $mode rep $rep: $us usecs/op"
	done
done
set_mode stock
