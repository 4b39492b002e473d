#!/usr/bin/env bash
# The open loop's accuracy and cost: constant arrivals at RATE requests per second against the
# built-in mock for SECONDS, the mock pinned to core 0 and nitro-scenario to core 1. Reports
# the send lag (p50, p99, max), the achieved against the offered rate, and the client's peak
# RSS, as nitro-scenario's own results.json has them.
#
#   bash benches/open_loop.sh               # 5,000 req/s for 30 s
#   RATE=2000 SECONDS_=10 bash benches/open_loop.sh
#   RT=1 bash benches/open_loop.sh          # mock and client at SCHED_FIFO priority 10
#   BIN=/tmp/old/nitro-scenario bash benches/open_loop.sh   # another build, e.g. a commit before
#
# RT=1 runs both at real-time priority (chrt, needs CAP_SYS_NICE), so that other load on a
# shared machine cannot preempt them: the send lag is then the client's own, not the other
# processes' time slices. With perf installed the client also runs under `perf stat`, and the
# script prints its context switches and CPU time per request (warmup included).
#
# Targets (README, Performance): send lag p99 < 1 ms, achieved within 1% of offered, RSS flat.
# Traffic goes to 127.0.0.1 only; the phase is bounded by its duration.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh

RATE=${RATE:-5000}
SECONDS_=${SECONDS_:-30}
RT=${RT:-0}
if [[ -z ${BIN:-} ]]; then
  BIN=target/release/nitro-scenario
  cargo build --release --quiet
fi
work=$(mktemp -d)
trap 'kill "${MOCK_PID:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

start_mock "$BIN"
taskset -pc 0 "$MOCK_PID" >/dev/null
prio=()
if [[ $RT == 1 ]]; then
  prio=(chrt -f 10)
  for t in /proc/"$MOCK_PID"/task/*; do chrt -f -p 10 "${t##*/}" >/dev/null; done
fi
perf_stat=()
if command -v perf >/dev/null; then
  perf_stat=(perf stat -x, -o "$work/perf.csv" -e context-switches,task-clock)
fi
cat > "$work/open.toml" <<TOML
name = "open-loop-bench"
[target]
base_url = "$MOCK_URL"
transport = "hyper"
[run]
warmup = "2s"
duration = "${SECONDS_}s"
[run.arrival]
process = "constant"
[routes.chat]
path = "/v1/chat/completions"
[matrix]
route = ["chat"]
rate = [$RATE]
TOML
"${perf_stat[@]}" taskset -c 1 "${prio[@]}" "$BIN" run "$work/open.toml" --out "$work/out" --quiet \
  >/dev/null 2>&1
python3 - "$work/out/results.json" "$work/perf.csv" "$RATE" "$SECONDS_" <<'PY'
import json, os, sys
run = json.load(open(sys.argv[1]))["points"][0]["runs"][0]
o = run["open_loop"]
lag = o["send_lag"]
print(f"offered   {o['offered_rps']:.1f} req/s, achieved {o['achieved_rps']:.1f} req/s "
      f"({100 * o['achieved_rps'] / o['offered_rps']:.2f}%), sent {o['sent']} of {o['scheduled']}, "
      f"dropped {o['dropped']}, queued {o['queued']}, peak in flight {o['peak_in_flight']}")
print(f"send lag  p50 {lag['p50_us']} us, p99 {lag['p99_us']} us, max {lag['max_us']} us; "
      f"late sends {o['late']}; behind schedule: {o['behind_schedule']}")
print(f"latency   response p99 {run['latency']['p99_us']} us, service p99 {o['service_time']['p99_us']} us")
print(f"client    peak RSS {run['client']['peak_rss_bytes'] / 2**20:.1f} MiB, "
      f"CPU {run['client']['cpu_utilization']:.2f} cores, client-bound: {run['client']['client_bound']}")
if os.path.exists(sys.argv[2]):
    counts = {}
    for line in open(sys.argv[2]):
        cells = line.strip().split(",")
        if len(cells) > 2 and cells[0].replace(".", "").isdigit():
            counts[cells[2]] = float(cells[0])
    requests = float(sys.argv[3]) * (2 + float(sys.argv[4]))
    print(f"perf      {counts.get('context-switches', 0) / requests:.2f} context switches and "
          f"{counts.get('task-clock', 0) * 1000 / requests:.1f} us of CPU per request, warmup included")
PY
