#!/bin/bash
# make check: host unit tests (ctest), then every kselftest in one VM boot,
# then one summary through tapsum, whose last line is "N passed, N failed".
#   T="infra/ xps/" make check   runs only the kselftests with those prefixes
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build}
OUT=$B/check
mkdir -p "$OUT"
cd "$ROOT" || exit 2

echo "== host unit tests (ctest) =="
ctest --test-dir "$B/userspace" --output-on-failure -j"$(nproc)" >"$OUT/host.log" 2>&1
grep -E 'tests passed|FAILED|Failed' "$OUT/host.log" | head -20

echo "== kselftests in the VM (kernel log: build/vm/last.log) =="
# shellcheck disable=SC2086
scripts/vm-run.sh "scripts/run-selftests.sh ${T:-}" | tee "$OUT/guest.tap"
vm_rc=${PIPESTATUS[0]}

# The guest kernel's health over the whole run is one more test: no oops,
# panic, WARN, lockdep or KASAN report, and a clean exit.
{
	echo "# xsel-begin: vm/kernel"
	echo "1..1"
	if [ "$vm_rc" -eq 0 ]; then
		echo "ok 1 vm.kernel_log_clean_and_exit_0"
	else
		echo "not ok 1 vm.kernel_log_clean_and_exit_0 # vm-run rc=$vm_rc, see build/vm/last.log"
	fi
	echo "# xsel-end: vm/kernel rc=0"
} >>"$OUT/guest.tap"

echo "== summary =="
"$B/userspace/bin/tapsum" --ctest-log "$OUT/host.log" "$OUT/guest.tap"
