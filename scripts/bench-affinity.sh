#!/usr/bin/env bash
# Sticky balancing for Socket.IO: wsgate (SocketIO affinity, least connections), nginx
# (`hash $remote_addr consistent`) and HAProxy (cookie insert, round robin) in front of the
# same three Node Socket.IO servers, driven by the same socket.io-client clients (default
# transports: long-polling, then the upgrade to websocket; cookie jar on; client i bound to
# 127.0.0.(2 + i % 200) so that nginx's address hash can spread them). Every session stays
# open until the run ends, so the per-server counts are live connections.
# Proxies run alone on core 1 (one worker/thread each); servers and clients share core 0.
# Prints sessions established per second and imbalance (max/min sessions per server), the
# median over alternating rounds.
#   ROUNDS=3 CLIENTS=600 CONCURRENCY=50 bash scripts/bench-affinity.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"; CLIENTS="${CLIENTS:-600}"; CONCURRENCY="${CONCURRENCY:-50}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
NODE_DIR="$ROOT/tests/node"
for tool in nginx haproxy node taskset; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run scripts/install-test-deps.sh" >&2; exit 1; }
done
[ -d "$NODE_DIR/node_modules/socket.io" ] || { echo "npm packages missing: run scripts/install-test-deps.sh" >&2; exit 1; }
(cd "$ROOT" && cargo build --release -q -p wsgate)
BIN="$TARGET/release"
RUN="$(mktemp -d /tmp/wsgate-bench-affinity.XXXXXX)"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$RUN"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened" >&2; exit 1; }

# Three Socket.IO servers.
SIO=()
for name in sio-a sio-b sio-c; do
  port=$(free_port)
  (cd "$NODE_DIR" && exec taskset -c 0 node sio-server.js "$port" "$name") > "$RUN/$name.log" 2>&1 & PIDS+=($!)
  SIO+=("127.0.0.1:$port")
done
for a in "${SIO[@]}"; do wait_port "${a#*:}"; done

# wsgate: Socket.IO affinity (sid learned from the handshake), least connections.
WPORT=$(free_port); APORT=$(free_port)
cat > "$RUN/routes.yaml" <<YAML
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: chat}
spec:
  rules:
    - path: {type: PathPrefix, value: /socket.io/}
      backend: {addresses: ["${SIO[0]}", "${SIO[1]}", "${SIO[2]}"]}
  loadBalancing: {algorithm: LeastConnections}
  sessionAffinity: {type: SocketIO}
YAML
WSGATE_LOG=warn taskset -c 1 "$BIN/wsgate" --workers 1 proxy --config "$RUN/routes.yaml" \
  --listen "127.0.0.1:$WPORT" --admin-listen "127.0.0.1:$APORT" 2>"$RUN/wsgate.log" & PIDS+=($!)

# nginx: the address hash (ip_hash would put every 127.0.0.x client on one server).
NPORT=$(free_port); mkdir -p "$RUN/tmp"
cat > "$RUN/nginx.conf" <<CONF
worker_processes 1;
worker_rlimit_nofile 20000;
pid nginx.pid;
events { worker_connections 19000; }
http {
    access_log off;
    client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    upstream sio { hash \$remote_addr consistent; server ${SIO[0]}; server ${SIO[1]}; server ${SIO[2]}; }
    server {
        listen 127.0.0.1:$NPORT backlog=4096;
        location /socket.io/ {
            proxy_pass http://sio;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
            proxy_read_timeout 3600s;
            proxy_buffering off;
        }
    }
}
CONF
taskset -c 1 nginx -p "$RUN/" -c "$RUN/nginx.conf" -e "$RUN/nginx-error.log" -g 'daemon off;' & PIDS+=($!)

# HAProxy: cookie insert on round robin, one thread.
HPORT=$(free_port)
cat > "$RUN/haproxy.cfg" <<CONF
global
    maxconn 9800
    nbthread 1
defaults
    mode http
    maxconn 9800
    option http-server-close
    timeout connect 5s
    timeout client 60s
    timeout server 60s
    timeout tunnel 1h
frontend sio_in
    bind 127.0.0.1:$HPORT
    option forwardfor
    default_backend sio
backend sio
    balance roundrobin
    cookie SERVERID insert indirect nocache
    server a ${SIO[0]} cookie a
    server b ${SIO[1]} cookie b
    server c ${SIO[2]} cookie c
CONF
taskset -c 1 haproxy -db -f "$RUN/haproxy.cfg" > "$RUN/haproxy.log" 2>&1 & PIDS+=($!)
for p in "$WPORT" "$NPORT" "$HPORT"; do wait_port "$p"; done
sleep 0.3

echo "wsgate $("$BIN/wsgate" --version | cut -d' ' -f2) vs $(nginx -v 2>&1 | cut -d' ' -f3) vs haproxy $(haproxy -v | head -1 | cut -d' ' -f3):" \
  "$CLIENTS Socket.IO sessions held open, $CONCURRENCY establishing at once, 3 servers, $ROUNDS rounds alternating"
results="$RUN/results.jsonl"
for round in $(seq "$ROUNDS"); do
  for proxy in wsgate nginx haproxy; do
    case $proxy in wsgate) port=$WPORT ;; nginx) port=$NPORT ;; haproxy) port=$HPORT ;; esac
    out=$(cd "$NODE_DIR" && taskset -c 0 node sio-affinity-client.js "http://127.0.0.1:$port" "$CLIENTS" \
      --cookies --hold --concurrency="$CONCURRENCY" --sources=200 | tail -1)
    echo "{\"proxy\":\"$proxy\",\"round\":$round,\"run\":$out}" >> "$results"
    sleep 1   # let the servers close the sessions of this run
  done
done
unknown=$(cat "$RUN"/sio-*.log | grep -c "Session ID unknown" || true)
python3 - "$results" "$unknown" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
label = {"wsgate": "SocketIO sid, least connections", "nginx": "hash $remote_addr consistent",
         "haproxy": "cookie insert, round robin"}
print(f"{'proxy':8} {'stickiness':34} {'sessions/s':>10} {'imbalance':>10} {'ok/total':>10}  per server (last round)")
for proxy in ("wsgate", "nginx", "haproxy"):
    runs = [r["run"] for r in rows if r["proxy"] == proxy]
    rate = statistics.median(r["sessionsPerSec"] for r in runs)
    def imbalance(r):
        counts = [r["perBackend"].get(n, 0) for n in ("sio-a", "sio-b", "sio-c")]
        return max(counts) / min(counts) if min(counts) else float("inf")
    imb = statistics.median(imbalance(r) for r in runs)
    ok = sum(r["ok"] for r in runs); total = sum(r["total"] for r in runs)
    last = runs[-1]["perBackend"]
    print(f"{proxy:8} {label[proxy]:34} {rate:>10.0f} {imb:>10.3f} {ok:>5}/{total:<5}  "
          + " ".join(f"{k}={last[k]}" for k in sorted(last)))
print(f"'Session ID unknown' refusals seen by the servers: {sys.argv[2]}")
PY
