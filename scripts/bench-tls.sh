#!/usr/bin/env bash
# wss:// benchmark: wsgate vs nginx, both terminating TLS with the same certificate (ECDSA
# P-256, made by examples/make-certs.sh) in front of the same plain echo backend, alternating
# in one run. Same layout as scripts/bench.sh: load generator and backend on core 0, the proxy
# under test alone on core 1 (wsgate with one worker thread, nginx with one worker process).
# Measures ping-pong msgs/s and p50/p99 on long-lived wss connections, and new TLS handshakes
# per second (connect, TLS handshake without resumption, upgrade, one echo, close).
#   ROUNDS=3 DURATION=10s CONNS=100 SIZE=64 HS_DURATION=5s HS_CONC=20 bash scripts/bench-tls.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-10s}"; CONNS="${CONNS:-100}"; SIZE="${SIZE:-64}"
HS_DURATION="${HS_DURATION:-5s}"; HS_CONC="${HS_CONC:-20}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
command -v nginx >/dev/null || { echo "nginx missing: run scripts/install-test-deps.sh" >&2; exit 1; }
(cd "$ROOT" && cargo build --release -q -p wsgate -p wsgate-tests --bins)
BIN="$TARGET/release"
RUN="$(mktemp -d /tmp/wsgate-bench-tls.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$RUN"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

bash "$ROOT/examples/make-certs.sh" "$RUN/certs" localhost >/dev/null
CA="$RUN/certs/ca.crt"
BPORT=$(free_port); HPORT=$(free_port); WPORT=$(free_port); APORT=$(free_port); NPORT=$(free_port)
taskset -c 0 "$BIN/echo-backend" "127.0.0.1:$BPORT" bench 2>"$RUN/backend.log" & PIDS+=($!)
cat > "$RUN/routes.yaml" <<YAML
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: bench}
spec:
  hostnames: [localhost]
  tls: {certFile: certs/tls.crt, keyFile: certs/tls.key}
  rules:
    - backend: {addresses: ["127.0.0.1:$BPORT"]}
YAML
WSGATE_LOG=warn taskset -c 1 "$BIN/wsgate" --workers 1 proxy --config "$RUN/routes.yaml" \
  --listen "127.0.0.1:$HPORT" --https-listen "127.0.0.1:$WPORT" --admin-listen "127.0.0.1:$APORT" \
  2>"$RUN/wsgate.log" & WSGATE_PID=$!; PIDS+=($WSGATE_PID)
mkdir -p "$RUN/tmp"
sed -e "s|@BACKEND@|127.0.0.1:$BPORT|" -e "s|@LISTEN@|127.0.0.1:$NPORT|" \
  -e "s|@CERT@|$RUN/certs/tls.crt|" -e "s|@KEY@|$RUN/certs/tls.key|" \
  "$ROOT/bench/nginx-tls.conf.in" > "$RUN/nginx.conf"
taskset -c 1 nginx -p "$RUN/" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log" -g 'daemon off;' & NGINX_PID=$!; PIDS+=($NGINX_PID)
wait_port "$BPORT"; wait_port "$WPORT"; wait_port "$NPORT"
sleep 0.3
# Both must answer over wss with this CA before anything is measured.
for port in "$WPORT" "$NPORT"; do
  [ "$("$BIN/wsbench" --ca "$CA" echo "wss://localhost:$port/" check)" = check ] || { echo "no wss echo on $port" >&2; exit 1; }
done

echo "wss: wsgate $("$BIN/wsgate" --version | cut -d' ' -f2) vs $(nginx -v 2>&1 | cut -d' ' -f3) ($(openssl version | cut -d' ' -f1,2)), same ECDSA P-256 certificate;" \
  "$CONNS connections x $SIZE-byte ping-pong for $DURATION, new handshakes x$HS_CONC for $HS_DURATION; $ROUNDS rounds, alternating"
results="$RUN/results.jsonl"
for round in $(seq "$ROUNDS"); do
  for proxy in wsgate nginx; do
    if [ "$proxy" = wsgate ]; then port=$WPORT; else port=$NPORT; fi
    out=$(taskset -c 0 "$BIN/wsbench" --ca "$CA" pingpong "wss://localhost:$port/" -c "$CONNS" -d "$DURATION" -s "$SIZE")
    echo "{\"proxy\":\"$proxy\",\"round\":$round,\"run\":$out}" >> "$results"
    out=$(taskset -c 0 "$BIN/wsbench" --ca "$CA" handshakes "wss://localhost:$port/" -c "$HS_CONC" -d "$HS_DURATION")
    echo "{\"proxy\":\"$proxy\",\"round\":$round,\"run\":$out}" >> "$results"
  done
done
python3 "$ROOT/bench/summarize_tls.py" "$results"
