#!/bin/sh
# expect.sh RC REGEX -- COMMAND...
# Runs COMMAND, fails unless it exits with RC and its stdout+stderr has a
# line matching the extended regular expression REGEX.
set -u
want_rc=$1 regex=$2
shift 2
[ "$1" = "--" ] && shift
out=$("$@" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ "$rc" -ne "$want_rc" ]; then
	echo "expect.sh: exit status $rc, wanted $want_rc" >&2
	exit 1
fi
if ! printf '%s\n' "$out" | grep -Eq -- "$regex"; then
	echo "expect.sh: no line matches /$regex/" >&2
	exit 1
fi
exit 0
