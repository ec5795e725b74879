#!/usr/bin/env bash
# Runs wsgate on the example routes file in front of the example echo backend and sends a
# WebSocket message through it. Stays up until Ctrl-C (or exits after the echo with --once).
#   bash examples/demo.sh [--once]
# The example uses fixed ports (8080 and 9090 for wsgate, 9001 for the backend): the demo
# refuses to start when another program already listens on one of them, and fails, saying
# why, if a process dies or never becomes ready.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"

fail() { echo "demo: $*" >&2; exit 1; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for port in 8080 9090 9001; do
  if listening "$port"; then
    fail "127.0.0.1:$port is already in use by another program; the demo needs ports 8080, 9090 and 9001 (stop that program first)"
  fi
done

echo "building wsgate and the example echo backend..."
cargo build -q -p wsgate -p wsgate-tests --bins
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

# Waits up to $2 seconds for command $3... to succeed while process $1 stays alive.
wait_for() {
  local pid=$1 secs=$2; shift 2
  for _ in $(seq $((secs * 10))); do
    kill -0 "$pid" 2>/dev/null || return 2
    "$@" && return 0
    sleep 0.1
  done
  return 1
}

"$TARGET/debug/echo-backend" 127.0.0.1:9001 echo & ECHO_PID=$!; PIDS+=("$ECHO_PID")
wait_for "$ECHO_PID" 20 listening 9001 || fail "the echo backend did not start listening on 127.0.0.1:9001 (see its output above)"

"$TARGET/debug/wsgate" proxy --config examples/routes.yaml & WSGATE_PID=$!; PIDS+=("$WSGATE_PID")
readyz() { curl -fsS --max-time 2 http://127.0.0.1:9090/readyz >/dev/null 2>&1; }
if ! wait_for "$WSGATE_PID" 30 readyz; then
  kill -0 "$WSGATE_PID" 2>/dev/null && fail "wsgate never answered /readyz on 127.0.0.1:9090 within 30 s (see its log above)"
  wait "$WSGATE_PID" && status=0 || status=$?
  fail "wsgate exited with status $status before becoming ready (see its log above)"
fi
echo "wsgate is ready: ws://127.0.0.1:8080/ -> echo backend 127.0.0.1:9001 (metrics: http://127.0.0.1:9090/metrics)"

reply=$(timeout 30 "$TARGET/debug/wsbench" echo ws://127.0.0.1:8080/echo "hello through wsgate") \
  || fail "no echo came back through wsgate within 30 s"
echo "sent 'hello through wsgate', echo came back: '$reply'"
[ "$reply" = "hello through wsgate" ] || fail "unexpected echo '$reply'"
curl -fsS --max-time 5 http://127.0.0.1:9090/metrics | grep -E '^wsgate_(messages_total|handshakes_total)' || true
if [ "${1:-}" = "--once" ]; then exit 0; fi
echo "press Ctrl-C to stop"
wait
