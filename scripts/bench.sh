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
cc -O2 -o .build/bench/footprint_loop benchmarks/c/footprint_loop.c $(pkg-config --cflags --libs libmodbus libmosquitto sqlite3)

report=benchmarks/report.md
work="$(mktemp -d /tmp/sitegate-bench.XXXXXX)"
# Every figure the benchmarks print, for the summary beside the previous run's (benchmarks/compare.py).
figures="$work/figures.txt"
sim_pid=""
wear_pid=""
trap '[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; [ -n "$wear_pid" ] && kill "$wear_pid" 2>/dev/null; true' EXIT

# Flash wear counts bytes, not time: it runs in the background while the others run (WEAR_SECONDS, default 600).
# Its buffers must be on a disk (/var/tmp), not on a tmpfs.
python3 benchmarks/flashwear.py "$bin/sitegate" "${WEAR_SECONDS:-600}" > "$work/wear.md" 2> "$work/wear.err" &
wear_pid=$!

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
echo "figure: modbus_ratio $ratio x" >> "$figures"

# 2. Buffer ingest and bytes on disk (issue 5; target: >= 100,000 readings/s).
{
  echo "## Buffer ingest (issue 5; target: >= 100,000 readings/s)"
  echo
  echo '```'
  "$bin/sitegate-bench" ingest "${INGEST_POLLS:-20000}" | tee -a "$figures"
  echo '```'
  echo
} >> "$report"

# 3. Drain of a 1,000,000-reading backlog to a local mosquitto at QoS 1 (issue 5; target: >= 20,000 readings/s).
{
  echo "## Backlog drain (issue 5; target: >= 20,000 readings/s)"
  echo
  echo '```'
  "$bin/sitegate-bench" drain "${DRAIN_READINGS:-1000000}" | tee -a "$figures"
  echo '```'
  echo
} >> "$report"

# 4. Footprint and start-up against a plain C libmodbus + libmosquitto loop (issue 16, items 1, 2 and 7).
# The dynamic build gets one round (a side figure); the shipped binary below gets FOOTPRINT_ROUNDS (2 by default).
{
  echo "## Footprint and start-up (issue 16; targets: CPU <= 1.25x the C loop, peak RSS <= 18 MiB)"
  echo
  FOOTPRINT_ROUNDS=1 python3 benchmarks/footprint.py "$bin/sitegate" .build/bench/footprint_loop "${FOOTPRINT_SECONDS:-60}" | tee -a "$figures" | grep -v '^figure:'
  echo
} >> "$report"

# 4a. The same for the binary the package ships (make release: static, stripped, its hot code laid out together;
# docs/performance.md, "Memory"), built in a folder of its own so that the dynamic build above stays.
make -s release SCRATCH_PATH=.build-shipped > "$work/release.log" 2>&1
{
  echo "### The shipped binary (make release), same load"
  echo
  FOOTPRINT_FIGURE_PREFIX=shipped_ python3 benchmarks/footprint.py "$(pwd)/.build-shipped/release/sitegate" \
    .build/bench/footprint_loop "${FOOTPRINT_SECONDS:-60}" | tee -a "$figures" | grep -v '^figure:'
  echo
} >> "$report"

# 4b. Park scale (issue 16, item 4): 2,000 meters on 16 buses, RTU over ptys and TCP; a few minutes.
{
  echo "## Park scale (issue 16, item 4: 2,000 devices, 60,000 points, 16 buses)"
  echo
  python3 benchmarks/park.py "$bin/sitegate" ${PARK_ARGS:-} 2>/dev/null | tee -a "$figures" | grep -v '^figure:'
  echo
} >> "$report"

# 5. A week-long backlog, inserted directly (issue 16, item 6): open, statistics, size, drain.
backlog_dir="$(mktemp -d /var/tmp/sitegate-backlog.XXXXXX)"
{
  echo "## Week-long backlog (issue 16: ${BACKLOG_READINGS:-20000000} readings, 100 meters x 30 points every 10 s)"
  echo
  echo '```'
  "$bin/sitegate-bench" backlog "$backlog_dir/b.db" "${BACKLOG_READINGS:-20000000}" --drain 2>/dev/null | tee -a "$figures"
  echo '```'
  echo
} >> "$report"
rm -rf "$backlog_dir"

# 6. Flash wear, from the background run.
wait "$wear_pid" || { cat "$work/wear.err" >&2; exit 1; }
wear_pid=""
{
  echo "## Flash wear (issue 16, item 3; target: the default within 4x the bytes a reading takes in the database)"
  echo
  tee -a "$figures" < "$work/wear.md" | grep -v '^figure:'
  echo
} >> "$report"

# The summary, beside the previous run's figures (benchmarks/figures.json, kept in git).
{
  echo "## Summary: this run and the previous one"
  echo
  echo "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores (the machine may be shared: compare ratios)."
  echo
  python3 benchmarks/compare.py "$figures" benchmarks/figures.json \
    "date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" "commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >> "$report"

cat "$report"
