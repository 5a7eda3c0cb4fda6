#!/bin/bash
# The Redis GET fast path by hand, in the guest:
#   scripts/vm-run.sh 'bash scripts/xps-redis-smoke.sh'
# Loads xps, attaches the redis handler, runs the cache filler against
# Debian's redis-server, and shows with redis-cli that GETs are answered in
# the kernel after a fill, that a SET is never followed by the old value,
# and that an expired key is gone. Prints the handler's counters between
# steps. Not a test: the kselftests and `make bench-xps` are.
set -x
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
X=build/userspace/bin/xpsctl
insmod modules/xps/xps.ko
redis-server --port 6379 --daemonize yes --save '' --appendonly no
sleep 1
$X handler attach redis
$X redis fill --name redis >/tmp/fill.log 2>&1 &
fill=$!
sleep 1
counters() { cat /sys/kernel/xps/handlers/redis/{calls,tx,pass,fenced} | paste -sd' '; }
redis-cli set k1 hello
for _ in 1 2 3; do redis-cli get k1; sleep 0.3; done
counters
redis-cli set k1 world
for _ in 1 2 3; do redis-cli get k1; sleep 0.3; done
counters
redis-cli expire k1 1
redis-cli get k1
sleep 1.5
redis-cli get k1
$X stats redis
kill "$fill"
redis-cli shutdown nosave
$X handler detach redis
