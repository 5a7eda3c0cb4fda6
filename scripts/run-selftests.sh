#!/bin/bash
# Run inside the guest: every kselftest binary under build/selftests (or
# those whose name starts with one of the arguments, e.g. "infra/"), each
# framed by "# xsel-begin: NAME" / "# xsel-end: NAME rc=N" for tapsum.
# Exits 0 when it could run them; test results travel in the stream.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export XSEL_ROOT=$ROOT
cd "$ROOT" || exit 2

[ -d build/selftests ] || { echo "run-selftests: build/selftests missing (make selftests)" >&2; exit 2; }
mapfile -t tests < <(find build/selftests -type f -perm -u+x | sed 's|^build/selftests/||' | sort)

for name in "${tests[@]}"; do
	if [ $# -gt 0 ]; then
		match=
		for f in "$@"; do [[ $name == "$f"* ]] && match=1; done
		[ -n "$match" ] || continue
	fi
	echo "# xsel-begin: $name"
	timeout -k 5 "${XSEL_TIMEOUT:-900}" "build/selftests/$name" 2>&1
	echo "# xsel-end: $name rc=$?"
done
exit 0
