#!/bin/bash
# Guest side of scripts/host-client-agent.py: run a benchmark client on the
# host and stream its output here.
#
#   host-run.sh ADDR:PORT CLIENT [ARGS...]
#
# Exit status: the client's (127: the agent refused it, 126: no agent,
# 125: the connection ended before the status).
# This process holds the connection: killing it hangs up, and the agent
# then kills the client on the host.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: host-run.sh ADDR:PORT CLIENT [ARGS...]" >&2; exit 2; }
peer=$1
shift
exec 3<>"/dev/tcp/${peer%:*}/${peer##*:}" || {
	echo "host-run: no agent at $peer" >&2
	exit 126
}
printf '%s\0' "$@" | base64 -w0 >&3
printf '\n' >&3
# bash's read takes what has arrived; mawk would wait for a full buffer
rc=125
while IFS= read -r line <&3 || [ -n "$line" ]; do
	case $line in
	"@@host-agent rc="*) rc=${line#*=} ;;
	*) printf '%s\n' "$line" ;;
	esac
done
exit "$rc"
