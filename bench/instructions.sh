#!/usr/bin/env bash
# Instructions per relayed message in wsgate's tunnel, counted by valgrind (callgrind) in user
# space: a figure that does not move with the machine's load, so two builds can be compared on
# a busy machine where wall-clock rates cannot.
#
#   bash bench/instructions.sh [WORKLOAD_BINARY]
#
# Runs the tunnel's fixed relay workload (tunnel/examples/relay_workload.rs: 64-byte echoes
# through one tunnel over loopback TCP, one thread) at two round counts and divides the
# difference by the difference in relayed messages, so start-up cancels out. Prints the cost
# of the whole process (client and echo backend included) and of the tunnel's poll alone
# (inclusive: its reads, writes, frame tracking, timers, drain check), then the functions
# with the most instructions of their own. Settings: SHORT=5000 LONG=15000 (round trips).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SHORT="${SHORT:-5000}"; LONG="${LONG:-15000}"
command -v valgrind >/dev/null || { echo "valgrind missing" >&2; exit 1; }
BIN="${1:-}"
if [ -z "$BIN" ]; then
  (cd "$ROOT" && cargo build --release -q -p wsgate-tunnel --example relay_workload)
  BIN="$TARGET_DIR/release/examples/relay_workload"
fi
RUN="$(mktemp -d /tmp/wsgate-instr.XXXXXX)"
trap 'rm -rf "$RUN"' EXIT

for n in "$SHORT" "$LONG"; do
  valgrind --tool=callgrind --callgrind-out-file="$RUN/cg-$n.out" "$BIN" "$n" > /dev/null 2>&1
done
total() { callgrind_annotate "$1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1; exit}'; }
# Inclusive cost of the tunnel's poll (the future wsgate_tunnel::run returns).
tunnel() {
  callgrind_annotate --inclusive=yes "$1" 2>/dev/null \
    | awk '/tunnel\/src\/tunnel.rs:<core::future::poll_fn::PollFn<F> as core::future::future::Future>::poll/ {gsub(",", "", $1); print $1; exit}'
}
msgs=$((2 * (LONG - SHORT)))
python3 - "$(total "$RUN/cg-$SHORT.out")" "$(total "$RUN/cg-$LONG.out")" \
  "$(tunnel "$RUN/cg-$SHORT.out")" "$(tunnel "$RUN/cg-$LONG.out")" "$msgs" <<'PY'
import sys
t0, t1, p0, p1, m = (int(x or 0) for x in sys.argv[1:])
print(f"instructions per relayed message: whole process {(t1 - t0) / m:,.0f}; tunnel poll {(p1 - p0) / m:,.0f}")
PY
echo "functions with the most instructions of their own ($LONG round trips):"
callgrind_annotate "$RUN/cg-$LONG.out" 2>/dev/null | sed -n '/file:function/,$p' | sed -n '3,14p' \
  | sed -E 's|/root/.cargo/registry/src/[^/]*/||; s|/rustc/[0-9a-f]*/||; s| \[[^]]*\]$||'
