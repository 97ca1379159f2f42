#!/usr/bin/env bash
# Runs every benchmark in benchmarks/ and writes benchmarks/report.md. Figures are ratios or rates measured in one
# run on this machine; compare runs on the same machine only.
set -euo pipefail
cd "$(dirname "$0")/.."

swift build -c release --product sitegate-bench
swift build -c release --product sitegate
bin=.build/release
mkdir -p .build/bench
cc -O2 -o .build/bench/modbus_loop benchmarks/c/modbus_loop.c $(pkg-config --cflags --libs libmodbus)

report=benchmarks/report.md
work="$(mktemp -d /tmp/sitegate-bench.XXXXXX)"
sim_pid=""
trap '[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; true' EXIT

{
  echo "# sitegate benchmark report"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "- machine: $(uname -m), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)"
  echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "- release binary: $(stat -c %s "$bin/sitegate") bytes (debug symbols included unless built by make release)"
  echo
} > "$report"

# 1. Modbus TCP polling: the agent's path against a plain C libmodbus loop, same simulator, same reads.
"$bin/sitegate" simulate --model eastron-sdm630 --units 1,2,3,4,5,6,7,8,9,10 --port 0 --maps devicemaps/models > "$work/sim.out" 2>"$work/sim.log" &
sim_pid=$!
for _ in $(seq 50); do grep -q listening "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/sim.out")"
polls="${MODBUS_POLLS:-20000}"
c_total=0; s_total=0
for round in 1 2 3; do
  c=$(.build/bench/modbus_loop 127.0.0.1 "$port" 10 "$polls" | sed -n 's/.*seconds=//p')
  s=$("$bin/sitegate-bench" modbus 127.0.0.1 "$port" "$polls" 10 | sed -n 's/.*seconds=//p')
  c_total=$(python3 -c "print($c_total + $c)"); s_total=$(python3 -c "print($s_total + $s)")
done
kill "$sim_pid"; sim_pid=""
ratio=$(python3 -c "print(f'{$c_total / $s_total:.3f}')")
{
  echo "## Modbus TCP polling (issue 4; target: ratio >= 0.9)"
  echo
  echo "10 simulated SDM630s behind one TCP endpoint; per poll the SDM630 default plan (2 transactions, 46"
  echo "registers); sitegate runs one bus-thread job per cycle of 10 polls, as the agent does. $polls polls x 3 rounds,"
  echo "C and sitegate interleaved against the same simulator."
  echo
  echo "| loop | polls/s |"
  echo "|---|---|"
  echo "| plain C libmodbus | $(python3 -c "print(int(3 * $polls / $c_total))") |"
  echo "| sitegate (bus thread, planner, decoder) | $(python3 -c "print(int(3 * $polls / $s_total))") |"
  echo
  echo "ratio (sitegate rate / C rate): **$ratio**"
  echo
} >> "$report"

# 2. Buffer ingest and bytes on disk (issue 5; target: >= 100,000 readings/s).
{
  echo "## Buffer ingest (issue 5; target: >= 100,000 readings/s)"
  echo
  echo '```'
  "$bin/sitegate-bench" ingest "${INGEST_POLLS:-20000}"
  echo '```'
  echo
} >> "$report"

# 3. Drain of a 1,000,000-reading backlog to a local mosquitto at QoS 1 (issue 5; target: >= 20,000 readings/s).
{
  echo "## Backlog drain (issue 5; target: >= 20,000 readings/s)"
  echo
  echo '```'
  "$bin/sitegate-bench" drain "${DRAIN_READINGS:-1000000}"
  echo '```'
} >> "$report"

cat "$report"
