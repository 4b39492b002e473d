#!/usr/bin/env bash
# nitro-scenario at thousands of concurrent streams against the built-in mock, each on its own
# core: the mock (latency 100 ms, 32 content chunks 20 ms apart) pinned to core 0, the client
# to core 1. For each level of STREAMS, one closed-loop point on the stream route, a warmup,
# then a measure phase of SECONDS_:
#   memory    the client's VmRSS every SAMPLE_EVERY seconds of the measure phase (flat?) and
#             its peak as the client reports it, and the mock's VmRSS beside it;
#   accuracy  TTFT error against the mock's schedule (TTFT - 100 ms, p50 and p99) and ITL p50
#             against the 20 ms interval, from the client's own results.json, beside how late
#             the mock itself ran against that schedule (its `GET /mock/stats`): what of the
#             error is the server's;
#   who limits  client and mock CPU (cores) over the measure phase, the client's busiest
#             runtime thread, its runtime lag p99, its client-bound flag, and which side is
#             saturated (a process busy >= 90% of its core).
#
#   bash benches/streams.sh                       # STREAMS="1000 10000" SECONDS_=60
#   STREAMS=1000 SECONDS_=10 bash benches/streams.sh
#   BIN=/tmp/old/nitro-scenario bash benches/streams.sh   # another build, e.g. "before"
#   RAMP=0 bash benches/streams.sh     # all workers start at once (default: spread over
#                                      # 0.72 s, one stream's length, by `run.ramp_up`)
#   LOAD=open bash benches/streams.sh
#       # the same number of streams in flight on average, from Poisson arrivals at
#       # STREAMS / 0.72 s (a stream's length) per second, rather than STREAMS closed-loop
#       # workers: arrivals at random times rather than evenly spread ones
#                                  # (MOCK_BIN, the mock's binary, defaults to BIN)
#   RT=1 bash benches/streams.sh
#       # mock and client at SCHED_FIFO priority 10, the mock's pacing thread at 11 (chrt,
#       # needs CAP_SYS_NICE): nothing else in the machine preempts them, so what is left of
#       # the tail is theirs, or the virtual machine's
#
# Needs 2 cores and `ulimit -n` above the largest level (the client holds one socket per
# stream, the mock another). Traffic goes to 127.0.0.1 only; every phase is bounded by time.
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/common.sh

STREAMS=${STREAMS:-"1000 10000"}
SECONDS_=${SECONDS_:-60}
WARMUP=${WARMUP:-5}
SAMPLE_EVERY=${SAMPLE_EVERY:-5}
LOAD=${LOAD:-closed}
RT=${RT:-0}
# Workers that start together stay in step: every 20 ms the mock would write a burst of
# STREAMS chunks. Spread over one stream's length, their chunks are spread evenly.
RAMP=${RAMP:-0.72s}
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN=target/release/nitro-scenario
fi
MOCK_BIN=${MOCK_BIN:-$BIN}
work=$(mktemp -d)
MOCK_PID=
trap 'kill $(jobs -p) $MOCK_PID 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/mock.toml" <<'TOML'
[mock]
latency = "100ms"
stream = { chunks = 32, interval = "20ms" }
TOML

# sample PID...: append " RSS_KIB TICKS" per process to $line (RSS now, user + system clock
# ticks so far); false when one has gone. Bash builtins only, no process started: a sampler
# that forks python or awk every few seconds preempts the client or the mock for milliseconds
# and shows up in their tails.
sample() {
  local pid key value rest rss stat
  for pid in "$@"; do
    rss=
    while read -r key value rest; do
      [[ $key == VmRSS: ]] && { rss=$value; break; }
    done < "/proc/$pid/status" || return 1
    read -ra stat < "/proc/$pid/stat" || return 1
    [ -n "$rss" ] || return 1
    line+=" $rss $((stat[13] + stat[14]))"
  done 2>/dev/null
}

for streams in $STREAMS; do
  # A fresh mock per level, so its memory figure is that level's.
  # Every thread of the mock (its runtime and its pacer) on core 0, from its start.
  MOCK_CPU=0 start_mock "$MOCK_BIN" --config "$work/mock.toml"
  prio=()
  if [[ $RT == 1 ]]; then
    prio=(chrt -f 10)
    for t in /proc/"$MOCK_PID"/task/*; do
      p=10
      [[ $(<"$t/comm") == mock-pacer ]] && p=11
      chrt -f -p "$p" "${t##*/}" >/dev/null
    done
  fi
  cat > "$work/s.toml" <<TOML
name = "streams"
[target]
base_url = "${MOCK_URL%/}"
[run]
warmup = "${WARMUP}s"
duration = "${SECONDS_}s"
ramp_up = "${RAMP}"
[routes.stream]
path = "/v1/chat/completions:stream"
stream = true
TOML
  if [ "$LOAD" = open ]; then
    cat >> "$work/s.toml" <<TOML
[run.arrival]
process = "poisson"
max_in_flight = $((streams * 6 / 5))
[matrix]
route = ["stream"]
rate = [$(python3 -c "print(round($streams / 0.72))")]
TOML
  else
    cat >> "$work/s.toml" <<TOML
[matrix]
route = ["stream"]
concurrency = [$streams]
TOML
  fi
  "${prio[@]}" taskset -c 1 "$BIN" run "$work/s.toml" --quiet --out "$work/out" >/dev/null 2>"$work/err" &
  client=$!
  # Samples: seconds since start, client RSS, client CPU ticks, mock RSS, mock CPU ticks;
  # taken on the client's core.
  : > "$work/samples"
  taskset -cp 1 $BASHPID >/dev/null
  start=$EPOCHREALTIME
  while kill -0 "$client" 2>/dev/null; do
    line=$(( (${EPOCHREALTIME/./} - ${start/./}) / 1000 ))
    sample "$client" "$MOCK_PID" && echo "$line" >> "$work/samples"
    sleep "$SAMPLE_EVERY"
  done
  taskset -cp 0,1 $BASHPID >/dev/null
  if ! wait "$client"; then
    echo "streams=$streams: the client failed:" >&2
    cat "$work/err" >&2
    exit 1
  fi
  python3 - "$work/out/results.json" "$work/samples" "$streams" "$WARMUP" "$SECONDS_" "$TICKS" "$LOAD" "$MOCK_URL" <<'PY'
import json, sys, urllib.request
results, samples, streams, warmup, seconds, ticks, load, mock_url = sys.argv[1:]
streams = int(streams)
warmup, seconds, ticks = float(warmup), float(seconds), float(ticks)
run = json.load(open(results))["points"][0]["runs"][0]
s, c = run["stream"], run["client"]
# Columns: ms since start, client RSS KiB, client ticks, mock RSS KiB, mock ticks.
rows = [list(map(float, l.split())) for l in open(samples)]
rows = [[r[0] / 1000, r[1], r[3], r[2], r[4]] for r in rows]
# Samples inside the measure phase (a second's margin at each end for start-up and reports).
inside = [r for r in rows if warmup + 1 <= r[0] <= warmup + seconds + 1] or rows
t0, t1 = inside[0], inside[-1]
wall = max(t1[0] - t0[0], 1e-9)
client_cores = (t1[3] - t0[3]) / ticks / wall
mock_cores = (t1[4] - t0[4]) / ticks / wall
ttft, itl = s["ttft"], s["itl"]
ms = lambda us: us / 1000
print(f"streams={streams} ({load}): {run['requests']} streams in {run['measure_secs']:.1f} s, "
      f"{s['not_streamed']} not streamed, {run['in_flight_at_end']} in flight at the end")
print(f"  TTFT error vs 100 ms: p50 {ms(ttft['p50_us']) - 100:+.2f} ms, p99 {ms(ttft['p99_us']) - 100:+.2f} ms, "
      f"max {ms(ttft['max_us']) - 100:+.2f} ms")
print(f"  ITL: p50 {ms(itl['p50_us']):.3f} ms (interval 20 ms, error {ms(itl['p50_us']) - 20:+.3f}), "
      f"p99 {ms(itl['p99_us']):.3f} ms")
# The mock's own lateness against its schedule (`GET /mock/stats`, warmup included): the part
# of the error above that is the server's, not the client's.
late = json.load(urllib.request.urlopen(mock_url + "mock/stats"))["late_us"]
first, chunk = late["first_chunk"], late["chunk"]
print(f"  mock behind its schedule (whole run): first chunk p50 +{ms(first['p50']):.2f} ms, "
      f"p99 +{ms(first['p99']):.2f} ms, max +{ms(first['max']):.2f} ms; "
      f"later chunks p99 +{ms(chunk['p99']):.2f} ms")
print(f"  client RSS every {rows[1][0] - rows[0][0] if len(rows) > 1 else 0:.0f} s of the measure phase (MB): "
      + " ".join(f"{r[1] / 1024:.0f}" for r in inside)
      + f"; peak {c['peak_rss_bytes'] / 2**20:.1f} MiB, {(c['peak_rss_bytes'] / 2**20 - 16) * 1024 / streams:.1f} KiB per stream over 16 MiB")
print(f"  mock RSS (MB): " + " ".join(f"{r[2] / 1024:.0f}" for r in inside))
print(f"  CPU (cores): client {client_cores:.2f} (busiest runtime thread {c['busiest_thread_share']:.2f}), "
      f"mock {mock_cores:.2f}; client lag p99 {c['lag_p99_us'] / 1000:.2f} ms; "
      f"client-bound: {str(c['client_bound']).lower()}")
saturated = [n for n, v in (("client", client_cores), ("mock", mock_cores)) if v >= 0.9]
print(f"  saturated: {', '.join(saturated) or 'neither'}")
PY
  kill "$MOCK_PID" 2>/dev/null || true
  wait "$MOCK_PID" 2>/dev/null || true
  MOCK_PID=
done
