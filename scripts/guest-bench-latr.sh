#!/bin/bash
# Runs in the guest for `make bench-latr`: stock (latr unloaded) against
# LATR (latr loaded, mode all), alternating, in the same boot. Writes one
# JSON object per run to $1 (JSON lines); scripts/bench-latr.sh summarises.
#
# Workloads:
#   munmap  the paper's microbenchmark: 1..512 pages, threads sharing the mm
#           on 1, 2 and 4 CPUs (latr-munmap-bench)
#   apache  Debian apache2 (mpm_event, EnableMMAP On, sendfile off) serving
#           a 10 KB page to wrk
#   noshoot a workload with nothing to shoot down (single-threaded
#           mmap/touch/munmap): the overhead of the hooks and sweeps
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:?usage: guest-bench-latr.sh OUT.jsonl}
REPS=${BENCH_REPS:-3}
SCALE=${BENCH_SCALE:-1}	# multiply iteration counts (0.2 for a smoke run)
BENCH=$ROOT/build/userspace/bin/latr-munmap-bench
T=/sys/kernel/tracing
cd "$ROOT" || exit 2
: >"$OUT"

set_mode() { # stock | latr
	if [ "$1" = latr ]; then
		[ -d /sys/kernel/latr ] || insmod modules/latr/latr.ko ${LATR_PARAMS:-} || exit 1
		echo all >/sys/kernel/latr/mode
		echo 1 >/sys/kernel/latr/stats/reset
	else
		[ ! -d /sys/kernel/latr ] || rmmod latr || exit 1
	fi
}

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
trace_stop() {
	echo 0 >$T/tracing_on
	echo 0 >$T/events/tlb/tlb_flush/enable
	local sent recv lost
	sent=$(grep -c 'remote ipi send' $T/trace)
	recv=$(grep -c 'remote shootdown' $T/trace)
	lost=$(awk '/overrun/ {s += $2} END {print s + 0}' $T/per_cpu/cpu*/stats)
	printf '{"sent":%d,"received":%d,"lost":%d}' "$sent" "$recv" "$lost"
}

run_munmap() { # mode cpus pages iterations rep
	local res trace
	trace_start
	res=$(taskset -c 0-3 "$BENCH" --json --cpus "$2" --pages "$3" --iterations "$4") || return 1
	trace=$(trace_stop)
	printf '{"workload":"munmap","mode":"%s","rep":%d,"cpu_list":"%s","result":%s,"tracepoint":%s,"latr":%s}\n' \
		"$1" "$5" "$2" "$res" "$trace" "$(latr_stats_json)" >>"$OUT"
	echo "munmap $1 rep $5 cpus $2 pages $3: $res"
}

# Sum of one /proc/interrupts row (TLB, CAL) over all CPUs.
irq_sum() { awk -v row="$1:" '$1 == row {for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i} END {print s + 0}' /proc/interrupts; }

iters() { awk -v n="$1" -v s="$SCALE" 'BEGIN {v = int(n * s); print (v < 20 ? 20 : v)}'; }

ONLY=${BENCH_ONLY:-}	# munmap, apache or noshoot: run just that one

[ -n "$ONLY" ] && [ "$ONLY" != munmap ] ||
for rep in $(seq 1 "$REPS"); do
	for mode in stock latr; do
		set_mode $mode
		for cpus in 0 0-1 0-3; do
			for pages in 1 8 64 512; do
				case $pages in
				1 | 8) n=$(iters 4000) ;;
				64) n=$(iters 1000) ;;
				*) n=$(iters 200) ;;
				esac
				run_munmap $mode $cpus $pages "$n" "$rep" || exit 1
			done
		done
	done
done

# Apache: a 10 KB static page, mmap'ed per request (EnableMMAP On, no sendfile)
APACHE=/usr/sbin/apache2
WRK=$(command -v wrk || true)
if [ -n "$ONLY" ] && [ "$ONLY" != apache ]; then
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
	for rep in $(seq 1 "$REPS"); do
		for mode in stock latr; do
			set_mode $mode
			taskset -c 1-3 $APACHE -f $A/httpd.conf -k start || exit 1
			sleep 1
			tlb0=$(irq_sum TLB)
			cal0=$(irq_sum CAL)
			w=$(taskset -c 0 "$WRK" -t1 -c16 -d"$(iters 10)"s --latency http://127.0.0.1:8080/10k.html)
			tlb1=$(irq_sum TLB)
			cal1=$(irq_sum CAL)
			$APACHE -f $A/httpd.conf -k stop
			sleep 1
			rps=$(echo "$w" | awk '/Requests\/sec/ {print $2}')
			p50=$(echo "$w" | awk '$1 == "50%" {print $2}')
			p99=$(echo "$w" | awk '$1 == "99%" {print $2}')
			printf '{"workload":"apache","mode":"%s","rep":%d,"rps":%s,"p50":"%s","p99":"%s","ipis":{"tlb":%d,"cal":%d},"latr":%s}\n' \
				$mode "$rep" "${rps:-0}" "$p50" "$p99" $((tlb1 - tlb0)) $((cal1 - cal0)) "$(latr_stats_json)" >>"$OUT"
			echo "apache $mode rep $rep: $rps req/s, p50 $p50, p99 $p99, IPIs $((tlb1 - tlb0)) TLB $((cal1 - cal0)) CAL"
		done
	done
else
	echo "apache2 or wrk missing: skipping the Apache benchmark (make deps)"
fi

# Nothing to shoot down: one thread, so no remote CPU ever needs a flush.
[ -n "$ONLY" ] && [ "$ONLY" != noshoot ] ||
for rep in $(seq 1 "$REPS"); do
	for mode in stock latr; do
		set_mode $mode
		res=$("$BENCH" --json --cpus 0 --pages 16 --iterations "$(iters 20000)") || exit 1
		printf '{"workload":"noshoot","mode":"%s","rep":%d,"result":%s}\n' $mode "$rep" "$res" >>"$OUT"
		echo "noshoot $mode rep $rep: $res"
	done
done
set_mode stock
