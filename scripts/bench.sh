#!/usr/bin/env bash
# wsgate vs nginx in front of the same echo backend, alternating in one run.
# The load generator (wsbench) and the backend share core 0; the proxy under test runs alone
# on core 1 (wsgate with one worker thread, nginx with one worker process).
# Prints msgs/s, p50/p99 round-trip latency, CPU µs per relayed message and RSS per idle
# connection for both, and the ratios.
#   ROUNDS=3 DURATION=10s CONNS=100 SIZE=64 HOLD=2000 bash scripts/bench.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-10s}"; CONNS="${CONNS:-100}"; SIZE="${SIZE:-64}"; HOLD="${HOLD:-2000}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
command -v nginx >/dev/null || { echo "nginx missing: run scripts/install-test-deps.sh" >&2; exit 1; }
(cd "$ROOT" && cargo build --release -q -p wsgate -p wsgate-tests --bins)
BIN="$TARGET/release"
RUN="$(mktemp -d /tmp/wsgate-bench.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$RUN"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }
cpu_ticks() { local t=0; for p in "$@"; do set -- $(cut -d' ' -f14,15 "/proc/$p/stat"); t=$((t + $1 + $2)); done; echo "$t"; }
rss_kb() { local t=0; for p in "$@"; do t=$((t + $(awk '/VmRSS/ {print $2}' "/proc/$p/status"))); done; echo "$t"; }

BPORT=$(free_port); WPORT=$(free_port); APORT=$(free_port); NPORT=$(free_port)
taskset -c 0 "$BIN/echo-backend" "127.0.0.1:$BPORT" bench 2>"$RUN/backend.log" & PIDS+=($!)
cat > "$RUN/routes.yaml" <<YAML
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: bench}
spec:
  rules:
    - backend: {addresses: ["127.0.0.1:$BPORT"]}
YAML
WSGATE_LOG=warn taskset -c 1 "$BIN/wsgate" --workers 1 proxy --config "$RUN/routes.yaml" \
  --listen "127.0.0.1:$WPORT" --admin-listen "127.0.0.1:$APORT" 2>"$RUN/wsgate.log" & WSGATE_PID=$!; PIDS+=($WSGATE_PID)
mkdir -p "$RUN/tmp"
sed -e "s/@BACKEND@/127.0.0.1:$BPORT/" -e "s/@LISTEN@/127.0.0.1:$NPORT/" "$ROOT/bench/nginx.conf.in" > "$RUN/nginx.conf"
taskset -c 1 nginx -p "$RUN/" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log" -g 'daemon off;' & NGINX_PID=$!; PIDS+=($NGINX_PID)
wait_port "$BPORT"; wait_port "$WPORT"; wait_port "$NPORT"
sleep 0.3
NGINX_PIDS=("$NGINX_PID" $(pgrep -P "$NGINX_PID"))

echo "wsgate $("$BIN/wsgate" --version | cut -d' ' -f2) vs $(nginx -v 2>&1 | cut -d' ' -f3); $CONNS connections x $SIZE-byte ping-pong, $DURATION x $ROUNDS rounds, alternating"
results="$RUN/results.jsonl"
for round in $(seq "$ROUNDS"); do
  for proxy in wsgate nginx; do
    if [ "$proxy" = wsgate ]; then port=$WPORT; pids=("$WSGATE_PID"); else port=$NPORT; pids=("${NGINX_PIDS[@]}"); fi
    c0=$(cpu_ticks "${pids[@]}")
    out=$(taskset -c 0 "$BIN/wsbench" pingpong "ws://127.0.0.1:$port/" -c "$CONNS" -d "$DURATION" -s "$SIZE")
    c1=$(cpu_ticks "${pids[@]}")
    echo "{\"proxy\":\"$proxy\",\"round\":$round,\"cpu_ticks\":$((c1 - c0)),\"run\":$out}" >> "$results"
  done
done
for proxy in wsgate nginx; do
  if [ "$proxy" = wsgate ]; then port=$WPORT; pids=("$WSGATE_PID"); else port=$NPORT; pids=("${NGINX_PIDS[@]}"); fi
  r0=$(rss_kb "${pids[@]}")
  taskset -c 0 "$BIN/wsbench" hold "ws://127.0.0.1:$port/" -c "$HOLD" -d 4s > "$RUN/hold.out" & hp=$!
  for _ in $(seq 200); do grep -q ready "$RUN/hold.out" 2>/dev/null && break; sleep 0.05; done
  sleep 0.5
  r1=$(rss_kb "${pids[@]}")
  wait "$hp"
  echo "{\"proxy\":\"$proxy\",\"hold\":$HOLD,\"rss_before_kb\":$r0,\"rss_after_kb\":$r1}" >> "$results"
done
python3 "$ROOT/bench/summarize.py" "$results" "$(getconf CLK_TCK)"
