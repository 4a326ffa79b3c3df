#!/usr/bin/env bash
# Gateway overhead, side by side, in one run: the mock upstream directly, nginx proxy_pass
# (keep-alive upstream pool) in front of it, and Switchyard (one worker thread) in front of it.
#
#   1. Throughput: wrk -t1 -cC -dDs --latency with a fixed small non-streaming chat
#      completion POST (bench/wrk_chat.lua), after a warm-up run: req/s, p50, p99, and the
#      CPU each server process spent per request.
#   2. Added latency at concurrency 1 (wrk -t1 -c1): p50, p99; Switchyard p99 - direct p99.
#      Then throughput with a new client connection per request (Connection: close).
#   3. Streaming (bench/stream_probe.mjs): added time to first token and gap between chunks;
#      K concurrent streams (completed / stalled / failed), direct and via Switchyard.
# Prints a markdown summary at the end (and writes it to --out FILE).
#
# Usage: bench/gateway_overhead.sh [--out FILE] [--duration S] [--latency-duration S]
#          [--warmup S] [--connections C] [--rounds N] [--pin split|none]
#          [--seq N] [--conc LIST|none] [--skip-streams] [--quick] [--wait-quiet S]
# SY_BENCH_EXTRA_CONFIG (env): YAML appended to the gateway's config, for A/B runs of a knob.
# Binaries (env): SWITCHYARD_BIN (default build/switchyard), MOCK_LLM_BIN (default
# build/tools/mock-llm/mock-llm), NGINX_BIN (nginx), WRK_BIN (wrk), NODE_BIN (node).
# Relative defaults are taken from the repository root.
#
# Everything listens on 127.0.0.1 (ports picked by the kernel); every step is bounded in
# time; all processes started here are stopped and the temp dir removed on exit.
# --pin split (default on >= 2 CPUs): the load generators (wrk, node) run on CPU 0 and the
# servers (mock, nginx, Switchyard) on the other CPUs, so a proxy and the mock share the
# server CPU(s) and throughput measures their CPU cost per request. --pin none: no pinning.
# The summary reports the CPU other processes used during each run; on a shared machine,
# --wait-quiet S waits (up to S s) before each measurement until no compiler is running.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/bench"
abs() { case "$1" in /*) echo "$1" ;; */*) echo "$ROOT/$1" ;; *) command -v "$1" || echo "$1" ;; esac; }
SWITCHYARD_BIN=$(abs "${SWITCHYARD_BIN:-build/switchyard}")
MOCK_LLM_BIN=$(abs "${MOCK_LLM_BIN:-build/tools/mock-llm/mock-llm}")
NGINX_BIN=$(abs "${NGINX_BIN:-nginx}")
WRK_BIN=$(abs "${WRK_BIN:-wrk}")
NODE_BIN=$(abs "${NODE_BIN:-node}")

OUT=""
DURATION=10
LAT_DURATION=8
CLOSE_DURATION=5
WARMUP=2
CONNS=32
ROUNDS=1
PIN=auto
SEQ=30
CONC="100,500,1000,2000"
STREAMS=1
WAIT_QUIET=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --latency-duration) LAT_DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --pin) PIN=$2; shift 2 ;;
    --seq) SEQ=$2; shift 2 ;;
    --conc) CONC=$2; shift 2 ;;
    --skip-streams) STREAMS=0; shift ;;
    --wait-quiet) WAIT_QUIET=$2; shift 2 ;;
    --quick) DURATION=3; LAT_DURATION=3; CLOSE_DURATION=2; WARMUP=1; SEQ=10; CONC="100,500"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -n "$OUT" && "$OUT" != /* ]]; then OUT="$PWD/$OUT"; fi

for b in "$SWITCHYARD_BIN" "$MOCK_LLM_BIN" "$NGINX_BIN" "$WRK_BIN" "$NODE_BIN"; do
  [[ -x "$b" ]] || { echo "gateway_overhead: not executable: $b" >&2; exit 2; }
done
for t in taskset curl getconf; do
  command -v "$t" >/dev/null || { echo "gateway_overhead: needs $t" >&2; exit 2; }
done

NCPU=$(nproc)
if [[ "$PIN" == auto ]]; then PIN=$([[ $NCPU -ge 2 ]] && echo split || echo none); fi
# Command prefixes (arrays, so that `"${SERVER[@]}" prog &` leaves $! = the program's pid).
if [[ "$PIN" == split ]]; then
  CLIENT_CPUS=0
  SERVER_CPUS=$([[ $NCPU -eq 2 ]] && echo 1 || echo "1-$((NCPU - 1))")
  CLIENT=(taskset -c "$CLIENT_CPUS")
  SERVER=(taskset -c "$SERVER_CPUS")
  PIN_NOTE="wrk and node pinned to CPU $CLIENT_CPUS; mock, nginx and Switchyard pinned to CPU(s) $SERVER_CPUS (taskset)"
elif [[ "$PIN" == none ]]; then
  CLIENT=()
  SERVER=()
  PIN_NOTE="no CPU pinning: wrk/node, the proxy and the mock share all $NCPU CPUs"
else
  echo "gateway_overhead: --pin must be split or none" >&2; exit 2
fi

# Many concurrent streams: each needs a socket in node, two in the gateway, one in the mock.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [[ $(ulimit -n) != unlimited && $(ulimit -n) -lt 8192 ]]; then
  echo "gateway_overhead: warning: ulimit -n is $(ulimit -n); large K stream runs may fail" >&2
fi

TMP=$(mktemp -d /tmp/sy-bench.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

wait_port() {  # FILE PID NAME
  local i
  for i in $(seq 1 150); do
    if [[ -s "$1" ]]; then cat "$1"; return 0; fi
    kill -0 "$2" 2>/dev/null || { echo "$3 exited early:" >&2; cat "$TMP/$3.log" >&2 || true; return 1; }
    sleep 0.1
  done
  echo "$3 did not start in 15 s" >&2; return 1
}

# ------------------------------------------------------------------ start the servers

log "mock: $MOCK_LLM_BIN"
"${SERVER[@]}" "$MOCK_LLM_BIN" --port 0 --port-file "$TMP/mock.port" --threads 1 >"$TMP/mock.log" 2>&1 &
MOCK_PID=$!; PIDS+=("$MOCK_PID")
MOCK_PORT=$(wait_port "$TMP/mock.port" "$MOCK_PID" mock)

mkdir -p "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
worker_rlimit_nofile 65536;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  upstream mock {
    server 127.0.0.1:$MOCK_PORT;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:0;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
EOF
# nginx cannot listen on port 0 and report it: pick a free port from the kernel first.
NGINX_PORT=$("$NODE_BIN" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();})')
sed -i "s/listen 127.0.0.1:0;/listen 127.0.0.1:$NGINX_PORT;/" "$TMP/nginx/nginx.conf"
log "nginx: $NGINX_BIN on port $NGINX_PORT"
"${SERVER[@]}" "$NGINX_BIN" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" \
  -g 'daemon off;' >"$TMP/nginx.log" 2>&1 &
NGINX_PID=$!; PIDS+=("$NGINX_PID")

cat >"$TMP/switchyard.yaml" <<EOF
server:
  host: 127.0.0.1
  port: 0
  threads: 1
  max_connections: 20000
upstream:
  max_idle_connections_per_host: 64
logging:
  level: warn
auth:
  open_access: true
storage:
  sqlite_path: $TMP/switchyard.db
models:
  - name: bench-model
    provider: openai
    base_url: http://127.0.0.1:$MOCK_PORT/v1
    api_key_env: SY_BENCH_UPSTREAM_KEY
EOF
# SY_BENCH_EXTRA_CONFIG: more top-level YAML for the gateway (an A/B of a knob, e.g.
# "ledger: {batch_rows: 1000000, flush_interval_ms: 600000}" to take the ledger writer out).
if [[ -n "${SY_BENCH_EXTRA_CONFIG:-}" ]]; then
  printf '%s\n' "$SY_BENCH_EXTRA_CONFIG" >>"$TMP/switchyard.yaml"
  log "switchyard extra config: $SY_BENCH_EXTRA_CONFIG"
fi
log "switchyard: $SWITCHYARD_BIN"
SY_BENCH_UPSTREAM_KEY=sk-bench "${SERVER[@]}" "$SWITCHYARD_BIN" serve --config "$TMP/switchyard.yaml" \
  --port-file "$TMP/switchyard.port" >"$TMP/switchyard.log" 2>&1 &
SY_PID=$!; PIDS+=("$SY_PID")
SY_PORT=$(wait_port "$TMP/switchyard.port" "$SY_PID" switchyard)

# The nginx worker is the process doing the work (for CPU accounting).
NGINX_WORKER=""
for _ in $(seq 1 50); do
  NGINX_WORKER=$(pgrep -P "$NGINX_PID" | head -1 || true)
  [[ -n "$NGINX_WORKER" ]] && break
  kill -0 "$NGINX_PID" 2>/dev/null || { cat "$TMP/nginx.log" "$TMP/nginx/error.log" >&2; exit 1; }
  sleep 0.1
done
[[ -n "$NGINX_WORKER" ]] || { echo "nginx worker not found" >&2; exit 1; }

declare -A URL PID
URL[direct]="http://127.0.0.1:$MOCK_PORT/v1/chat/completions"
URL[nginx]="http://127.0.0.1:$NGINX_PORT/v1/chat/completions"
URL[switchyard]="http://127.0.0.1:$SY_PORT/v1/chat/completions"
PID[direct]=$MOCK_PID
PID[nginx]=$NGINX_WORKER
PID[switchyard]=$SY_PID
TARGETS=(direct nginx switchyard)

for t in "${TARGETS[@]}"; do
  ok=0
  for _ in $(seq 1 50); do
    body=$(curl -s --max-time 2 "${URL[$t]}" -H 'content-type: application/json' \
      -d '{"model":"bench-model","messages":[{"role":"user","content":"ping"}]}' || true)
    if [[ "$body" == *"Mock reply from"* ]]; then ok=1; break; fi
    sleep 0.1
  done
  [[ $ok == 1 ]] || { echo "$t does not answer: $body" >&2; cat "$TMP"/*.log >&2; exit 1; }
done
log "ready: mock :$MOCK_PORT, nginx :$NGINX_PORT, switchyard :$SY_PORT; $PIN_NOTE"

# ------------------------------------------------------------------ measurement helpers

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() {  # utime + stime of a process, in clock ticks
  local stat
  stat=$(cat "/proc/$1/stat")
  stat=${stat##*) }
  awk '{print $12 + $13}' <<<"$stat"
}

declare -A R  # R[test.target.metric.round]

busy_ticks() { awk '/^cpu /{print $2 + $3 + $4}' /proc/stat; }  # user+nice+system, all CPUs
children_ticks() {  # CPU of this shell's finished children (wrk and its wrappers)
  local stat
  stat=$(cat "/proc/$$/stat")
  stat=${stat##*) }
  awk '{print $14 + $15}' <<<"$stat"
}

# This machine may be shared with builds: note any compiler running around a measurement
# (read-only look-up by process name) so the summary can say the figures are contended.
CONTENDED=0
# --wait-quiet S: before each measurement, wait (at most S seconds) until no compiler has
# been running for 5 s. Off by default (the run then stays within ~2 minutes).
wait_quiet() {
  [[ $WAIT_QUIET -gt 0 ]] || return 0
  local waited=0 quiet=0
  while [[ $waited -lt $WAIT_QUIET && $quiet -lt 5 ]]; do
    if pgrep -x cc1plus >/dev/null 2>&1; then quiet=0; else quiet=$((quiet + 1)); fi
    sleep 1; waited=$((waited + 1))
  done
  [[ $waited -gt 5 ]] && log "waited ${waited}s for the machine to be quiet"
  return 0
}
other_load_check() {
  local n
  n=$(pgrep -c -x cc1plus 2>/dev/null || true)
  if [[ ${n:-0} -gt 0 ]]; then
    CONTENDED=$((CONTENDED + 1))
    log "warning: $n compiler process(es) running: figures are contended"
  fi
}

# run_wrk TEST TARGET CONNS DURATION ROUND [HEADER]: a warm-up, then the measured run.
run_wrk() {
  local test=$1 t=$2 c=$3 d=$4 round=$5 hdr=${6:-} out line c0 c1 m0 m1 b0 b1 k0 k1
  local extra=()
  [[ -n "$hdr" ]] && extra=(-H "$hdr")
  wait_quiet
  "${CLIENT[@]}" "$WRK_BIN" -t1 -c"$c" -d"${WARMUP}s" "${extra[@]}" -s "$HERE/wrk_chat.lua" \
    "${URL[$t]}" >/dev/null 2>&1 || true
  other_load_check
  c0=$(cpu_ticks "${PID[$t]}"); m0=$(cpu_ticks "$MOCK_PID")
  b0=$(busy_ticks); k0=$(children_ticks)
  out=$("${CLIENT[@]}" timeout $((d + 30)) env WRK_MODEL=bench-model "$WRK_BIN" -t1 -c"$c" \
    -d"${d}s" --latency "${extra[@]}" -s "$HERE/wrk_chat.lua" "${URL[$t]}" 2>&1) || { echo "wrk failed: $out" >&2; return 1; }
  c1=$(cpu_ticks "${PID[$t]}"); m1=$(cpu_ticks "$MOCK_PID")
  b1=$(busy_ticks); k1=$(children_ticks)
  other_load_check
  echo "$out" >>"$TMP/wrk.log"
  line=$(grep '^WRK_RESULT' <<<"$out") || { echo "no WRK_RESULT in: $out" >&2; return 1; }
  local kv k v
  for kv in ${line#WRK_RESULT }; do
    k=${kv%%=*}; v=${kv#*=}
    R[$test.$t.$k.$round]=$v
  done
  local req=${R[$test.$t.requests.$round]} dur=${R[$test.$t.duration_us.$round]}
  R[$test.$t.rps.$round]=$(awk -v n="$req" -v d="$dur" 'BEGIN{printf "%.0f", n / (d / 1e6)}')
  # CPU microseconds per request: the proxy process itself, and the mock behind it.
  R[$test.$t.cpu_us.$round]=$(awk -v a="$c0" -v b="$c1" -v n="$req" -v hz="$CLK_TCK" \
    'BEGIN{printf "%.1f", (b - a) * 1e6 / hz / n}')
  R[$test.$t.mock_cpu_us.$round]=$(awk -v a="$m0" -v b="$m1" -v n="$req" -v hz="$CLK_TCK" \
    'BEGIN{printf "%.1f", (b - a) * 1e6 / hz / n}')
  # CPU used by everything else on the machine meanwhile (other users' builds and tests),
  # as a share of one CPU: all user+system time minus the server(s) and wrk.
  R[$test.$t.other_pct.$round]=$(awk -v b="$((b1 - b0))" -v p="$((c1 - c0))" \
    -v m="$([[ $t == direct ]] && echo 0 || echo $((m1 - m0)))" -v k="$((k1 - k0))" \
    -v hz="$CLK_TCK" -v d="$dur" 'BEGIN{x = (b - p - m - k) * 100 / hz / (d / 1e6); printf "%.0f", x < 0 ? 0 : x}')
  R[$test.$t.errors.$round]=$((R[$test.$t.err_connect.$round] + R[$test.$t.err_read.$round] + \
    R[$test.$t.err_write.$round] + R[$test.$t.err_status.$round] + R[$test.$t.err_timeout.$round]))
  log "$test $t round $round: ${R[$test.$t.rps.$round]} req/s, p50 ${R[$test.$t.p50_us.$round]} us, p99 ${R[$test.$t.p99_us.$round]} us, proxy CPU ${R[$test.$t.cpu_us.$round]} us/req, errors ${R[$test.$t.errors.$round]}, other processes ${R[$test.$t.other_pct.$round]}% of a CPU"
}

# med TEST TARGET METRIC: median over rounds.
med() {
  local i vals=()
  for i in $(seq 1 "$ROUNDS"); do vals+=("${R[$1.$2.$3.$i]:-nan}"); done
  printf '%s\n' "${vals[@]}" | sort -g | awk '{a[NR]=$1} END{ x = (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; if (x == int(x)) print int(x); else printf "%.1f\n", x }'
}
# cell TEST TARGET METRIC: the median, with the range over rounds when there are several.
cell() {
  local m i v lo hi
  m=$(med "$1" "$2" "$3")
  if [[ $ROUNDS -le 1 ]]; then echo "$m"; return; fi
  lo=""; hi=""
  for i in $(seq 1 "$ROUNDS"); do
    v=${R[$1.$2.$3.$i]:-}
    [[ -z "$v" ]] && continue
    if [[ -z "$lo" ]] || awk -v a="$v" -v b="$lo" 'BEGIN{exit !(a < b)}'; then lo=$v; fi
    if [[ -z "$hi" ]] || awk -v a="$v" -v b="$hi" 'BEGIN{exit !(a > b)}'; then hi=$v; fi
  done
  echo "$m ($lo–$hi)"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
diff_() { awk -v a="$1" -v b="$2" 'BEGIN{ printf "%+d", a - b }'; }
verdict() { awk -v x="$1" -v lim="$2" -v op="$3" 'BEGIN{ if (x == "n/a") print "n/a"; else if ((op == "ge" && x >= lim) || (op == "le" && x <= lim)) print "met"; else print "**missed**" }'; }
alive() { kill -0 "$SY_PID" 2>/dev/null || { echo "switchyard died:" >&2; cat "$TMP/switchyard.log" >&2; exit 1; }; }

# ------------------------------------------------------------------ 1. throughput, 2. latency

for round in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do run_wrk tput "$t" "$CONNS" "$DURATION" "$round"; done
  alive
done
for round in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do run_wrk lat "$t" 1 "$LAT_DURATION" "$round"; done
  alive
done
# A new client connection per request (what streaming clients without keep-alive do).
for round in $(seq 1 "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do run_wrk close "$t" "$CONNS" "$CLOSE_DURATION" "$round" "Connection: close"; done
  alive
done

# ------------------------------------------------------------------ 3. streaming

STREAM_MD=""
if [[ $STREAMS == 1 ]]; then
  log "streaming probe (sequential, then concurrent K=$CONC)"
  wait_quiet
  other_load_check
  "${CLIENT[@]}" timeout 280 "$NODE_BIN" "$HERE/stream_probe.mjs" \
    --direct "http://127.0.0.1:$MOCK_PORT" --gateway "http://127.0.0.1:$SY_PORT" \
    --seq "$SEQ" --seq-delay 10 --seq-words 20 \
    --conc "$CONC" --conc-delay 50 --conc-words 20 --stall-factor 5 --deadline-ms 20000 \
    --gateway-pid "$SY_PID" --mock-pid "$MOCK_PID" \
    --json "$TMP/stream.json" --md "$TMP/stream.md" >&2 || { echo "stream probe failed" >&2; exit 1; }
  STREAM_MD=$(cat "$TMP/stream.md")
  other_load_check
  alive
fi

# ------------------------------------------------------------------ summary

SUMMARY="$TMP/summary.md"
{
  cpu_model=$(lscpu 2>/dev/null | awk -F: '/Model name/{gsub(/^ +/,"",$2); print $2; exit}')
  echo "### Gateway overhead — $(date -u '+%Y-%m-%d %H:%M UTC'), ${cpu_model:-unknown CPU}, $NCPU CPU(s)"
  echo
  echo "Mock upstream: \`mock-llm --threads 1\`. nginx $("$NGINX_BIN" -v 2>&1 | sed 's/.*nginx\///'): 1 worker, \`proxy_pass\` to an upstream \`keepalive 64\` pool, HTTP/1.1, \`Connection \"\"\`, access log off. Switchyard: \`server.threads: 1\`, upstream pool 64. $PIN_NOTE. Rounds: $ROUNDS (median shown)."
  echo
  if [[ $CONTENDED -gt 0 ]]; then
    echo "**Warning:** compiler processes (cc1plus) were running around $CONTENDED measurement check(s); these figures are contended and not representative."
    echo
  fi
  echo "Non-streaming chat completion (bench/wrk_chat.lua), \`wrk -t1 -c$CONNS -d${DURATION}s --latency\` after a ${WARMUP} s warm-up:"
  echo
  echo "| metric | direct (mock) | nginx | Switchyard | Switchyard / nginx | target |"
  echo "|---|---:|---:|---:|---:|---|"
  d_rps=$(med tput direct rps); n_rps=$(med tput nginx rps); s_rps=$(med tput switchyard rps)
  d_p50=$(med tput direct p50_us); n_p50=$(med tput nginx p50_us); s_p50=$(med tput switchyard p50_us)
  d_p99=$(med tput direct p99_us); n_p99=$(med tput nginx p99_us); s_p99=$(med tput switchyard p99_us)
  tput_ratio=$(ratio "$s_rps" "$n_rps"); p99_ratio=$(ratio "$s_p99" "$n_p99")
  echo "| throughput (req/s) | $(cell tput direct rps) | $(cell tput nginx rps) | $(cell tput switchyard rps) | $tput_ratio | ≥ 0.80: $(verdict "$tput_ratio" 0.8 ge) |"
  echo "| latency p50 (µs) | $(cell tput direct p50_us) | $(cell tput nginx p50_us) | $(cell tput switchyard p50_us) | $(ratio "$s_p50" "$n_p50") | |"
  echo "| latency p99 (µs) | $(cell tput direct p99_us) | $(cell tput nginx p99_us) | $(cell tput switchyard p99_us) | $p99_ratio | ≤ 1.25: $(verdict "$p99_ratio" 1.25 le) |"
  echo "| server process CPU per request (µs) | $(cell tput direct cpu_us) | $(cell tput nginx cpu_us) | $(cell tput switchyard cpu_us) | $(ratio "$(med tput switchyard cpu_us)" "$(med tput nginx cpu_us)") | |"
  echo "| mock CPU per request behind it (µs) | $(med tput direct mock_cpu_us) | $(med tput nginx mock_cpu_us) | $(med tput switchyard mock_cpu_us) | | |"
  echo "| errors (socket + non-2xx) | $(med tput direct errors) | $(med tput nginx errors) | $(med tput switchyard errors) | | |"
  echo "| other processes' CPU meanwhile (% of one CPU) | $(med tput direct other_pct) | $(med tput nginx other_pct) | $(med tput switchyard other_pct) | | should be ~0 |"
  echo
  echo "Added latency at concurrency 1, \`wrk -t1 -c1 -d${LAT_DURATION}s --latency\`:"
  echo
  echo "| metric | direct (mock) | nginx | Switchyard | target |"
  echo "|---|---:|---:|---:|---|"
  d1_50=$(med lat direct p50_us); n1_50=$(med lat nginx p50_us); s1_50=$(med lat switchyard p50_us)
  d1_99=$(med lat direct p99_us); n1_99=$(med lat nginx p99_us); s1_99=$(med lat switchyard p99_us)
  added=$(diff_ "$s1_99" "$d1_99")
  echo "| throughput (req/s) | $(med lat direct rps) | $(med lat nginx rps) | $(med lat switchyard rps) | |"
  echo "| p50 (µs) | $(cell lat direct p50_us) | $(cell lat nginx p50_us) | $(cell lat switchyard p50_us) | |"
  echo "| p99 (µs) | $(cell lat direct p99_us) | $(cell lat nginx p99_us) | $(cell lat switchyard p99_us) | |"
  echo "| server process CPU per request (µs) | $(cell lat direct cpu_us) | $(cell lat nginx cpu_us) | $(cell lat switchyard cpu_us) | |"
  echo "| p50 added over direct (µs) | — | $(diff_ "$n1_50" "$d1_50") | $(diff_ "$s1_50" "$d1_50") | |"
  echo "| p99 added over direct (µs) | — | $(diff_ "$n1_99" "$d1_99") | $added | ≤ 100: $(verdict "${added#+}" 100 le) |"
  echo "| other processes' CPU meanwhile (% of one CPU) | $(med lat direct other_pct) | $(med lat nginx other_pct) | $(med lat switchyard other_pct) | should be ~0 |"
  echo
  echo "A new client connection per request, \`wrk -t1 -c$CONNS -d${CLOSE_DURATION}s -H 'Connection: close'\` (upstream connections stay pooled):"
  echo
  echo "| metric | direct (mock) | nginx | Switchyard | Switchyard / nginx |"
  echo "|---|---:|---:|---:|---:|"
  echo "| throughput (req/s) | $(cell close direct rps) | $(cell close nginx rps) | $(cell close switchyard rps) | $(ratio "$(med close switchyard rps)" "$(med close nginx rps)") |"
  echo "| latency p99 (µs) | $(cell close direct p99_us) | $(cell close nginx p99_us) | $(cell close switchyard p99_us) | $(ratio "$(med close switchyard p99_us)" "$(med close nginx p99_us)") |"
  echo "| server process CPU per request (µs) | $(cell close direct cpu_us) | $(cell close nginx cpu_us) | $(cell close switchyard cpu_us) | $(ratio "$(med close switchyard cpu_us)" "$(med close nginx cpu_us)") |"
  echo "| errors (socket + non-2xx) | $(med close direct errors) | $(med close nginx errors) | $(med close switchyard errors) | |"
  echo "| other processes' CPU meanwhile (% of one CPU) | $(med close direct other_pct) | $(med close nginx other_pct) | $(med close switchyard other_pct) | |"
  echo
  if [[ -n "$STREAM_MD" ]]; then echo "$STREAM_MD"; echo; fi
} >"$SUMMARY"

echo
cat "$SUMMARY"
if [[ -n "$OUT" ]]; then cp "$SUMMARY" "$OUT"; log "summary written to $OUT"; fi
