#!/bin/bash
# scripts/host-client-agent.py with scripts/host-run.sh (bench-xps
# BENCH_CLIENT=host), on loopback: an allowed client runs and its output and
# exit status come back; anything else is refused; hanging up kills the
# client.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
port=$((20000 + $$ % 20000))
sport=$((port + 1))
agent=
sink=
trap 'kill $agent $sink 2>/dev/null' EXIT
fail() {
	echo "FAIL: $*"
	exit 1
}
python3 "$ROOT/scripts/host-client-agent.py" 127.0.0.1 $port &
agent=$!
for _ in $(seq 50); do
	(exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
	sleep 0.1
done
run() { "$ROOT/scripts/host-run.sh" 127.0.0.1:$port "$@"; }

out=$(run redis-mixload --help)
rc=$?
{ [ $rc = 0 ] && grep -q "closed-loop GET/SET" <<<"$out"; } || fail "redis-mixload --help: status $rc: $out"

out=$(run redis-mixload --bogus 2>&1)
rc=$?
[ $rc = 2 ] || fail "redis-mixload --bogus: status $rc, not 2"

out=$(run bash -c id)
rc=$?
{ [ $rc = 127 ] && grep -q "'bash' is not a benchmark client" <<<"$out"; } || fail "bash: status $rc: $out"

out=$(run stdbuf -oL sh -c id)
rc=$?
[ $rc = 127 ] || fail "stdbuf sh: status $rc: $out"

# a server that accepts and never answers: the client waits for 60 s
python3 -c "import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $sport)); s.listen(4); c = s.accept(); time.sleep(90)" &
sink=$!
sleep 0.5
# host-run.sh itself, not a subshell around it: the process that hangs up
"$ROOT/scripts/host-run.sh" 127.0.0.1:$port redis-mixload --server 127.0.0.1:$sport -c 1 -d 60 \
	--warmup 0 >/dev/null 2>&1 &
hr=$!
pat="redis-mixload --server 127.0.0.1:$sport"
for _ in $(seq 30); do
	[ "$(pgrep -fc "$pat")" -ge 2 ] && break
	sleep 0.1
done
[ "$(pgrep -fc "$pat")" -ge 2 ] || fail "the client did not start on the host"
kill $hr
wait $hr 2>/dev/null
for _ in $(seq 30); do
	pgrep -f "$pat" >/dev/null || break
	sleep 0.1
done
pgrep -fa "$pat" && fail "the client outlived the hang-up"
echo "ok: host-client-agent"
