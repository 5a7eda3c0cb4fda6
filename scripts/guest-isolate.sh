#!/bin/bash
# Runs in the guest before the command (scripts/guest-init.sh): keep kernel
# threads off the isolated X-Lane CPU(s), as tuned's cpu-partitioning does.
# Every kthread that may run on an isolated CPU and elsewhere, and that lets
# user space set its affinity, loses the isolated CPU(s). What the kernel
# pins itself (PF_NO_SETAFFINITY: workqueue rescuers) stays as it is; the
# infra/isolation test reports it.
PF_KTHREAD=$((0x00200000))
PF_NO_SETAFFINITY=$((0x04000000))

expand() { # "0-2,5" -> "0 1 2 5"
	local part n out=()
	IFS=, read -ra parts <<<"$1"
	for part in "${parts[@]}"; do
		if [[ $part == *-* ]]; then
			for n in $(seq "${part%-*}" "${part#*-}"); do out+=("$n"); done
		elif [ -n "$part" ]; then
			out+=("$part")
		fi
	done
	echo "${out[@]}"
}

isolated=" $(expand "$(cat /sys/devices/system/cpu/isolated)") "
[ "$isolated" != "  " ] || exit 0

moved=0
for dir in /proc/[0-9]*; do
	stat=$(cat "$dir/stat" 2>/dev/null) || continue
	set -- ${stat##*) }
	flags=$7
	(( flags & PF_KTHREAD )) || continue
	(( flags & PF_NO_SETAFFINITY )) && continue
	allowed=$(awk '/^Cpus_allowed_list/ {print $2}' "$dir/status" 2>/dev/null)
	keep=() hit=
	for c in $(expand "$allowed"); do
		if [[ $isolated == *" $c "* ]]; then hit=1; else keep+=("$c"); fi
	done
	[ -n "$hit" ] && [ ${#keep[@]} -gt 0 ] || continue
	new=$(IFS=,; echo "${keep[*]}")
	taskset -pc "$new" "${dir#/proc/}" >/dev/null 2>&1 && moved=$((moved + 1))
done
echo "guest-isolate: moved $moved kernel thread(s) off CPU(s)$isolated" >/dev/kmsg
