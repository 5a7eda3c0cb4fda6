#!/bin/bash
# EXPERIMENT (in the VM, on the debug kernel, with a latr.ko built from
# modules/latr/latr.c + scripts/debug/latr-trap.diff, which has watch_pfn):
# run guest-latr-sync-flushes.sh, and when page poisoning first reports a
# corrupted free page, put a data breakpoint on offset 0 of that page
# (latr.ko's watch_pfn) so that the next write through the direct map
# names its writer. The corruption hit the same 4 bytes of the same page
# twice in one boot before.
cd "$(dirname "$0")/../.." || exit 2
(
	while sleep 2; do
		[ -w /sys/module/latr/parameters/watch_pfn ] || continue
		pfn=$(dmesg | awk '/pagealloc: memory corruption/ {hit = 1}
			hit && match($0, /pfn:0x[0-9a-f]+/) {
				print substr($0, RSTART + 4, RLENGTH - 4); exit }')
		if [ -n "$pfn" ]; then
			echo "watcher: arming a breakpoint on pfn $pfn"
			echo "$pfn" >/sys/module/latr/parameters/watch_pfn
			exit 0
		fi
	done
) &
watcher=$!
scripts/guest-latr-sync-flushes.sh
rc=$?
kill $watcher 2>/dev/null
exit $rc
