# The scenarios of scripts/reliability.sh (sourced; uses its settings and helpers). Each starts
# a fresh wsgate, appends one JSON line to $RESULTS and stops what it started.

# Idle WebSockets held through CHANGES route-table changes, then each must still echo.
scenario_reload() {
  start_wsgate reload 0 "$B1" "$B2" "$B3"
  local out="$RUN/reload-idle.out" check="$RUN/reload.check" pid ready changes active
  taskset -c 0 "$WSBENCH" idle "ws://127.0.0.1:$WS/" -c "$IDLE" --check-file "$check" -d 3600s \
    > "$out" 2>&1 & pid=$!
  ALL_PIDS+=("$pid")
  ready=$(wait_ready "$out" 600)
  changes=$($REL changes "$RUN/reload/routes.yaml" "$GATE" "$ADMIN" "$CHANGES" "$B1" "$B2" "$B3")
  active=$($REL metric "$ADMIN" wsgate_active_connections)
  touch "$check"
  wait_client "$pid" 120
  record "{\"test\":\"reload\",\"ready\":$ready,\"active_after_changes\":$active,\"changes\":$changes,\"idle\":$(tail -1 "$out")}"
  stop_wsgate
}

# IDLE WebSockets, SIGTERM: close codes and times.
scenario_sigterm() {
  start_wsgate sigterm 0 "$B1" "$B2"
  local out="$RUN/sigterm-idle.out" pid ready t0 t_exit code=0 _
  taskset -c 0 "$WSBENCH" idle "ws://127.0.0.1:$WS/" -c "$IDLE" -d "$((DRAIN_S + 300))s" \
    > "$out" 2>&1 & pid=$!
  ALL_PIDS+=("$pid")
  ready=$(wait_ready "$out" 600)
  t0=$(date +%s%3N)
  kill -TERM "$GATE"
  wait_client "$pid" $((DRAIN_S + 310))
  for _ in $(seq $(((DRAIN_S + 60) * 10))); do kill -0 "$GATE" 2>/dev/null || break; sleep 0.1; done
  t_exit=$(date +%s%3N)
  wait "$GATE" || code=$?
  record "{\"test\":\"sigterm\",\"ready\":$ready,\"sigterm_ms\":$t0,\"exit_ms\":$t_exit,\"exit_code\":$code,\"drain_s\":$DRAIN_S,\"idle\":$(tail -1 "$out")}"
}

# ACTIVE connections with messages over three endpoints; one endpoint is SIGKILLed.
scenario_kill() {
  start_backend
  local victim=$BACKEND victim_pid=$BACKEND_PID out="$RUN/kill-steady.out" pid t_kill detect tries load=40
  start_wsgate kill 4 "$B1" "$B2" "$victim"
  taskset -c 0 "$WSBENCH" steady "ws://127.0.0.1:$WS/" -c "$ACTIVE" --rate "$ACTIVE" -d "${load}s" \
    > "$out" 2>&1 & pid=$!
  ALL_PIDS+=("$pid")
  $REL wait-metric "$ADMIN" wsgate_active_connections "$ACTIVE" 120 > /dev/null
  local on_victim; on_victim=$($REL metric "$ADMIN" wsgate_endpoint_active "endpoint=$victim")
  t_kill=$(date +%s%3N)
  kill -KILL "$victim_pid"
  wait "$victim_pid" 2>/dev/null || true
  detect=$($REL wait-metric "$ADMIN" wsgate_endpoint_ejections_total 1 60 "endpoint=$victim")
  tries=$(taskset -c 0 timeout 600 "$WSBENCH" tries "ws://127.0.0.1:$WS/" -n "$KILL_TRIES" -c 8 --first 20000)
  local ejections; ejections=$($REL metric "$ADMIN" wsgate_endpoint_ejections_total "endpoint=$victim")
  wait_client "$pid" $((load + 60))
  record "{\"test\":\"kill\",\"active\":$ACTIVE,\"on_victim\":$on_victim,\"kill_ms\":$t_kill,\"detect_s\":$detect,\"ejections\":$ejections,\"tries\":$tries,\"steady\":$(tail -1 "$out")}"
  stop_wsgate
}

# SLOWLORIS unfinished request heads; a normal client's handshakes (SLOW_RATE per second, one
# at a time) before the attack and once it is in its steady state: wsgate has timed out the
# first round of heads and the client keeps opening new ones.
scenario_slowloris() {
  start_wsgate slowloris 0 "$B1" "$B2"
  local out="$RUN/slowloris.out" pid ready before during fds t0s t1s url="ws://127.0.0.1:$WS/"
  local hold=$((SLOWLORIS / 1000 + 40 + SLOW_TRIES / SLOW_RATE))
  before=$(taskset -c 0 timeout 600 "$WSBENCH" tries "$url" -n "$SLOW_TRIES" -c 1 --rate "$SLOW_RATE" --first 30000)
  taskset -c 0 "$WSBENCH" slowloris "127.0.0.1:$WS" -c "$SLOWLORIS" -d "${hold}s" > "$out" 2>&1 & pid=$!
  ALL_PIDS+=("$pid")
  ready=$(wait_ready "$out" 300)
  $REL wait-metric "$ADMIN" wsgate_header_timeouts_total "$SLOWLORIS" 120 > /dev/null
  fds=$(ls "/proc/$GATE/fd" | wc -l)
  t0s=$($REL metric "$ADMIN" wsgate_header_timeouts_total)
  during=$(taskset -c 0 timeout 600 "$WSBENCH" tries "$url" -n "$SLOW_TRIES" -c 1 --rate "$SLOW_RATE" --first 40000)
  t1s=$($REL metric "$ADMIN" wsgate_header_timeouts_total)
  kill -0 "$pid" 2>/dev/null || { echo "slowloris: the attack ended before the measurement did" >&2; exit 1; }
  wait_client "$pid" $((hold + 60))
  record "{\"test\":\"slowloris\",\"ready\":$ready,\"wsgate_fds\":$fds,\"timeouts_before\":$t0s,\"timeouts_after\":$t1s,\"before\":$before,\"during\":$during,\"attack\":$(tail -1 "$out")}"
  stop_wsgate
}

# Moderate steady load with churn for SOAK; RSS, open files and connections every SAMPLE s.
scenario_soak() {
  start_wsgate soak 0 "$B1" "$B2"
  local out="$RUN/soak-steady.out" samples="$RUN/soak-samples.txt" pid
  sample() {
    echo "$(date +%s) $(awk '/VmRSS/ {print $2}' "/proc/$GATE/status") $(ls "/proc/$GATE/fd" | wc -l)" \
      "$($REL metric "$ADMIN" wsgate_active_connections)" >> "$samples"
  }
  sample
  taskset -c 0 "$WSBENCH" steady "ws://127.0.0.1:$WS/" -c "$SOAK_CONNS" --rate "$SOAK_CONNS" \
    --churn "$SOAK_CHURN" -d "$SOAK" > "$out" 2>&1 & pid=$!
  ALL_PIDS+=("$pid")
  while kill -0 "$pid" 2>/dev/null; do
    sleep "$SAMPLE"
    kill -0 "$pid" 2>/dev/null && sample
  done
  wait "$pid" || true
  record "{\"test\":\"soak\",\"duration_s\":$(secs "$SOAK"),\"warmup_s\":$(secs "$WARMUP"),\"sample_s\":$SAMPLE,\"samples\":\"soak-samples.txt\",\"steady\":$(tail -1 "$out")}"
  stop_wsgate
}
