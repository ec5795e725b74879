#!/usr/bin/env bash
# Runs wsgate on the example routes file in front of the example echo backend and sends a
# WebSocket message through it. Stays up until Ctrl-C (or exits after the echo with --once).
#   bash examples/demo.sh [--once]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
cd "$ROOT"
echo "building wsgate and the example echo backend..."
cargo build -q -p wsgate -p wsgate-tests --bins
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM
"$TARGET/debug/echo-backend" 127.0.0.1:9001 echo & PIDS+=($!)
"$TARGET/debug/wsgate" proxy --config examples/routes.yaml & PIDS+=($!)
for _ in $(seq 100); do
  curl -fsS http://127.0.0.1:9090/readyz >/dev/null 2>&1 && break
  sleep 0.1
done
echo "wsgate is ready: ws://127.0.0.1:8080/ -> echo backend 127.0.0.1:9001 (metrics: http://127.0.0.1:9090/metrics)"
reply=$("$TARGET/debug/wsbench" echo ws://127.0.0.1:8080/echo "hello through wsgate")
echo "sent 'hello through wsgate', echo came back: '$reply'"
[ "$reply" = "hello through wsgate" ] || { echo "unexpected echo" >&2; exit 1; }
curl -fsS http://127.0.0.1:9090/metrics | grep -E '^wsgate_(messages_total|handshakes_total)' || true
if [ "${1:-}" = "--once" ]; then exit 0; fi
echo "press Ctrl-C to stop"
wait
