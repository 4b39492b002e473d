#!/usr/bin/env bash
# The built-in mock against nginx: served requests per server CPU-second for a fixed JSON
# reply (nginx) and the mock's plain JSON route, under the same wrk load, in one run,
# alternating; then the mock's peak RSS at 128 open connections, and the stream gaps a client
# sees with a 5 ms chunk interval (ITL from nitro-scenario's own runner).
#
#   bash benches/mock_vs_nginx.sh            # ROUNDS=3 SECONDS_EACH=10 CONNS=32 by default
#
# Needs wrk and nginx (apt-get install wrk nginx). Server and wrk share the machine's cores;
# the comparison is per server CPU-second, which is what that sharing leaves fair.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/common.sh
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-10}
CONNS=${CONNS:-32}
SECTIONS=${SECTIONS:-"efficiency memory gaps"}

cargo build --release --quiet
BIN=target/release/nitro-scenario
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

nginx_port=$(free_port)
start_nginx "$work/nginx" "$nginx_port"
mock_port=$(free_port)
"$BIN" mock --port "$mock_port" > "$work/mock.out" &
MOCK_PID=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$mock_port/health" >/dev/null && break; sleep 0.1; done

cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"model":"mock-gpt","messages":[{"role":"user","content":"Hello, world!"}]}'
wrk.headers["Content-Type"] = "application/json"
LUA

# measure NAME PID URL: one wrk run; prints requests per server CPU-second.
measure() {
  local name=$1 pid=$2 url=$3
  local before after out requests
  before=$(cpu_ticks "$pid")
  out=$(wrk -t1 -c"$CONNS" -d"${SECONDS_EACH}s" -s "$work/post.lua" "$url")
  after=$(cpu_ticks "$pid")
  requests=$(wrk_requests "$out")
  python3 -c "t=($after-$before)/$TICKS; print(f'$name requests={$requests} server_cpu_s={t:.2f} per_cpu_s={$requests/max(t,1e-9):.0f}')"
}

[[ $SECTIONS == *efficiency* ]] && echo "# served requests per server CPU-second, wrk -t1 -c$CONNS -d${SECONDS_EACH}s, $ROUNDS rounds alternating"
for round in $([[ $SECTIONS == *efficiency* ]] && seq "$ROUNDS"); do
  measure "round=$round nginx" "$NGINX_PID" "http://127.0.0.1:$nginx_port/"
  measure "round=$round mock " "$MOCK_PID" "http://127.0.0.1:$mock_port/v1/chat/completions"
done

if [[ $SECTIONS == *memory* ]]; then
echo "# mock peak RSS at 128 connections (VmHWM), after 10 s and after 60 s more"
wrk -t1 -c128 -d10s -s "$work/post.lua" "http://127.0.0.1:$mock_port/v1/chat/completions" >/dev/null
grep VmHWM "/proc/$MOCK_PID/status"
wrk -t1 -c128 -d60s -s "$work/post.lua" "http://127.0.0.1:$mock_port/v1/chat/completions" >/dev/null
grep -E 'VmHWM|VmRSS' "/proc/$MOCK_PID/status"
fi
[[ $SECTIONS == *gaps* ]] || exit 0

echo "# stream gaps with a 5 ms chunk interval, light load (4 streams), as nitro-scenario measures them"
cat > "$work/gaps.toml" <<TOML
name = "gaps"
[target]
base_url = "mock"
[run]
warmup = "1s"
duration = "10s"
[routes.stream]
path = "/v1/chat/completions:stream"
stream = true
[matrix]
route = ["stream"]
concurrency = [4]
[mock.stream]
chunks = 64
interval = "5ms"
TOML
"$BIN" run "$work/gaps.toml" --quiet --out "$work/gaps" 2>/dev/null
python3 - "$work/gaps/results.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["points"][0]["runs"][0]["stream"]["itl"]
print(f"itl p50={run['p50_us']/1000:.2f} ms p99={run['p99_us']/1000:.2f} ms p99.9={run['p999_us']/1000:.2f} ms max={run['max_us']/1000:.2f} ms over {run['count']} gaps")
PY
