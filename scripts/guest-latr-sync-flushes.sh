#!/bin/bash
# In the VM (scripts/vm-run.sh, VM_ISOLATE=0): which shootdowns stay
# synchronous with LATR on, in the 4-CPU 512-page munmap benchmark, and why.
#   VM_ISOLATE=0 scripts/vm-run.sh "N=3 scripts/guest-latr-sync-flushes.sh"
# (on the debug kernel: VM_KERNEL=build/linux-debug/arch/x86/boot/bzImage and
# LATR_KO=build/modules-debug/latr/latr.ko)
# Per run: the shootdowns sent (tlb:tlb_flush, "remote ipi send") counted by
# the four kernel frames above the flush, each with what a kprobe on
# tlb_finish_mmu() last read on that CPU (tlb_flush_pending 2 or more: a
# nested gather, which flushes the whole mm with fullmm set); the failed
# page allocations (a batch page that cannot be had forces a flush inside
# zap_pte_range()); and LATR's fallback counters.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
T=/sys/kernel/tracing
# QCHECK=1 (KASAN kernels): walk KASAN's whole quarantine before the module
# is loaded, right after, and after every run. Shrinking any slab cache
# makes kasan_quarantine_remove_cache() follow every quarantined object's
# link, so a link overwritten since the last walk oopses there and then,
# not at the quarantine's first eviction many runs later. Each walk is
# marked in the kernel log first.
qcheck() {
	[ "${QCHECK:-0}" = 1 ] || return 0
	echo "latr-harness: quarantine walk $1" >/dev/kmsg
	echo 1 >/sys/kernel/slab/kmalloc-64/shrink || exit 1
}
qcheck "before the module"
# LATR_KO=none: no module at all, the control for the harness itself
if [ "${LATR_KO:-}" = none ]; then
	L=
else
	L=/sys/kernel/latr
	[ -d $L ] || insmod "${LATR_KO:-modules/latr/latr.ko}" || exit 1
	# LATR_MODE=off: the same runs with the provider registered but taking nothing
	echo "${LATR_MODE:-all}" >$L/mode || exit 1
	qcheck "after the module loaded"
fi
cleanup() {
	echo 0 >$T/tracing_on
	echo 0 >$T/options/stacktrace
	echo 0 >$T/events/tlb/tlb_flush/enable
	echo 0 >$T/events/tlb/tlb_flush/filter
	echo 0 >$T/events/kprobes/enable 2>/dev/null
	echo >$T/kprobe_events
}
trap cleanup EXIT
# One run of the benchmark this script is about
bench() {
	taskset -c 0-3 build/userspace/bin/latr-munmap-bench --json --cpus 0-3 --pages 512 --iterations 100 >/dev/null
}
# TRACE=0: the same runs with no probe and no tracing (does a problem need them?)
if [ "${TRACE:-1}" = 0 ]; then
	trap - EXIT
	for i in $(seq 1 "${N:-3}"); do
		bench || exit 1
		qcheck "after run $i"
		echo "run $i: $([ -n "$L" ] && cat $L/stats/recorded) states recorded so far"
	done
	exit 0
fi
echo 65536 >$T/buffer_size_kb
# To find which probe a problem needs, leave one out: KRETPROBE=0 drops the
# kretprobe on get_free_pages_noprof() (no failed-allocation count), KPROBE=0
# the kprobe on tlb_finish_mmu() (no "last tlb_finish_mmu" column), STACKS=0
# the stack traces (no breakdown by caller), EVENT=0 the tlb:tlb_flush
# event (no synchronous shootdowns counted; stacks need it).
KPROBE=${KPROBE:-1}
KRETPROBE=${KRETPROBE:-1}
# The kprobe's fetch arguments. fullmm comes first: 6.12's BTF bitfield
# fetch (parse_btf_bitfield() in kernel/trace/trace_probe.c) rewrites 8
# bytes where the u32 it stored is 4, so as the event's last argument it
# zeroes the 4 bytes after the event, and after an event that ends a
# ring-buffer page, the first 4 bytes of the next physical page: the
# memory corruption of the README's LATR tests section. Placed first, it
# zeroes the next argument's slot before that is written.
# TFM_ARGS="pend=tlb->mm->tlb_flush_pending.counter fullmm=tlb->fullmm"
# is the order that corrupts.
TFM_ARGS=${TFM_ARGS:-fullmm=tlb->fullmm pend=tlb->mm->tlb_flush_pending.counter}
probes=()
[ "$KPROBE" = 0 ] || probes+=("p:tfm tlb_finish_mmu $TFM_ARGS")
# shellcheck disable=SC2016 # $retval is the probe's, not the shell's
[ "$KRETPROBE" = 0 ] || probes+=('r:gfpfail get_free_pages_noprof ret=$retval')
for probe in "${probes[@]}"; do
	echo "$probe" >>$T/kprobe_events || {
		cat $T/error_log
		exit 1
	}
done
[ "$KPROBE" = 0 ] || grep -E 'field:.* (pend|fullmm);' $T/events/kprobes/tfm/format
[ "$KRETPROBE" = 0 ] || echo 'ret == 0' >$T/events/kprobes/gfpfail/filter
[ ${#probes[@]} = 0 ] || echo 1 >$T/events/kprobes/enable
EVENT=${EVENT:-1}
if [ "$EVENT" != 0 ]; then
	echo 'reason == 4' >$T/events/tlb/tlb_flush/filter
	echo 1 >$T/events/tlb/tlb_flush/enable
	[ "${STACKS:-1}" = 0 ] || echo 1 >$T/options/stacktrace
fi
for i in $(seq 1 "${N:-3}"); do
	echo >$T/trace
	[ -z "$L" ] || echo 1 >$L/stats/reset
	echo 1 >$T/tracing_on
	bench || exit 1
	echo 0 >$T/tracing_on
	qcheck "after run $i"
	if [ "$KRETPROBE" = 0 ]; then
		failed="failed page allocations not counted (KRETPROBE=0)"
	else
		failed="$(grep -c ' gfpfail: ' $T/trace) failed page allocations"
	fi
	if [ "$EVENT" = 0 ]; then
		sync="synchronous shootdowns not counted (EVENT=0)"
	else
		sync="$(grep -c 'remote ipi send' $T/trace) synchronous shootdowns"
	fi
	echo "run $i: $sync, $failed"
	awk '
		/ tfm: / {
			match($0, /\[[0-9]+\]/); cpu = substr($0, RSTART, RLENGTH)
			match($0, /pend=[0-9]+/); p = substr($0, RSTART, RLENGTH)
			match($0, /fullmm=[0-9]+/); last[cpu] = p " " substr($0, RSTART, RLENGTH)
			next
		}
		/tlb_flush:/ {
			match($0, /\[[0-9]+\]/); cpu = substr($0, RSTART, RLENGTH)
			grab = 1; n = 0; ev = "(last tlb_finish_mmu here: " (cpu in last ? last[cpu] : "none") ")"
			next
		}
		/=>/ && grab {
			f = $2
			if (f ~ /^(flush_tlb_mm_range|flush_tlb_multi|native_flush_tlb_multi)$/) next
			ev = ev " < " f
			if (++n == 4) { print ev; grab = 0 }
		}' $T/trace | sort | uniq -c | sort -rn | head -12
	[ -z "$L" ] || for f in "$L"/stats/fallback_*; do printf '%s=%s ' "${f##*/}" "$(cat "$f")"; done
	echo
done
