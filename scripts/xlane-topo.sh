#!/bin/bash
# The X-Lane test topology: hosts and one strict-priority switch as network
# namespaces (paper 000, section 4.2; DESIGN.md "Switches in tests"). Runs as
# root in the guest (scripts/vm-run.sh) or on any Linux box.
#
#   xlane-topo.sh up [N]        N >= 3 hosts (default 3); tears down first
#   xlane-topo.sh down          removes namespaces, processes in them, pins
#   xlane-topo.sh check         prints the state; non-zero if it is broken
#   xlane-topo.sh bands [NS DEV]  band counters of every port (or of one),
#                               one line each
#   xlane-topo.sh cross start|stop|status
#                               cross-traffic (iperf3 TCP and UDP on the lane
#                               links) and CPU stress (stress-ng), all pinned
#                               to the housekeeping CPUs
#
# Layout: namespaces xl1..xlN are the hosts, each with `eth0` (10.77.0.K/24,
# MAC 02:77:00:00:00:KK, lo up, a 224.0.0.0/4 route on eth0, static ARP
# entries for all peers); namespace xlsw is the switch: bridge br0 (STP
# off, forward delay 0, multicast snooping off so multicast floods, static
# FDB entries) with port swK leading to host K (a veth pair swK <-> eth0).
#
# Queueing, on every switch port swK and on every host eth0 (egress), one
# tree per transmit queue:
#   root  [tbf (XLANE_TOPO_RATE / XLANE_TOPO_HOST_RATE), handle P2:]
#         (XLANE_TOPO_SHAPE=besteffort: the tbf sits in band 1 instead)
#   prio  handle P1:, bands 3, priomap all band 1 (class P1:2)
#         band 0 (class P1:1): lane traffic, chosen by the cls_bpf filter
#         bpf/xlane_prio.bpf.c: IPv4/IPv6 UDP to the lane port, or DSCP EF
#         (tos 0xb8); band 1 (class P1:2): everything else; band 2 unused
#   pfifo limit XLANE_TOPO_QLEN under each band (handles P11: P12: P13:)
# With one queue P is empty (prio 1:, tbf 2:, pfifo 11: 12: 13:). When the
# machine has an isolated CPU, every veth (both ends) gets two queues, as a
# NIC gives the isolated core a queue of its own (paper 000, section 4.3):
# XPS maps the housekeeping CPUs to queue 0 and the isolated CPUs to queue
# 1; the root is `mq` (handle 100:) with the tree above under 100:1 (P=10)
# and 100:2 (P=20). What the lane engine sends on the isolated CPU then
# stays there: it never waits for a qdisc another CPU is running, and the
# receiving veth's NAPI (XDP) for queue 1 is scheduled on the isolated CPU,
# not folded into the NAPI run that cross traffic keeps busy on CPU 0. The
# rate applies per queue; cross traffic comes from the housekeeping CPUs,
# so its queue has the configured rate.
# One instance of the classifier is loaded with bpftool, pinned under
# XLANE_TOPO_PIN and attached to every port (`bpf object-pinned ... da`);
# its config map xlane_prio_cfg holds the lane port and the DSCP, and
# xlane_prio_stats counts what it classified (shown by `check`).
# Without a rate the veth never builds a queue (it transmits at once), so
# the bands only matter with XLANE_TOPO_RATE set below what the cross
# traffic offers.
#
# Environment:
#   XLANE_PORT=7400           UDP destination port of lane traffic (band 0)
#   XLANE_TOPO_DSCP=46        DSCP that also selects band 0 (EF); 0 turns it off
#   XLANE_TOPO_RATE=          tbf rate of every switch port, e.g. 100mbit
#                             (units bit/kbit/mbit/gbit); empty: no shaping
#   XLANE_TOPO_HOST_RATE=     the same for every host eth0
#   XLANE_TOPO_SHAPE=root     where the tbf sits: root (the whole port is
#                             shaped, lane frames wait for its tokens and for
#                             whichever CPU its watchdog wakes) or besteffort
#                             (only band 1 is shaped: a strict-priority port
#                             that serves lane frames first at once, as a
#                             switch does, and still congests cross traffic)
#   XLANE_TOPO_BURST=         tbf burst in bytes (default: 2 ms of the rate,
#                             at least 16384)
#   XLANE_TOPO_QLEN=1000      packets per band
#   XLANE_TOPO_QUEUES=auto    transmit/receive queues per veth: auto (2 if a
#                             CPU is isolated, else 1), 1 or 2
#   XLANE_TOPO_LANE_CPUS=     CPUs of queue 1 (default: the isolated ones)
#   XLANE_TOPO_IPV6=0         1 keeps IPv6 on the links (default: off, so no
#                             router solicitations or MLD in the counters)
#   XLANE_TOPO_PIN=/sys/fs/bpf/xlane-topo   where the classifier is pinned
#   XLANE_TOPO_STATE=/run/xlane-topo        state: host count, pids, logs
#   XLANE_PRIO_OBJ=build/bpf/xlane_prio.bpf.o (make bpf)
#   BPFTOOL=build/bpftool/bpftool (make kernel), else bpftool from PATH
# Cross traffic (`cross start`):
#   XLANE_CROSS_CPUS=         CPU list for iperf3 and stress-ng (default:
#                             the online CPUs that are not lane CPUs, i.e.
#                             not isolated unless XLANE_TOPO_LANE_CPUS says)
#   XLANE_CROSS_TCP=1         iperf3 TCP flows host K -> K+1 (ring)
#   XLANE_CROSS_UDP=1         iperf3 UDP flows host K -> K-1 (ring)
#   XLANE_CROSS_TCP_BW=0      cap of each TCP flow (iperf3 -b; 0: unlimited,
#                             i.e. as fast as the links and CPUs allow)
#   XLANE_CROSS_UDP_BW=10M    offered rate of each UDP flow (0: unlimited)
#   XLANE_CROSS_STREAMS=1     parallel streams per iperf3 client
#   XLANE_CROSS_STRESS=       stress-ng --cpu workers (default: one per
#                             housekeeping CPU; 0: no CPU stress)
#   XLANE_CROSS_TIME=86400    seconds before the clients stop by themselves
# Ports 5201 (TCP) and 5202 (UDP) carry the cross traffic; each host runs
# one iperf3 server on each.
set -Eeuo pipefail
trap 'printf "xlane-topo: failed at line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SW=xlsw
NET=10.77.0
MCAST_GROUP_NET=224.0.0.0/4
PORT=${XLANE_PORT:-7400}
DSCP=${XLANE_TOPO_DSCP:-46}
QLEN=${XLANE_TOPO_QLEN:-1000}
PIN=${XLANE_TOPO_PIN:-/sys/fs/bpf/xlane-topo}
STATE=${XLANE_TOPO_STATE:-/run/xlane-topo}
OBJ=${XLANE_PRIO_OBJ:-$ROOT/build/bpf/xlane_prio.bpf.o}
TCP_PORT=5201
UDP_PORT=5202

die() {
	printf 'xlane-topo: %s\n' "$*" >&2
	exit 1
}
log() { printf '[xlane-topo] %s\n' "$*"; }

need() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || die "'$c' not found (make deps)"
	done
}

[ "$(id -u)" -eq 0 ] || die "must run as root"

bpftool_bin() {
	if [ -n "${BPFTOOL:-}" ]; then
		printf '%s\n' "$BPFTOOL"
	elif [ -x "$ROOT/build/bpftool/bpftool" ]; then
		printf '%s\n' "$ROOT/build/bpftool/bpftool"
	elif command -v bpftool >/dev/null; then
		command -v bpftool
	else
		die "bpftool not found: run 'make kernel' (builds build/bpftool) or set BPFTOOL"
	fi
}

# Run a command in a namespace without a new mount namespace (unlike
# `ip netns exec` / `tc -n`, which remount /sys and so hide /sys/fs/bpf).
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

mac_of() { printf '02:77:00:00:00:%02x' "$1"; }

# Host count of the running topology (0: none).
host_count() {
	if [ -f "$STATE/hosts" ]; then
		cat "$STATE/hosts"
	else
		ip netns list 2>/dev/null | awk '$1 ~ /^xl[0-9]+$/ {n++} END {print n + 0}'
	fi
}

# "0-2,5" -> "0 1 2 5"
expand_cpus() {
	local part parts=() out=() c
	IFS=, read -ra parts <<<"$1"
	for part in "${parts[@]}"; do
		if [[ $part == *-* ]]; then
			for ((c = ${part%-*}; c <= ${part#*-}; c++)); do
				out+=("$c")
			done
		elif [ -n "$part" ]; then
			out+=("$part")
		fi
	done
	echo "${out[@]}"
}

# Online CPUs that are not in the CPU list $1, as a comma list ("" if none).
online_except() {
	local c out=() skip
	skip=" $(expand_cpus "$1") "
	for c in $(expand_cpus "$(cat /sys/devices/system/cpu/online)"); do
		[[ $skip == *" $c "* ]] || out+=("$c")
	done
	(
		IFS=,
		echo "${out[*]}"
	)
}

# Online CPUs that are not lane CPUs (by default: not isolated).
housekeeping_cpus() {
	local hk
	hk=$(online_except "$(lane_cpus)")
	[ -n "$hk" ] || die "no housekeeping CPU"
	echo "$hk"
}

# tc rate ("100mbit") -> bits per second
rate_bps() {
	awk -v r="$1" 'BEGIN {
		if (match(r, /^[0-9]+(\.[0-9]+)?/) == 0) exit 1
		n = substr(r, 1, RLENGTH); u = tolower(substr(r, RLENGTH + 1))
		m["bit"] = 1; m["kbit"] = 1e3; m["mbit"] = 1e6; m["gbit"] = 1e9
		if (!(u in m)) exit 1
		printf "%d\n", n * m[u]
	}' || die "bad rate '$1' (use e.g. 500kbit, 100mbit, 1gbit)"
}

# CPU list of queue 1 ("" if no CPU is isolated).
lane_cpus() {
	if [ -n "${XLANE_TOPO_LANE_CPUS:-}" ]; then
		echo "$XLANE_TOPO_LANE_CPUS"
	else
		cat /sys/devices/system/cpu/isolated 2>/dev/null || true
	fi
}

# Queues per veth (see "Queueing" above).
topo_queues() {
	local q=${XLANE_TOPO_QUEUES:-auto}
	case $q in
	auto) if [ -n "$(lane_cpus)" ]; then echo 2; else echo 1; fi ;;
	1) echo 1 ;;
	2)
		[ -n "$(lane_cpus)" ] ||
			die "XLANE_TOPO_QUEUES=2 needs an isolated CPU or XLANE_TOPO_LANE_CPUS"
		echo 2
		;;
	*) die "XLANE_TOPO_QUEUES must be auto, 1 or 2, not '$q'" ;;
	esac
}

# "0,2,5" -> "00000025": the kernel's cpumask format (32-bit hex words, the
# highest first, comma-separated) that xps_cpus takes.
cpu_mask() { # cpu-list
	local c i n=0 mask=
	local -a w=()
	for c in $(expand_cpus "$1"); do
		i=$((c / 32))
		w[i]=$((${w[i]:-0} | (1 << (c % 32))))
		[ $((i + 1)) -le $n ] || n=$((i + 1))
	done
	[ $n -gt 0 ] || die "empty CPU set for XPS"
	for ((i = n - 1; i >= 0; i--)); do
		mask+=$(printf '%08x' "${w[i]:-0}")
		[ $i -eq 0 ] || mask+=,
	done
	echo "$mask"
}

# XPS of a two-queue veth: queue 0 for the CPUs that are not lane CPUs,
# queue 1 for the lane CPUs. sysfs shows a device only inside its own
# namespace, hence `ip netns exec` (which mounts that namespace's sysfs).
set_xps() { # ns dev
	local ns=$1 dev=$2 hk lane
	hk=$(housekeeping_cpus)
	lane=$(online_except "$hk")
	[ -n "$lane" ] || die "XPS needs an online lane CPU (lane CPUs: '$(lane_cpus)')"
	# shellcheck disable=SC2016 # $1..$3 are the inner shell's arguments
	ip netns exec "$ns" sh -c 'q=/sys/class/net/$1/queues &&
		echo "$2" >"$q/tx-0/xps_cpus" && echo "$3" >"$q/tx-1/xps_cpus"' \
		sh "$dev" "$(cpu_mask "$hk")" "$(cpu_mask "$lane")" ||
		die "cannot set XPS of $dev in $ns (kernel without CONFIG_XPS?)"
}

# Handle prefixes of the per-queue trees of a port: "-" (one queue: the
# handles 1: 2: 11: ...) or "10 20" (mq: 101: 102: 1011: ...).
tree_prefixes() {
	local q
	q=$(cat "$STATE/queues" 2>/dev/null || echo 1)
	if [ "$q" -eq 1 ]; then echo -; else seq -f '%g0' 1 "$q" | xargs; fi
}

# One queue's tree: [tbf] -> prio -> pfifo per band (or prio -> [tbf] ->
# pfifo in band 1 with XLANE_TOPO_SHAPE=besteffort), and the classifier.
setup_tree() { # ns dev rate parent(root | "parent X:Y") prefix
	local ns=$1 dev=$2 rate=$3 parent=$4 h=$5 burst='' bps b shape=${XLANE_TOPO_SHAPE:-root}
	[ "$shape" = root ] || [ "$shape" = besteffort ] ||
		die "XLANE_TOPO_SHAPE must be root or besteffort, not '$shape'"
	if [ -n "$rate" ]; then
		bps=$(rate_bps "$rate")
		burst=${XLANE_TOPO_BURST:-$((bps / 8 / 500 > 16384 ? bps / 8 / 500 : 16384))}
	fi
	# shellcheck disable=SC2086 # $parent is one or two words on purpose
	if [ -n "$rate" ] && [ "$shape" = root ]; then
		tc -n "$ns" qdisc add dev "$dev" $parent handle "${h}2:" tbf rate "$rate" \
			burst "$burst" latency 100ms
		parent="parent ${h}2:1"
	fi
	# shellcheck disable=SC2086
	tc -n "$ns" qdisc add dev "$dev" $parent handle "${h}1:" prio bands 3 \
		priomap 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1
	for b in 1 2 3; do
		if [ -n "$rate" ] && [ "$shape" = besteffort ] && [ $b = 2 ]; then
			tc -n "$ns" qdisc add dev "$dev" parent "${h}1:2" handle "${h}2:" tbf rate "$rate" \
				burst "$burst" latency 100ms
			tc -n "$ns" qdisc add dev "$dev" parent "${h}2:1" handle "${h}12:" pfifo limit "$QLEN"
			continue
		fi
		tc -n "$ns" qdisc add dev "$dev" parent "${h}1:$b" handle "${h}1$b:" pfifo limit "$QLEN"
	done
	in_ns "$ns" tc filter add dev "$dev" parent "${h}1:" protocol all prio 1 handle 1 \
		bpf object-pinned "$PIN/prog" direct-action ||
		die "cannot attach the classifier to $dev in $ns"
}

# The queueing of one egress port: one tree, or mq with a tree per queue.
setup_port() { # ns dev rate
	local ns=$1 dev=$2 rate=$3 h
	if [ "$(tree_prefixes)" = - ]; then
		setup_tree "$ns" "$dev" "$rate" root ""
		return
	fi
	set_xps "$ns" "$dev"
	tc -n "$ns" qdisc add dev "$dev" root handle 100: mq
	for h in $(tree_prefixes); do
		setup_tree "$ns" "$dev" "$rate" "parent 100:${h%0}" "$h"
	done
}

load_classifier() {
	local bt
	bt=$(bpftool_bin)
	[ -f "$OBJ" ] || die "no $OBJ: run 'make bpf'"
	if ! [[ $PORT =~ ^[0-9]+$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
		die "bad XLANE_PORT '$PORT'"
	fi
	if ! [[ $DSCP =~ ^[0-9]+$ ]] || [ "$DSCP" -gt 63 ]; then
		die "bad XLANE_TOPO_DSCP '$DSCP'"
	fi
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || die "cannot mount the BPF file system on /sys/fs/bpf"
	fi
	rm -rf "$PIN"
	mkdir -p "$PIN"
	"$bt" prog load "$OBJ" "$PIN/prog" type classifier pinmaps "$PIN" ||
		die "bpftool cannot load $OBJ"
	# struct xlane_prio_cfg {u16 port; u8 dscp; u8 flags} (little endian)
	local flags=0 dscp=$DSCP
	if [ "$DSCP" -eq 0 ]; then
		flags=1 # XLANE_PRIO_F_NO_DSCP
		dscp=0
	fi
	"$bt" map update pinned "$PIN/xlane_prio_cfg" key 0 0 0 0 \
		value $((PORT & 255)) $((PORT >> 8)) "$dscp" "$flags" ||
		die "cannot configure the classifier"
}

kill_ns_procs() { # ns
	local pids
	pids=$(ip netns pids "$1" 2>/dev/null | xargs)
	[ -n "$pids" ] || return 0
	# shellcheck disable=SC2086
	kill $pids 2>/dev/null || true
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		pids=$(ip netns pids "$1" 2>/dev/null | xargs)
		[ -n "$pids" ] || return 0
		sleep 0.2
	done
	# shellcheck disable=SC2086
	kill -9 $pids 2>/dev/null || true
}

cmd_down() {
	cross_stop quiet
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^xl([0-9]+|sw)$/ {print $1}'); do
		kill_ns_procs "$ns"
		ip netns del "$ns" || die "cannot delete namespace $ns"
	done
	rm -rf "$PIN" "$STATE"
}

cmd_up() {
	local n=${1:-3} k j q
	if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -lt 3 ] || [ "$n" -gt 250 ]; then
		die "host count must be 3..250, not '$n'"
	fi
	need ip tc nsenter mountpoint
	cmd_down
	load_classifier
	mkdir -p "$STATE"

	ip netns add "$SW"
	for k in $(seq 1 "$n"); do
		ip netns add "xl$k"
	done
	for ns in "$SW" $(seq -f 'xl%g' 1 "$n"); do
		ip -n "$ns" link set lo up
		if [ "${XLANE_TOPO_IPV6:-0}" != 1 ]; then
			# no IPv6 in the kernel: nothing to turn off
			in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
				net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
		fi
	done

	q=$(topo_queues)
	echo "$q" >"$STATE/queues"
	ip -n "$SW" link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
	for k in $(seq 1 "$n"); do
		ip -n "$SW" link add "sw$k" numtxqueues "$q" numrxqueues "$q" type veth \
			peer name eth0 netns "xl$k" numtxqueues "$q" numrxqueues "$q"
		ip -n "xl$k" link set eth0 address "$(mac_of "$k")"
		ip -n "xl$k" addr add "$NET.$k/24" dev eth0
		ip -n "$SW" link set "sw$k" master br0
	done
	ip -n "$SW" link set br0 up
	for k in $(seq 1 "$n"); do
		ip -n "$SW" link set "sw$k" up
		ip -n "xl$k" link set eth0 up
		ip -n "xl$k" route add "$MCAST_GROUP_NET" dev eth0
		bridge -n "$SW" fdb replace "$(mac_of "$k")" dev "sw$k" master static
		for j in $(seq 1 "$n"); do
			[ "$j" = "$k" ] && continue
			ip -n "xl$k" neigh replace "$NET.$j" lladdr "$(mac_of "$j")" \
				dev eth0 nud permanent
		done
		setup_port "$SW" "sw$k" "${XLANE_TOPO_RATE:-}"
		setup_port "xl$k" eth0 "${XLANE_TOPO_HOST_RATE:-}"
	done
	echo "$n" >"$STATE/hosts"
	log "up: $n hosts xl1..xl$n ($NET.1-$n) on bridge br0 in $SW; lane port $PORT," \
		"DSCP $DSCP -> band 0; switch rate ${XLANE_TOPO_RATE:-unshaped}," \
		"host rate ${XLANE_TOPO_HOST_RATE:-unshaped}; $q queue(s) per link" \
		"$([ "$q" -eq 1 ] || echo "(queue 1: CPUs $(lane_cpus))")"
}

# Band counters of one port, summed over its queues' prio qdiscs (class
# X:1 is band 0, X:2 band 1, X:3 band 2): "ns dev band0 pkts bytes drops ..."
port_bands() { # ns dev
	tc -n "$1" -s class show dev "$2" | awk -v ns="$1" -v dev="$2" '
		$1 == "class" && $2 == "prio" { split($3, h, ":"); b = h[2] - 1 }
		$1 == "Sent" && b != "" {
			d = $7; sub(",", "", d)
			p[b] += $4; B[b] += $2; D[b] += d; b = ""
		}
		END {
			printf "%-5s %-5s", ns, dev
			for (i = 0; i < 3; i++)
				printf "  band%d %d pkt %d B %d drop", i, p[i], B[i], D[i]
			printf "\n"
		}'
}

cmd_bands() { # [ns dev]: that port only
	local n k
	if [ $# -eq 2 ]; then
		port_bands "$1" "$2"
		return
	fi
	n=$(host_count)
	[ "$n" -gt 0 ] || die "no topology (xlane-topo.sh up)"
	for k in $(seq 1 "$n"); do
		port_bands "$SW" "sw$k"
	done
	for k in $(seq 1 "$n"); do
		port_bands "xl$k" eth0
	done
}

classifier_stats() {
	local bt
	bt=$(bpftool_bin)
	[ -e "$PIN/xlane_prio_stats" ] || {
		echo "classifier: not pinned at $PIN"
		return 1
	}
	"$bt" -j map dump pinned "$PIN/xlane_prio_stats" | python3 -c '
import json, sys
names = ["lane port", "DSCP EF", "other"]
tot = {}
for e in json.load(sys.stdin):
    f = e.get("formatted", e)
    tot[f["key"]] = sum(v["value"] for v in f["values"])
print("classifier: " + ", ".join(f"{names[k]} {tot.get(k, 0)}" for k in range(3)))
' 2>/dev/null || "$bt" map dump pinned "$PIN/xlane_prio_stats"
	"$bt" map dump pinned "$PIN/xlane_prio_cfg" | sed 's/^/classifier config: /'
}

cmd_check() {
	local n k bad=0 ns dev h
	n=$(host_count)
	if [ "$n" -eq 0 ]; then
		echo "no X-Lane topology"
		return 1
	fi
	echo "== $n hosts, switch $SW"
	ip netns list | grep -qw "$SW" || {
		echo "missing namespace $SW"
		bad=1
	}
	ip -n "$SW" -d link show br0 | grep -oE 'stp_state [0-9]+|forward_delay [0-9]+|mcast_snooping [0-9]+' |
		xargs echo "br0:" || bad=1
	ip -n "$SW" -br link show master br0 || bad=1
	for k in $(seq 1 "$n"); do
		ns=xl$k
		ip -n "$ns" -br addr show dev eth0 2>/dev/null | sed "s/^/$ns: /" || {
			echo "$ns: no eth0"
			bad=1
		}
	done
	echo "== qdiscs and filters (switch ports, host eth0)"
	for k in $(seq 1 "$n"); do
		for ns_dev in "$SW sw$k" "xl$k eth0"; do
			read -r ns dev <<<"$ns_dev"
			tc -n "$ns" qdisc show dev "$dev" | sed "s/^/$ns $dev: /"
			for h in $(tree_prefixes); do
				[ "$h" != - ] || h=
				if ! tc -n "$ns" filter show dev "$dev" parent "${h}1:" | grep -q 'xlane_prio'; then
					echo "$ns $dev: classifier missing under ${h}1:"
					bad=1
				fi
			done
		done
	done
	echo "== band counters (band 0: lane; band 1: the rest), summed over the queues"
	cmd_bands
	classifier_stats || bad=1
	echo "== cross traffic"
	cross_status
	return $bad
}

# ---------------------------------------------------------------- cross

wait_listen() { # ns port
	for _ in $(seq 1 50); do
		ip netns exec "$1" ss -Hltn "sport = :$2" | grep -q . && return 0
		sleep 0.1
	done
	die "iperf3 server in $1 does not listen on port $2 (see $STATE/cross/)"
}

cross_start() {
	local n k next prev cpus workers dur pid
	n=$(host_count)
	[ "$n" -ge 3 ] || die "no topology (xlane-topo.sh up)"
	need iperf3 taskset ss
	[ ! -d "$STATE/cross" ] || cross_stop quiet
	cpus=${XLANE_CROSS_CPUS:-$(housekeeping_cpus)}
	workers=${XLANE_CROSS_STRESS:-$(expand_cpus "$cpus" | wc -w)}
	dur=${XLANE_CROSS_TIME:-86400}
	mkdir -p "$STATE/cross"
	local C=$STATE/cross

	for k in $(seq 1 "$n"); do
		for p in "$TCP_PORT" "$UDP_PORT"; do
			ip netns exec "xl$k" taskset -c "$cpus" iperf3 -s -p "$p" -D \
				-I "$C/server-xl$k-$p.pid" --logfile "$C/server-xl$k-$p.log" ||
				die "cannot start the iperf3 server in xl$k"
		done
	done
	for k in $(seq 1 "$n"); do
		wait_listen "xl$k" "$TCP_PORT"
		wait_listen "xl$k" "$UDP_PORT"
	done
	for k in $(seq 1 "$n"); do
		next=$((k % n + 1))
		prev=$(((k + n - 2) % n + 1))
		if [ "${XLANE_CROSS_TCP:-1}" = 1 ]; then
			ip netns exec "xl$k" taskset -c "$cpus" iperf3 -c "$NET.$next" -p "$TCP_PORT" \
				-b "${XLANE_CROSS_TCP_BW:-0}" -t "$dur" -i 10 -P "${XLANE_CROSS_STREAMS:-1}" \
				--logfile "$C/client-xl$k-tcp.log" </dev/null >"$C/client-xl$k-tcp.out" 2>&1 &
			echo $! >"$C/client-xl$k-tcp.pid"
		fi
		if [ "${XLANE_CROSS_UDP:-1}" = 1 ]; then
			ip netns exec "xl$k" taskset -c "$cpus" iperf3 -c "$NET.$prev" -p "$UDP_PORT" \
				-u -b "${XLANE_CROSS_UDP_BW:-10M}" -t "$dur" -i 10 \
				-P "${XLANE_CROSS_STREAMS:-1}" \
				--logfile "$C/client-xl$k-udp.log" </dev/null >"$C/client-xl$k-udp.out" 2>&1 &
			echo $! >"$C/client-xl$k-udp.pid"
		fi
	done
	if [ "$workers" -gt 0 ]; then
		need stress-ng
		taskset -c "$cpus" stress-ng --cpu "$workers" --taskset "$cpus" \
			--timeout "${dur}s" --quiet </dev/null >"$C/stress-ng.log" 2>&1 &
		echo $! >"$C/stress-ng.pid"
	fi
	sleep 1
	for pid in "$C"/client-*.pid "$C"/stress-ng.pid; do
		[ -f "$pid" ] || continue
		kill -0 "$(cat "$pid")" 2>/dev/null || {
			tail -n 5 "${pid%.pid}.log" >&2 || true
			die "$(basename "${pid%.pid}") died at start"
		}
	done
	log "cross traffic on CPUs $cpus: TCP K->K+1 ${XLANE_CROSS_TCP:-1}," \
		"UDP K->K-1 ${XLANE_CROSS_UDP:-1} at ${XLANE_CROSS_UDP_BW:-10M}," \
		"stress-ng --cpu $workers"
}

cross_stop() { # [quiet]
	local C=$STATE/cross f pid left
	[ -d "$C" ] || {
		[ "${1:-}" = quiet ] || log "no cross traffic running"
		return 0
	}
	# clients first (they would report the servers' loss), then the rest
	for f in "$C"/client-*.pid "$C"/stress-ng.pid "$C"/server-*.pid; do
		[ -f "$f" ] || continue
		pid=
		read -r pid <"$f" || true # iperf3 writes no newline
		[ -z "$pid" ] || kill "$pid" 2>/dev/null || true
	done
	for _ in $(seq 1 25); do
		left=
		for f in "$C"/*.pid; do
			[ -f "$f" ] || continue
			pid=
			read -r pid <"$f" || true
			[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && left+=" $pid"
		done
		[ -n "$left" ] || break
		sleep 0.2
	done
	# shellcheck disable=SC2086
	[ -z "$left" ] || kill -9 $left 2>/dev/null || true
	wait 2>/dev/null || true
	# keep the logs of the last run next to the state, drop the pids
	rm -f "$C"/*.pid
	rm -rf "$STATE/cross.last"
	mv "$C" "$STATE/cross.last"
	[ "${1:-}" = quiet ] || log "cross traffic stopped (logs in $STATE/cross.last)"
}

cross_status() {
	local C=$STATE/cross f pid name line
	if [ ! -d "$C" ]; then
		echo "cross traffic: off"
		return 0
	fi
	for f in "$C"/*.pid; do
		[ -f "$f" ] || continue
		pid=
		read -r pid <"$f" || true
		name=${f##*/}
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
			echo "${name%.pid}: running (pid $pid)"
		else
			echo "${name%.pid}: NOT running"
		fi
	done
	for f in "$C"/client-*.log; do
		[ -f "$f" ] || continue
		name=${f##*/}
		line=$(grep -E 'bits/sec' "$f" | tail -1 | tr -s ' ') || true
		echo "${name%.log}: ${line:-no report yet}"
	done
}

case "${1:-}" in
up) cmd_up "${2:-3}" ;;
down) cmd_down ;;
check) cmd_check ;;
bands) cmd_bands "${@:2}" ;;
cross)
	case "${2:-}" in
	start) cross_start ;;
	stop) cross_stop ;;
	status) cross_status ;;
	*) die "usage: $0 cross start|stop|status" ;;
	esac
	;;
*) die "usage: $0 up [N] | down | check | bands [NS DEV] | cross start|stop|status" ;;
esac
