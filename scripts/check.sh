#!/bin/bash
# make check: host unit tests (ctest), then every kselftest in one VM boot,
# then one summary through tapsum, whose last line is "N passed, N failed".
#   T="infra/ xps/" make check   runs only the kselftests with those prefixes
# For make check-debug: CHECK_HOST=0 skips the host tests, CHECK_NAME names
# the output files, XSEL_MODULES and VM_KERNEL pick the debug build.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build}
OUT=$B/check
mkdir -p "$OUT"
cd "$ROOT" || exit 2

NAME=${CHECK_NAME:-guest}
HOST=()
if [ "${CHECK_HOST:-1}" = 1 ]; then
	echo "== host unit tests (ctest) =="
	ctest --test-dir "$B/userspace" --output-on-failure -j"$(nproc)" >"$OUT/host.log" 2>&1
	grep -E 'tests passed|FAILED|Failed' "$OUT/host.log" | head -20
	HOST=(--ctest-log "$OUT/host.log")
fi

echo "== kselftests in the VM (kernel log: build/vm/last.log) =="
# shellcheck disable=SC2086
ENVS=
[ -z "${XSEL_MODULES:-}" ] || ENVS="XSEL_MODULES=$XSEL_MODULES "
scripts/vm-run.sh "${ENVS}scripts/run-selftests.sh ${T:-}" | tee "$OUT/$NAME.tap"
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
} >>"$OUT/$NAME.tap"

echo "== summary =="
"$B/userspace/bin/tapsum" "${HOST[@]}" "$OUT/$NAME.tap"
