#!/bin/bash
# EXPERIMENT (in the VM, on the KASAN debug kernel): load and unload a
# module N times, walking KASAN's whole quarantine after each step, to see
# whether loading a module (insmod's temporary copy, the loader, the 9p
# read of the .ko) is what overwrites the first word of a page. Two
# victims of the LATR corruption hunt were objects in pages that insmod
# had just freed (README, "Open: memory corruption").
#   VM_KERNEL=build/linux-debug/arch/x86/boot/bzImage VM_ISOLATE=0 \
#     scripts/vm-run.sh "N=200 KO=build/modules-plain/latr/latr.ko scripts/debug/guest-insmod-loop.sh"
# KO: the module (default latr.ko); COPY=1 loads a copy on the guest's
# tmpfs instead of the file on 9p. A walk that meets an overwritten link
# oopses (qlink_to_cache() of a page that is not a slab) right after the
# marker it printed to the kernel log.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
ko=${KO:-build/modules-plain/latr/latr.ko}
name=$(basename "$ko" .ko)
if [ "${COPY:-0}" = 1 ]; then
	cp "$ko" "/tmp/$name.ko" || exit 1
	ko=/tmp/$name.ko
fi
walk() {
	echo "insmod-loop: quarantine walk $1" >/dev/kmsg
	echo 1 >/sys/kernel/slab/kmalloc-64/shrink || exit 1
}
walk "before the first load"
for i in $(seq 1 "${N:-50}"); do
	insmod "$ko" || exit 1
	walk "after load $i"
	# what the sync-flush harness does with the files right after loading
	cat /sys/kernel/"$name"/stats/* >/dev/null 2>&1
	rmmod "$name" || exit 1
	walk "after unload $i"
	echo "load $i: clean"
done
