#!/usr/bin/env bash
# wsgate vs nginx vs HAProxy, and the generator talking to the backends directly, in one run.
#
# Layout: the load generator (wsbench, one thread) and two light echo backends run on CPU 0;
# the proxy under test runs alone on CPU 1 (taskset; wsgate with one worker thread, nginx with
# one worker process, HAProxy with one thread). Rounds are interleaved: every test runs on
# every target in each round, in an order that rotates. Values are medians; ratios are the
# median of the per-round ratios.
#
# The generator must not set the pace: a throughput or latency ratio counts only when CPU 0
# had headroom (under 90% busy) in both runs compared; otherwise the target is judged by the
# proxies' CPU per unit of work, which always counts. CPU 0 and CPU 1 utilisation are printed
# for every test, and direct vs the best proxy for reference.
#
# Tests: msgs/s with 100 connections x 64 B and window 1 and 8 (p50/p99, proxy CPU µs per
# relayed message); latency at a fixed load (RATE msgs/s, paced); new ws and wss connections
# per second (8 at a time; wss: TLS 1.3, ECDSA P-256 certificate, P-256 key exchange, no
# resumption); wss msgs/s; RSS per idle connection with HOLD held (ws and wss, a fresh proxy
# for each); syscalls per relayed message (perf stat on the syscall tracepoints); cpu-clock
# profiles of wsgate and nginx; a TABLE_ROUTES-route table applied on SIGHUP (apply metric,
# time to served, RSS) and the controller's translation of as many objects (release build).
# Writes docs/benchmark.md, .svg and .json.
#
#   bash scripts/bench.sh                                     # everything (about 10 minutes)
#   ROUNDS=1 DURATION=3s PARTS="msgs" bash scripts/bench.sh   # a quick look at one part
# Settings: ROUNDS=3 DURATION=4s CONNS=100 SIZE=64 HS_CONC=8 HS_DURATION=3s HOLD=9000
#   RATE=60000 TABLE_ROUTES=10000 PARTS="msgs hs wss hold syscalls profile table"
#   TARGETS="direct wsgate nginx haproxy"
#   NGINX_DEFERRED=1 adds nginx with `listen ... deferred` as a fifth target.
#   OUT=docs (where the report and plot go; OUT=- prints only); KEEP=DIR keeps the raw results
#   (python3 bench/report.py DIR [OUT] summarises them again).
# On a shared machine, run it through `quiet-run`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"; DURATION="${DURATION:-4s}"; CONNS="${CONNS:-100}"; SIZE="${SIZE:-64}"
HS_CONC="${HS_CONC:-8}"; HS_DURATION="${HS_DURATION:-3s}"; HOLD="${HOLD:-9000}"; RATE="${RATE:-60000}"
PARTS="${PARTS:-msgs hs wss hold syscalls profile table}"; TABLE_ROUTES="${TABLE_ROUTES:-10000}"
TARGETS="${TARGETS:-direct wsgate nginx haproxy}"
[ "${NGINX_DEFERRED:-0}" = 1 ] && TARGETS="$TARGETS nginx-deferred"
OUT="${OUT:-$ROOT/docs}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
for tool in nginx haproxy taskset openssl python3; do
  command -v "$tool" >/dev/null || { echo "$tool missing: run scripts/install-test-deps.sh" >&2; exit 1; }
done
has_part() { [[ " $PARTS " == *" $1 "* ]]; }
if has_part syscalls || has_part profile; then
  command -v perf >/dev/null || { echo "perf missing: run scripts/install-test-deps.sh" >&2; exit 1; }
fi
[ "$(nproc)" -ge 2 ] || { echo "needs 2 CPUs (generator on CPU 0, proxy on CPU 1)" >&2; exit 1; }
(cd "$ROOT" && cargo build --release -q -p wsgate -p wsgate-tests --bin wsgate --bin wsbench)
BIN="$TARGET_DIR/release"
RUN="$(mktemp -d /tmp/wsgate-bench.XXXXXX)"
source "$ROOT/bench/lib.sh"
trap cleanup EXIT

bash "$ROOT/examples/make-certs.sh" "$RUN/certs" localhost >/dev/null
cat "$RUN/certs/tls.crt" "$RUN/certs/tls.key" > "$RUN/certs/server.pem"
CA="$RUN/certs/ca.crt"
start_backends
for t in $TARGETS; do [ "$t" = direct ] || start_proxy "$t" main; done

RESULTS="$RUN/results.jsonl"
machine_facts > "$RUN/machine.json"
echo "wsgate $("$BIN/wsgate" --version | cut -d' ' -f2), $(nginx -v 2>&1 | cut -d' ' -f3), HAProxy $(haproxy -v | head -1 | cut -d' ' -f3);" \
  "$ROUNDS rounds; $CONNS conns x $SIZE B for $DURATION; handshakes x$HS_CONC for $HS_DURATION; hold $HOLD" >&2

tests=()
has_part msgs && tests+=(w1 w8 paced)
has_part hs && tests+=(hs)
has_part wss && tests+=(wss wsshs)
read -r -a targets <<< "$TARGETS"
for round in $(seq "$ROUNDS"); do
  for test in "${tests[@]}"; do
    n=${#targets[@]}
    for k in $(seq 0 $((n - 1))); do
      t=${targets[$(((k + round - 1) % n))]}
      run_test "$test" "$t" "$round"
    done
  done
  echo "round $round done" >&2
done

if has_part hold; then
  for t in $TARGETS; do
    [ "$t" = direct ] || [ "$t" = nginx-deferred ] && continue
    for scheme in ws wss; do hold_rss "$t" "$scheme"; done
  done
fi
if has_part syscalls; then
  for t in wsgate nginx haproxy; do [[ " $TARGETS " == *" $t "* ]] && count_syscalls "$t"; done
fi
if has_part table; then table_scale; fi
if has_part profile; then
  for t in wsgate nginx; do [[ " $TARGETS " == *" $t "* ]] && profile "$t"; done
fi

report_out="$OUT"; [ "$OUT" = - ] && report_out=""
python3 "$ROOT/bench/report.py" "$RUN" ${report_out:+"$report_out"}
