#!/bin/bash
# Boot the built kernel under QEMU and run one command in the guest.
#
#   scripts/vm-run.sh 'CMD'        (make vm-run CMD='...')
#
# Guest: TCG, 4 vCPUs in 2 NUMA nodes (CPUs 0-1 node 0, 2-3 node 1), the
# last CPU (3) isolated for X-Lane (isolcpus, nohz_full, rcu_nocbs, irqaffinity), a
# multiqueue virtio-net NIC on a host tap with nothing behind it, the host
# root shared read-only over 9p under a tmpfs overlay (so every Debian
# binary of the host runs unchanged and the guest may write anywhere without
# touching the host), and build/results shared writable at the same path.
#
# CMD runs as root with bash in the caller's working directory. Its output
# streams to stdout (guest ttyS1); the kernel log goes to
# build/vm/logs/<time>.log (guest ttyS0). Exit status: CMD's; 124 on
# timeout; 125 when the guest oopsed/panicked/warned or never reported.
#
# Environment: VM_TIMEOUT (s, default 1800), VM_MEM (MiB per node, 2048),
# VM_APPEND (extra kernel args), VM_KERNEL (bzImage), VM_ALLOW_LOG (regex
# of log lines not to treat as errors), VM_ISOLATE=0 (no isolated CPU, for
# benchmarks that want four general-purpose CPUs), VM_CPUS=2 (two vCPUs,
# one per NUMA node, the second one isolated), VM_PIN=1 (vCPU threads on
# host CPUs of their own, as far as the host has them; see pin_vcpus),
# VM_PIN_NICE (host nice value of the isolated vCPU's thread under VM_PIN=1),
# VM_CLOCKSOURCE (guest clocksource, default tsc; see below), VM_ICOUNT
# (count instructions as guest time; see below), VM_TAP_ADDR (CIDR: the
# host's address on the guest NIC's tap), BUILD.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build}
KERNEL=${VM_KERNEL:-$B/linux/arch/x86/boot/bzImage}
TIMEOUT=${VM_TIMEOUT:-1800}
MEM=${VM_MEM:-2048}
NCPU=${VM_CPUS:-4}
case $NCPU in 2 | 4) ;; *) echo "vm-run: VM_CPUS must be 2 or 4" >&2; exit 2 ;; esac
ISOL_CPU=$((NCPU - 1))

die() { printf 'vm-run: %s\n' "$*" >&2; exit 2; }

[ $# -ge 1 ] && [ -n "$1" ] || die "usage: $0 'command to run in the guest'"
[ -f "$KERNEL" ] || die "no kernel at $KERNEL: run 'make kernel' first"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run 'make deps'"

VM=$B/vm
mkdir -p "$VM/logs" "$VM/cmd" "$B/results"

# The initramfs: static busybox plus scripts/guest-init.sh as /init.
INITRD=$VM/initramfs.cpio.gz
BUSYBOX=/bin/busybox # from busybox-static (make deps)
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing: run 'make deps'"
if [ ! -f "$INITRD" ] || [ "$ROOT/scripts/guest-init.sh" -nt "$INITRD" ] ||
	[ "$BUSYBOX" -nt "$INITRD" ]; then
	stage=$(mktemp -d)
	mkdir -p "$stage"/{bin,dev,proc,sys,host,rw,newroot}
	cp "$BUSYBOX" "$stage/bin/busybox"
	cp "$ROOT/scripts/guest-init.sh" "$stage/init"
	chmod 755 "$stage/init"
	mknod -m 600 "$stage/dev/console" c 5 1
	mknod -m 666 "$stage/dev/null" c 1 3
	(cd "$stage" && find . | cpio -o -H newc --quiet | gzip -1) >"$INITRD.tmp" &&
		mv "$INITRD.tmp" "$INITRD"
	rm -rf "$stage"
fi

id=$(date +%Y%m%d-%H%M%S)-$$
LOG=$VM/logs/$id.log
CMDFILE=$VM/cmd/$id.sh
printf '%s\n' "$1" >"$CMDFILE"
ln -sfn "logs/$id.log" "$VM/last.log"

# Multiqueue NIC: a host tap in multi_queue mode, not connected to anything.
# Without CAP_NET_ADMIN on the host, fall back to a single-queue NIC on an
# empty hub.
TAP=xvm$$
QUEUES=4
if ip tuntap add dev "$TAP" mode tap multi_queue 2>/dev/null; then
	ip link set "$TAP" up
	# VM_TAP_ADDR=CIDR: the host's address on the tap, so the guest can
	# reach host processes (bench-xps runs its clients on the host)
	if [ -n "${VM_TAP_ADDR:-}" ] && ! ip addr add "$VM_TAP_ADDR" dev "$TAP"; then
		ip link del "$TAP"
		die "cannot add $VM_TAP_ADDR to $TAP"
	fi
	NET=(-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,queues=$QUEUES,vhost=off"
		-device "virtio-net-pci,netdev=n0,mq=on,vectors=$((2 * QUEUES + 2)),mac=52:54:00:12:34:56,romfile=")
else
	[ -z "${VM_TAP_ADDR:-}" ] || die "VM_TAP_ADDR: cannot create a tap device (needs CAP_NET_ADMIN)"
	echo "vm-run: cannot create a tap device; the guest NIC is single-queue" >&2
	TAP=
	# shellcheck disable=SC2054 # QEMU's options are comma-separated
	NET=(-netdev hubport,id=n0,hubid=0 -device virtio-net-pci,netdev=n0,romfile=)
fi
cleanup() {
	[ -z "$TAP" ] || ip link del "$TAP" 2>/dev/null
	rm -f "$CMDFILE"
}
trap cleanup EXIT

APPEND="console=ttyS0,115200 rdinit=/init panic=-1 oops=panic nokaslr"
if [ "${VM_ISOLATE:-1}" = 1 ]; then
	APPEND+=" isolcpus=nohz,domain,managed_irq,$ISOL_CPU nohz_full=$ISOL_CPU"
	APPEND+=" rcu_nocbs=$ISOL_CPU irqaffinity=0-$((ISOL_CPU - 1))"
fi
# The TSC as clocksource (VM_CLOCKSOURCE='' keeps the kernel's choice).
# TCG's vCPUs fail the kernel's TSC synchronisation check, so the guest
# would fall back to the HPET, whose every read is an emulated MMIO access
# under QEMU's big lock: every ktime_get() of one vCPU can wait for another
# vCPU's thread or the main loop, and a vDSO clock_gettime() becomes a
# trap. TCG's TSC is the host clock, synchronised across vCPUs. Measured:
# 40 % of redis-benchmark's CPU time was HPET reads (bench-xps); the lane's
# l_max under stress fell from 5.1 ms to 0.39 ms (bench-xlane, 3000
# messages).
if [ -n "${VM_CLOCKSOURCE-tsc}" ]; then
	APPEND+=" clocksource=${VM_CLOCKSOURCE-tsc}"
	[ "${VM_CLOCKSOURCE-tsc}" != tsc ] || APPEND+=" tsc=reliable"
fi
APPEND+=" rcupdate.rcu_cpu_stall_timeout=120 loglevel=6"
APPEND+=" xvm.root=$ROOT xvm.isolate=$ROOT/scripts/guest-isolate.sh xvm.cmd=$CMDFILE xvm.cwd=$PWD xvm.results=$B/results"
APPEND+=" ${VM_APPEND:-}"

# VM_PIN: an isolated vCPU is only isolated if no other thread shares its
# host CPU. QEMU names its vCPU threads "CPU N/TCG" (debug-threads). With at
# least as many host CPUs as vCPUs, vCPU N goes to host CPU N; with fewer,
# the isolated vCPU gets the last host CPU and every other vCPU the rest.
# QEMU's other threads (main loop, I/O) never share the isolated vCPU's host
# CPU; threads it starts later inherit that. Pinned once QEMU is up, and
# again a while later for threads started during boot.
# The host's own per-CPU work (kworkers: conntrack GC, vmstat, vsock) still
# runs on that host CPU and took it for up to 9 ms at a time in a 5-minute
# probe. VM_PIN_NICE=-20 makes the vCPU thread outweigh those 87:1, so the
# scheduler gives them short slices instead (longest seen: 4 ms, one host
# tick). It is not SCHED_FIFO on purpose: an RT thread that keeps its CPU
# busy is throttled for 50 ms every second, and unthrottled it would starve
# the host's per-CPU work. What the hypervisor under the host takes is out
# of reach either way.
pin_vcpus() {
	local hosts iso pid='' p t pass comm n
	hosts=$(nproc)
	iso=$((hosts - 1))
	[ "$hosts" -lt "$NCPU" ] || iso=$ISOL_CPU
	for _ in $(seq 1 200); do
		for p in $(pgrep -f "xvm-$id,debug-threads" || true); do
			[ "$(cat /proc/"$p"/comm 2>/dev/null)" = qemu-system-x86 ] && pid=$p
		done
		[ -n "$pid" ] && grep -qx "CPU $ISOL_CPU/TCG" /proc/"$pid"/task/*/comm 2>/dev/null && break
		pid=
		sleep 0.1
	done
	[ -n "$pid" ] || { echo "vm-run: VM_PIN: no QEMU vCPU thread 'CPU $ISOL_CPU/TCG' found" >&2; return; }
	for pass in 1 2; do
		for t in /proc/"$pid"/task/*; do
			comm=$(cat "$t/comm" 2>/dev/null) || continue
			if [[ $comm =~ ^CPU\ ([0-9]+)/TCG$ ]]; then
				n=${BASH_REMATCH[1]}
				if [ "$n" = "$ISOL_CPU" ]; then
					taskset -pc "$iso" "${t##*/}"
					[ -z "${VM_PIN_NICE:-}" ] || renice -n "$VM_PIN_NICE" -p "${t##*/}"
				elif [ "$hosts" -ge "$NCPU" ]; then
					taskset -pc "$n" "${t##*/}"
				else
					taskset -pc "0-$((iso - 1))" "${t##*/}"
				fi
			else
				taskset -pc "$(seq 0 $((hosts - 1)) | grep -vx "$iso" | paste -sd,)" "${t##*/}"
			fi >/dev/null 2>&1
		done
		[ $pass = 2 ] || sleep 30
	done
	echo "vm-run: VM_PIN: vCPU $ISOL_CPU alone on host CPU $iso ($NCPU vCPUs, $hosts host CPUs${VM_PIN_NICE:+, nice $VM_PIN_NICE})" >&2
}
if [ "${VM_PIN:-0}" = 1 ] && [ "${VM_ISOLATE:-1}" = 1 ]; then
	[ "$(nproc)" -ge 2 ] || die "VM_PIN=1 needs at least two host CPUs"
	pin_vcpus &
fi

# VM_ICOUNT=SHIFT: QEMU's icount mode. Every guest instruction advances the
# guest clock by 2^SHIFT ns, and idle time is skipped (sleep=off): guest
# time measures the instructions the guest executed, not the host's
# scheduling of QEMU. The vCPUs then run in turn on one host thread
# (icount needs thread=single), so nothing runs in parallel. Only for
# benchmarks whose question is "how much more work": overheads too small
# for TCG's timing noise. Shift 3 makes 125 M instructions a guest second.
ACCEL=(-accel "tcg,thread=multi")
if [ -n "${VM_ICOUNT:-}" ]; then
	[[ $VM_ICOUNT =~ ^[0-9]+$ ]] && [ "$VM_ICOUNT" -le 10 ] ||
		die "VM_ICOUNT must be a shift of 0..10, not '$VM_ICOUNT'"
	ACCEL=(-accel "tcg,thread=single" -icount "shift=$VM_ICOUNT,align=off,sleep=off")
fi

timeout -k 10 "$TIMEOUT" qemu-system-x86_64 \
	-name "xvm-$id,debug-threads=on" \
	-nodefaults -no-reboot -display none -monitor none \
	"${ACCEL[@]}" -cpu max \
	-smp "$NCPU,sockets=2,cores=$((NCPU / 2)),threads=1" -m $((2 * MEM))M \
	-object memory-backend-ram,id=m0,size=${MEM}M \
	-object memory-backend-ram,id=m1,size=${MEM}M \
	-numa "node,nodeid=0,cpus=0-$((NCPU / 2 - 1)),memdev=m0" \
	-numa "node,nodeid=1,cpus=$((NCPU / 2))-$((NCPU - 1)),memdev=m1" \
	-kernel "$KERNEL" -initrd "$INITRD" -append "$APPEND" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs "local,path=$B/results,mount_tag=results,security_model=none,multidevs=remap" \
	-serial "file:$LOG" \
	-chardev stdio,id=out,signal=off -serial chardev:out \
	"${NET[@]}" </dev/null
qrc=$?

tail_log() {
	echo "---- last 40 lines of the guest kernel log ($LOG) ----" >&2
	tail -n 40 "$LOG" | tr -d '\r' >&2
}

if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
	echo "vm-run: guest timed out after ${TIMEOUT}s" >&2
	tail_log
	exit 124
fi
BAD='Kernel panic|Oops|BUG:|WARNING:|general protection fault|UBSAN:|INFO: rcu_.* stall|INFO: task .* blocked'
bad=$(tr -d '\r' <"$LOG" | grep -E "$BAD" | grep -vE "${VM_ALLOW_LOG:-^\$}" | head -5)
if [ -n "$bad" ]; then
	echo "vm-run: the guest kernel reported an error:" >&2
	printf '  %s\n' "$bad" >&2
	tail_log
	exit 125
fi
rc=$(tr -d '\r' <"$LOG" | sed -n 's/^XVM-EXIT: \([0-9]*\)$/\1/p' | tail -1)
if [ -z "$rc" ]; then
	echo "vm-run: the guest stopped without reporting CMD's exit status (qemu rc=$qrc)" >&2
	tail_log
	exit 125
fi
exit "$rc"
