#!/bin/bash
# make demo: the main job. Boots the VM, shows the setup and runs what has
# landed so far, then summarises the tests through tapsum.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${BUILD:-$ROOT/build}
mkdir -p "$B/demo"
cd "$ROOT" || exit 2
start=$(date +%s)
scripts/vm-run.sh scripts/guest-demo.sh | tee "$B/demo/guest.log"
rc=${PIPESTATUS[0]}
echo
echo "== demo summary (VM boot + run: $(($(date +%s) - start)) s wall) =="
"$B/userspace/bin/tapsum" "$B/demo/guest.log" | tail -n 8 || rc=1
exit "$rc"
