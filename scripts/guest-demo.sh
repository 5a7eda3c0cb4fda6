#!/bin/bash
# Runs inside the guest for `make demo`: shows the machine the mechanisms
# run on, then runs what exists so far (today: the infrastructure tests).
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
	echo "${q%/queues}: $(ls "$q" | grep -c rx-) rx / $(ls "$q" | grep -c tx-) tx queues"
done
section "infrastructure tests"
exec scripts/run-selftests.sh infra/
