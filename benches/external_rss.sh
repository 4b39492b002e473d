#!/usr/bin/env bash
# Peak RSS of an external client as the external-client module measures it, against
# `/usr/bin/time -v`'s "Maximum resident set size" for the same command, alternating, ROUNDS
# times each; then the same with BALLAST_MIB of memory touched in the measuring process, whose
# size the kernel hands to every child as its starting `ru_maxrss`.
#
#   bash benches/external_rss.sh                       # the 64 MiB fixture, ROUNDS=5
#   ROUNDS=3 bash benches/external_rss.sh node clients/node/client.js
#
# Target: the module reports at least the allocation and within 5 % of time -v.
# Needs /usr/bin/time (apt-get install -y time) and python3 for the default client.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
BALLAST=${BALLAST:-256}
if [ $# -eq 0 ]; then
  set -- python3 tests/fixtures/clients/alloc_64mb.py
fi
if [ ! -x /usr/bin/time ]; then
  echo "needs /usr/bin/time: apt-get install -y time" >&2
  exit 2
fi

cargo bench --bench external_rss --no-run --quiet 2>/dev/null
driver() { ROUNDS=1 cargo bench --quiet --bench external_rss -- "$@" 2>/dev/null; }

field() { grep -oE "$1=[^ ]+" <<<"$2" | cut -d= -f2; }

echo "client: $*"
for ballast in 0 "$BALLAST"; do
  echo
  echo "measuring process holding ${ballast} MiB:"
  printf '%-6s %12s %12s %8s %14s %12s %14s\n' round "module KiB" "time -v KiB" "diff %" \
    "kernel KiB" samples "parent CPU ms"
  diffs=()
  for round in $(seq "$ROUNDS"); do
    line=$(BALLAST_MIB=$ballast driver "$@")
    ours=$(field peak_kib "$line")
    theirs=$(/usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}')
    diff=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%+.2f", (a - b) * 100 / b }')
    diffs+=("$diff")
    printf '%-6s %12s %12s %8s %14s %12s %14s\n' "$round" "$ours" "$theirs" "$diff" \
      "$(field kernel_kib "$line")" "$(field samples "$line")" "$(field parent_cpu_ms "$line")"
  done
  printf '%s\n' "${diffs[@]}" | sort -g | awk '{ v[NR] = $1 } END {
    printf "median diff %+.2f %%, range %+.2f %% .. %+.2f %%\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
done
