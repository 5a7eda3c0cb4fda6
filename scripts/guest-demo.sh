#!/bin/bash
# Runs inside the guest for `make demo`: shows the machine the mechanisms
# run on, runs the infrastructure tests, then shows LATR at work.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2

section() { printf '\n== %s ==\n' "$*"; }

section "kernel"
uname -r
cat /proc/version
section "boot parameters"
tr ' ' '\n' </proc/cmdline | grep -E '^(isolcpus|nohz_full|rcu_nocbs|irqaffinity)='
section "CPUs and NUMA nodes"
lscpu -e=CPU,NODE,SOCKET,CORE,ONLINE
for n in /sys/devices/system/node/node[0-9]*; do
	printf '%s: cpus %s, %s MiB\n' "${n##*/}" "$(cat "$n/cpulist")" \
		"$(awk '/MemTotal/ {print int($4/1024)}' "$n/meminfo")"
done
section "isolation of the X-Lane CPU"
echo "isolated:  $(cat /sys/devices/system/cpu/isolated)"
echo "nohz_full: $(cat /sys/devices/system/cpu/nohz_full)"
echo "IRQs routed to CPU 3: $(grep -lw 3 /proc/irq/*/effective_affinity_list 2>/dev/null | wc -l)"
section "network"
for q in /sys/class/net/eth*/queues; do
	rx=("$q"/rx-*)
	tx=("$q"/tx-*)
	echo "${q%/queues}: ${#rx[@]} rx / ${#tx[@]} tx queues"
done
section "infrastructure tests"
scripts/run-selftests.sh infra/

section "LATR: munmap() of 1 page with threads on CPUs 0-2, stock vs LATR"
B=build/userspace/bin/latr-munmap-bench
[ ! -d /sys/kernel/latr ] || rmmod latr
echo "stock: $($B --cpus 0-2 --pages 1 --iterations 3000)"
insmod modules/latr/latr.ko mode=all
echo "latr:  $($B --cpus 0-2 --pages 1 --iterations 3000)"
build/userspace/bin/latrctl stats
rmmod latr
echo "(make bench-latr runs the full comparison: 1-512 pages, 1-4 CPUs, Apache)"
