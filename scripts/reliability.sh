#!/usr/bin/env bash
# Reliability figures of wsgate with real processes on loopback; prints one table
# (scenario | measured | target | verdict) and writes it to docs/reliability.{md,json}.
# Not a CI test: a run takes about 35 minutes (QUICK=1: about 5).
#
# Layout as in scripts/bench.sh: wsgate alone on CPU 1 (one worker thread), the `wsbench`
# clients and echo backends on CPU 0. Every scenario starts a fresh wsgate; everything
# started here is stopped by PID on exit.
#
# Scenarios (SCENARIOS="reload sigterm kill slowloris soak"):
#   reload     IDLE idle WebSockets held while the routes file is rewritten CHANGES times, each
#              with a real difference (a header set on the route, a route added or removed,
#              an endpoint added or removed), SIGHUP after each and the reload counter awaited;
#              then every connection sends a message: lost = closed, or no echo (target 0).
#   sigterm    IDLE WebSockets, then SIGTERM: each client's close code and time; the share
#              with 1001 within the drain period (DRAIN), and closes per tenth of it (flat).
#   kill       ACTIVE connections sending a message per second each over 3 endpoints; one
#              endpoint is SIGKILLed; once wsgate has ejected it (wsgate_endpoint_ejections_total),
#              KILL_TRIES new connections (connect, upgrade, echo, close): failures (target 0).
#   slowloris  SLOWLORIS connections trickling a request head (opened again when wsgate closes
#              them); once wsgate has timed out as many heads, SLOW_TRIES handshakes of a normal
#              client, one at a time, SLOW_RATE per second: p99 (target < 100 ms); the same
#              client before the attack for reference.
#   soak       SOAK_CONNS connections x 1 message/s each, plus SOAK_CHURN new connections per
#              second, for SOAK; wsgate's RSS and open files every SAMPLE seconds; growth after
#              WARMUP (target flat: under 5 % of the RSS at the end of the warm-up).
#
#   bash scripts/reliability.sh                      # the issue's figures (about 35 minutes)
#   QUICK=1 bash scripts/reliability.sh              # small counts, 2-minute soak
#   SCENARIOS="kill" QUICK=1 OUT=- bash scripts/reliability.sh
# Settings: IDLE=9000 CHANGES=1000 DRAIN=20s ACTIVE=1000 KILL_TRIES=2000 SLOWLORIS=5000
#   SLOW_TRIES=1000 SLOW_RATE=50 SOAK=30m SOAK_CONNS=300 SOAK_CHURN=20 SAMPLE=30 WARMUP=5m
#   OUT=docs (OUT=- prints only); KEEP=DIR keeps the raw results.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if [ "${QUICK:-0}" = 1 ]; then
  : "${IDLE:=1000}" "${CHANGES:=50}" "${DRAIN:=5s}" "${ACTIVE:=200}" "${KILL_TRIES:=300}"
  : "${SLOWLORIS:=500}" "${SLOW_TRIES:=200}" "${SLOW_RATE:=20}" "${SOAK:=2m}" "${SOAK_CONNS:=100}"
  : "${SOAK_CHURN:=10}" "${SAMPLE:=10}" "${WARMUP:=30s}"
fi
IDLE="${IDLE:-9000}"; CHANGES="${CHANGES:-1000}"; DRAIN="${DRAIN:-20s}"
ACTIVE="${ACTIVE:-1000}"; KILL_TRIES="${KILL_TRIES:-2000}"
SLOWLORIS="${SLOWLORIS:-5000}"; SLOW_TRIES="${SLOW_TRIES:-1000}"; SLOW_RATE="${SLOW_RATE:-50}"
SOAK="${SOAK:-30m}"; SOAK_CONNS="${SOAK_CONNS:-300}"; SOAK_CHURN="${SOAK_CHURN:-20}"
SAMPLE="${SAMPLE:-30}"; WARMUP="${WARMUP:-5m}"
SCENARIOS="${SCENARIOS:-reload sigterm kill slowloris soak}"
OUT="${OUT:-$ROOT/docs}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
for tool in taskset python3; do
  command -v "$tool" >/dev/null || { echo "$tool missing" >&2; exit 1; }
done
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (clients on CPU 0, wsgate on CPU 1)" >&2; exit 1; }
secs() { python3 -c "import sys; v=sys.argv[1]; m={'ms':0.001,'s':1,'m':60,'h':3600}
u=next(k for k in ('ms','s','m','h') if v.endswith(k)) if v[-1].isalpha() else 's'
print(int(float(v[:-len(u)] if v[-1].isalpha() else v)*m[u]))" "$1"; }
DRAIN_S=$(secs "$DRAIN")
# Long enough for the whole drain plus the close handshake (wsgate keeps 6 s for it).
export DRAIN SHUTDOWN="$((DRAIN_S + 10))s"
(cd "$ROOT" && cargo build --release -q -p wsgate -p wsgate-tests --bin wsgate --bin wsbench)
BIN="$TARGET_DIR/release"
RUN="$(mktemp -d /tmp/wsgate-reliability.XXXXXX)"
source "$ROOT/bench/lib.sh"
trap cleanup EXIT
RESULTS="$RUN/results.jsonl"
REL="python3 $ROOT/scripts/reliability.py"
WSBENCH="$BIN/wsbench"

record() { echo "$1" >> "$RESULTS"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# A light echo backend on CPU 0; sets BACKEND (its address) and BACKEND_PID.
start_backend() {
  local port; port=$(free_port)
  taskset -c 0 "$WSBENCH" serve "127.0.0.1:$port" > "$RUN/backend-$port.log" 2>&1 & BACKEND_PID=$!
  ALL_PIDS+=("$BACKEND_PID")
  BACKEND="127.0.0.1:$port"
  wait_port "$port"
}

# A fresh wsgate on CPU 1 serving routes file revision REV (scripts/reliability.py routes) for
# BACKEND...; sets WS, ADMIN, GATE.
start_wsgate() {
  local name=$1 rev=$2; shift 2
  local dir="$RUN/$name"; mkdir -p "$dir"
  WS=$(free_port); ADMIN=$(free_port)
  $REL routes "$rev" "$@" > "$dir/routes.yaml"
  WSGATE_LOG=warn taskset -c 1 "$BIN/wsgate" --workers 1 proxy --config "$dir/routes.yaml" \
    --listen "127.0.0.1:$WS" --admin-listen "127.0.0.1:$ADMIN" --watch-interval 3600s \
    2> "$dir/wsgate.log" & GATE=$!
  ALL_PIDS+=("$GATE")
  wait_port "$WS"; wait_port "$ADMIN"
  local reply; reply=$("$WSBENCH" echo "ws://127.0.0.1:$WS/" check) || true
  [ "$reply" = check ] || { echo "$name: wsgate does not echo" >&2; exit 1; }
}

stop_wsgate() { kill "$GATE" 2>/dev/null || true; wait "$GATE" 2>/dev/null || true; }

# Waits (bounded) until FILE has a `ready N` line; prints N.
wait_ready() {
  local file=$1 limit=$2 _
  for _ in $(seq $((limit * 10))); do
    grep -q '^ready' "$file" 2>/dev/null && { awk '/^ready/ {print $2; exit}' "$file"; return 0; }
    sleep 0.1
  done
  echo "no ready line in $file after $limit s: $(head -c 500 "$file")" >&2; exit 1
}

# Waits (bounded) for a client started here to exit.
wait_client() {
  local pid=$1 limit=$2 _
  for _ in $(seq $((limit * 10))); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; return 0; }
    sleep 0.1
  done
  echo "client $pid still running after $limit s" >&2; exit 1
}

source "$ROOT/scripts/reliability-scenarios.sh"

machine_facts > "$RUN/machine.json"
echo "{\"load_start\":\"$(loadavg)\",\"commit\":\"$(git -C "$ROOT" rev-parse --short HEAD)\",\"quick\":${QUICK:-0}," \
  "\"settings\":\"IDLE=$IDLE CHANGES=$CHANGES DRAIN=$DRAIN ACTIVE=$ACTIVE KILL_TRIES=$KILL_TRIES SLOWLORIS=$SLOWLORIS SLOW_TRIES=$SLOW_TRIES SLOW_RATE=$SLOW_RATE SOAK=$SOAK SOAK_CONNS=$SOAK_CONNS SOAK_CHURN=$SOAK_CHURN SAMPLE=$SAMPLE WARMUP=$WARMUP\"}" > "$RUN/run.json"
start_backend; B1=$BACKEND; start_backend; B2=$BACKEND; start_backend; B3=$BACKEND
for s in $SCENARIOS; do
  echo "$(date -u +%H:%M:%S) $s (load $(loadavg))" >&2
  "scenario_$s"
done
python3 - "$RUN/run.json" "$(loadavg)" <<'PY'
import json, sys
run = json.load(open(sys.argv[1])); run["load_end"] = sys.argv[2]
json.dump(run, open(sys.argv[1], "w"))
PY
report_out="$OUT"; [ "$OUT" = - ] && report_out=""
$REL report "$RUN" ${report_out:+"$report_out"}
