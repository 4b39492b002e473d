#!/usr/bin/env bash
# Coordinated omission, shown and corrected: constant arrivals at RATE requests per second
# for SECONDS_ against the built-in mock (1 ms answers), every STALL_EVERY-th request stalled
# 1 s. The mock is pinned to core 0, every client to core 1, each run against a fresh mock.
#
# Four runs, the same schedule:
#   nitro-scenario, max_in_flight = 1   one request in flight, like one connection: the stall
#                                       holds the requests due behind it, and their response
#                                       time (from the intended start) shows the backlog; the
#                                       service time (from the send) does not
#   nitro-scenario, max_in_flight 1000  the open loop with room: due requests go out on other
#                                       workers, so the stall is one slow request, no backlog
#   oha -q RATE -c 1 --latency-correction   oha's correction, for comparison
#   oha -q RATE -c 1                        oha uncorrected: the backlog disappears (omission)
#
#   bash benches/coordinated_omission.sh
#   RATE=100 SECONDS_=10 STALL_EVERY=500 bash benches/coordinated_omission.sh
#   RT=1 bash benches/coordinated_omission.sh     # mock and clients at SCHED_FIFO priority 10
#
# RT=1 (chrt, needs CAP_SYS_NICE) keeps other load on a shared machine from preempting them,
# so that the tails are the stalls', not the machine's.
#
# Traffic goes to 127.0.0.1 only; every run is bounded by its duration.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/common.sh

RATE=${RATE:-200}
SECONDS_=${SECONDS_:-20}
STALL_EVERY=${STALL_EVERY:-1000}
RT=${RT:-0}
prio=()
[[ $RT == 1 ]] && prio=(chrt -f 10)
BIN=target/release/nitro-scenario
OHA=${OHA:-$HOME/.cargo/bin/oha}
cargo build --release --quiet
work=$(mktemp -d)
trap 'kill "${MOCK_PID:-}" 2>/dev/null || true; rm -rf "$work"' EXIT

cat > "$work/mock.toml" <<TOML
[mock]
latency = "1ms"
faults.stall = { every = $STALL_EVERY, duration = "1s" }
TOML
BODY='{"model":"mock-gpt","messages":[{"role":"user","content":"Hello, world!"}],"stream":false}'

fresh_mock() {
  kill "${MOCK_PID:-}" 2>/dev/null || true
  start_mock "$BIN" --config "$work/mock.toml"
  taskset -pc 0 "$MOCK_PID" >/dev/null
  if [[ $RT == 1 ]]; then
    for t in /proc/"$MOCK_PID"/task/*; do chrt -f -p 10 "${t##*/}" >/dev/null; done
  fi
}

# nitro NAME MAX_IN_FLIGHT: one run, its results.json in $work/NAME.
nitro() {
  fresh_mock
  cat > "$work/$1.toml" <<TOML
name = "co-bench"
[target]
base_url = "$MOCK_URL"
[run]
duration = "${SECONDS_}s"
[run.arrival]
process = "constant"
max_in_flight = $2
[routes.chat]
path = "/v1/chat/completions"
[matrix]
route = ["chat"]
rate = [$RATE]
TOML
  taskset -c 1 "${prio[@]}" "$BIN" run "$work/$1.toml" --out "$work/$1" --quiet >/dev/null 2>&1
}

# oha NAME [FLAGS...]: one run, its JSON in $work/NAME.json.
oha_run() {
  local name=$1
  shift
  fresh_mock
  taskset -c 1 "${prio[@]}" "$OHA" --no-tui --output-format json -z "${SECONDS_}s" -q "$RATE" -c 1 "$@" \
    -m POST -T application/json -d "$BODY" "${MOCK_URL}v1/chat/completions" >"$work/$name.json"
}

nitro nitro-cap1 1
nitro nitro-open 1000
oha_run oha-corrected --latency-correction
oha_run oha-raw

echo "constant $RATE req/s for ${SECONDS_}s, 1 ms answers, every ${STALL_EVERY}th stalled 1 s"
python3 - "$work" <<'PY'
import json, sys, os
work = sys.argv[1]
def ms(us): return f"{us / 1000:9.2f}"
print(f"{'run':44} {'requests':>8} {'p50 ms':>9} {'p99 ms':>9} {'p99.9 ms':>9} {'max ms':>9}")
for name, label in [("nitro-cap1", "nitro-scenario, max_in_flight = 1"),
                    ("nitro-open", "nitro-scenario, max_in_flight = 1000")]:
    run = json.load(open(os.path.join(work, name, "results.json")))["points"][0]["runs"][0]
    o = run["open_loop"]
    for kind, h in [("response time", run["latency"]), ("service time", o["service_time"])]:
        print(f"{label + ', ' + kind:44} {h['count']:8d} {ms(h['p50_us'])} {ms(h['p99_us'])} "
              f"{ms(h['p999_us'])} {ms(h['max_us'])}")
    q = o["queue_time"]
    print(f"{'  queued ' + str(o['queued']) + ', dropped ' + str(o['dropped']) + ', offered / achieved':44} "
          f"{o['offered_rps']:.1f} / {o['achieved_rps']:.1f} req/s"
          + (f", queue p99 {q['p99_us'] / 1000:.1f} ms" if q else ""))
for name, label in [("oha-corrected", "oha -c 1 --latency-correction"), ("oha-raw", "oha -c 1")]:
    r = json.load(open(os.path.join(work, name + ".json")))
    p = r["latencyPercentiles"]
    count = sum(r["statusCodeDistribution"].values())
    f = lambda s: f"{(s or 0) * 1000:9.2f}"
    print(f"{label:44} {count:8d} {f(p['p50'])} {f(p['p99'])} {f(p['p99.9'])} "
          f"{f(r['summary']['slowest'])}")
PY
