#!/bin/bash
# Runs in the guest for `make bench-xps` (scripts/bench-xps.sh boots the VM
# with four general-purpose CPUs): stock 6.12 (xps unloaded) against XPS
# (xps loaded, a handler attached) with Debian's servers and clients, in
# one boot, alternating stock and XPS runs.
#
#   guest-bench-xps.sh RAWDIR
#
# Writes RAWDIR/runs.jsonl (one JSON object per run) and, from the last
# repetition, RAWDIR/profile-WORKLOAD-MODE.txt (perf report: where the CPU
# time went); scripts/bench-summary.py xps turns them into
# build/results/xps.json and a table.
#
# Workloads (each run in both modes, BENCH_REPS times):
#   redis-get    redis-benchmark GET of 32-byte keys "bench-xps-key-32byte"
#                + __rand_int__ (12 digits) over BENCH_KEYS preloaded keys
#                with 128-byte values, 100 connections. redis-benchmark
#                starts with CONFIG GET, which the redis handler (any command
#                it does not know may write) answers with a fence on every
#                slot: the cache is empty again. So it runs in loop mode
#                (-l, one CONFIG GET for the whole process): BENCH_RB_WARM
#                iterations refill the cache (both modes alike), the next one
#                is measured.
#   redis-mix95  redis-mixload (userspace/bench): 95 % GET / 5 % SET, same
#   redis-mix75  keys and values, 100 connections, one request outstanding
#                each; 75 % GET / 25 % SET. Before each, one pass of GETs
#                over the whole keyspace (the XPS cache's first misses).
#   nginx-post   nginx (scripts/bench-xps-nginx.conf) and wrk POSTing a
#                small form (scripts/bench-xps-post.lua), 100 connections:
#                nginx's own `return 405` against the http handler's 405
#                from the kernel.
#
# Placement: server (redis-server and the cache filler, or nginx) on
# BENCH_SERVER_CPUS, clients on BENCH_CLIENT_CPUS, both vCPU 0 by default.
# Under TCG a wakeup across vCPUs goes through the host's scheduler (the
# halted vCPU's thread must be woken) and costs far more than on hardware:
# runs with client and server on two vCPUs varied up to fivefold between
# repetitions of one configuration in one boot (XPS 95/5: 3300 and 18300
# req/s), on one vCPU by about 20 %. On one vCPU the figures measure what
# XPS changes, the work per request; client and server share that CPU, as
# the handler's work shares the client's (see CPU below).
#
# CPU: during every measured run `perf record -a -e cpu-clock` samples all
# CPUs. Busy CPUs = the sum over CPUs of each one's share of samples not in
# the idle task (bench-summary.py leaves out the harness: perf, this
# script, awk, date, sleep). CPU per request = busy CPUs / throughput:
# everything the machine did for a request (server, client, softirq, the
# cache filler), because on one machine the server's TCP receive path, and
# with it the XPS handler, runs in the softirq of the sending client; a
# per-process figure would miss the very work XPS moves. The samples per
# CPU and command name are kept (the per-process split in the summary),
# with /proc/stat's idle time, context switches and TCP retransmissions as
# cross-checks.
#
# Environment (defaults in brackets):
#   BENCH_REPS [3]          repetitions (each: stock, then XPS)
#   BENCH_SECS [15]         seconds measured per mixload and wrk run
#   BENCH_KEYS [10000]      keyspace (the cache holds 65536 entries)
#   BENCH_CONNS [100]       client connections
#   BENCH_RB_REQUESTS       requests per redis-benchmark iteration (default:
#                           BENCH_SECS x the stock rate of a calibration run,
#                           at least 5 x BENCH_KEYS)
#   BENCH_RB_WARM [1]       redis-benchmark iterations before the measured one
#   BENCH_SERVER_CPUS [0]   taskset CPU list of the servers and the filler
#   BENCH_CLIENT_CPUS [0]   taskset CPU list of the clients
#   BENCH_CLIENT_THREADS [1] redis-benchmark --threads, redis-mixload -t
#   BENCH_WRK_THREADS [1]   wrk -t
#   BENCH_NGINX_WORKERS [1] nginx worker_processes
#   BENCH_PERF_HZ [250]     perf sampling frequency
#   BENCH_ONLY              redis | nginx: only that part
#   BENCH_FILL_ARGS         extra words for `xpsctl redis fill`, e.g.
#                           --no-write-through (SETs then only invalidate)
#   BENCH_YIELD_US          the xps module's yield_us (default: the
#                           module's): how long the owner (redis-server,
#                           attached with --owner) may owe a reply while
#                           waiting for a CPU before answers yield to it;
#                           0: never
#   BENCH_SERVER_POLICY [other] redis-server's scheduling policy, both
#                           modes: other (SCHED_OTHER) or batch (SCHED_BATCH:
#                           its wakeups do not preempt the running task)
#   BENCH_YIELD_AB [0]      1: a third mode in every repetition,
#                           "xps-noyield" (yield_us=0), runs the mixes too:
#                           yield on and off against stock in one boot
#   BENCH_CLIENT [guest]    host: the clients run on the host, natively, and
#                           reach the servers over the guest's NIC
#                           (scripts/bench-xps.sh sets the addresses below)
#   BENCH_HOST_AGENT        ADDR:PORT of scripts/host-client-agent.py
#   BENCH_SERVER_ADDR       CIDR of the guest's NIC
#
# BENCH_CLIENT=host is the paper's set-up (clients on other machines): the
# guest then does only the server's work, and perf's busy CPUs are the
# server's. The NIC's interrupts go to BENCH_SERVER_CPUS, so in both modes
# the receive path, and with it the XPS handler, runs on the server's CPU.
set -Eeuo pipefail
trap 'printf "guest-bench-xps: failed at line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RAW=${1:?usage: guest-bench-xps.sh RAWDIR}
cd "$ROOT"
OUT=$RAW/runs.jsonl
: >"$OUT"

REPS=${BENCH_REPS:-3}
SECS=${BENCH_SECS:-15}
KEYS=${BENCH_KEYS:-10000}
CONNS=${BENCH_CONNS:-100}
RB_WARM=${BENCH_RB_WARM:-1}
CT=${BENCH_CLIENT_THREADS:-1}
WRK_T=${BENCH_WRK_THREADS:-1}
NGX_W=${BENCH_NGINX_WORKERS:-1}
SRV_CPUS=${BENCH_SERVER_CPUS:-0}
CLI_CPUS=${BENCH_CLIENT_CPUS:-0}
HZ=${BENCH_PERF_HZ:-250}
ONLY=${BENCH_ONLY:-}
WARM_S=2	# load before each measured window
CLIENT=${BENCH_CLIENT:-guest}
SRV_IP=127.0.0.1

XPSCTL=$ROOT/build/userspace/bin/xpsctl
MIXLOAD=$ROOT/build/userspace/bin/redis-mixload
XPS_KO=$ROOT/modules/xps/xps.ko
PREFIX=bench-xps-key-32byte	# 20 bytes + 12 digits = 32-byte keys
SOCK=/tmp/bench-xps-redis.sock	# admin commands (INFO, DBSIZE) bypass the handler
NCPU=$(nproc)
T=/tmp/bench-xps
mkdir -p $T
rm -f $T/yield_us

log() { printf '[guest-bench-xps] %s\n' "$*"; }
srv() { taskset -c "$SRV_CPUS" "$@"; }
case ${BENCH_SERVER_POLICY:-other} in
other) SRV_POL=() ;;
batch) SRV_POL=(chrt -b 0) ;;
*) log "BENCH_SERVER_POLICY must be other or batch"; exit 2 ;;
esac
# cli: a client where BENCH_CLIENT says; cli_exec: the same, in place of
# the calling (sub)shell, so that killing that process stops the client
case $CLIENT in
guest) CLI=(taskset -c "$CLI_CPUS") ;;
host)
	AGENT=${BENCH_HOST_AGENT:?BENCH_CLIENT=host needs BENCH_HOST_AGENT}
	CLI=("$ROOT/scripts/host-run.sh" "$AGENT")
	ip addr add "${BENCH_SERVER_ADDR:?BENCH_CLIENT=host needs BENCH_SERVER_ADDR}" dev eth0
	ip link set eth0 up
	SRV_IP=${BENCH_SERVER_ADDR%/*}
	for irq in $(awk -F: '/virtio.*-(input|output)/ {print $1 + 0}' /proc/interrupts); do
		echo "$SRV_CPUS" >/proc/irq/"$irq"/smp_affinity_list
	done
	up=
	for _ in $(seq 50); do
		if (exec 3<>"/dev/tcp/${AGENT%:*}/${AGENT##*:}") 2>/dev/null; then
			up=1
			break
		fi
		sleep 0.2
	done
	[ -n "$up" ] || {
		log "no client agent at $AGENT (scripts/host-client-agent.py on the host)"
		exit 1
	}
	log "clients on the host through $AGENT; servers on $SRV_IP"
	;;
*)
	log "BENCH_CLIENT must be guest or host, not '$CLIENT'"
	exit 2
	;;
esac
cli() { "${CLI[@]}" "$@"; }
cli_exec() { exec "${CLI[@]}" "$@"; }
# redis-mixload against the server, over the benchmark's keys
mixload() { cli "$MIXLOAD" --server "$SRV_IP:6379" -k "$KEYS" --prefix "$PREFIX" "$@"; }

# Names in the guest's kallsyms for BPF programs, so profiles show handlers.
sysctl -q net.core.bpf_jit_kallsyms=1 || true

# --- XPS on and off ---------------------------------------------------------

FILLER_PID=
xps_on() { # handler-name: insmod, attach, (redis) start the filler
	# shellcheck disable=SC2086
	[ -d /sys/kernel/xps ] || insmod "$XPS_KO" ${BENCH_YIELD_US:+yield_us=$BENCH_YIELD_US}
	[ -s $T/yield_us ] || cat /sys/module/xps/parameters/yield_us >$T/yield_us
	case $1 in
	redis)
		# the owner: charged with the handler's time, and yielded to
		$XPSCTL handler attach redis --port 6379 --owner "$(cat $T/redis.pid)" >/dev/null
		# taskset execs xpsctl: $! is the filler itself
		# shellcheck disable=SC2086
		taskset -c "$SRV_CPUS" $XPSCTL redis fill --name redis --json ${BENCH_FILL_ARGS:-} \
			>$T/fill.json 2>$T/fill.err &
		FILLER_PID=$!
		sleep 1
		kill -0 $FILLER_PID || { cat $T/fill.err >&2; return 1; }
		;;
	web) $XPSCTL handler attach http --port 80 --name web >/dev/null ;;
	esac
}
xps_off() { # handler-name: stop the filler, detach, rmmod
	if [ -n "$FILLER_PID" ]; then
		kill $FILLER_PID
		wait $FILLER_PID || true
		FILLER_PID=
	fi
	[ ! -d /sys/fs/bpf/xps/$1 ] || $XPSCTL handler detach "$1" >/dev/null
	# the struct_ops map holding the module is freed after an RCU grace period
	local i
	for i in $(seq 100); do
		[ -d /sys/kernel/xps ] || return 0
		rmmod xps 2>/dev/null || sleep 0.2
	done
	rmmod xps
}

xps_counters() { # handler-name: its counters as JSON, null when not attached
	local d=/sys/kernel/xps/handlers/$1 f first=1
	if [ ! -d "$d" ]; then
		printf 'null'
		return
	fi
	printf '{'
	for f in calls tx pass refused unsync fenced yielded write_through cpu_ns; do
		[ $first = 1 ] || printf ','
		printf '"%s":%s' $f "$(cat $d/$f)"
		first=0
	done
	printf '}'
}

# --- CPU sampling around a measured window ------------------------------------

PERF_PID=
SRV_PID=	# the server's main thread, for its scheduler statistics
sched_snap() { # "run_ns wait_ns slices" of SRV_PID (/proc/PID/schedstat)
	if [ -n "$SRV_PID" ] && [ -r /proc/$SRV_PID/schedstat ]; then
		cat /proc/$SRV_PID/schedstat
	else
		echo 0 0 0
	fi
}
stat_snap() { # "total idle ctxt retrans": /proc/stat (USER_HZ ticks), TCP RetransSegs
	awk '$1 == "cpu" {t = 0; for (i = 2; i <= 9; i++) t += $i; idle = $5 + $6}
	     $1 == "ctxt" {c = $2}
	     $1 == "Tcp:" && !hdr {for (i = 2; i <= NF; i++) if ($i == "RetransSegs") col = i; hdr = 1; next}
	     $1 == "Tcp:" && hdr {r = $col}
	     END {print t, idle, c, r + 0}' /proc/stat /proc/net/snmp
}
sample_begin() {
	perf record -a -F "$HZ" -e cpu-clock -o $T/perf.data -q -- sleep 100000 >/dev/null 2>&1 &
	PERF_PID=$!
	S0=$(stat_snap)
	Q0=$(sched_snap)
	W0=$(date +%s.%N)
}
# sample_end: stops perf; the window's CPU figures as JSON in $CPU_JSON:
# samples per CPU and command name ("swapper" is the idle task; each CPU's
# busy share is taken from its own samples, so a halted vCPU whose timer
# fired late weighs no less), /proc/stat's ticks, context switches and TCP
# retransmissions. Keeps the data for profile().
sample_end() {
	local w1 s1 q1
	w1=$(date +%s.%N)
	s1=$(stat_snap)
	q1=$(sched_snap)
	kill -INT $PERF_PID
	wait $PERF_PID || true
	local rows
	# an interrupt or softirq taken while a CPU idled is sampled as the
	# idle task, but it is work (the receive path of packets from another
	# machine, and with it the XPS handler): "irq-in-idle"
	rows=$(perf report -i $T/perf.data --stdio --sort cpu,comm,sym -n -q 2>/dev/null |
		awk 'NF >= 6 {print $2, $3 + 0, ($4 == "swapper" && $6 !~ /idle|safe_halt/ ? "irq-in-idle" : $4)}')
	CPU_JSON=$(awk -v s0="$S0" -v s1="$s1" -v q0="$Q0" -v q1="$q1" -v w0="$W0" -v w1="$w1" -v ncpu="$NCPU" '
		{n[$2, $3] += $1; tot[$2] += $1; cpus[$2] = 1; if ($3 == "swapper") idle[$2] += $1}
		END {
			split(s0, a, " "); split(s1, b, " "); split(q0, qa, " "); split(q1, qb, " ")
			busy = 0
			for (c in cpus) busy += (tot[c] - idle[c]) / tot[c]
			printf "{\"ncpu\":%d,\"busy_cpus\":%.4f,", ncpu, busy
			printf "\"wall_s\":%.3f,\"procstat\":{\"ticks\":%d,\"idle_ticks\":%d},\"ctxt\":%d,\"tcp_retrans\":%d,", \
				w1 - w0, b[1] - a[1], b[2] - a[2], b[3] - a[3], b[4] - a[4]
			# the server main thread: on a CPU, waiting in the runqueue, slices
			printf "\"server_sched\":{\"run_ns\":%.0f,\"wait_ns\":%.0f,\"slices\":%.0f},", \
				qb[1] - qa[1], qb[2] - qa[2], qb[3] - qa[3]
			printf "\"by_cpu\":{"
			k = 0
			for (c in cpus) {
				printf "%s\"%d\":{", (k++ ? "," : ""), c
				m = 0
				for (key in n) {
					split(key, f, SUBSEP)
					if (f[1] == c) printf "%s\"%s\":%d", (m++ ? "," : ""), f[2], n[key]
				}
				printf "}"
			}
			printf "}}"
		}' <<<"$rows")
}
# profile NAME: where the time of the last sampled window went, on the
# CPUs the servers and clients run on (the others are mostly idle)
profile() {
	local cpus	# the union of both lists, each CPU once (perf refuses "0,0")
	cpus=$(echo "$SRV_CPUS,$CLI_CPUS" | tr ',' '\n' |
		awk -F- '{for (c = $1; c <= ($2 == "" ? $1 : $2); c++) print c}' | sort -nu | paste -sd,)
	perf report -i $T/perf.data --stdio --cpu "$cpus" --sort comm,dso -q 2>/dev/null >$T/r1.txt || true
	perf report -i $T/perf.data --stdio --cpu "$cpus" --sort comm,dso,sym -q 2>/dev/null >$T/r2.txt || true
	{
		echo "# $1: perf report of the measured window, cpu-clock samples of CPUs $cpus at $HZ Hz (self time)"
		echo "## by process and object"
		sed -n 1,16p $T/r1.txt
		echo "## top symbols"
		sed -n 1,40p $T/r2.txt
	} >"$RAW/profile-$1.txt"
}

# --- Redis -------------------------------------------------------------------

redis_cli() { redis-cli -s $SOCK "$@"; }
redis_cmds() { redis_cli info stats | awk -F: '/^total_commands_processed:/ {print $2 + 0}'; }

# One redis-benchmark process in loop mode: RB_WARM iterations, then the
# measured one (its CSV line) inside a sampled window.
run_rb() { # mode rep
	local line c0 c1 x0 x1 i
	coproc RB { cli_exec stdbuf -oL redis-benchmark -h "$SRV_IP" -c "$CONNS" -n "$RB_N" -r "$KEYS" \
		--threads "$CT" -l --csv GET "${PREFIX}__rand_int__" 2>&1; }
	local rb_pid=$RB_PID rb_out=${RB[0]}
	read -r line <&"$rb_out"	# CSV header
	for i in $(seq 1 "$RB_WARM"); do
		read -r line <&"$rb_out"
		log "redis-get $1 rep $2 warm-up $i: $line"
	done
	c0=$(redis_cmds)
	x0=$(xps_counters redis)
	sample_begin
	read -r line <&"$rb_out"
	# stop it before it loads the server again, then read the counters
	kill $rb_pid 2>/dev/null || true
	wait $rb_pid 2>/dev/null || true
	sample_end
	c1=$(redis_cmds)
	x1=$(xps_counters redis)
	# "GET ...","rps","avg","min","p50","p95","p99","max" (ms)
	local rps avg min p50 p95 p99 max
	IFS=, read -r _ rps avg min p50 p95 p99 max <<<"${line//\"/}"
	printf '{"workload":"redis-get","mode":"%s","rep":%d,"rps":%s,"p50_ms":%s,"p99_ms":%s,"requests":%d,"server_cmds":%d,"cpu":%s,"xps0":%s,"xps1":%s,"client":{"avg_ms":%s,"min_ms":%s,"p95_ms":%s,"max_ms":%s}}\n' \
		"$1" "$2" "$rps" "$p50" "$p99" "$RB_N" $((c1 - c0)) "$CPU_JSON" "$x0" "$x1" \
		"$avg" "$min" "$p95" "$max" >>"$OUT"
	log "redis-get $1 rep $2: $rps req/s, p50 $p50 ms, p99 $p99 ms, busy $(busy_str)"
	[ "$2" != "$REPS" ] || profile "redis-get-$1"
}
busy_str() { sed -n 's/.*"busy_cpus":\([0-9.]*\).*/\1 CPUs/p' <<<"$CPU_JSON"; }	# harness included

run_mix() { # mode rep get-ratio workload
	local c0 c1 x0 x1 res pid
	# one GET of every key: the XPS cache's first misses (both modes alike)
	mixload --sequential --get-ratio 1 -c "$CONNS" -t "$CT" >/dev/null
	sleep 1
	mixload --get-ratio "$3" -c "$CONNS" -t "$CT" \
		-d "$SECS" --warmup $WARM_S --seed "$2" --json >$T/mix.json &
	pid=$!
	sleep $WARM_S
	# counters and samples from the end of the client's warm-up to its end
	c0=$(redis_cmds)
	x0=$(xps_counters redis)
	sample_begin
	wait $pid
	sample_end
	c1=$(redis_cmds)
	x1=$(xps_counters redis)
	res=$(cat $T/mix.json)
	local rps p50 p99
	rps=$(sed -n 's/.*"rps":\([0-9.e+]*\).*/\1/p' <<<"$res")
	read -r p50 p99 < <(sed -n 's/.*"latency_ns":{[^}]*"p50":\([0-9]*\),[^}]*"p99":\([0-9]*\),.*/\1 \2/p' <<<"$res" |
		awk '{printf "%.3f %.3f\n", $1 / 1e6, $2 / 1e6}')
	printf '{"workload":"%s","mode":"%s","rep":%d,"rps":%s,"p50_ms":%s,"p99_ms":%s,"server_cmds":%d,"cpu":%s,"xps0":%s,"xps1":%s,"client":%s}\n' \
		"$4" "$1" "$2" "$rps" "$p50" "$p99" $((c1 - c0)) "$CPU_JSON" "$x0" "$x1" "$res" >>"$OUT"
	log "$4 $1 rep $2: $rps req/s, p50 $p50 ms, p99 $p99 ms, busy $(busy_str)"
	[ "$2" != "$REPS" ] || profile "$4-$1"
}

if [ -z "$ONLY" ] || [ "$ONLY" = redis ]; then
	log "redis: preloading $KEYS keys (32-byte keys, 128-byte values)"
	srv "${SRV_POL[@]}" redis-server --port 6379 --unixsocket $SOCK --daemonize yes --save '' --appendonly no --protected-mode no \
		--logfile $T/redis.log --pidfile $T/redis.pid
	for _ in $(seq 50); do redis_cli ping >/dev/null 2>&1 && break; sleep 0.2; done
	mixload --sequential --get-ratio 0 -c "$CONNS" -t 2
	n=$(redis_cli dbsize)
	SRV_PID=$(cat $T/redis.pid)
	log "redis-server: $(chrt -p "$SRV_PID" | head -1)"
	[ "$n" = "$KEYS" ] || { log "redis holds $n keys, not $KEYS"; exit 1; }

	# Calibration (also warms up TCG's translations of both paths)
	RB_N=${BENCH_RB_REQUESTS:-}
	cal=$(cli redis-benchmark -h "$SRV_IP" -c "$CONNS" -n 3000 -r "$KEYS" --threads "$CT" --csv \
		GET "${PREFIX}__rand_int__" | tail -1 | tr -d '"' | cut -d, -f2)
	# at least 5 GETs per key in a warm-up iteration: the cache misses
	# fewer than 1 % of the keys when the measured one starts
	[ -n "$RB_N" ] || RB_N=$(awk -v r="$cal" -v s="$SECS" -v k="$KEYS" \
		'BEGIN {n = int(r * s / 1000) * 1000; print (n < 5 * k ? 5 * k : n)}')
	log "redis-benchmark: stock ${cal} req/s in calibration: $RB_N requests per iteration"
	# Unrecorded warm-up of every Redis path in both modes (TCG translates
	# code the first time it runs)
	for mode in xps stock; do
		[ $mode = stock ] || xps_on redis
		mixload --sequential --get-ratio 1 -c "$CONNS" -t "$CT" >/dev/null
		for ratio in 1 0.95 0.75; do
			log "warm-up $mode, GET ratio $ratio: $(mixload --get-ratio $ratio \
				-c "$CONNS" -t "$CT" -d 3 --warmup 0)"
		done
		[ $mode = stock ] || xps_off redis
	done

	modes="stock xps"
	[ "${BENCH_YIELD_AB:-0}" = 0 ] || modes+=" xps-noyield"
	for rep in $(seq 1 "$REPS"); do
		for mode in $modes; do
			[ $mode = stock ] || xps_on redis
			# xps-noyield: the same handler with yield_us=0, the mixes only
			[ $mode != xps-noyield ] || echo 0 >/sys/module/xps/parameters/yield_us
			[ $mode = xps-noyield ] || run_rb $mode "$rep"
			run_mix $mode "$rep" 0.95 redis-mix95
			run_mix $mode "$rep" 0.75 redis-mix75
			[ $mode = stock ] || xps_off redis
			[ $mode != xps ] || printf '{"workload":"filler","mode":"xps","rep":%d,"stats":%s}\n' "$rep" \
				"$(tail -1 $T/fill.json)" >>"$OUT"
		done
	done
	redis_cli shutdown nosave >/dev/null 2>&1 || true
	SRV_PID=
fi

# --- nginx -------------------------------------------------------------------

run_wrk() { # mode rep
	local x0 x1 url=http://$SRV_IP:80/ lua=$ROOT/scripts/bench-xps-post.lua
	cli wrk -t"$WRK_T" -c"$CONNS" -d${WARM_S}s -s "$lua" $url >/dev/null
	x0=$(xps_counters web)
	sample_begin
	cli wrk -t"$WRK_T" -c"$CONNS" -d"${SECS}s" --latency -s "$lua" $url >$T/wrk.txt
	sample_end
	x1=$(xps_counters web)
	# wrk prints latencies as 812.00us, 2.13ms or 1.58s
	local rps p50 p99 reqs non2xx errs
	rps=$(awk '/^Requests\/sec:/ {print $2}' $T/wrk.txt)
	reqs=$(awk '/requests in/ {print $1}' $T/wrk.txt)
	non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' $T/wrk.txt)
	errs=$(awk '/Socket errors:/ {s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s}' $T/wrk.txt)
	ms() { awk -v p="$1" '$1 == p {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		print (u == "us" ? v / 1000 : (u == "s" ? v * 1000 : (u == "m" ? v * 60000 : v)))}' $T/wrk.txt; }
	p50=$(ms 50%)
	p99=$(ms 99%)
	printf '{"workload":"nginx-post","mode":"%s","rep":%d,"rps":%s,"p50_ms":%s,"p99_ms":%s,"requests":%d,"non2xx":%d,"socket_errors":%d,"cpu":%s,"xps0":%s,"xps1":%s}\n' \
		"$1" "$2" "$rps" "$p50" "$p99" "$reqs" "${non2xx:-0}" "${errs:-0}" "$CPU_JSON" "$x0" "$x1" >>"$OUT"
	log "nginx-post $1 rep $2: $rps req/s, p50 $p50 ms, p99 $p99 ms, busy $(busy_str)"
	[ "$2" != "$REPS" ] || profile "nginx-post-$1"
}

if [ -z "$ONLY" ] || [ "$ONLY" = nginx ]; then
	N=$T/nginx
	mkdir -p $N/tmp
	srv nginx -p $N/ -c "$ROOT/scripts/bench-xps-nginx.conf" -g "worker_processes $NGX_W;"
	sleep 1
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 http://127.0.0.1/)
	[ "$code" = 405 ] || { log "nginx answered POST with $code, not 405"; exit 1; }
	# TCG warm-up of both paths
	cli wrk -t"$WRK_T" -c"$CONNS" -d3s -s "$ROOT/scripts/bench-xps-post.lua" "http://$SRV_IP/" >/dev/null
	xps_on web
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x=1 http://127.0.0.1/)
	[ "$code" = 405 ] || { log "the http handler answered POST with $code, not 405"; exit 1; }
	cli wrk -t"$WRK_T" -c"$CONNS" -d3s -s "$ROOT/scripts/bench-xps-post.lua" "http://$SRV_IP/" >/dev/null
	xps_off web
	for rep in $(seq 1 "$REPS"); do
		for mode in stock xps; do
			[ $mode = stock ] || xps_on web
			run_wrk $mode "$rep"
			[ $mode = stock ] || xps_off web
		done
	done
	kill "$(cat $N/nginx.pid)"
fi
printf '{"workload":"meta","date":"%s","kernel":"%s","ncpu":%d,"reps":%d,"secs":%s,"keys":%d,"key_bytes":32,"value_bytes":128,"connections":%d,"client_threads":%d,"rb_requests":%d,"rb_warm_iterations":%d,"wrk_threads":%d,"nginx_workers":%d,"perf_hz":%d,"server_cpus":"%s","client_cpus":"%s","fill_args":"%s","client":"%s","yield_us":%s}\n' \
	"$(date -u +%FT%TZ)" "$(uname -r)" "$NCPU" "$REPS" "$SECS" "$KEYS" "$CONNS" "$CT" "${RB_N:-0}" \
	"$RB_WARM" "$WRK_T" "$NGX_W" "$HZ" "$SRV_CPUS" "$CLI_CPUS" "${BENCH_FILL_ARGS:-}" "$CLIENT" "$(cat $T/yield_us 2>/dev/null || echo null)" >>"$OUT"
log "done: $OUT"
