#!/usr/bin/env bash
# nitro-scenario as a load generator against oha and wrk: requests completed per client
# CPU-second against nginx's fixed JSON reply at concurrency 32 and 128, in one run,
# alternating; peak RSS of each; then p50 accuracy against the mock with a fixed 10 ms latency,
# well below saturation, next to oha's p50 in the same run.
#
#   bash benches/client_vs_oha.sh        # ROUNDS=3 SECONDS_EACH=10 by default
#   TRANSPORTS="hyper lean" bash benches/client_vs_oha.sh
#       # nitro-scenario once per listed `target.transport` in every round (default: auto)
#   PIN=0 bash benches/client_vs_oha.sh
#       # do not pin; by default nginx runs on core 0 and every client on core 1
#   SECTIONS=fixed ROUNDS=8 bash benches/client_vs_oha.sh
#       # the same comparison with a fixed request count (REQUESTS=300000 at LEVELS) instead
#       # of a fixed time: client CPU seconds for the same work, paired rounds, medians
#
# Needs wrk and nginx (apt-get install wrk nginx) and oha (cargo install oha --locked).
# Client and server share the machine's two cores: compare per client CPU-second.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/common.sh
ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-10}
OHA=${OHA:-$(command -v oha || echo "$HOME/.cargo/bin/oha")}
SECTIONS=${SECTIONS:-"efficiency memory accuracy"}
TRANSPORTS=${TRANSPORTS:-auto}
PIN=${PIN:-1}

cargo build --release --quiet
BIN=target/release/nitro-scenario
work=$(mktemp -d)
MOCK_PID=
trap 'kill $(jobs -p) $MOCK_PID 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(free_port)
start_nginx "$work/nginx" "$port"
# Pinned, server and client never share a core: nginx (master and worker) on core 0, each
# client on core 1.
CLIENT=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
  taskset -pc 0 "$NGINX_MASTER" >/dev/null
  taskset -pc 0 "$NGINX_PID" >/dev/null
  CLIENT=(taskset -c 1)
fi

# scenario FILE URL CONC SECONDS: a one-point scenario, a GET of / (nginx) or, with CHAT=1,
# a POST of a small chat body to /v1/chat/completions (the mock).
scenario() {
  local route='method = "GET"
path = "/"
body = "none"'
  if [ "${CHAT:-0}" = 1 ]; then
    route='path = "/v1/chat/completions"
body = { template = '"'"'{"model":"mock-gpt","messages":[{"role":"user","content":"Hello, world!"}]}'"'"' }
headers = { content-type = "application/json" }'
  fi
  cat > "$1" <<TOML
name = "bench"
[target]
base_url = "$2"
transport = "${TRANSPORT:-auto}"
[run]
duration = "${4}s"
[routes.r]
$route
[matrix]
route = ["r"]
concurrency = [$3]
TOML
}

# report NAME REQUESTS USAGE_LINE: one round's line; the figure is kept in $work/figures for
# the medians
report() {
  local cpu rss
  cpu=$(grep -oE 'cpu_s=[0-9.]+' <<<"$3" | cut -d= -f2)
  rss=$(grep -oE 'maxrss_kb=[0-9]+' <<<"$3" | cut -d= -f2)
  python3 -c "print(f'$1 requests=$2 client_cpu_s=$cpu per_cpu_s={$2/max($cpu,1e-9):.0f} peak_rss_mb={$rss/1024:.1f}')"
  python3 -c "print('${1#round=* }', $2/max($cpu,1e-9), sep='\t')" >> "$work/figures"
}

# medians: each client's median requests per client CPU-second over the rounds, and its ratio
# to wrk's
medians() {
  python3 - "$work/figures" <<'PY'
import statistics, sys
figures = {}
for line in open(sys.argv[1]):
    name, value = line.rstrip("\n").split("\t")
    figures.setdefault(name, []).append(float(value))
wrk = statistics.median(figures.get("wrk", [float("nan")]))
for name, values in figures.items():
    m = statistics.median(values)
    print(f"median {name}: {m:,.0f} req per client CPU-s over {len(values)} rounds, {m / wrk:.2f}x wrk")
PY
  rm -f "$work/figures"
}

for conc in $([[ $SECTIONS == *efficiency* ]] && echo ${LEVELS:-32 128}); do
  echo "# c=$conc, ${SECONDS_EACH}s each, requests per client CPU-second"
  for round in $(seq "$ROUNDS"); do
    for transport in $TRANSPORTS; do
      TRANSPORT=$transport scenario "$work/s.toml" "http://127.0.0.1:$port" "$conc" "$SECONDS_EACH"
      usage=$("${CLIENT[@]}" python3 benches/usage.py "$BIN" run "$work/s.toml" --quiet --out "$work/out" 2>&1 >/dev/null | tail -1)
      requests=$(python3 -c "import json; print(json.load(open('$work/out/results.json'))['points'][0]['runs'][0]['requests'])")
      report "round=$round nitro-scenario ($transport)" "$requests" "$usage"
    done
    usage=$("${CLIENT[@]}" python3 benches/usage.py "$OHA" -z "${SECONDS_EACH}s" -c "$conc" --no-tui --output-format json -o "$work/oha.json" "http://127.0.0.1:$port/" 2>&1 | tail -1)
    requests=$(python3 -c "import json; print(sum(json.load(open('$work/oha.json'))['statusCodeDistribution'].values()))")
    report "round=$round oha" "$requests" "$usage"
    out=$("${CLIENT[@]}" python3 benches/usage.py wrk -t1 -c"$conc" -d"${SECONDS_EACH}s" "http://127.0.0.1:$port/" 2>"$work/wrk.err")
    report "round=$round wrk" "$(wrk_requests "$out")" "$(tail -1 "$work/wrk.err")"
  done
  medians
done

if [[ $SECTIONS == *fixed* ]]; then
  requests=${REQUESTS:-300000}
  for conc in ${LEVELS:-32 128}; do
    echo "# c=$conc, $requests requests each, client CPU seconds (nitro-scenario, oha), $ROUNDS paired rounds"
    scenario "$work/f.toml" "http://127.0.0.1:$port" "$conc" 3600
    sed -i "s/^duration = .*/duration = \"3600s\"\nrequests = $requests/" "$work/f.toml"
    ours=() theirs=()
    for round in $(seq "$ROUNDS"); do
      a=$("${CLIENT[@]}" python3 benches/usage.py "$BIN" run "$work/f.toml" --quiet --out "$work/f" 2>&1 >/dev/null | tail -1 | grep -oE 'cpu_s=[0-9.]+' | cut -d= -f2)
      b=$("${CLIENT[@]}" python3 benches/usage.py "$OHA" -n "$requests" -c "$conc" --no-tui --output-format json -o "$work/oha.json" "http://127.0.0.1:$port/" 2>&1 | tail -1 | grep -oE 'cpu_s=[0-9.]+' | cut -d= -f2)
      echo "round=$round nitro-scenario_cpu_s=$a oha_cpu_s=$b"
      ours+=("$a") theirs+=("$b")
    done
    python3 -c "
import statistics as s
a=[${ours[*]/%/,}]; b=[${theirs[*]/%/,}]; n=$requests
print(f'median req per client CPU-s: nitro-scenario {n/s.median(a):,.0f}, oha {n/s.median(b):,.0f}; nitro-scenario used less CPU in {sum(x<y for x,y in zip(a,b))} of {len(a)} rounds')"
  done
fi

if [[ $SECTIONS == *memory* ]]; then
  echo "# client peak RSS at c=128 against nginx: a 10 s and a 60 s measure phase"
  for secs in 10 60; do
    scenario "$work/r.toml" "http://127.0.0.1:$port" 128 "$secs"
    usage=$(python3 benches/usage.py "$BIN" run "$work/r.toml" --quiet --out "$work/r" 2>&1 >/dev/null | tail -1)
    phase=$(python3 -c "import json; print(json.load(open('$work/r/results.json'))['points'][0]['runs'][0]['client']['peak_rss_bytes']/1048576)")
    python3 -c "print(f'measure={$secs}s process_peak_rss_mb={$(grep -oE 'maxrss_kb=[0-9]+' <<<"$usage" | cut -d= -f2)/1024:.1f} phase_peak_rss_mb={$phase:.1f}')"
  done
fi

[[ $SECTIONS == *accuracy* ]] || exit 0
echo "# p50 accuracy against the mock with a fixed 10 ms latency, c=8, POST /v1/chat/completions"
cat > "$work/mock.toml" <<'TOML'
[mock]
latency = "10ms"
TOML
start_mock "$BIN" --config "$work/mock.toml"
mock_base=${MOCK_URL%/}
CHAT=1 scenario "$work/m.toml" "$mock_base" 8 "$SECONDS_EACH"
body='{"model":"mock-gpt","messages":[{"role":"user","content":"Hello, world!"}]}'
for round in $(seq "$ROUNDS"); do
  "$BIN" run "$work/m.toml" --quiet --out "$work/m" 2>/dev/null
  ours=$(python3 -c "import json; print(json.load(open('$work/m/results.json'))['points'][0]['runs'][0]['latency']['p50_us']/1000)")
  "$OHA" -z "${SECONDS_EACH}s" -c 8 --no-tui --output-format json -o "$work/oha.json" -m POST \
    -H "content-type: application/json" -d "$body" "$mock_base/v1/chat/completions" >/dev/null
  theirs=$(python3 -c "import json; print(json.load(open('$work/oha.json'))['latencyPercentiles']['p50']*1000)")
  python3 -c "print(f'round=$round p50 nitro-scenario={$ours:.3f} ms oha={$theirs:.3f} ms difference={abs($ours-$theirs):.3f} ms')"
done
