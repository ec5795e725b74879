# Functions of scripts/bench.sh (sourced; uses its ROOT, BIN, RUN, CA and settings).
# Every process started here is remembered by PID and stopped by PID.

ALL_PIDS=()
declare -A PORT_WS PORT_WSS PIDS
BACKENDS=()

cleanup() {
  local p
  for p in "${ALL_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # KEEP=DIR keeps the raw results (JSON lines, traces, profiles) for a later report.py.
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp -r "$RUN"/. "$KEEP"/ && rm -rf "$KEEP/certs"; fi
  rm -rf "$RUN"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() {
  local _
  for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "port $1 never opened" >&2; exit 1
}

# The two echo backends, on CPU 0.
start_backends() {
  local i port
  for i in 1 2; do
    port=$(free_port)
    taskset -c 0 "$BIN/wsbench" serve "127.0.0.1:$port" > "$RUN/backend$i.log" 2>&1 & ALL_PIDS+=($!)
    BACKENDS+=("127.0.0.1:$port")
  done
  for i in 0 1; do wait_port "${BACKENDS[$i]#*:}"; done
}

# Starts proxy NAME (wsgate, nginx, nginx-deferred, haproxy) as instance INST on CPU 1, fresh
# ports; sets PORT_WS/PORT_WSS/PIDS["NAME/INST"] and checks it echoes over ws and wss.
start_proxy() {
  local name=$1 inst=$2 key="$1/$2" dir="$RUN/$1-$2" ws wss admin pid
  mkdir -p "$dir/tmp"
  ws=$(free_port); wss=$(free_port)
  case "$name" in
    wsgate)
      admin=$(free_port)
      cat > "$dir/routes.yaml" <<YAML
apiVersion: wsgate.dev/v1alpha1
kind: WebSocketRoute
metadata: {name: bench}
spec:
  hostnames: [localhost]
  # Served on both listeners, as nginx and HAProxy are here (a route with its own certificate
  # otherwise refuses ws:// in clear).
  tls: {certFile: $RUN/certs/tls.crt, keyFile: $RUN/certs/tls.key, redirectHttp: false}
  rules:
    - backend: {addresses: ["${BACKENDS[0]}", "${BACKENDS[1]}"]}
YAML
      WSGATE_LOG=warn taskset -c 1 "$BIN/wsgate" --workers 1 proxy --config "$dir/routes.yaml" \
        --listen "127.0.0.1:$ws" --https-listen "127.0.0.1:$wss" --admin-listen "127.0.0.1:$admin" \
        2> "$dir/wsgate.log" & pid=$!
      ;;
    nginx|nginx-deferred)
      local deferred=""; [ "$name" = nginx-deferred ] && deferred=" deferred"
      sed -e "s|@BACKEND1@|${BACKENDS[0]}|" -e "s|@BACKEND2@|${BACKENDS[1]}|" \
        -e "s|@LISTEN@|127.0.0.1:$ws|" -e "s|@TLS_LISTEN@|127.0.0.1:$wss|" -e "s|@DEFERRED@|$deferred|g" \
        -e "s|@CERT@|$RUN/certs/tls.crt|" -e "s|@KEY@|$RUN/certs/tls.key|" \
        "$ROOT/bench/nginx.conf.in" > "$dir/nginx.conf"
      taskset -c 1 nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;' & pid=$!
      ;;
    haproxy)
      sed -e "s|@BACKEND1@|${BACKENDS[0]}|" -e "s|@BACKEND2@|${BACKENDS[1]}|" \
        -e "s|@LISTEN@|127.0.0.1:$ws|" -e "s|@TLS_LISTEN@|127.0.0.1:$wss|" -e "s|@PEM@|$RUN/certs/server.pem|" \
        "$ROOT/bench/haproxy.cfg.in" > "$dir/haproxy.cfg"
      taskset -c 1 haproxy -db -f "$dir/haproxy.cfg" > "$dir/haproxy.log" 2>&1 & pid=$!
      ;;
    *) echo "unknown proxy $name" >&2; exit 1 ;;
  esac
  ALL_PIDS+=("$pid")
  wait_port "$ws"; wait_port "$wss"
  sleep 0.2
  PORT_WS[$key]=$ws; PORT_WSS[$key]=$wss
  local reply
  for url in "ws://localhost:$ws/" "wss://localhost:$wss/"; do
    reply=$("$BIN/wsbench" --ca "$CA" echo "$url" check) || true
    [ "$reply" = check ] || { echo "$name: no echo on $url" >&2; exit 1; }
  done
  # nginx's worker exists once it has answered.
  PIDS[$key]="$pid $( (pgrep -P "$pid" || true) | tr "\n" " ")"
}

stop_proxy() {
  local p
  for p in ${PIDS[$1]}; do kill "$p" 2>/dev/null || true; done
  sleep 0.5
}

# URLs of TARGET (instance main) for SCHEME (ws or wss).
urls() {
  local t=$1 scheme=$2 b
  if [ "$t" = direct ]; then
    for b in "${BACKENDS[@]}"; do echo "ws://localhost:${b#*:}/"; done
  elif [ "$scheme" = wss ]; then
    echo "wss://localhost:${PORT_WSS[$t/main]}/"
  else
    echo "ws://localhost:${PORT_WS[$t/main]}/"
  fi
}

pid_list() { [ "$1" = direct ] && return 0; echo "${PIDS[$1/main]}" | xargs | tr ' ' ','; }

# One measurement: TEST (w1 w8 paced hs wss wsshs) on TARGET in ROUND, appended to the results.
run_test() {
  local test=$1 t=$2 round=$3 scheme=ws out
  case "$test" in wss|wsshs) [ "$t" = direct ] && return 0; scheme=wss ;; esac
  local pids; pids=$(pid_list "$t")
  local common=(--ca "$CA" ${pids:+--pids "$pids"})
  mapfile -t u < <(urls "$t" "$scheme")
  case "$test" in
    w1|wss) out=$(taskset -c 0 timeout 120 "$BIN/wsbench" "${common[@]}" pingpong "${u[@]}" -c "$CONNS" -w 1 -s "$SIZE" -d "$DURATION") ;;
    w8) out=$(taskset -c 0 timeout 120 "$BIN/wsbench" "${common[@]}" pingpong "${u[@]}" -c "$CONNS" -w 8 -s "$SIZE" -d "$DURATION") ;;
    paced) out=$(taskset -c 0 timeout 120 "$BIN/wsbench" "${common[@]}" pingpong "${u[@]}" -c "$CONNS" --rate "$((RATE / 2))" -s "$SIZE" -d "$DURATION") ;;
    hs|wsshs) out=$(taskset -c 0 timeout 120 "$BIN/wsbench" "${common[@]}" handshakes "${u[@]}" -c "$HS_CONC" -d "$HS_DURATION") ;;
  esac
  echo "{\"test\":\"$test\",\"target\":\"$t\",\"round\":$round,\"run\":$out}" >> "$RESULTS"
}

rss_kb() {
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '/VmRSS/ {print $2}' "/proc/$p/status"))); done
  echo "$t"
}

# RSS growth of a fresh TARGET instance with HOLD idle SCHEME connections, after a warm-up.
hold_rss() {
  local t=$1 scheme=$2 key="$1/hold-$2" port url per n i before after
  start_proxy "$t" "hold-$scheme"
  if [ "$scheme" = wss ]; then port=${PORT_WSS[$key]}; else port=${PORT_WS[$key]}; fi
  url="$scheme://localhost:$port/"
  taskset -c 0 timeout 60 "$BIN/wsbench" --ca "$CA" pingpong "$url" -c 100 -d 1s --warmup 0.2s > /dev/null
  sleep 0.5
  read -r -a pids <<< "${PIDS[$key]}"
  before=$(rss_kb "${pids[@]}")
  per=3000; n=$(((HOLD + per - 1) / per))
  local holders=()
  for i in $(seq 0 $((n - 1))); do
    local c=$per; [ $((i * per + c)) -gt "$HOLD" ] && c=$((HOLD - i * per))
    taskset -c 0 "$BIN/wsbench" --ca "$CA" hold "$url" -c "$c" --first $((i * per)) > "$RUN/hold-$i.out" 2>&1 &
    holders+=($!); ALL_PIDS+=($!)
  done
  for i in $(seq 0 $((n - 1))); do
    for _ in $(seq 1200); do grep -q ready "$RUN/hold-$i.out" && break; sleep 0.1; done
    grep -q ready "$RUN/hold-$i.out" || { echo "$t $scheme: holders not ready: $(cat "$RUN/hold-$i.out")" >&2; exit 1; }
  done
  sleep 1
  after=$(rss_kb "${pids[@]}")
  for i in "${holders[@]}"; do kill "$i" 2>/dev/null || true; wait "$i" 2>/dev/null || true; done
  stop_proxy "$key"
  echo "{\"test\":\"hold-$scheme\",\"target\":\"$t\",\"held\":$HOLD,\"rss_before_kb\":$before,\"rss_after_kb\":$after}" >> "$RESULTS"
}

# Syscalls (and context switches) of TARGET during a window-1 ping-pong, counted by the
# kernel's syscall tracepoints (perf stat: no slowdown worth the name), with the run's echo
# count, for syscalls per relayed message.
count_syscalls() {
  local t=$1 pids counter out
  pids=$(pid_list "$t")
  perf stat -e 'syscalls:sys_enter_*' -e context-switches -p "$pids" -o "$RUN/syscalls-$t.txt" & counter=$!
  sleep 0.5
  mapfile -t u < <(urls "$t" ws)
  out=$(taskset -c 0 timeout 120 "$BIN/wsbench" pingpong "${u[@]}" -c "$CONNS" -w 1 -s "$SIZE" -d 3s --warmup 0.5s)
  kill -INT "$counter"; wait "$counter" 2>/dev/null || true
  echo "{\"test\":\"syscalls\",\"target\":\"$t\",\"file\":\"syscalls-$t.txt\",\"run\":$out}" >> "$RESULTS"
}

# A cpu-clock profile of TARGET during a window-1 ping-pong; keeps the top of the report.
profile() {
  local t=$1 pids rec
  pids=$(pid_list "$t")
  mapfile -t u < <(urls "$t" ws)
  taskset -c 0 timeout 120 "$BIN/wsbench" pingpong "${u[@]}" -c "$CONNS" -w 1 -s "$SIZE" -d 5s --warmup 0.5s > /dev/null &
  local load=$!
  sleep 1
  perf record -q -e cpu-clock -F 2999 -g -p "$pids" -o "$RUN/perf-$t.data" -- sleep 4 2>/dev/null
  wait "$load" || true
  perf report -i "$RUN/perf-$t.data" --stdio --no-children --sort dso -g none --percent-limit 0.5 2>/dev/null \
    | grep -v '^#' | grep -v '^$' > "$RUN/profile-$t-dso.txt" || true
  perf report -i "$RUN/perf-$t.data" --stdio --no-children --sort sym -g none --percent-limit 0.7 2>/dev/null \
    | grep -v '^#' | grep -v '^$' > "$RUN/profile-$t-sym.txt" || true
  echo "{\"test\":\"profile\",\"target\":\"$t\",\"dso\":\"profile-$t-dso.txt\",\"sym\":\"profile-$t-sym.txt\"}" >> "$RESULTS"
}

# The route table at scale: a fresh wsgate with one route, then TABLE_ROUTES routes on SIGHUP.
# Records the apply metric (wsgate_route_table_apply_seconds, parse excluded), SIGHUP to the
# last route served, and RSS growth; then the controller's translation of as many objects.
table_scale() {
  local dir="$RUN/table" ws admin pid n=$TABLE_ROUTES last
  mkdir -p "$dir"; ws=$(free_port); admin=$(free_port)
  python3 "$ROOT/bench/routes.py" 1 "${BACKENDS[0]}" "${BACKENDS[1]}" > "$dir/routes.yaml"
  WSGATE_LOG=warn taskset -c 1 "$BIN/wsgate" --workers 1 proxy --config "$dir/routes.yaml" \
    --listen "127.0.0.1:$ws" --admin-listen "127.0.0.1:$admin" --watch-interval 3600s 2> "$dir/wsgate.log" & pid=$!
  ALL_PIDS+=("$pid")
  wait_port "$ws"; wait_port "$admin"; sleep 0.5
  local rss0 sum0 count0 served sum1 count1 rss1
  rss0=$(rss_kb "$pid")
  sum0=$(python3 "$ROOT/bench/probe.py" metric "$admin" wsgate_route_table_apply_seconds_sum)
  count0=$(python3 "$ROOT/bench/probe.py" metric "$admin" wsgate_route_table_apply_seconds_count)
  python3 "$ROOT/bench/routes.py" "$n" "${BACKENDS[0]}" "${BACKENDS[1]}" > "$dir/next.yaml"
  mv "$dir/next.yaml" "$dir/routes.yaml"
  last="r$((n - 1)).bench.local"
  served=$(python3 "$ROOT/bench/probe.py" reload "$pid" "$ws" "$last")
  for _ in $(seq 100); do
    count1=$(python3 "$ROOT/bench/probe.py" metric "$admin" wsgate_route_table_apply_seconds_count)
    [ "$count1" != "$count0" ] && break; sleep 0.05
  done
  sum1=$(python3 "$ROOT/bench/probe.py" metric "$admin" wsgate_route_table_apply_seconds_sum)
  sleep 1
  rss1=$(rss_kb "$pid")
  kill "$pid" 2>/dev/null || true
  echo "{\"test\":\"table\",\"target\":\"wsgate\",\"routes\":$n,\"apply_s\":$(python3 -c "print($sum1 - $sum0)"),\"served_ms\":$served,\"rss_before_kb\":$rss0,\"rss_after_kb\":$rss1}" >> "$RESULTS"
  (cd "$ROOT" && cargo build --release -q -p wsgate --example translate_bench)
  local tr; tr=$(taskset -c 1 "$TARGET_DIR/release/examples/translate_bench" "$n")
  echo "{\"test\":\"translate\",\"target\":\"wsgate\",\"run\":$tr}" >> "$RESULTS"
}

machine_facts() {
  python3 - <<'PY'
import json, os, platform, subprocess, datetime
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((int(l.split()[1]) // 1024 for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0)
print(json.dumps({"date": datetime.date.today().isoformat(), "cpu": cpu, "cpus": os.cpu_count(),
                  "mem_mib": mem, "kernel": platform.release()}))
PY
}
